/* Accessibility fixes for what Dash and dash-bootstrap-components draw (issue 14), applied whenever Dash
   draws or redraws a part of the page:

   - dcc.Dropdown (Dash 4) keeps a hidden input beside its button (aria-hidden="true", tabindex="0") that only
     forwards focus to the button: a focusable element inside aria-hidden (axe: aria-hidden-focus). It is
     taken out of the Tab order and the button itself (the combobox, labelled) put in.
   - dbc.RadioItems without a `name` draws radios with name="": the group gets its container's id as name,
     so a browser treats it as one group (arrow keys, one Tab stop).
   - a scrollable box (.scroll-box) whose content may be taller than the box is a Tab stop, a region named
     by its section's title, so it can be scrolled from the keyboard (axe: scrollable-region-focusable).
   - a Plotly chart whose figure carries layout.meta.a11y (dashboard/a11y.py: label) gets role="img" and that
     aria-label, and, when it carries a table, a "Bảng số liệu / Data table" toggle under it.
   - Enter on a radio drawn as a button chooses it. */
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

  function radios(root) {
    root.querySelectorAll('input[type=radio]').forEach(function (input) {
      if (input.name) { return; }
      const group = input.closest('[id]');
      if (group) { input.name = group.id; }
    });
  }

  function scrollBoxes(root) {
    root.querySelectorAll('.scroll-box').forEach(function (box) {
      if (!box.hasAttribute('tabindex')) { box.setAttribute('tabindex', '0'); }
      if (!box.hasAttribute('role')) { box.setAttribute('role', 'region'); }
      const section = box.closest('section, .panel');
      const title = section && section.querySelector('h2, h3, .section-title');
      const name = title ? title.textContent.trim() : '';
      if (name && box.getAttribute('aria-label') !== name) { box.setAttribute('aria-label', name); }
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

  let queued = false;
  function run() {
    queued = false;
    dropdowns(document);
    radios(document);
    scrollBoxes(document);
    charts(document);
  }
  new MutationObserver(function () {
    if (!queued) { queued = true; window.requestAnimationFrame(run); }
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true, attributes: true,
                                          attributeFilter: ['tabindex']});
})();
