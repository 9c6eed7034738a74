"""The presentation layer between metrics and every surface (dashboard, reports, exports, API, CLI).

Words, formats, colours and table models only: no SQL, no KPI logic (that stays in metrics/).
- fmt: the one number/date/time formatter (Babel, vi and en) and the one rounding rule;
- palette: the one status palette (colour, icon, fill pattern, severity, PDF symbol);
- surfaces: which KPIs each page, grid and report lists, generated from kpis.yaml's `display.show`;
- ranking: the one ranking of units and the one target-row builder (overview and report).
"""
