"""Numbers, dates and periods as each language writes them: thin names over presentation.fmt (Babel).

Kept so the dashboard's callers read as before; the implementation, and the rounding rule, are
presentation/fmt.py's (one for the screen, the downloads, the reports and the CLI).
"""

from __future__ import annotations

from presentation.fmt import (  # noqa: F401  (re-exported names of the dashboard's formatter)
    MINUS,
    NA,
    ago,
    change,
    clock,
    day,
    day_month,
    decimals_for,
    is_na,
    moment,
    months_span,
    number,
    percent,
    percent_sign,
    period,
    rounded,
    separators,
    value,
)
from presentation.fmt import fraction as hover_fraction  # noqa: F401
