"""The reports folder's manifest: one record per report (month, unit, language) with its last run.

`<reports_dir>/manifest.json` holds {"version": 1, "runs": [record, ...]}; a record says status
(running | ok | failed), error, attempts (since the last success), files, trigger and times. Several
processes may write (the scheduler, a web worker making a report on demand), so every change is a
read-modify-write under an flock, written to a temporary file and renamed: readers never see half a file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock

import clock
from config import Settings

MANIFEST = "manifest.json"
VERSION = 1


def manifest_path(settings: Settings) -> Path:
    """Where the manifest of `settings.reports_dir` lives."""
    return settings.reports_dir / MANIFEST


def record_id(month: str, unit_code: str, lang: str) -> str:
    """'2026-10/01/vi': one report, whatever the number of runs it took."""
    return f"{month}/{unit_code}/{lang}"


@contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    """Serialise manifest updates across the processes that make reports (filelock; flock underneath)."""
    settings.reports_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(settings.reports_dir / ".manifest.lock", thread_local=False):
        yield


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": VERSION, "runs": []}
    except json.JSONDecodeError as exc:
        # never lose the reports over a damaged manifest: keep it aside and start a new one
        path.rename(path.with_suffix(f".broken-{int(clock.wall().timestamp())}.json"))
        return {"version": VERSION, "runs": [], "note": f"previous manifest unreadable ({exc}); kept aside"}
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        return {"version": VERSION, "runs": []}
    return data


def read_runs(settings: Settings) -> list[dict]:
    """Every record of the manifest (no lock needed: the file is replaced atomically)."""
    return list(_read(manifest_path(settings))["runs"])


def update(settings: Settings, rid: str, change: Callable[[dict | None], dict]) -> dict:
    """Replace the record `rid` by `change(old record or None)`, atomically; returns the new record."""
    path = manifest_path(settings)
    with _locked(settings):
        data = _read(path)
        runs = data["runs"]
        old = next((r for r in runs if r.get("id") == rid), None)
        new = change(dict(old) if old else None)
        new["id"] = rid
        data["runs"] = [r for r in runs if r.get("id") != rid] + [new]
        data["version"] = VERSION
        tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        os.replace(tmp, path)
    return new
