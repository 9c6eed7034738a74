"""The viewer of a request: who, which role, which units. Built from a signed-in account, an API token,
or (R57_AUTH=off, development only) a developer with every right.

A unit implies its subtree (DHIS2's rule): the city's code stands for every unit. `scope` is None for
every unit, otherwise the set of unit codes the viewer may see rows of. City-level aggregates are
visible to every signed-in viewer (metrics.scope decides what is an aggregate).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

import config

from . import roles as R


@lru_cache(maxsize=1)
def _children() -> dict[str, tuple[str, ...]]:
    import csv

    kids: dict[str, list[str]] = {}
    with (config.REFERENCE_DIR / "units.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("parent_code"):
                kids.setdefault(row["parent_code"], []).append(row["unit_code"])
    return {k: tuple(v) for k, v in kids.items()}


def expand(units: Iterable[str]) -> frozenset[str] | None:
    """The units and their subtrees; None when the city itself is among them (every unit)."""
    out: set[str] = set()
    todo = [str(u) for u in units]
    while todo:
        u = todo.pop()
        if u == config.CITY_CODE:
            return None
        if u not in out:
            out.add(u)
            todo.extend(_children().get(u, ()))
    return frozenset(out)


def known_unit(code: str) -> bool:
    return code == config.CITY_CODE or any(code in kids for kids in _children().values())


@dataclass(frozen=True)
class Viewer:
    name: str                      # username, "token:NAME", or "dev"
    role: str
    units: tuple[str, ...] = ()    # as assigned (before expansion)
    permissions: frozenset[str] = frozenset()
    all_units: bool = False
    kind: str = "user"             # user | token | dev
    display_name: str | None = None

    @cached_property
    def scope(self) -> frozenset[str] | None:
        """Unit codes whose rows this viewer may see; None = every unit (computed once per viewer)."""
        if self.all_units:
            return None
        return expand(self.units) if self.units else frozenset()

    def sees(self, unit: str | None) -> bool:
        """Whether rows of `unit` may be shown; the city (None or '01') is the aggregate everyone sees."""
        if unit is None or unit == config.CITY_CODE:
            return True
        scope = self.scope
        return scope is None or str(unit) in scope

    def may(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def home_unit(self) -> str | None:
        """The unit a scoped viewer's pages open on (their first assigned unit); None for the city."""
        if self.scope is None:
            return None
        return sorted(self.scope)[0] if self.scope else None

    def describe_scope(self) -> str:
        """For the audit log: '*' (every unit) or the assigned codes."""
        return "*" if self.scope is None else ",".join(sorted(self.units)) or "-"


def for_account(username: str, role: str, units: Iterable[str], display_name: str | None = None,
                settings=None) -> Viewer:
    r = R.get_role(role, settings)
    units = tuple(sorted({str(u) for u in units}))
    all_units = r.all_units or expand(units) is None
    return Viewer(username, role, units, r.permissions, all_units, "user", display_name)


def for_token(name: str, units: Iterable[str], push: bool) -> Viewer:
    """A token reads (and with push, pushes) within its units; no units = every unit."""
    units = tuple(sorted({str(u) for u in units}))
    perms = frozenset({R.VIEW, R.DOSSIER_LISTS} | ({R.PUSH} if push else set()))
    return Viewer(f"token:{name}", "token", units, perms, not units or expand(units) is None, "token")


DEV = Viewer("dev", "admin", (), R.PERMISSIONS, True, "dev", "R57_AUTH=off")
NOBODY = Viewer("anonymous", "none", (), frozenset(), False, "anonymous")
