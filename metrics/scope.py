"""Row-level security: the viewer's unit scope, applied by `selection` to every metrics call.

The web layer registers a provider (access.web) that returns the scope of the request being served: None
for every unit, a set of unit codes otherwise (an empty set sees no unit's rows). Outside a request (the
CLI, the scheduler, report jobs) there is no provider, or it returns None: the system sees everything.

What every signed-in viewer sees whatever their scope (issue 10): city-level aggregates, i.e. a query over
every unit that is not broken down by unit. Everything else — a named unit, a breakdown by unit_code,
dossier-level lists — is intersected with the scope, so a callback cannot receive another unit's rows even
if it forgets to pass `scope=` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import config

_provider: Callable[[], frozenset[str] | None] | None = None


def set_provider(fn: Callable[[], frozenset[str] | None] | None) -> None:
    global _provider
    _provider = fn


def ambient() -> frozenset[str] | None:
    """The current request's viewer scope (None: unrestricted)."""
    return None if _provider is None else _provider()


def is_city(units: str | Iterable[str] | None) -> bool:
    if units is None:
        return True
    if isinstance(units, str):
        return units == config.CITY_CODE
    return config.CITY_CODE in {str(u) for u in units}


def effective(units: str | Iterable[str] | None, scope: Iterable[str] | None, *, aggregate: bool) -> Iterable[str] | None:
    """The scope a selection must respect: the caller's `scope` narrowed by the viewer's, except for a
    city-level aggregate (`aggregate` and every unit asked for), which every viewer may see."""
    viewer = ambient()
    if viewer is None:
        return scope
    if aggregate and scope is None and is_city(units):
        return None
    return viewer if scope is None else frozenset(str(s) for s in scope) & viewer
