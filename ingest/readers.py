"""One small reader per file format. Each materialises the columns a profile needs, as text, into a
temporary DuckDB table `<table>(_line, <source headers>...)` with the line (or sheet row) of each
record, and reports records it could not parse at all. Columns not asked for are never read.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}


class UnreadableFile(Exception):
    """The file as a whole cannot be read; `str(exc)` tells the officer how to fix it."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


@dataclass
class Rejected:
    line: int
    code: str
    detail: str


@dataclass
class ReadResult:
    headers: list[str]
    rows: int
    rejected: list[Rejected] = field(default_factory=list)


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableFile(
            "unsupported_format",
            f"'{path.suffix}' files are not read; send CSV, Excel .xlsx, JSON Lines or Parquet",
        )
    return fmt


def hash_and_check(path: Path, fmt: str) -> str:
    """SHA-256 of the file; for text formats also check it is UTF-8 in the same pass."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")() if fmt in ("csv", "jsonl") else None
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            if decoder is not None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    raise UnreadableFile(
                        "bad_encoding",
                        f"not UTF-8 (invalid byte at offset {offset + exc.start}); it may be Windows-1258 "
                        "or TCVN3: save it again as 'CSV UTF-8' and drop it in again",
                    ) from None
            offset += len(chunk)
    if decoder is not None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UnreadableFile("bad_encoding", "file ends in the middle of a UTF-8 character (truncated?)") from None
    if offset == 0:
        raise UnreadableFile("empty_file", "the file is empty")
    return digest.hexdigest()


# --- headers -------------------------------------------------------------------------------------

def _csv_dialect(path: Path) -> tuple[list[str], str]:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        first = fh.readline()
    if not first.strip():
        raise UnreadableFile("no_header", "the first line is empty: the first line must hold the column names")
    delim = max((";", ",", "\t", "|"), key=first.count)
    if first.count(delim) == 0:
        raise UnreadableFile("not_a_table", "the first line has no ',' or ';' separators: not a table")
    headers = next(csv.reader([first], delimiter=delim))
    return [h.strip() for h in headers], delim


def read_headers(path: Path, fmt: str) -> list[str]:
    try:
        if fmt == "csv":
            return _csv_dialect(path)[0]
        if fmt == "parquet":
            return list(pq.read_schema(path).names)
        if fmt == "jsonl":
            # records may omit optional keys: the columns are every key seen, in first-seen order
            keys: dict[str, None] = {}
            with path.open("r", encoding="utf-8-sig") as fh:
                for line in fh:
                    if line.strip():
                        try:
                            obj = json.loads(line)
                        except json.JSONDecodeError:
                            continue  # reported per line when the file is read
                        if isinstance(obj, dict):
                            keys.update(dict.fromkeys(obj))
            if not keys:
                raise UnreadableFile("not_a_table", "no JSON object records in the file")
            return list(keys)
        if fmt == "xlsx":
            return [h for h in _xlsx_rows(path, header_only=True)[0] if h]
    except UnreadableFile:
        raise
    except (pa.ArrowInvalid, OSError, ValueError, KeyError) as exc:
        raise UnreadableFile("corrupt_file", f"cannot read the {fmt} file ({type(exc).__name__}: {exc})") from None
    raise AssertionError(fmt)


# --- materialise ----------------------------------------------------------------------------------

def materialize(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, headers: list[str],
                wanted: list[str], table: str) -> ReadResult:
    """Create temp table `table` with `_line` and the `wanted` source columns as VARCHAR."""
    # small files (indicators) take the line-by-line CSV reader; dossier CSVs go through `stage`
    reader = {"csv": _csv_small, "parquet": _parquet, "jsonl": _jsonl, "xlsx": _xlsx}[fmt]
    try:
        return reader(con, path, headers, wanted, table)
    except UnreadableFile:
        raise
    except (duckdb.Error, pa.ArrowInvalid, OSError, ValueError, KeyError) as exc:
        raise UnreadableFile("corrupt_file", f"cannot read the {fmt} file ({type(exc).__name__}: {exc})") from None


def stage(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, headers: list[str], wanted: list[str],
          name: str, check: Callable[[], None]) -> ReadResult:
    """Expose the file as relation `name` and run `check` over it (which builds `_checked`).

    CSV goes through a view on DuckDB's parallel reader, so the file is parsed once, in the same pass
    as the checks; when its line numbers cannot be trusted (see `_csv`) it is staged again the slow way.
    """
    if fmt == "csv":
        _, delim = _csv_dialect(path)
        if len(set(headers)) != len(headers):
            raise UnreadableFile("duplicate_headers", f"column names repeat in the header line: {headers}")
        try:
            _csv_view(con, path, headers, wanted, name, delim)
            check()
            read = _csv_view_finish(con, path, headers, "_checked")
            _drop_csv_view(con, name)
            if read is not None:
                return read
        except duckdb.InvalidInputException:
            _drop_csv_view(con, name)
        except duckdb.Error as exc:
            raise UnreadableFile("corrupt_file", f"cannot read the csv file ({type(exc).__name__}: {exc})") from None
        read = _csv_slow(con, path, headers, wanted, name, delim)
    else:
        read = materialize(con, path, fmt, headers, wanted, name)
    check()
    con.execute(f"DROP TABLE IF EXISTS {name}")
    return read


def _csv_view(con, path, headers, wanted, name, delim) -> None:
    """Stage with DuckDB's parallel reader; a table's rowid keeps file order, so line = rowid + 2
    (a window function would number the rows too, but on one thread)."""
    columns = "{" + ", ".join(f"{_lit(h)}: 'VARCHAR'" for h in headers) + "}"
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {name}_rows AS
        SELECT {", ".join(_q(w) for w in wanted)}
        FROM read_csv({_lit(str(path))}, header = true, auto_detect = false, columns = {columns},
                      delim = {_lit(delim)}, quote = '"', escape = '"', ignore_errors = true,
                      store_rejects = true, strict_mode = true, max_line_size = 1048576)
    """)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT rowid + 2 AS _line, * FROM {name}_rows")


def _drop_csv_view(con, name: str) -> None:
    con.execute(f"DROP VIEW IF EXISTS {name}")
    con.execute(f"DROP TABLE IF EXISTS {name}_rows")


def _csv_view_finish(con, path, headers, table) -> ReadResult | None:
    """Collect rejected lines; renumber `table`'s lines around them; None if numbering is unsafe."""
    rejected = [
        Rejected(int(line), "malformed_line", f"{etype.lower().replace('_', ' ')}: {msg}")
        for line, etype, msg in con.execute(
            "SELECT line, error_type, error_message FROM reject_errors ORDER BY line"
        ).fetchall()
    ]
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    bad = sorted({r.line for r in rejected})
    if rows + len(bad) + 1 != _count_lines(path):
        return None
    if bad:
        skip = set(bad)
        keep = [ln for ln in range(2, rows + len(bad) + 2) if ln not in skip]
        con.register("_line_map", pa.table({"_row": list(range(2, len(keep) + 2)), "_new": keep}))
        con.execute(f"UPDATE {table} SET _line = m._new FROM _line_map m WHERE {table}._line = m._row")
        con.unregister("_line_map")
    first = {}
    for r in rejected:
        first.setdefault(r.line, r)
    return ReadResult(headers, rows, [first[ln] for ln in bad])


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _count_lines(path: Path) -> int:
    n, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _csv_small(con, path, headers, wanted, table) -> ReadResult:
    return _csv_slow(con, path, headers, wanted, table, _csv_dialect(path)[1])


def _csv_slow(con, path, headers, wanted, table, delim) -> ReadResult:
    idx = {w: headers.index(w) for w in wanted}
    lines: list[int] = []
    cols: dict[str, list] = {w: [] for w in wanted}
    rejected: list[Rejected] = []
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=delim, quotechar='"', doublequote=True, strict=False)
        try:
            next(reader)
            start = reader.line_num + 1
            for record in reader:
                if not record or (len(record) == 1 and not record[0].strip()):
                    start = reader.line_num + 1
                    continue  # blank line
                if len(record) != len(headers):
                    rejected.append(Rejected(start, "malformed_line",
                                             f"{len(record)} fields where the header has {len(headers)}"))
                else:
                    lines.append(start)
                    for w, i in idx.items():
                        cols[w].append(record[i])
                start = reader.line_num + 1
        except csv.Error as exc:
            rejected.append(Rejected(start, "malformed_line", f"{exc}; the rest of the file was not read"))
    _register(con, table, wanted, lines, cols)
    return ReadResult(headers, len(lines), rejected)


def _parquet(con, path, headers, wanted, table) -> ReadResult:
    cols = ", ".join(f"CAST({_q(w)} AS VARCHAR) AS {_q(w)}" for w in wanted)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT row_number() OVER () AS _line, {cols} FROM read_parquet({_lit(str(path))})
    """)
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return ReadResult(headers, rows)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _register(con, table: str, wanted: list[str], lines: list[int], cols: dict[str, list]) -> None:
    data = {"_line": pa.array(lines, pa.int64())}
    data.update({w: pa.array(cols[w], pa.string()) for w in wanted})
    con.register("_arrow_src", pa.table(data))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM _arrow_src")
    con.unregister("_arrow_src")


def _jsonl(con, path, headers, wanted, table) -> ReadResult:
    lines: list[int] = []
    cols: dict[str, list] = {w: [] for w in wanted}
    rejected: list[Rejected] = []
    with path.open("r", encoding="utf-8-sig") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                rejected.append(Rejected(n, "malformed_line", f"not valid JSON: {exc.msg} at column {exc.colno}"))
                continue
            if not isinstance(obj, dict):
                rejected.append(Rejected(n, "malformed_line", "a JSON Lines record must be an object {...}"))
                continue
            lines.append(n)
            for w in wanted:
                cols[w].append(_text(obj.get(w)))
    _register(con, table, wanted, lines, cols)
    return ReadResult(headers, len(lines), rejected)


def _xlsx_rows(path: Path, header_only: bool = False) -> list[list]:
    from openpyxl import load_workbook  # heavy import, only for Excel files

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip or sheet  # noqa: BLE001
        raise UnreadableFile("corrupt_file", f"cannot open the Excel workbook ({type(exc).__name__}: {exc})") from None
    try:
        ws = wb.worksheets[0]
        out = []
        for row in ws.iter_rows(values_only=True):
            out.append(list(row))
            if header_only:
                break
        if not out:
            raise UnreadableFile("empty_file", "the first sheet is empty")
        out[0] = [str(h).strip() if h is not None else "" for h in out[0]]
        return out
    finally:
        wb.close()


def _xlsx(con, path, headers, wanted, table) -> ReadResult:
    rows = _xlsx_rows(path)
    head = rows[0]
    idx = {w: head.index(w) for w in wanted}
    lines: list[int] = []
    cols: dict[str, list] = {w: [] for w in wanted}
    for n, row in enumerate(rows[1:], start=2):  # sheet row numbers, header in row 1
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue  # blank rows are layout, not records
        lines.append(n)
        for w, i in idx.items():
            cols[w].append(_text(row[i]) if i < len(row) else None)
    _register(con, table, wanted, lines, cols)
    return ReadResult(headers, len(lines))


def sniff_text_table(data: bytes) -> str:
    """Tell CSV from JSON Lines for pushed bodies without a file name."""
    head = io.BytesIO(data).read(2048).lstrip(b"\xef\xbb\xbf").lstrip()
    return "jsonl" if head.startswith(b"{") else "csv"
