/* Functions named in the grids' column definitions (dash-ag-grid evaluates them by name). */
var dagfuncs = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

/* A number as the language writes it (vi 1.234,5; en 1,234.5); N/A for missing, never 0. */
dagfuncs.R57num = function (value, decimals, lang, suffix) {
  if (value === null || value === undefined || value === '' || Number.isNaN(Number(value))) {
    return 'N/A';
  }
  var text = Number(value).toLocaleString(lang === 'en' ? 'en-US' : 'vi-VN', {
    minimumFractionDigits: decimals,
    maximumFractionDigits: decimals,
  });
  return text + (suffix || '');
};

/* The wards grid: units with few data (a rate over fewer than the KPI's min_n) are ranked apart, after the
   others and under their heading row, whatever column the grid is sorted by. */
dagfuncs.R57fewApart = function (params) {
  var nodes = params.nodes, main = [], head = [], few = [];
  nodes.forEach(function (n) {
    var d = n.data || {};
    if (d.heading) { head.push(n); } else if (d.few_data) { few.push(n); } else { main.push(n); }
  });
  var order = main.concat(few.length ? head : [], few, few.length ? [] : head);
  for (var i = 0; i < order.length; i++) { nodes[i] = order[i]; }
};
