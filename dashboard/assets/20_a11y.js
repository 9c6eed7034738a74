/* Accessibility fixes for what Dash and dash-bootstrap-components draw (issue 14), applied whenever Dash
   draws or redraws a part of the page. Only what no component property can do is here; the rest is set in
   Python where the component is built (dbc.RadioItems(name=...) so a group is one Tab stop with arrow keys;
   the 5G scroll box's tabIndex, role="region" and aria-label in pages/economy.py; the data table's box in
   dashboard/a11y.py: details):

   - dcc.Dropdown (Dash 4) keeps a hidden input beside its button (aria-hidden="true", tabindex="0") that only
     forwards focus to the button: a focusable element inside aria-hidden (axe: aria-hidden-focus). Dash
     hard-codes that tabIndex (0 unless disabled) and has no property for it, nor for the button's: the input
     is taken out of the Tab order here and the button itself (the combobox, labelled) put in.
   - a Plotly chart whose figure carries layout.meta.a11y (dashboard/a11y.py: label) gets role="img" and that
     aria-label, and, when it carries a table, a "Bảng số liệu / Data table" toggle under it. The text comes
     with the figure (a callback's output), and dcc.Graph has no role or aria-label property: only the drawn
     chart can carry them.
   - Enter on a radio drawn as a button chooses it (a key handler: behaviour, not a property).
   - A letter typed in an open dcc.Dropdown's list goes to its search box. Dash 4 opens the list (Enter, Down)
     on the chosen option, and the list itself has no type-ahead: the letters were lost, and a keyboard user
     who opens the ward selector and types "Hoàn Kiếm" found nothing. (Typing on the closed selector already
     opens it with the search box: Dash does that.)
   - Enter on a grid cell that holds a link (the wards grid's names) follows the link: AG Grid moves focus
     from cell to cell with the arrow keys, and the link inside the focused cell could not be reached. */
(function () {
  function dropdowns(root) {
    root.querySelectorAll('.dash-dropdown-focus-target').forEach(function (input) {
      if (input.getAttribute('tabindex') !== '-1') { input.setAttribute('tabindex', '-1'); }
      const button = input.nextElementSibling;
      if (button && button.classList.contains('dash-dropdown') && !button.disabled &&
          button.getAttribute('tabindex') !== '0') {
        button.setAttribute('tabindex', '0');
      }
    });
  }

  function cell(tag, text, attrs) {
    const el = document.createElement(tag);
    el.textContent = text;
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    return el;
  }

  function tableOf(meta) {
    const d = document.createElement('details');
    d.className = 'chart-table';
    d.appendChild(cell('summary', meta.title || ''));
    const box = cell('div', '', {'class': 'table-scroll', tabindex: '0', role: 'region',
                                 'aria-label': meta.title || ''});
    const table = document.createElement('table');
    const tr = document.createElement('tr');
    (meta.head || []).forEach(function (h) { tr.appendChild(cell('th', h, {scope: 'col'})); });
    table.appendChild(document.createElement('thead')).appendChild(tr);
    const body = table.appendChild(document.createElement('tbody'));
    (meta.rows || []).forEach(function (r) {
      const row = body.appendChild(document.createElement('tr'));
      r.forEach(function (c, i) {
        row.appendChild(i === 0 ? cell('th', c, {scope: 'row'}) : cell('td', c, {'class': 'num'}));
      });
    });
    box.appendChild(table);
    d.appendChild(box);
    return d;
  }

  function charts(root) {
    root.querySelectorAll('.js-plotly-plot').forEach(function (gd) {
      const meta = gd.layout && gd.layout.meta && gd.layout.meta.a11y;
      const holder = gd.parentElement;
      let next = gd.nextElementSibling;
      if (next && !next.hasAttribute('data-a11y-table')) { next = null; }
      if (!meta || !meta.label) {
        if (next) { next.remove(); }
        return;
      }
      const wrapped = holder && holder.closest('[role=img]');
      if (!wrapped) {
        if (gd.getAttribute('role') !== 'img') { gd.setAttribute('role', 'img'); }
        if (gd.getAttribute('aria-label') !== meta.label) { gd.setAttribute('aria-label', meta.label); }
      }
      const key = meta.table ? JSON.stringify(meta.table) : '';
      if (wrapped || !key) {
        if (next) { next.remove(); }
        return;
      }
      if (next && next.getAttribute('data-a11y-table') === key) { return; }
      const open = next ? next.open : false;
      const fresh = tableOf(meta.table);
      fresh.setAttribute('data-a11y-table', key);
      fresh.open = open;
      if (next) { next.replaceWith(fresh); } else { gd.insertAdjacentElement('afterend', fresh); }
    });
  }

  // Enter on a radio drawn as a button (VI/EN, Phường/Xã, ...) chooses it, as a click would (arrow keys
  // already do; Enter is what a keyboard user tries on something that looks like a button)
  document.addEventListener('keydown', function (e) {
    const el = e.target;
    if (e.key === 'Enter' && el instanceof HTMLInputElement && el.type === 'radio' && !el.checked) {
      e.preventDefault();
      el.click();
    }
  });

  // a letter typed in an open dropdown's list: into its search box, focused before the key's default action
  // runs, so the letter lands there. Through the list's own Home key, which focuses the search box and resets
  // the list's position (else the first Down after typing went on from the option the list opened on, past
  // the first matches). Space still chooses the option, the arrows and Tab still walk the list.
  document.addEventListener('keydown', function (e) {
    const el = e.target;
    if (e.key.length !== 1 || e.key === ' ' || e.ctrlKey || e.metaKey || e.altKey || !(el instanceof Element)) { return; }
    const list = el.closest('.dash-dropdown-content');
    const search = list && list.querySelector('input.dash-dropdown-search');
    if (!search || el === search) { return; }
    el.dispatchEvent(new KeyboardEvent('keydown', {key: 'Home', code: 'Home', bubbles: true, cancelable: true}));
    if (document.activeElement !== search) { search.focus(); }
  }, true);

  // Enter on a focused grid cell with one link in it (not on the link itself): follow the link
  document.addEventListener('keydown', function (e) {
    const el = e.target;
    if (e.key !== 'Enter' || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey || !(el instanceof Element) ||
        !el.classList.contains('ag-cell')) { return; }
    const links = el.querySelectorAll('a[href]');
    if (links.length === 1) {
      e.preventDefault();
      links[0].click();
    }
  }, true);

  let queued = false;
  function run() {
    queued = false;
    dropdowns(document);
    charts(document);
  }
  new MutationObserver(function () {
    if (!queued) { queued = true; window.requestAnimationFrame(run); }
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true, attributes: true,
                                          attributeFilter: ['tabindex']});
})();
