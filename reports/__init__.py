"""Monthly reports (city and per ward) as PDF and Excel, on demand and on a schedule.

Every number comes from the metrics API (reports/data.py says which query feeds which table);
the rendering modules only format and draw. Import is cheap: the names below load their module on
first use (plotly, fpdf2 and xlsxwriter are not imported by `app.py --help`).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ReportData": ".data", "ReportError": ".data", "collect": ".data", "previous_month": ".data",
    "build_report": ".build", "report_stem": ".build",
    "generate_monthly": ".jobs", "run_one": ".jobs", "list_reports": ".jobs", "retry_failed": ".jobs",
    "add_report_job": ".jobs", "monthly_job": ".jobs", "report_trigger": ".jobs",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    raise AttributeError(f"module 'reports' has no attribute {name!r}")
