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
