/* Cell renderers for the grids: a status badge (icon + label + colour) and a link that navigates
   inside the app (dcc.Link: no page reload, reachable with the keyboard). */
var dagcomponentfuncs = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});

dagcomponentfuncs.StatusBadge = function (props) {
  var data = props.data || {};
  if (data.heading) { return null; }
  var key = data.status || 'no_data';
  return React.createElement('span', {className: 'status status-sm status-' + key}, [
    React.createElement('span', {key: 'i', className: 'status-icon icon-' + key, 'aria-hidden': 'true'}),
    React.createElement('span', {key: 'l', className: 'status-label'}, data.status_label || ''),
  ]);
};

dagcomponentfuncs.UnitLink = function (props) {
  var data = props.data || {};
  if (!data.href) {
    return React.createElement('span', null, props.value);
  }
  return React.createElement(window.dash_core_components.Link, {href: data.href}, props.value);
};

/* Download links of a generated report (reports page): data.files = [{name, href, label}]. */
dagcomponentfuncs.FileLinks = function (props) {
  var files = (props.data || {}).files || [];
  return React.createElement('span', {className: 'file-links'}, files.map(function (f) {
    return React.createElement('a', {key: f.href, href: f.href, download: f.name, className: 'file-link',
                                     title: f.name}, f.label);
  }));
};
