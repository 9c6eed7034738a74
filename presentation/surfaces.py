"""Which KPIs each surface lists, generated from kpis.yaml's `display.show` (no literal lists in pages).

A surface's list is read from the registry in force when it is used (never at import: the registry is
loaded lazily, and a test may load another), in the registry's order, the page's default KPI first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from metrics.registry import SURFACES, Kpi, get_registry

__all__ = ["SURFACES", "SurfaceCodes", "codes", "decimals", "headline", "kpi", "one"]


def kpi(code: str) -> Kpi:
    return get_registry().kpi(code)


def decimals(code: str) -> int:
    """The decimals every surface rounds `code`'s values to (its display metadata)."""
    return kpi(code).decimals


def one(surface: str) -> str:
    """The one KPI in a role (`headline`, `backlog`: kpis.yaml display.show)."""
    return get_registry().one_on(surface)


def headline() -> str:
    """The KPI every page leads with (display.show `headline`): the ward table's first row, the rankings'
    default, the order of the report's ranking."""
    return one("headline")


def codes(surface: str, first: str | None = None) -> list[str]:
    """The KPI codes `surface` lists (kpis.yaml display.show), registry order, `first` (if listed) first;
    first="headline": the headline KPI."""
    first = headline() if first == "headline" else first
    out = get_registry().shown_on(surface)
    if first in out:
        out.remove(first)
        out.insert(0, first)
    return out


class SurfaceCodes(Sequence[str]):
    """A page's KPI list as a read-only sequence, resolved from the registry on every use, so the
    page modules keep a name (view.RANK_KPIS) while the list itself lives in kpis.yaml."""

    def __init__(self, surface: str, first: str | None = None) -> None:
        if surface not in SURFACES:
            raise KeyError(f"unknown surface '{surface}'; known: {', '.join(SURFACES)}")
        self.surface, self.first = surface, first

    def _codes(self) -> list[str]:
        return codes(self.surface, self.first)

    def __getitem__(self, i):  # type: ignore[override]
        return self._codes()[i]

    def __len__(self) -> int:
        return len(self._codes())

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes())

    def __contains__(self, code: object) -> bool:
        return code in self._codes()

    def __repr__(self) -> str:
        return f"SurfaceCodes({self.surface!r}: {self._codes()})"
