"""One small reader per file format. Each materialises the columns a profile needs, as text, into a
temporary DuckDB table `<table>(_line, <source headers>...)` with the line (or sheet row) of each
record, and reports records it could not parse at all. Columns not asked for are never read.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from config import IngestLimits
from sqltext import identifier, literal

# Python's csv refuses fields over 131,072 characters; a header cell of 200 kB is a bad file to
# report, not a crash (a record is bounded by DuckDB's max_line_size / the file size anyway).
csv.field_size_limit(1 << 30)

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
    detail: str | None
    column: str | None = None
    record: str | None = None  # the record's id as read, masked when stored (ingest.dossiers.insert_rejected)


@dataclass
class ReadResult:
    headers: list[str]
    rows: int
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


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


def read_headers(path: Path, fmt: str, limits: IngestLimits | None = None) -> list[str]:
    """The file's column names; refuses a file whose names repeat (which column would count?)."""
    headers = _read_headers(path, fmt, limits or IngestLimits())
    named = [h for h in headers if h]
    if len(set(named)) != len(named):
        repeated = sorted({h for h in named if named.count(h) > 1})
        raise UnreadableFile("duplicate_headers", f"column names repeat: {[h[:40] for h in repeated[:8]]}; "
                             "rename or remove the extra columns")
    return headers


def _read_headers(path: Path, fmt: str, limits: IngestLimits) -> list[str]:
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
                    try:
                        obj = _json_record(line)
                    except _BadLine:
                        continue  # reported per line when the file is read
                    if isinstance(obj, dict):
                        keys.update(dict.fromkeys(obj))
            if not keys:
                raise UnreadableFile("not_a_table", "no JSON object records in the file")
            return list(keys)
        if fmt == "xlsx":
            return [h for h in next(_xlsx_rows(path, limits)) if h]
    except UnreadableFile:
        raise
    except (pa.ArrowInvalid, OSError, ValueError, KeyError, csv.Error, StopIteration) as exc:
        raise UnreadableFile("corrupt_file", f"cannot read the {fmt} file ({_why(exc)})") from None
    raise AssertionError(fmt)


_QUOTED = re.compile(r'"[^"]*"|\'[^\']*\'')


def _why(exc: BaseException) -> str:
    """An exception in a few words, for a reason an officer reads: its type and the start of its
    message, which for these libraries names a structural problem. Quoted parts are dropped: a DuckDB
    message may quote a cell ("value "Nguyễn…" is not valid UTF8") or a path, never needed to act."""
    text = _QUOTED.sub("'…'", " ".join(str(exc).split()))
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__


def _json_record(line: str):
    """One JSON Lines record, or None for a blank line; raises _BadLine for anything else."""
    if not line.strip():
        return None
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise _BadLine(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:  # a 100,000-deep [[[[...]]]]: a bad line, not a crash
        raise _BadLine("JSON nested too deeply") from None


class _BadLine(ValueError):
    pass


# --- materialise ----------------------------------------------------------------------------------

def materialize(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, headers: list[str],
                wanted: list[str], table: str, limits: IngestLimits | None = None,
                typed: frozenset[str] = frozenset(), record: tuple[str, ...] = ()) -> ReadResult:
    """Create temp table `table` with `_line` and the `wanted` source columns as VARCHAR; a Parquet
    column whose type is in `typed` keeps its type (the checker then reads it without the text)."""
    # small files (indicators) take the line-by-line CSV reader; dossier CSVs go through `stage`
    if fmt == "parquet":
        reader = lambda *a: _parquet(*a, typed=typed, record=record)  # noqa: E731
    else:
        reader = {"csv": _csv_small, "jsonl": _jsonl, "xlsx": _xlsx}[fmt]
    try:
        return reader(con, path, headers, wanted, table, limits or IngestLimits())
    except UnreadableFile:
        raise
    except (duckdb.Error, pa.ArrowInvalid, OSError, ValueError, KeyError, csv.Error) as exc:
        raise UnreadableFile("corrupt_file", f"cannot read the {fmt} file ({_why(exc)})") from None


def stage(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, headers: list[str], wanted: list[str],
          name: str, check: Callable[[], None], limits: IngestLimits | None = None,
          typed: frozenset[str] = frozenset(), line_tables: tuple[str, ...] = (),
          record: tuple[str, ...] = ()) -> ReadResult:
    """Expose the file as relation `name` and run `check` over it (which builds `_checked`, and the
    tables `line_tables`, whose `_line` is renumbered with `_checked`'s). `record`: the source columns
    of the record's id, in order, read for a row a reader sets aside (Parquet text not UTF-8).

    CSV goes through a view on DuckDB's parallel reader, so the file is parsed once, in the same pass
    as the checks; when its line numbers cannot be trusted (see `_csv`) it is staged again the slow way.
    Parquet columns of a type in `typed` are staged with that type, not as text.
    """
    if fmt == "csv":
        _, delim = _csv_dialect(path)
        if len(set(headers)) != len(headers):
            raise UnreadableFile("duplicate_headers", f"column names repeat in the header line: {headers}")
        try:
            _csv_view(con, path, headers, wanted, name, delim)
            check()
            read = _csv_view_finish(con, path, headers, "_checked", also=line_tables)
            _drop_csv_view(con, name)
            if read is not None:
                return read
        except duckdb.InvalidInputException:
            _drop_csv_view(con, name)
        except duckdb.Error as exc:
            raise UnreadableFile("corrupt_file", f"cannot read the csv file ({type(exc).__name__})") from None
        read = _csv_slow(con, path, headers, wanted, name, delim)
    elif fmt == "parquet":
        # a view on the file: its line numbers are the reader's own, so the checks read it directly
        try:
            read = _parquet(con, path, headers, wanted, name, limits, typed, view=True, record=record)
            check()
            con.execute(f"DROP VIEW IF EXISTS {name}")
            return read
        except duckdb.Error:  # e.g. a page unreadable half-way: staged as a table, which says why
            con.execute(f"DROP VIEW IF EXISTS {name}")
        read = materialize(con, path, fmt, headers, wanted, name, limits, typed, record)
    else:
        read = materialize(con, path, fmt, headers, wanted, name, limits, typed)
    check()
    con.execute(f"DROP TABLE IF EXISTS {name}")
    return read


def _csv_view(con, path, headers, wanted, name, delim) -> None:
    """Stage with DuckDB's parallel reader; a table's rowid keeps file order, so line = rowid + 2
    (a window function would number the rows too, but on one thread)."""
    columns = "{" + ", ".join(f"{literal(h)}: 'VARCHAR'" for h in headers) + "}"
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {name}_rows AS
        SELECT {", ".join(identifier(w) for w in wanted)}
        FROM read_csv({literal(str(path))}, header = true, auto_detect = false, columns = {columns},
                      delim = {literal(delim)}, quote = '"', escape = '"', ignore_errors = true,
                      store_rejects = true, strict_mode = true, max_line_size = 1048576)
    """)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT rowid + 2 AS _line, * FROM {name}_rows")


def _drop_csv_view(con, name: str) -> None:
    con.execute(f"DROP VIEW IF EXISTS {name}")
    con.execute(f"DROP TABLE IF EXISTS {name}_rows")


def _csv_view_finish(con, path, headers, table, also: tuple[str, ...] = ()) -> ReadResult | None:
    """Collect rejected lines; renumber the lines of `table` (and of the tables `also`, keyed by the
    same lines) around them; None if numbering is unsafe."""
    rejected = [
        Rejected(int(line), "malformed_line", _duckdb_reject(etype, msg))
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
        for t in (table, *also):
            con.execute(f"UPDATE {t} SET _line = m._new FROM _line_map m WHERE {t}._line = m._row")
        con.unregister("_line_map")
    first = {}
    for r in rejected:
        first.setdefault(r.line, r)
    return ReadResult(headers, rows, [first[ln] for ln in bad])


_COLUMN_COUNT = re.compile(r"Expected Number of Columns: \d+ Found: \d+")


def _duckdb_reject(etype: str, message: str) -> str:
    """DuckDB's words for a rejected line, keeping only the column counts: its messages may quote
    the line itself."""
    words = etype.lower().replace("_", " ")
    counts = _COLUMN_COUNT.search(message or "")
    return f"{words}: {counts.group(0)}" if counts else words


def _count_lines(path: Path) -> int:
    n, last = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def _csv_small(con, path, headers, wanted, table, limits) -> ReadResult:
    return _csv_slow(con, path, headers, wanted, table, _csv_dialect(path)[1])


class _PhysicalLines:
    """The file's physical lines for csv.reader, numbered, with a way to hand lines back.

    csv.reader asks for one line at a time and no further than the record needs, so `taken` holds
    exactly the lines of the last record; after a bad record the lines after its first are pushed
    back and read again as records of their own.
    """

    def __init__(self, fh) -> None:
        self.fh, self.n, self.back, self.taken = fh, 0, deque(), []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.back:
            item = self.back.popleft()
        else:
            text = self.fh.readline()
            if not text:
                raise StopIteration
            self.n += 1
            item = (self.n, text)
        self.taken.append(item)
        return item[1]

    def give_back_all_but_first(self) -> None:
        self.back.extendleft(reversed(self.taken[1:]))


def _csv_records(fh, delim: str, width: int, rejected: list[Rejected]) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) of every good record after the header; every other physical line is either
    blank or reported in `rejected` with its number. An unbalanced quote never swallows the lines
    after it: a record that spans several lines is accepted only when its field count is right and
    none of its continuation lines is a record of the header's width on its own."""
    lines = _PhysicalLines(fh)

    def reader():
        return csv.reader(lines, delimiter=delim, quotechar='"', doublequote=True, strict=False)

    rows = reader()
    lines.taken = []
    next(rows, None)  # the header
    while True:
        lines.taken = []
        try:
            record = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a NUL byte: that line only
            if not lines.taken:
                return
            rejected.append(Rejected(lines.taken[0][0], "malformed_line", _why(exc)))
            lines.give_back_all_but_first()
            rows = reader()
            continue
        span = lines.taken
        if not record or (len(record) == 1 and not record[0].strip()):
            continue  # blank line
        if len(span) > 1 and (len(record) != width or _swallowed(span[1:], delim, width)):
            rejected.append(Rejected(span[0][0], "malformed_line",
                                     "unbalanced quote (\") : the line was read alone, the lines after it as records"))
            lines.give_back_all_but_first()
            rows = reader()
            continue
        if len(record) != width:
            rejected.append(Rejected(span[0][0], "malformed_line", f"{len(record)} fields where the header has {width}"))
            continue
        yield span[0][0], record


def _swallowed(continuation: list[tuple[int, str]], delim: str, width: int) -> bool:
    for _, text in continuation:
        try:
            alone = next(csv.reader([text], delimiter=delim, quotechar='"', strict=False), [])
        except csv.Error:
            continue
        if len(alone) == width:
            return True
    return False


def _csv_slow(con, path, headers, wanted, table, delim) -> ReadResult:
    idx = {w: headers.index(w) for w in wanted}
    lines: list[int] = []
    cols: dict[str, list] = {w: [] for w in wanted}
    rejected: list[Rejected] = []
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        for line, record in _csv_records(fh, delim, len(headers), rejected):
            lines.append(line)
            for w, i in idx.items():
                cols[w].append(record[i])
    _register(con, table, wanted, lines, cols)
    rejected.sort(key=lambda r: r.line)
    return ReadResult(headers, len(lines), rejected)


PARQUET_BATCH_ROWS = 65_536
_BYTES_TABLE, _BYTES_ROW = "_parquet_bytes", "__r57_row"


def _parquet(con, path, headers, wanted, table, limits, typed: frozenset[str] = frozenset(),
             view: bool = False, record: tuple[str, ...] = ()) -> ReadResult:
    """Line = the record's row in the file, from 1 (the reader's own row number: no window).
    `view`: a view on the file instead of a table (read once, by the checks).

    Text must be UTF-8, judged cell by cell: a BLOB column's cells are decoded, and a row with a cell that
    is not UTF-8 is set aside (`invalid_utf8`, the column named, never the bytes). A file whose UTF-8
    text columns hold bytes that are not UTF-8 (DuckDB refuses to read it) is read again with pyarrow,
    those columns as bytes, and judged the same way: one bad cell no longer fails the whole file."""
    if "file_row_number" in {h.lower() for h in headers}:  # a column of that name, in any case: a window
        src, line = f"read_parquet({literal(str(path))})", "row_number() OVER ()"
    else:
        src, line = f"read_parquet({literal(str(path))}, file_row_number = true)", "file_row_number + 1"
    try:
        return _parquet_stage(con, src, line, headers, wanted, table, typed, view, record)
    except duckdb.InvalidInputException as exc:
        if view or "string encoding" not in str(exc).lower():
            raise
    try:
        _parquet_as_bytes(con, path, wanted)
        return _parquet_stage(con, _BYTES_TABLE, identifier(_BYTES_ROW), headers, wanted, table, typed, False, record)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_BYTES_TABLE}")


def _parquet_stage(con, src, line, headers, wanted, table, typed, view, record=()) -> ReadResult:
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {src})").fetchall())
    blobs = [w for w in wanted if types.get(w) == "BLOB"]

    def value(w: str) -> str:
        if types.get(w) in typed or types.get(w) == "VARCHAR":
            return identifier(w)
        if w in blobs:
            return f"try(decode({identifier(w)}))"
        return f"CAST({identifier(w)} AS VARCHAR)"

    def col(w: str) -> str:
        return identifier(w) if value(w) == identifier(w) else f"{value(w)} AS {identifier(w)}"

    def undecodable(w: str) -> str:
        return f"({identifier(w)} IS NOT NULL AND try(decode({identifier(w)})) IS NULL)"

    raw = f"(SELECT {line} AS _line, {', '.join(identifier(w) for w in wanted)} FROM {src})"
    bad = " OR ".join(undecodable(w) for w in blobs)
    con.execute(f"""
        CREATE OR REPLACE TEMP {'VIEW' if view else 'TABLE'} {table} AS
        SELECT _line, {', '.join(col(w) for w in wanted)} FROM {raw} {f'WHERE NOT ({bad})' if blobs else ''}
    """)
    rejected = []
    if blobs:
        which = ", ".join(f"CASE WHEN {undecodable(w)} THEN {literal(w)} END" for w in blobs)
        ids = [value(w) for w in record if w in wanted]  # the id as text, NULL where it is not UTF-8
        rid = f"coalesce({', '.join(f'CAST({i} AS VARCHAR)' for i in ids)})" if ids else "NULL"
        for n, cols, rec in con.execute(f"SELECT _line, list_filter([{which}], lambda x: x IS NOT NULL), {rid} "
                                        f"FROM {raw} WHERE {bad} ORDER BY _line").fetchall():
            rejected.append(Rejected(int(n), "invalid_utf8", None, ", ".join(cols), rec))
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return ReadResult(headers, rows, rejected)


def _parquet_as_bytes(con, path: Path, wanted: list[str]) -> None:
    """The file's `wanted` columns, read by pyarrow (which does not check UTF-8) batch by batch into a
    temporary table, every text column as its bytes (BLOB), with the row number of each record."""
    con.execute(f"DROP TABLE IF EXISTS {_BYTES_TABLE}")
    pf = pq.ParquetFile(path)
    start = 1
    batches = pf.iter_batches(columns=wanted, batch_size=PARQUET_BATCH_ROWS)
    for batch in batches if pf.metadata.num_rows else [pf.schema_arrow.empty_table().select(wanted)]:
        arrays = {_BYTES_ROW: pa.array(range(start, start + batch.num_rows), pa.int64())}
        for name, arr in zip(batch.schema.names, batch.columns, strict=True):
            if isinstance(arr, pa.ChunkedArray):
                arr = arr.combine_chunks()
            if pa.types.is_string(arr.type):
                arr = arr.view(pa.binary())
            elif pa.types.is_large_string(arr.type):
                arr = arr.view(pa.large_binary())
            arrays[name] = arr
        con.register("_parquet_batch", pa.table(arrays))
        try:
            if start == 1:
                con.execute(f"CREATE TEMP TABLE {_BYTES_TABLE} AS SELECT * FROM _parquet_batch")
            else:
                con.execute(f"INSERT INTO {_BYTES_TABLE} SELECT * FROM _parquet_batch")
        finally:
            con.unregister("_parquet_batch")
        start += batch.num_rows


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


def _jsonl(con, path, headers, wanted, table, limits) -> ReadResult:
    lines: list[int] = []
    cols: dict[str, list] = {w: [] for w in wanted}
    rejected: list[Rejected] = []
    with path.open("r", encoding="utf-8-sig") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                obj = _json_record(raw)
            except _BadLine as exc:
                rejected.append(Rejected(n, "malformed_line", str(exc)))
                continue
            if obj is None:
                continue
            if not isinstance(obj, dict):
                rejected.append(Rejected(n, "malformed_line", "a JSON Lines record must be an object {...}"))
                continue
            lines.append(n)
            for w in wanted:
                cols[w].append(_text(obj.get(w)))
    _register(con, table, wanted, lines, cols)
    return ReadResult(headers, len(lines), rejected)


def _xlsx_check_size(path: Path, limits: IngestLimits) -> None:
    """Refuse a workbook whose unpacked size is over the limit before openpyxl inflates it: a 1 MB
    zip can hold millions of rows and hold the single writer for minutes."""
    try:
        with zipfile.ZipFile(path) as z:
            size = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFile("corrupt_file", f"cannot open the Excel workbook ({_why(exc)}): "
                             "save it again as .xlsx") from None
    if size > limits.xlsx_max_bytes:
        raise UnreadableFile("too_large", f"the workbook unpacks to {size / 2**20:,.0f} MB, over the limit of "
                             f"{limits.xlsx_max_bytes / 2**20:,.0f} MB (R57_XLSX_MAX_MB): split it or send CSV")


def _xlsx_rows(path: Path, limits: IngestLimits) -> Iterator[list]:
    """The first sheet's rows, the header (row 1) first with its names as stripped text."""
    from openpyxl import load_workbook  # heavy import, only for Excel files

    _xlsx_check_size(path, limits)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip or sheet  # noqa: BLE001
        raise UnreadableFile("corrupt_file", f"cannot open the Excel workbook ({_why(exc)})") from None
    try:
        if not wb.worksheets:
            raise UnreadableFile("empty_file", "the workbook has no sheet")
        ws = wb.worksheets[0]
        declared = getattr(ws, "max_row", None)  # from the sheet's <dimension>, when the writer set it
        if isinstance(declared, int) and declared > limits.xlsx_max_rows + 1:
            raise UnreadableFile("too_large", f"the first sheet has {declared - 1:,} rows, more than "
                                 f"{limits.xlsx_max_rows:,} (R57_XLSX_MAX_ROWS): split it or send CSV")
        rows = ws.iter_rows(values_only=True)
        head = next(rows, None)
        if head is None:
            raise UnreadableFile("empty_file", "the first sheet is empty")
        yield [str(h).strip() if h is not None else "" for h in head]
        for n, row in enumerate(rows, start=2):
            if n > limits.xlsx_max_rows + 1:
                raise UnreadableFile("too_large", f"the first sheet has more than {limits.xlsx_max_rows:,} rows "
                                     "(R57_XLSX_MAX_ROWS): split it or send CSV")
            yield list(row)
    finally:
        wb.close()


# a cell whose formula has no value after it: <c ...><f>...</f></c>, or an empty <v></v> / <v/>
_ENDS_WITH_FORMULA = re.compile(rb"(?:</f>|<f[^>]*/>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*$")


def _formulas_without_values(path: Path) -> int:
    """Formula cells with no cached value in the first sheet: openpyxl reads them as empty, so the
    officer is warned (the workbook was written by a program that never computed it)."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    try:
        sheet_path = getattr(wb.worksheets[0], "_worksheet_path", None)
    finally:
        wb.close()
    if not sheet_path:
        return 0
    found, tail = 0, b""
    with zipfile.ZipFile(path) as z, z.open(sheet_path) as fh:
        while chunk := fh.read(1 << 20):
            cells = (tail + chunk).split(b"</c>")
            tail = cells.pop()  # after the last cell end: carried into the next chunk
            found += sum(1 for c in cells if _ENDS_WITH_FORMULA.search(c))
    return found


def _xlsx(con, path, headers, wanted, table, limits) -> ReadResult:
    rows = _xlsx_rows(path, limits)
    head = next(rows)
    idx = {w: head.index(w) for w in wanted}
    lines: list[int] = []
    cols: dict[str, list] = {w: [] for w in wanted}
    for n, row in enumerate(rows, start=2):  # sheet row numbers, header in row 1
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in row):
            continue  # blank rows are layout, not records
        lines.append(n)
        for w, i in idx.items():
            cols[w].append(_text(row[i]) if i < len(row) else None)
    _register(con, table, wanted, lines, cols)
    warnings = []
    if n_formulas := _formulas_without_values(path):
        warnings.append(f"formulas_without_values: {n_formulas} formula cell(s) of the first sheet have no saved "
                        "value and were read as empty: open the file in Excel, let it calculate, save, send again")
    return ReadResult(headers, len(lines), warnings=warnings)
