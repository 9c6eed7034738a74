"""Mapping profiles: how a source's headers and codes map onto the canonical dossier columns.

A profile is a YAML file in `ingest/profiles/` (see README "Adding a mapping profile"). The profile
whose `detect` headers are all present wins; ties go to the one that maps the most headers.
Unmapped source columns are never read, so personal data in an export stays at the door.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

PROFILE_DIR = Path(__file__).parent / "profiles"

CANONICAL_COLUMNS = (
    "dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "completed_at",
    "status", "cross_agency", "supplement_count", "supplement_days", "rating", "complaint",
    "paid_online", "digitized", "data_reused", "applicant_type", "updated_at",
)
REQUIRED_COLUMNS = ("dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "status")


class ProfileError(ValueError):
    pass


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    detect: tuple[str, ...]
    # canonical column -> source header, or a list of headers (dates: the earliest; flags: all true)
    columns: dict[str, str | tuple[str, ...]]
    values: dict[str, dict[str, str]] = {}
    personal_data: tuple[str, ...] = ()

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, v: dict) -> dict:
        unknown = sorted(set(v) - set(CANONICAL_COLUMNS))
        if unknown:
            raise ValueError(f"unknown canonical columns {unknown}; expected some of {list(CANONICAL_COLUMNS)}")
        missing = [c for c in REQUIRED_COLUMNS if c not in v]
        if missing:
            raise ValueError(f"required canonical columns not mapped: {missing}")
        return v

    def sources(self, canonical: str) -> tuple[str, ...]:
        src = self.columns.get(canonical)
        if src is None:
            return ()
        return (src,) if isinstance(src, str) else tuple(src)

    def score(self, headers: set[str]) -> int | None:
        """How well this profile fits a file's headers; None when a detect header is missing."""
        if not all(h in headers for h in self.detect):
            return None
        return sum(1 for c in self.columns for s in self.sources(c) if s in headers)


def load_profile(path: Path) -> Profile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        # YAML reads `"1": true`-style maps fine, but keys like 1 arrive as ints: keep them strings.
        if isinstance(data, dict) and isinstance(data.get("values"), dict):
            data["values"] = {
                col: {str(k): str(v) for k, v in (m or {}).items()} for col, m in data["values"].items()
            }
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'profile'}: {e['msg']}" for e in exc.errors())
        raise ProfileError(f"mapping profile {path} is invalid: {problems}") from None
    except (yaml.YAMLError, TypeError) as exc:
        raise ProfileError(f"mapping profile {path} is not valid YAML: {exc}") from None


@lru_cache(maxsize=4)
def load_profiles(directory: Path = PROFILE_DIR) -> tuple[Profile, ...]:
    profiles = tuple(load_profile(p) for p in sorted(directory.glob("*.yaml")))
    names = [p.name for p in profiles]
    if len(set(names)) != len(names):
        raise ProfileError(f"duplicate profile names in {directory}: {names}")
    return profiles


def detect_profile(headers: list[str], profiles: tuple[Profile, ...] | None = None) -> Profile | None:
    """The best-fitting profile for these headers, or None when no profile's detect headers match."""
    have = {h.strip() for h in headers}
    best: tuple[int, Profile] | None = None
    for profile in profiles or load_profiles():
        score = profile.score(have)
        if score is not None and (best is None or score > best[0]):
            best = (score, profile)
    return best[1] if best else None
