"""Retention of archived files and quarantine rows (Decree 13/2023/ND-CP on personal data protection).

Ingest never reads personal data into the warehouse, but the files it archives keep their original
bytes, and an export may carry names, ID numbers and addresses in columns no profile maps. So:

  <data_dir>/processed/<source>/<date>/<file>     deleted after `retention_days` (default 30)
  <data_dir>/push/<file>                          (push staging leftovers) the same
  <data_dir>/failed/<source>/<date>/<file>        deleted after `failed_retention_days` (default 7),
      + <file>.reason.txt                         with its reason; kept a little so officers can
                                                  see what was wrong with the file
  quarantine rows (quarantined_at)                deleted after `retention_days`, then a publish

A file's age is its modification time. Folders left empty are removed (never the three roots).
The job runs once when the scheduler starts and then daily (`retention_interval_s`).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from config import TZ

from .writer import Writer

log = logging.getLogger(__name__)

DAY_S = 86400
REASON_SUFFIX = ".reason.txt"


@dataclass
class TreeResult:
    files: int = 0      # data files deleted
    reasons: int = 0    # .reason.txt files deleted (with their file, or left alone and old)
    folders: int = 0    # empty folders removed
    errors: int = 0     # files or folders that could not be deleted (logged)


@dataclass
class RetentionResult:
    processed: TreeResult
    push: TreeResult
    failed: TreeResult
    quarantine_rows: int
    published: bool

    def as_dict(self) -> dict:
        return asdict(self)


def prune_tree(root: Path, cutoff: float) -> TreeResult:
    """Delete files under `root` last modified before `cutoff` (epoch seconds), with their
    `.reason.txt` siblings, then the folders that became empty; `root` itself stays."""
    result = TreeResult()
    if not root.is_dir():
        return result
    # bottom-up, so a date folder is looked at after its files and before its source folder
    for dirpath, _dirnames, filenames in os.walk(root, topdown=False):
        folder = Path(dirpath)
        names = set(filenames)
        for name in sorted(names):
            if name.endswith(REASON_SUFFIX):
                continue  # handled with its file, or below when its file is gone
            path = folder / name
            if _older(path, cutoff) and _unlink(path, result):
                result.files += 1
                reason = folder / (name + REASON_SUFFIX)
                if reason.name in names and _unlink(reason, result):
                    result.reasons += 1
        for name in sorted(n for n in names if n.endswith(REASON_SUFFIX)):
            path = folder / name
            # a reason whose file is gone (deleted above, by hand, or never moved) goes when old
            if path.exists() and not (folder / name[: -len(REASON_SUFFIX)]).exists() and _older(path, cutoff):
                if _unlink(path, result):
                    result.reasons += 1
        if folder != root and not any(folder.iterdir()):
            try:
                folder.rmdir()
                result.folders += 1
            except OSError as exc:  # a file arrived meanwhile, or permissions: leave the folder
                result.errors += 1
                log.warning("retention: could not remove folder %s: %s", folder, exc)
    return result


def _older(path: Path, cutoff: float) -> bool:
    try:
        return path.lstat().st_mtime < cutoff
    except FileNotFoundError:  # deleted meanwhile (by hand): nothing left to judge
        return False


def _unlink(path: Path, result: TreeResult) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:  # already gone: the goal is reached, but we did not delete it
        return False
    except OSError as exc:  # permissions, read-only mount: say so, keep pruning the rest
        result.errors += 1
        log.warning("retention: could not delete %s: %s", path, exc)
        return False


def prune_quarantine(con: duckdb.DuckDBPyConnection, before: datetime) -> int:
    """Delete quarantine rows quarantined before `before` (naive Hanoi time, as stored)."""
    row = con.execute("DELETE FROM quarantine WHERE quarantined_at < ?", [before]).fetchone()
    return int(row[0]) if row else 0


def run_retention(writer: Writer, now: float | None = None) -> RetentionResult:
    """One retention pass: archived files, push leftovers, failed files, old quarantine rows."""
    s = writer.settings
    now = time.time() if now is None else now
    keep_s = max(0.0, s.retention_days) * DAY_S
    failed_keep_s = max(0.0, s.failed_retention_days) * DAY_S
    # Inside the writer's session: ingest archives files (mkdir of a date folder, then a move)
    # inside sessions too, so an empty-folder removal here can never pull a folder from under it.
    with writer.session() as con:
        processed = prune_tree(s.processed_dir, now - keep_s)
        push = prune_tree(s.push_dir, now - keep_s)
        failed = prune_tree(s.failed_dir, now - failed_keep_s)
        before = datetime.fromtimestamp(now - keep_s, TZ).replace(tzinfo=None)
        rows = prune_quarantine(con, before)
        if rows:
            writer.publish()  # readers (the data-quality page, the API) must stop showing them
    result = RetentionResult(processed, push, failed, rows, published=rows > 0)
    log.info("retention: deleted %d processed, %d push, %d failed files (+%d reasons), %d empty folders, "
             "%d quarantine rows (older than %g days; failed files %g days)%s",
             processed.files, push.files, failed.files, failed.reasons + processed.reasons + push.reasons,
             processed.folders + push.folders + failed.folders, rows, s.retention_days,
             s.failed_retention_days,
             f"; {processed.errors + push.errors + failed.errors} could not be deleted"
             if processed.errors + push.errors + failed.errors else "")
    return result
