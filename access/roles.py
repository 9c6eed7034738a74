"""Roles and what they may do, configurable (R57_ROLES_FILE, YAML) with these defaults:

- leader: every unit, read (dashboards, downloads, reports, overdue lists)
- department: the units assigned (a set of wards, or a unit and its subtree)
- ward: its unit (ward chairs and one-stop officers)
- analyst: every unit, downloads and reports, on-demand reports, the quarantine list
- admin: everything, users, tokens, the audit log, the targets file

City-level aggregates are visible to every signed-in role; a unit's rows only within the role's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

# what a request may ask for; a role holds a set of these
VIEW = "view"                    # dashboards and the read API
DOWNLOAD = "download"            # exports (CSV, Excel, Parquet, chart images) and report files
DOSSIER_LISTS = "dossier_lists"  # dossier-level lists: overdue, due soon
QUARANTINE = "quarantine"        # the data-health quarantine list (masked rows)
QUEUE_REPORTS = "queue_reports"  # on-demand report generation
AUDIT = "audit"                  # the audit log page
ADMIN = "admin"                  # users, tokens, targets file
PUSH = "push"                    # push ingest (tokens only)

PERMISSIONS = frozenset({VIEW, DOWNLOAD, DOSSIER_LISTS, QUARANTINE, QUEUE_REPORTS, AUDIT, ADMIN, PUSH})


@dataclass(frozen=True)
class Role:
    name: str
    all_units: bool
    permissions: frozenset[str]
    label_vi: str
    label_en: str

    def label(self, lang: str) -> str:
        from presentation.words import localised

        return localised(self, "label_vi", lang)


_READ = frozenset({VIEW, DOWNLOAD, DOSSIER_LISTS, QUARANTINE})
DEFAULT_ROLES: dict[str, Role] = {
    "leader": Role("leader", True, _READ, "Lãnh đạo", "Leader"),
    "department": Role("department", False, _READ, "Sở, ngành", "Department"),
    "ward": Role("ward", False, _READ, "Phường, xã", "Ward or commune"),
    "analyst": Role("analyst", True, _READ | {QUEUE_REPORTS}, "Chuyên viên phân tích", "Analyst"),
    "admin": Role("admin", True, PERMISSIONS - {PUSH}, "Quản trị", "Administrator"),
}


class RoleError(ValueError):
    pass


def _parse(doc: dict) -> dict[str, Role]:
    roles: dict[str, Role] = {}
    for name, spec in (doc.get("roles") or {}).items():
        spec = spec or {}
        perms = frozenset(spec.get("permissions") or ())
        unknown = perms - PERMISSIONS
        if unknown:
            raise RoleError(f"role {name}: unknown permissions {sorted(unknown)}; expected some of {sorted(PERMISSIONS)}")
        roles[str(name)] = Role(str(name), bool(spec.get("all_units", False)), perms,
                                str(spec.get("label_vi") or name), str(spec.get("label_en") or name))
    if not roles:
        raise RoleError("the roles file defines no roles")
    return roles


@lru_cache(maxsize=4)
def _load(path: str | None, mtime: float | None) -> dict[str, Role]:
    if path is None:
        return dict(DEFAULT_ROLES)
    return _parse(yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})


def load_roles(path: Path | None = None) -> dict[str, Role]:
    """The roles: the defaults above, or those of a YAML file `roles: {name: {all_units, permissions, label_vi,
    label_en}}` (it replaces the defaults)."""
    if path is None:
        return _load(None, None)
    return _load(str(path), Path(path).stat().st_mtime)


def roles(settings=None) -> dict[str, Role]:
    return load_roles(getattr(settings, "roles_file", None) if settings is not None else None)


def role_names(settings=None) -> list[str]:
    return list(roles(settings))


def get_role(name: str, settings=None) -> Role:
    table = roles(settings)
    if name not in table:
        raise RoleError(f"unknown role {name!r}; expected one of {', '.join(table)}")
    return table[name]
