"""Demo data: a seeded simulation of Hanoi's dossiers and indicators, and a live drip into the inbox.

Nothing here is imported by the product at run time except through `r57 demo`-style commands; the
reference-file builder in this package is a dev tool (it needs the GPL `vietnam-provinces` package).
"""

from demo.generator import DOSSIER_COLUMNS, generate_dossiers
from demo.indicators import INDICATOR_COLUMNS, generate_indicators

__all__ = ["DOSSIER_COLUMNS", "INDICATOR_COLUMNS", "generate_dossiers", "generate_indicators"]
