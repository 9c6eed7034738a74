"""The one status palette of every surface: colour, icon, fill pattern, severity, and the PDF's symbols.

Colours are the screen's, from the Okabe–Ito set (chosen to survive colour blindness and a projector);
the PDF and Excel read the same ones. A status is never shown by colour alone: every use carries the
icon (CSS class icon-<status>), a bar pattern or a symbol, and the word. `few_data` (a rate over fewer
than its KPI's min_n) and `partial` (a period not over) are not judgements: grey, never filled with a
status colour in a report (UNCOLOURED), and ranked apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StatusStyle:
    """How one status looks everywhere."""

    key: str
    colour: str        # '#rrggbb'
    icon: str          # icon name: CSS class icon-<icon>, assets/icons/<icon>.svg
    pattern: str       # plotly bar fill pattern ('' solid)
    severity: int      # worst first: how a league table sorts statuses
    symbol: str        # the PDF's glyph beside the word
    ascii: str         # the stand-in when no font has the glyph
    judged: bool       # a judgement of progress (False: no data, few data, partial)

    @property
    def hex(self) -> str:
        """The colour without '#' ('0072B2'), as fpdf2 and xlsxwriter's callers write it."""
        return self.colour.lstrip("#").upper()

    @property
    def rgb(self) -> tuple[int, int, int]:
        h = self.hex
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


PALETTE: dict[str, StatusStyle] = {s.key: s for s in (
    StatusStyle("achieved", "#007a5a", "achieved", "", 4, "✔", "OK", True),
    StatusStyle("on_track", "#0072B2", "on_track", "", 3, "↑", "^", True),
    StatusStyle("needs_acceleration", "#8c5800", "needs_acceleration", "/", 2, "↗", "/", True),  # issue 14: 6.0:1 on white
    StatusStyle("limited", "#D55E00", "limited", "x", 1, "→", "->", True),
    StatusStyle("deteriorating", "#9b1c1c", "deteriorating", "x", 0, "↓", "v", True),
    StatusStyle("no_data", "#8a949e", "no_data", ".", 5, "○", "-", False),
    StatusStyle("few_data", "#aeb6bd", "few_data", "-", 7, "◌", "n<", False),
    StatusStyle("partial", "#7b8794", "partial", "|", 6, "◐", "~", False),
)}

STATUSES: tuple[str, ...] = tuple(PALETTE)
JUDGED: tuple[str, ...] = tuple(k for k, s in PALETTE.items() if s.judged)
UNCOLOURED: tuple[str, ...] = ("few_data", "partial")


def style(status: object) -> StatusStyle:
    """The style of a status; anything unknown (None, NaN, a typo) is 'no_data'."""
    return PALETTE.get(status if isinstance(status, str) else "no_data", PALETTE["no_data"])


def colours() -> dict[str, str]:
    """status -> '#rrggbb' (the screen's STATUS_COLORS)."""
    return {k: s.colour for k, s in PALETTE.items()}


def patterns() -> dict[str, str]:
    return {k: s.pattern for k, s in PALETTE.items()}


def severity() -> dict[str, int]:
    return {k: s.severity for k, s in PALETTE.items()}


def symbols(ascii_only: bool = False) -> dict[str, str]:
    return {k: (s.ascii if ascii_only else s.symbol) for k, s in PALETTE.items()}


def report_colours() -> dict[str, str]:
    """status -> 'RRGGBB' for the statuses a report fills with colour (not few_data, not partial)."""
    return {k: s.hex for k, s in PALETTE.items() if k not in UNCOLOURED}
