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

from sqltext import literal

FORMAT = 1
MANIFEST = "manifest.json"
PARTITION_BY = ("province", "month")
REFERENCE_TABLES = ("procedures", "units")
HANOI = "01"  # GSO code of Hanoi: every unit of today's reference data belongs to it


def province_sql(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """(join, expression) giving each dossier's province code: its unit's (`units.province_code`, schema
    migration 6), Hanoi's ('01') for a unit without one or a warehouse from before the column."""
    cols = {r[0] for r in con.execute("DESCRIBE units").fetchall()}
    if "province_code" in cols:
        provinces = con.execute(f"SELECT DISTINCT coalesce(province_code, '{HANOI}') FROM units").fetchall()
        if len(provinces) == 1 and str(provinces[0][0]).isdigit():  # one province: no join over every dossier
            return "", f"'{provinces[0][0]}'"
        return " LEFT JOIN units u ON u.unit_code = d.unit_code", f"coalesce(u.province_code, '{HANOI}')"
    return "", f"'{HANOI}'"


def _warehouse_id(con: duckdb.DuckDBPyConnection) -> str | None:
    """The warehouse's identity (meta `warehouse_id`, schema migration 7); None in an older one."""
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'warehouse_id'").fetchall()
    except duckdb.CatalogException:
        return None
    return row[0][0] if row else None


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _hash_sql(cols: list[str], alias: str) -> str:
    h = f"hash({', '.join(f'{alias}.{c}' for c in cols)})"
    return f"printf('%016x-%x', bit_xor({h}), sum({h}::HUGEINT))"


def fsync_path(path: Path) -> None:
    """fsync a file or a folder (a folder: so a rename in it is durable)."""
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


def _partition_stats(con, cols: list[str], only: list[tuple[str, str]] | None = None
                     ) -> dict[tuple[str, str], tuple[int, str, int]]:
    """(rows, content hash, newest ingest run) per partition; `only`: just those partitions."""
    join, prov = province_sql(con)
    where = ""
    if only is not None:
        if not only:
            return {}
        keys = ", ".join(literal(f"{p}/{m}") for p, m in only)
        where = f" WHERE province || '/' || month IN ({keys})"
    rows = con.execute(f"""
        SELECT province, month, count(*), {_hash_sql(cols, 'd')}, max(d.ingest_run_id) FROM (
            SELECT d.*, {prov} AS province, strftime(d.received_date, '%Y-%m') AS month FROM dossiers d{join}) d
        {where} GROUP BY 1, 2
    """).fetchall()
    return {(p, m): (int(n), h, int(r)) for p, m, n, h, r in rows}


def _quick_stats(con) -> dict[tuple[str, str], tuple[int, int]]:
    """(rows, newest ingest run) per partition, from two narrow columns: what the publish path compares.

    Enough to find every partition an ingest changed, because ingest is the only writer of dossiers and
    every row it writes carries a new, higher run id: a dossier added to or replaced in a partition raises
    its newest run id, one that moved away lowers its row count (and a move in raises the newest run id).
    `lake export` from the command line compares full content hashes instead, so an edit made outside
    ingest is found there."""
    join, prov = province_sql(con)
    rows = con.execute(f"""
        SELECT {prov} AS province, strftime(d.received_date, '%Y-%m') AS month, count(*), max(d.ingest_run_id)
        FROM dossiers d{join} GROUP BY 1, 2
    """).fetchall()
    return {(p, m): (int(n), int(r)) for p, m, n, r in rows}


def _part_filter(parts: list[tuple[str, str]], since: dict[tuple[str, str], int]) -> str:
    """SQL over (province, month, ingest_run_id): the partitions in `parts`, whole or (those in `since`) only
    their rows loaded after the given run. Whole partitions are one IN list (a hash lookup per row): a national
    lake's first export names 442 partitions, and 442 OR terms per row made it hours, not minutes."""
    def key(p: str, m: str) -> str:
        return literal(f"{p}/{m}")

    whole = [key(p, m) for p, m in parts if (p, m) not in since]
    terms = [f"(province || '/' || month IN ({', '.join(whole)}))"] if whole else []
    terms += [f"(province || '/' || month = {key(p, m)} AND ingest_run_id > {int(since[(p, m)])})"
              for p, m in parts if (p, m) in since]
    return " OR ".join(terms) or "false"


def _appended_stats(con, cols: list[str], since: dict[tuple[str, str], int]) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(rows, xor, sum) of each partition's rows loaded after the run in `since`: the parts of its hash."""
    if not since:
        return {}
    join, prov = province_sql(con)
    h = f"hash({', '.join(f'd.{c}' for c in cols)})"
    rows = con.execute(f"""
        SELECT province, month, count(*), bit_xor(h), sum(h::HUGEINT) FROM (
            SELECT {prov} AS province, strftime(d.received_date, '%Y-%m') AS month, d.ingest_run_id, {h} AS h
            FROM dossiers d{join})
        WHERE {_part_filter(sorted(since), since)} GROUP BY 1, 2
    """).fetchall()
    return {(p, m): (int(n), int(x), int(sm)) for p, m, n, x, sm in rows}


def _combine_hash(old: str, xor: int, total: int) -> str:
    """The content hash of a partition after rows were added (xor and sum are both additive)."""
    x, sm = old.split("-")
    return f"{int(x, 16) ^ xor:016x}-{int(sm, 16) + total:x}"


MAX_FILES = 8  # appends to a partition beyond this many files rewrite it whole (compaction)


# Rows per partitioned COPY. DuckDB keeps a buffer for every partition one COPY has open: a national lake's
# first export as one COPY (442 partitions, 99 M rows) spilled about 16 GB at the writer's 2.8 GiB. Batches of
# whole months, each read through its receipt-date range (zone maps skip the other months' row groups).
BATCH_ROWS = 8_000_000


def _batches(parts: list[tuple[str, str]], rows: dict[tuple[str, str], int], limit: int) -> list[list[tuple[str, str]]]:
    """`parts` in batches of whole, consecutive months holding at most `limit` rows (one month more than
    `limit` alone is one batch: splitting it by province would read its rows once per province)."""
    by_month: dict[str, list[tuple[str, str]]] = {}
    for p in parts:
        by_month.setdefault(p[1], []).append(p)
    out: list[list[tuple[str, str]]] = []
    n = 0
    for month in sorted(by_month):
        size = sum(rows.get(p, 0) for p in by_month[month])
        if out and n + size <= limit:
            out[-1] += by_month[month]
            n += size
        else:
            out.append(list(by_month[month]))
            n = size
    return out


def _months_range(parts: list[tuple[str, str]]) -> str:
    """SQL over d.received_date: from the first month of `parts` to the end of the last one."""
    from datetime import date

    first, last = min(m for _, m in parts), max(m for _, m in parts)
    y, mo = int(last[:4]), int(last[5:7])
    end = date(y + (mo == 12), mo % 12 + 1, 1)
    return f"d.received_date >= DATE '{first}-01' AND d.received_date < DATE '{end}'"


def _write_partitions(con, root: Path, cols: list[str], parts: list[tuple[str, str]],
                      since: dict[tuple[str, str], int] | None = None,
                      rows: dict[tuple[str, str], int] | None = None) -> dict:
    """Write the listed partitions into a staging folder, a batch of months per pass (`_batches`; `rows`: the
    rows each partition will get), then move them under new names.

    Partitions in `since` are appended to: only their rows loaded after the given run are written, as new
    files beside the partition's old ones (the caller adds them to the old list)."""
    if not parts:
        return {}
    since = since or {}
    staging = root / f".staging-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    join, prov = province_sql(con)
    select = ", ".join(f"d.{c}" for c in cols)
    batches = _batches(parts, rows or {}, BATCH_ROWS)
    for i, batch in enumerate(batches):
        con.execute(f"""
            COPY (SELECT * FROM (SELECT {select}, {prov} AS province, strftime(d.received_date, '%Y-%m') AS month
                                 FROM dossiers d{join} WHERE {_months_range(batch)})
                  WHERE {_part_filter(batch, since)})
            TO {literal(staging / f"b{i}")} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (province, month))
        """)
    where = {p: staging / f"b{i}" for i, batch in enumerate(batches) for p in batch}
    tag = uuid.uuid4().hex[:12]
    out: dict[tuple[str, str], list[dict]] = {}
    for prov_code, month in parts:
        rel_dir = Path(f"province={prov_code}") / f"month={month}"
        (root / rel_dir).mkdir(parents=True, exist_ok=True)
        files = []
        for i, src in enumerate(sorted((where[(prov_code, month)] / rel_dir).glob("*.parquet"))):
            rel = rel_dir / f"part-{tag}-{i}.parquet"
            fsync_path(src)
            os.replace(src, root / rel)
            files.append({"path": rel.as_posix(), "bytes": (root / rel).stat().st_size, "sha256": _sha256(root / rel)})
        fsync_path(root / rel_dir)
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
        con.execute(f"COPY (SELECT * FROM {table}) TO {literal(root / rel)} (FORMAT parquet, COMPRESSION zstd)")
        fsync_path(root / rel)
        size = (root / rel).stat().st_size
        written += size
        out[table] = {"path": rel.as_posix(), "rows": int(n), "hash": h, "bytes": size, "sha256": _sha256(root / rel)}
    fsync_path(root / "reference")
    return out, written


def named_files(manifest: dict | None) -> set[str]:
    """Every data file a manifest names (partitions, reference and aggregate tables), relative to the lake."""
    if not manifest:
        return set()
    names = {f["path"] for p in manifest["partitions"] for f in p["files"]}
    names |= {f["path"] for t in manifest.get("aggregates", {}).get("tables", {}).values()
              for m in t.values() for f in m["files"]}
    return names | {r["path"] for r in manifest.get("reference", {}).values()}


# The metrics aggregates the serving snapshot reads from the lake, by month: table -> its month column.
AGGREGATES = {"metrics_day": "day", "metrics_month": "month", "metrics_hist": "day", "metrics_open": "received_date"}


def _aggregate_state(con) -> tuple[str | None, int]:
    kv = dict(con.execute("SELECT key, value FROM metrics_state WHERE key IN ('base', 'last_run_id')").fetchall())
    return kv.get("base"), int(kv.get("last_run_id") or 0)


def _export_aggregates(con, root: Path, old: dict | None) -> tuple[dict | None, int, int]:
    """Write the months of the aggregate tables that changed since `old` (the previous manifest's section).

    The refresh logs the months it rewrote (`metrics_months_changed`, by the last run it covered); a new
    base (a full rebuild) or other columns rewrite every month. Returns (section, bytes, files written)."""
    present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                                         "AND database_name = current_database()").fetchall()}
    if not {"metrics_state", *AGGREGATES} <= present:
        return None, 0, 0  # never refreshed (a fresh warehouse): the snapshot keeps what tables there are
    base, run = _aggregate_state(con)
    columns = {t: [list(c) for c in _columns(con, t)] for t in AGGREGATES}
    same = (bool(old) and old.get("base") == base and old.get("columns") == columns and base is not None
            and "metrics_months_changed" in present)  # the log a refresh of this version keeps
    tables = {t: dict(old["tables"].get(t, {})) for t in AGGREGATES} if same else {t: {} for t in AGGREGATES}
    if same:
        months = sorted({m for (m,) in con.execute(
            "SELECT DISTINCT strftime(month, '%Y-%m') FROM metrics_months_changed WHERE run_id > ?",
            [int(old.get("run", 0))]).fetchall()})
    else:
        months = None  # every month
    written = n_files = 0
    for table, col in AGGREGATES.items():
        month_sql = f"strftime({col}, '%Y-%m')"
        where = "" if months is None else f" WHERE {_month_ranges(col, months)}"  # ranges: zone maps prune
        counts = dict(con.execute(f"SELECT {month_sql}, count(*) FROM {table}{where} GROUP BY 1").fetchall())
        targets = sorted(counts) if months is None else months
        for m in targets:
            tables[table].pop(m, None)
        if not counts:
            continue
        staging = root / f".staging-{uuid.uuid4().hex[:12]}"
        staging.mkdir()
        order = col if table != "metrics_open" else "received_at"
        con.execute(f"""COPY (SELECT *, {month_sql} AS month_key FROM {table}{where} ORDER BY {order})
                        TO {literal(staging)} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (month_key))""")
        tag = uuid.uuid4().hex[:12]
        for m, n in sorted(counts.items()):
            rel_dir = Path("aggregates") / table / f"month={m}"
            (root / rel_dir).mkdir(parents=True, exist_ok=True)
            files = []
            for i, src in enumerate(sorted((staging / f"month_key={m}").glob("*.parquet"))):
                rel = rel_dir / f"part-{tag}-{i}.parquet"
                fsync_path(src)
                os.replace(src, root / rel)
                size = (root / rel).stat().st_size
                written += size
                n_files += 1
                files.append({"path": rel.as_posix(), "bytes": size})
            fsync_path(root / rel_dir)
            tables[table][m] = {"rows": int(n), "files": files}
        shutil.rmtree(staging, ignore_errors=True)
    return {"base": base, "run": run, "columns": columns, "tables": tables}, written, n_files


def _month_ranges(col: str, months: list[str]) -> str:
    """SQL: `col` (a DATE) falls in one of `months` ('YYYY-MM'), as date ranges."""
    from datetime import date

    terms = []
    for m in months:
        y, mo = int(m[:4]), int(m[5:7])
        nxt = date(y + (mo == 12), mo % 12 + 1, 1)
        terms.append(f"({col} >= DATE '{date(y, mo, 1)}' AND {col} < DATE '{nxt}')")
    return " OR ".join(terms) or "false"


def collect_garbage(root: Path, manifest: dict, keep: frozenset[str] | set[str] = frozenset()) -> int:
    """Delete files the manifest neither names nor lists as previous, and unfinished staging; returns the count.

    `keep`: more files (relative to the lake) that must stay, e.g. those the retained serving snapshots
    read. Called with the lock held, after the manifest naming `manifest` is in place."""
    keep = named_files(manifest) | set(manifest.get("previous_files", [])) | set(keep)
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


def export(con: duckdb.DuckDBPyConnection, root: Path, source: str | None = None, *, incremental: bool = False,
           aggregates: bool = False, keep: frozenset[str] | set[str] = frozenset()) -> dict:
    """Bring the lake at `root` up to date with the warehouse `con` reads; returns what it did.

    `con` is a warehouse connection (a read-only snapshot, or the writer between runs: neither changes
    meanwhile). `source` is recorded in the manifest (e.g. the snapshot's name). `incremental` (the
    publish path): find changed partitions from row counts and newest run ids (`_quick_stats`), and hash
    only those; otherwise every partition's content is hashed and compared. `keep`: files that garbage
    collection must leave (the serving snapshots still on disk read them). `aggregates` (the publish path, in
    the writer): also write the changed months of the metrics aggregate tables; otherwise the manifest keeps
    the aggregate files it named."""
    started = time.perf_counter()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".lock")):
        old = _load(root)
        columns = _columns(con, "dossiers")
        cols = [c for c, _ in columns]
        compatible = old is not None and old.get("format") == FORMAT and old.get("columns") == [list(c) for c in columns]
        before = {(p["province"], p["month"]): p for p in (old["partitions"] if compatible else [])}
        quick = incremental and compatible and all("max_run" in p for p in before.values())
        con.execute("BEGIN TRANSACTION")  # the statistics and the files describe one state of the warehouse
        try:
            since: dict[tuple[str, str], int] = {}
            if quick:
                counts = _quick_stats(con)
                changed = sorted(k for k, (n, r) in counts.items()
                                 if k not in before or before[k]["rows"] != n or before[k]["max_run"] != r)
                # a partition that only gained rows (none of its rows was replaced or moved away) is appended to
                grown = {k: before[k]["max_run"] for k in changed
                         if k in before and counts[k][0] > before[k]["rows"] and len(before[k]["files"]) < MAX_FILES}
                added = _appended_stats(con, cols, grown)
                since = {k: r for k, r in grown.items() if k in added and before[k]["rows"] + added[k][0] == counts[k][0]}
                hashed = _partition_stats(con, cols, only=[k for k in changed if k not in since])
                stats = {k: (before[k]["rows"], before[k]["hash"], before[k]["max_run"]) for k in counts
                         if k not in hashed and k not in since}
                stats.update(hashed)
                stats.update({k: (counts[k][0], _combine_hash(before[k]["hash"], added[k][1], added[k][2]), counts[k][1])
                              for k in since})
            else:
                stats = _partition_stats(con, cols)
                changed = sorted(k for k, (n, h, _r) in stats.items()
                                 if k not in before or before[k]["rows"] != n or before[k]["hash"] != h)
            files = _write_partitions(con, root, cols, changed, since,
                                      rows={k: stats[k][0] - (before[k]["rows"] if k in since else 0) for k in changed})
            reference, ref_bytes = _write_reference(con, root, old.get("reference", {}) if compatible else {})
            agg_section, agg_bytes, agg_files = (old or {}).get("aggregates"), 0, 0
            if aggregates:
                agg_section, agg_bytes, agg_files = _export_aggregates(con, root, agg_section)
            last_change = con.execute("SELECT coalesce(max(run_id), 0) FROM ingest_runs "
                                      "WHERE inserted > 0 OR updated > 0").fetchone()[0]
            warehouse_id = _warehouse_id(con)
        finally:
            con.execute("COMMIT")
        partitions = []
        for key in sorted(stats):
            n, h, r = stats[key]
            if key in files:
                kept = before[key]["files"] if key in since else []
                partitions.append({"province": key[0], "month": key[1], "rows": n, "hash": h, "max_run": r,
                                   "files": kept + files[key]})
            else:
                partitions.append({**before[key], "max_run": r})
        fingerprint = hashlib.sha256(json.dumps(sorted((k, v[:2]) for k, v in stats.items())).encode()).hexdigest()[:16]
        manifest = {
            "format": FORMAT,
            "generation": (old or {}).get("generation", 0) + 1,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": source,
            "data_version": {"last_change_run_id": int(last_change), "dossiers": sum(v[0] for v in stats.values()),
                             "fingerprint": fingerprint, "warehouse": warehouse_id},
            "partition_by": list(PARTITION_BY),
            "columns": [list(c) for c in columns],
            "partitions": partitions,
            "reference": reference,
        }
        if agg_section:
            manifest["aggregates"] = agg_section
        manifest["previous_files"] = sorted(named_files(old) - named_files(manifest))
        if (compatible and not files and not ref_bytes and not agg_files and old["partitions"] == partitions
                and old["data_version"] == manifest["data_version"] and old.get("aggregates") == agg_section):
            return {"lake": str(root), "generation": old["generation"], "partitions_written": 0,
                    "partitions_kept": len(partitions), "partitions_removed": 0, "rows_written": 0,
                    "dossiers": manifest["data_version"]["dossiers"], "bytes_written": 0,
                    "files_deleted": collect_garbage(root, old, keep), "data_version": old["data_version"],
                    "manifest": old, "seconds": round(time.perf_counter() - started, 3)}
        tmp = root / f"{MANIFEST}.tmp-{os.getpid()}"
        text = json.dumps(manifest, indent=1, ensure_ascii=False)
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        _swap_manifest(tmp, root / MANIFEST)
        fsync_path(root)
        deleted = collect_garbage(root, manifest, keep)
    written = sum(f["bytes"] for fs in files.values() for f in fs) + ref_bytes + agg_bytes + len(text.encode())
    return {
        "lake": str(root),
        "generation": manifest["generation"],
        "partitions_written": len(files),
        "partitions_kept": len(partitions) - len(files),
        "partitions_removed": len(set(before) - set(stats)),
        "rows_written": sum(stats[k][0] - (before[k]["rows"] if k in since else 0) for k in files),
        "partitions_appended": len(since),
        "aggregate_files_written": agg_files,
        "aggregate_bytes_written": agg_bytes,
        "dossiers": manifest["data_version"]["dossiers"],
        "bytes_written": written,
        "files_deleted": deleted,
        "data_version": manifest["data_version"],
        "manifest": manifest,
        "seconds": round(time.perf_counter() - started, 3),
    }
