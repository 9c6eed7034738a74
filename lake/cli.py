"""`python app.py lake export|verify` and `python app.py aggregates build`: the scale-out commands, JSON out."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def add_arguments(sub, wh, cmd) -> None:
    p = sub.add_parser("lake", help="the dossier lake: Hive-partitioned Parquet (province, month) behind a manifest")
    lsub = p.add_subparsers(dest="lake_command", required=True)
    sp = lsub.add_parser("export", help="write the partitions that changed since the manifest, swap it, prints JSON")
    wh(sp)
    sp.add_argument("--out", default=None, metavar="DIR", help="lake folder (default R57_LAKE, or <warehouse>.lake beside it)")
    sp.set_defaults(func=cmd)
    sp = lsub.add_parser("verify", help="check every file the manifest names (size, SHA-256, row counts)")
    sp.add_argument("--out", default=None, metavar="DIR", help="lake folder (default R57_LAKE, or <warehouse>.lake beside it)")
    sp.set_defaults(func=cmd)

    p = sub.add_parser("aggregates", help="build the aggregate tables from the lake with DuckDB or Spark")
    asub = p.add_subparsers(dest="aggregates_command", required=True)
    sp = asub.add_parser("build", help="run the declared measures over the lake; --check: both engines, every cell")
    sp.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    sp.add_argument("--check", action="store_true", help="build with DuckDB and Spark and compare every cell")
    sp.add_argument("--lake", default=None, metavar="DIR", help="lake folder (default R57_LAKE, or <warehouse>.lake beside it)")
    sp.add_argument("--out", default=None, metavar="DIR", help="write the tables as Parquet under DIR/<engine>/")
    sp.add_argument("--master", default="local[*]", help="Spark master (default local[*]; e.g. spark://host:7077)")
    sp.set_defaults(func=cmd)
    sp = asub.add_parser("load", help="take a committed build (--out DIR/<engine>) as the warehouse's aggregates, "
                                      "then publish; refused with its reason unless it is of this warehouse's data")
    wh(sp)
    sp.add_argument("--from", dest="build", required=True, metavar="DIR",
                    help="the build folder: the --out of `aggregates build` and the engine, e.g. /shared/agg/spark")
    sp.set_defaults(func=cmd)


def _lake_dir(settings, given: str | None) -> Path:
    return Path(given) if given else settings.lake_dir


def run(settings, args) -> int:
    if args.command == "aggregates" and args.aggregates_command == "load":
        return _load(settings, Path(args.build))
    if args.command == "aggregates":
        from metrics.aggregates_build import run as build
        from metrics.aggregates_build import spark_session

        from .read import LakeError

        spark = None
        if args.engine == "spark" or args.check:
            spark = spark_session(args.master)
        try:
            report = build(args.engine, _lake_dir(settings, args.lake), check=args.check,
                           out=Path(args.out) if args.out else None, spark=spark)
        except LakeError as exc:
            sys.exit(str(exc))
        finally:
            if spark is not None:
                spark.stop()
        print(json.dumps(report, indent=1, ensure_ascii=False))
        return 0 if report.get("check", {}).get("equal", True) else 1
    root = _lake_dir(settings, args.out)
    if args.lake_command == "verify":
        from .read import LakeError, verify

        try:
            problems = verify(root)
        except LakeError as exc:
            sys.exit(str(exc))
        print(json.dumps({"lake": str(root), "ok": not problems, "problems": problems}, indent=1))
        return 0 if not problems else 1
    from warehouse.db import connect, current_snapshot

    from .store import export

    snap = current_snapshot(settings)  # an immutable published copy when there is one: it cannot change meanwhile
    path = snap or settings.warehouse
    if path is None or not Path(path).exists():
        sys.exit(f"No warehouse at {settings.warehouse}: run `python app.py demo` or ingest files first.")
    con = connect(path, settings, read_only=True)
    try:
        from warehouse.serving import files_in_use

        keep = files_in_use(settings.snapshot_dir) if root.resolve() == settings.lake_dir.resolve() else set()
        report = export(con, root, source=Path(path).name, keep=keep)
        report.pop("manifest")
    finally:
        con.close()
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


def _load(settings, folder: Path) -> int:
    """`aggregates load`: in the writer (this process must be able to open the warehouse read-write)."""
    import dataclasses
    import time

    import duckdb

    from metrics.aggregates import refresh
    from metrics.aggregates_load import BuildUnusable, read
    from service.writer import Writer

    try:
        read(folder)  # its shape and files, before the warehouse is opened
    except BuildUnusable as exc:
        sys.exit(f"The build at {folder} cannot be used: {exc}")
    if settings.warehouse is None or not Path(settings.warehouse).exists():
        sys.exit(f"No warehouse at {settings.warehouse}: run `python app.py demo` or ingest files first.")
    # the writer's start-up repair must not rebuild the aggregates by itself first: it may take the build too
    writer = Writer(dataclasses.replace(settings, aggregates_build=folder))
    try:
        try:
            with writer.session() as con:
                result = refresh(con, full=True, build=folder, require_build=True)
        except duckdb.IOException as exc:
            sys.exit(f"The warehouse is open in another process (the scheduler?): {exc}. Stop it, or set "
                     f"R57_AGGREGATES_BUILD={folder} for it: its next full rebuild takes the build.")
        except BuildUnusable as exc:
            sys.exit(f"The build at {folder} cannot be used: {exc}")
        started = time.perf_counter()
        writer.publish()  # the first of this process: made now
        result["publish_seconds"] = round(time.perf_counter() - started, 3)
        result["publish_bytes"] = writer.publish_bytes
    finally:
        writer.close()
    print(json.dumps(result, indent=1, ensure_ascii=False, default=str))
    return 0
