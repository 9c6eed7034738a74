"""Import a plan annex (XLSX or CSV, one row per task) into the plan registry: `python app.py plan import FILE`.

Headers map through plan/profiles/annex.yaml (canonical names or the Vietnamese annex headers). Each row is
judged alone: a bad row gets a reason (a catalogue code, its column, its line) and the others load. Dates are
dd/mm/yyyy or ISO (or Excel dates); percentages 0–100 ('85', '85 %', '85,5'). Re-importing updates tasks by
task code (changed fields audited; tasks missing from the file are kept). The file's readers are ingest's
(UTF-8 check, delimiter sniffing, the Excel size and row limits); reasons name columns, never cell values.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

from config import IngestLimits
from ingest import readers

from . import DEFAULT_PLAN, units

PROFILE = Path(__file__).with_name("profiles") / "annex.yaml"
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2})?)?$")
MAX_ROWS = 5000


class AnnexProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]


@lru_cache(maxsize=2)
def load_profile(path: Path = PROFILE) -> AnnexProfile:
    return AnnexProfile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _norm(header) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(header or ""))).strip().casefold()


@dataclass
class Rejected:
    line: int
    code: str          # plan.reason_<code> in the catalogue
    column: str        # canonical column
    task_code: str | None = None


@dataclass
class ImportReport:
    file: str
    status: str = "loaded"          # loaded | partial | failed
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    progress: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    warnings: list[Rejected] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


class AnnexError(ValueError):
    pass


def mapping(headers: list[str], profile: AnnexProfile | None = None) -> dict[str, int]:
    """Canonical column -> index of the file's header that carries it; AnnexError when a required one is missing."""
    profile = profile or load_profile()
    have = {_norm(h): i for i, h in enumerate(headers) if _norm(h)}
    out: dict[str, int] = {}
    for col, names in profile.columns.items():
        for n in names:
            if _norm(n) in have:
                out[col] = have[_norm(n)]
                break
    missing = [c for c in profile.required if c not in out]
    if missing:
        expected = "; ".join(f"{c} ({' | '.join(profile.columns[c][1:2] or profile.columns[c][:1])})" for c in missing)
        raise AnnexError(f"missing columns: {expected}; is the header row missing?")
    return out


def rows_of(path: Path, limits: IngestLimits | None = None) -> tuple[list[str], list[tuple[int, list]]]:
    """(headers, [(line, cells)]) of the first sheet or the CSV file; blank rows skipped."""
    limits = limits or IngestLimits()
    fmt = readers.file_format(path)
    if fmt not in ("csv", "xlsx"):
        raise AnnexError("a plan annex is read from .xlsx or .csv")
    readers.hash_and_check(path, fmt)  # UTF-8 (CSV), not empty
    if fmt == "xlsx":
        it = readers._xlsx_rows(path, limits)  # the dossier reader's size and row limits
        headers = next(it)
        body = list(enumerate(it, start=2))
    else:
        headers, delim = readers._csv_dialect(path)
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            # a NUL byte costs nothing but itself (csv refuses the whole file otherwise)
            reader = csv.reader((line.replace("\0", "") for line in fh), delimiter=delim)
            next(reader, None)
            body = [(reader.line_num, row) for row in reader]
    body = [(n, r) for n, r in body if any(v is not None and str(v).strip() for v in r)]
    if len(body) > MAX_ROWS:
        raise AnnexError(f"more than {MAX_ROWS:,} rows: a plan annex has one row per task")
    return headers, body


def parse_date(v) -> date | None:
    """dd/mm/yyyy (also with '.' or '-', and a time after it), ISO yyyy-mm-dd, or an Excel date cell."""
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    s = str(v).strip()
    m = _DMY.match(s)
    try:
        if m:
            return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        m = _ISO.match(s)
        if m:
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return None


def parse_number(v) -> float | None:
    """'85', '85 %', '85,5' (decimal comma), '1.234,5' (Vietnamese), '1,234.5'; None when not a finite number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        f = float(v)
    else:
        s = str(v).strip().rstrip("%").strip().replace("\u00a0", "").replace(" ", "")
        if "," in s and "." in s:
            s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
        elif "," in s:
            s = s.replace(",", ".")
        elif re.fullmatch(r"-?\d{1,3}(\.\d{3}){2,}", s):
            s = s.replace(".", "")
        try:
            f = float(s)
        except ValueError:
            return None
    return f if f == f and abs(f) != float("inf") else None


def _text(v) -> str | None:
    if v is None:
        return None
    s = re.sub(r"[\x00-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]", " ", unicodedata.normalize("NFC", str(v)))
    s = re.sub(r"\s+", " ", s).strip()
    return s or None


@lru_cache(maxsize=1)
def _kpi_names() -> dict[str, str]:
    from metrics.registry import get_registry

    out: dict[str, str] = {}
    for code, k in get_registry().kpis.items():
        out[code.casefold()] = code
        out[_norm(k.name_vi)] = code
        out[_norm(k.name_en)] = code
    return out


def judge(line: int, cells: list, cols: dict[str, int]) -> tuple[dict | None, list[Rejected], list[Rejected]]:
    """One row: (the task row, or None with its reasons; warnings)."""
    def cell(c):
        i = cols.get(c)
        return cells[i] if i is not None and i < len(cells) else None

    bad: list[Rejected] = []
    warn: list[Rejected] = []
    code = _text(cell("task_code"))
    tag = code if code and CODE_RE.match(code) else None

    def reject(reason: str, column: str) -> None:
        bad.append(Rejected(line, reason, column, tag))

    row: dict = {"task_code": code}
    for c in ("task_code", "group_code"):
        v = _text(cell(c))
        if v is None:
            reject("missing_value", c)
        elif not CODE_RE.match(v):
            reject("bad_code", c)
        row[c] = v
    for c in ("task_name", "lead_unit"):
        if _text(cell(c)) is None:
            reject("missing_value", c)
    row["task_name"] = (_text(cell("task_name")) or "")[:1000]
    row["task_name_en"] = (_text(cell("task_name_en")) or "")[:1000] or None
    row["group_name"] = (_text(cell("group_name")) or row.get("group_code") or "")[:500]
    row["group_name_en"] = (_text(cell("group_name_en")) or "")[:500] or None
    row["responsible"] = (_text(cell("responsible")) or "")[:255] or None
    lead = _text(cell("lead_unit"))
    row["lead_unit_code"] = units.resolve(lead)
    if lead is not None and row["lead_unit_code"] is None:
        reject("unknown_unit", "lead_unit")
    co = []
    for part in re.split(r"[;\n]", _text(cell("co_units")) or ""):
        if part.strip():
            c = units.resolve(part)
            if c is None:
                reject("unknown_unit", "co_units")
                break
            co.append(c)
    row["co_units"] = co
    for c in ("start", "deadline"):
        v = cell(c)
        if v is None or (isinstance(v, str) and not v.strip()):
            reject("missing_value", c)
            row[c] = None
            continue
        row[c] = parse_date(v)
        if row[c] is None or not (2000 <= row[c].year <= 2100):
            reject("bad_date", c)
            row[c] = None
    if row.get("start") and row.get("deadline") and row["deadline"] < row["start"]:
        reject("deadline_before_start", "deadline")
    kpi_text = _text(cell("kpi"))
    row["kpi"] = _kpi_names().get(_norm(kpi_text)) if kpi_text else None
    row["indicator"] = None if row["kpi"] or not kpi_text else kpi_text[:500]
    for c in ("target_value", "progress"):
        v = cell(c)
        if v is None or (isinstance(v, str) and not v.strip()):
            row[c] = None
            continue
        row[c] = parse_number(v)
        if row[c] is None:
            reject("bad_number", c)
        elif c == "progress" and not 0 <= row[c] <= 100:
            reject("bad_progress", c)
    row["unit_of_measure"] = (_text(cell("unit_of_measure")) or "")[:64] or None
    if row["kpi"] and row.get("progress") is not None:  # a KPI's progress comes from the metrics
        warn.append(Rejected(line, "kpi_progress_ignored", "progress", tag))
        row["progress"] = None
    return (None if bad else row), bad, warn


def import_file(db, path: Path, *, actor: str, as_of: date, plan_code: str = DEFAULT_PLAN,
                client: str | None = None, demo: bool = False) -> ImportReport:
    """Read, judge every row, upsert the good ones by task code; never raises for a bad file (status failed)."""
    from .store import upsert

    rep = ImportReport(file=path.name)
    try:
        headers, body = rows_of(path)
        cols = mapping(headers)
    except (readers.UnreadableFile, AnnexError) as exc:
        rep.status, rep.error = "failed", str(exc)
        return rep
    good: list[dict] = []
    seen: set[str] = set()
    for line, cells in body:
        rep.rows_read += 1
        row, bad, warn = judge(line, list(cells), cols)
        rep.warnings.extend(warn)
        if row is not None and row["task_code"] in seen:
            bad = [Rejected(line, "duplicate_task", "task_code", row["task_code"])]
            row = None
        if row is None:
            rep.rejected.extend(bad)
            continue
        seen.add(row["task_code"])
        good.append(row)
    if good:
        counts = upsert(db, good, actor=actor, as_of=as_of, plan_code=plan_code, client=client, source=path.name,
                        demo=demo)
        rep.inserted, rep.updated, rep.unchanged, rep.progress = (counts.inserted, counts.updated, counts.unchanged,
                                                                  counts.progress)
    lines_bad = {r.line for r in rep.rejected}
    rep.status = "failed" if not good and rep.rows_read else "partial" if lines_bad else "loaded"
    if not rep.rows_read:
        rep.status, rep.error = "failed", "no task rows under the header row"
    return rep
