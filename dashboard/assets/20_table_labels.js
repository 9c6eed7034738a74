/* Wide tables on a phone (assets/10_r57.css, max-width 700px) are drawn one card per row: each cell shows
   its column's heading above it. This copies the headings into the cells (data-label) whenever Dash draws
   or redraws a table inside .table-scroll; the table itself stays a table for screen readers. */
(function () {
  function label(table) {
    const heads = Array.from(table.querySelectorAll('thead th')).map(function (th) {
      return th.textContent.trim();
    });
    table.querySelectorAll('tbody tr').forEach(function (tr) {
      Array.from(tr.children).forEach(function (td, i) {
        const text = heads[i] || '';
        if (td.getAttribute('data-label') !== text) { td.setAttribute('data-label', text); }
      });
    });
  }
  let queued = false;
  function run() {
    queued = false;
    document.querySelectorAll('.table-scroll > table.kpi-table').forEach(label);
  }
  new MutationObserver(function () {
    if (!queued) { queued = true; window.requestAnimationFrame(run); }
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
})();
