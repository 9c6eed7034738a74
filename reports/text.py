"""The reports' status words and symbols; their words come from the one word catalogue.

`t(key, lang, **values)` is presentation.words.t (the gettext catalogues under presentation/locale),
re-exported for the report modules: one lookup, one argument order, for the screen and the reports.
"""

from __future__ import annotations

from presentation import palette
from presentation.words import get, t  # noqa: F401  (t re-exported)

# A status is never colour alone: a symbol and a word go with it. Symbols, colours and which statuses are
# left uncoloured come from the one status palette (presentation/palette.py), the screen's: the symbols
# follow Open SDG's progress icons, with ASCII stand-ins where no font has the glyph. 'few_data' and
# 'partial' are not judged: a word and a symbol but no colour (UNCOLOURED), and ranked apart.
STATUS_SYMBOLS = palette.symbols()
STATUS_ASCII = palette.symbols(ascii_only=True)
STATUS_COLOURS = palette.report_colours()
UNCOLOURED = palette.UNCOLOURED
STATUS_ORDER = ("achieved", "on_track", "needs_acceleration", "limited", "deteriorating", "no_data", "few_data")


def reason_text(reason: str | None, lang: str) -> str:
    """Why a target has no judged status, in words: 'cần số liệu 2024' for 'no_base:2024'; '' otherwise."""
    if reason and reason.startswith("no_base:"):
        return t("needs_base", lang, period=period_words(reason.split(":", 1)[1]))
    return ""


def period_words(label: str) -> str:
    """A period label as the reports write it: '2025-01-01..2025-10-31' -> '01/01/2025 – 31/10/2025',
    '2025-10' -> '10/2025'; other labels (2025, 2025-Q3) as they are."""
    text = str(label)
    if ".." in text:
        a, b = text.split("..", 1)
        return f"{_dmy(a)} – {_dmy(b)}"
    if len(text) == 7 and text[4] == "-" and text[5:].isdigit():
        return f"{text[5:]}/{text[:4]}"
    return text


def _dmy(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


def status_label(status: str | None, lang: str, ascii_only: bool = False) -> str:
    """A status as symbol + word, e.g. '↗ Cần đẩy nhanh'; empty for a KPI without a target."""
    if not status:
        return ""
    symbol = (STATUS_ASCII if ascii_only else STATUS_SYMBOLS).get(status, "")
    word = get(f"status_{status}", lang, default=status)
    return f"{symbol} {word}".strip()
