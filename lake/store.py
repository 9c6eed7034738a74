"""Writing the lake: only the partitions whose rows changed, then an atomic manifest swap, then garbage collection.

One writer at a time (a file lock in the lake folder); readers take no lock: they read `manifest.json`
(replaced by an atomic rename, never written in place) and open exactly the files it names. Those files
are never rewritten: a changed partition gets new file names, and the files it replaces stay on disk for
one more generation (the manifest lists them as `previous_files`), so a reader that loaded the previous
manifest a moment ago can still open every file it names. Files named by neither manifest are deleted,
after the swap, so a crash at any step leaves the old manifest valid and at worst a few orphan files that
the next export deletes.

What changed is decided in DuckDB, per partition: the row count and a cheap content hash (xor and sum of
each row's hash over every column), compared with the manifest's. DuckDB's hash() may change between
DuckDB versions: then the first export after an upgrade rewrites every partition, once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from filelock import FileLock

FORMAT = 1
MANIFEST = "manifest.json"
PARTITION_BY = ("province", "month")
REFERENCE_TABLES = ("procedures", "units")
HANOI = "01"  # GSO code of Hanoi: every unit of today's reference data belongs to it


def province_sql(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(join, expression) giving each dossier's province code.

    The hook for the national shape: units carry no province column today, so every dossier is
    Hanoi's ('01'). When `units` gains `province_code`, dossiers take their unit's province."""
    cols = {r[0] for r in con.execute("DESCRIBE units").fetchall()}
    if "province_code" in cols:
        return " LEFT JOIN units u ON u.unit_code = d.unit_code", f"coalesce(u.province_code, '{HANOI}')"
    return "", f"'{HANOI}'"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _hash_sql(cols: list[str], alias: str) -> str:
    h = f"hash({', '.join(f'{alias}.{c}' for c in cols)})"
    return f"printf('%016x-%x', bit_xor({h}), sum({h}::HUGEINT))"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _swap_manifest(tmp: Path, final: Path) -> None:
    """The commit point of an export: before it the old manifest stands, after it the new one."""
    os.replace(tmp, final)


def _load(root: Path) -> dict | None:
    try:
        return json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _partition_stats(con, cols: list[str]) -> dict[tuple[str, str], tuple[int, str]]:
    join, prov = province_sql(con)
    rows = con.execute(f"""
        SELECT {prov} AS province, strftime(d.received_date, '%Y-%m') AS month, count(*) AS n,
               {_hash_sql(cols, 'd')} AS h
        FROM dossiers d{join} GROUP BY 1, 2
    """).fetchall()
    return {(p, m): (int(n), h) for p, m, n, h in rows}


def _write_partitions(con, root: Path, cols: list[str], parts: list[tuple[str, str]]) -> dict:
    """Write the listed partitions into a staging folder in one pass, then move them under new names."""
    if not parts:
        return {}
    staging = root / f".staging-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    keys = ", ".join("'" + f"{p}/{m}".replace("'", "''") + "'" for p, m in parts)
    join, prov = province_sql(con)
    select = ", ".join(f"d.{c}" for c in cols)
    con.execute(f"""
        COPY (SELECT * FROM (SELECT {select}, {prov} AS province, strftime(d.received_date, '%Y-%m') AS month
                             FROM dossiers d{join})
              WHERE province || '/' || month IN ({keys}))
        TO {_quote(staging)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (province, month))
    """)
    tag = uuid.uuid4().hex[:12]
    out: dict[tuple[str, str], list[dict]] = {}
    for prov_code, month in parts:
        rel_dir = Path(f"province={prov_code}") / f"month={month}"
        (root / rel_dir).mkdir(parents=True, exist_ok=True)
        files = []
        for i, src in enumerate(sorted((staging / rel_dir).glob("*.parquet"))):
            rel = rel_dir / f"part-{tag}-{i}.parquet"
            _fsync(src)
            os.replace(src, root / rel)
            files.append({"path": rel.as_posix(), "bytes": (root / rel).stat().st_size, "sha256": _sha256(root / rel)})
        _fsync(root / rel_dir)
        out[(prov_code, month)] = files
    shutil.rmtree(staging, ignore_errors=True)
    return out


def _write_reference(con, root: Path, old: dict) -> tuple[dict, int]:
    """The small reference tables, one file each, rewritten only when their content hash changes."""
    (root / "reference").mkdir(exist_ok=True)
    out, written = {}, 0
    for table in REFERENCE_TABLES:
        cols = [c for c, _ in _columns(con, table)]
        n, h = con.execute(f"SELECT count(*), {_hash_sql(cols, 't')} FROM {table} t").fetchone()
        prev = old.get(table)
        if prev and prev["hash"] == h and prev["rows"] == n and (root / prev["path"]).is_file():
            out[table] = prev
            continue
        rel = Path("reference") / f"{table}-{uuid.uuid4().hex[:12]}.parquet"
        con.execute(f"COPY (SELECT * FROM {table}) TO {_quote(root / rel)} (FORMAT parquet, COMPRESSION zstd)")
        _fsync(root / rel)
        size = (root / rel).stat().st_size
        written += size
        out[table] = {"path": rel.as_posix(), "rows": int(n), "hash": h, "bytes": size, "sha256": _sha256(root / rel)}
    _fsync(root / "reference")
    return out, written


def named_files(manifest: dict | None) -> set[str]:
    """Every data file a manifest names (partitions and reference tables), relative to the lake."""
    if not manifest:
        return set()
    names = {f["path"] for p in manifest["partitions"] for f in p["files"]}
    return names | {r["path"] for r in manifest.get("reference", {}).values()}


def collect_garbage(root: Path, manifest: dict) -> int:
    """Delete files the manifest neither names nor lists as previous, and unfinished staging; returns the count.

    Called with the lock held, after the manifest naming `manifest` is in place."""
    keep = named_files(manifest) | set(manifest.get("previous_files", []))
    removed = 0
    for path in root.rglob("*.parquet"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".staging-") or rel in keep:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    for stale in [*root.glob(".staging-*"), *root.glob(f"{MANIFEST}.tmp-*")]:
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    for d in root.glob("province=*/month=*"):
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    for d in root.glob("province=*"):
        if d.is_dir() and not any(d.iterdir()):
            d.rmdir()
    return removed


def export(con: duckdb.DuckDBPyConnection, root: Path, source: str | None = None) -> dict:
    """Bring the lake at `root` up to date with the warehouse `con` reads; returns what it did.

    `con` is a warehouse connection (a read-only snapshot is best: it cannot change meanwhile).
    `source` is recorded in the manifest (e.g. the snapshot's name)."""
    started = time.perf_counter()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".lock")):
        old = _load(root)
        columns = _columns(con, "dossiers")
        cols = [c for c, _ in columns]
        con.execute("BEGIN TRANSACTION")  # the statistics and the files describe one state of the warehouse
        try:
            stats = _partition_stats(con, cols)
            compatible = old is not None and old.get("format") == FORMAT and old.get("columns") == [list(c) for c in columns]
            before = {(p["province"], p["month"]): p for p in (old["partitions"] if compatible else [])}
            changed = sorted(k for k, (n, h) in stats.items()
                             if k not in before or before[k]["rows"] != n or before[k]["hash"] != h)
            files = _write_partitions(con, root, cols, changed)
            reference, ref_bytes = _write_reference(con, root, old.get("reference", {}) if compatible else {})
            last_change = con.execute("SELECT coalesce(max(run_id), 0) FROM ingest_runs "
                                      "WHERE inserted > 0 OR updated > 0").fetchone()[0]
        finally:
            con.execute("COMMIT")
        partitions = []
        for key in sorted(stats):
            n, h = stats[key]
            if key in files:
                partitions.append({"province": key[0], "month": key[1], "rows": n, "hash": h, "files": files[key]})
            else:
                partitions.append(before[key])
        fingerprint = hashlib.sha256(json.dumps(sorted((k, v) for k, v in stats.items())).encode()).hexdigest()[:16]
        manifest = {
            "format": FORMAT,
            "generation": (old or {}).get("generation", 0) + 1,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": source,
            "data_version": {"last_change_run_id": int(last_change), "dossiers": sum(n for n, _ in stats.values()),
                             "fingerprint": fingerprint},
            "partition_by": list(PARTITION_BY),
            "columns": [list(c) for c in columns],
            "partitions": partitions,
            "reference": reference,
        }
        manifest["previous_files"] = sorted(named_files(old) - named_files(manifest))
        if (compatible and not files and not ref_bytes and old["partitions"] == partitions
                and old["data_version"] == manifest["data_version"]):
            return {"lake": str(root), "generation": old["generation"], "partitions_written": 0,
                    "partitions_kept": len(partitions), "partitions_removed": 0, "rows_written": 0,
                    "dossiers": manifest["data_version"]["dossiers"], "bytes_written": 0,
                    "files_deleted": collect_garbage(root, old), "data_version": old["data_version"],
                    "seconds": round(time.perf_counter() - started, 3)}
        tmp = root / f"{MANIFEST}.tmp-{os.getpid()}"
        text = json.dumps(manifest, indent=1, ensure_ascii=False)
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        _swap_manifest(tmp, root / MANIFEST)
        _fsync(root)
        deleted = collect_garbage(root, manifest)
    written = sum(f["bytes"] for fs in files.values() for f in fs) + ref_bytes + len(text.encode())
    return {
        "lake": str(root),
        "generation": manifest["generation"],
        "partitions_written": len(files),
        "partitions_kept": len(partitions) - len(files),
        "partitions_removed": len(set(before) - set(stats)),
        "rows_written": sum(stats[k][0] for k in files),
        "dossiers": manifest["data_version"]["dossiers"],
        "bytes_written": written,
        "files_deleted": deleted,
        "data_version": manifest["data_version"],
        "seconds": round(time.perf_counter() - started, 3),
    }
