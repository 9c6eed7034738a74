"""The one table/column model of every file a user takes away: dashboard downloads (CSV, Excel, Parquet),
the API's exports and the monthly report (PDF and Excel).

A Column says what its values are (`kind`) and how many decimals they keep; presentation.fmt writes them
as text (the PDF, the screen) and `Column.cell` gives the value an Excel cell holds (a rounded number, a
real date, a period label, text). The number of decimals comes from the KPI's display metadata
(kpis.yaml) when the column or the row names the KPI, else from its unit, so a cell in Excel, the same
figure in the PDF and on screen agree digit for digit.

Kinds:
- text: as it is; status: a status key (written with its word, filled with the palette's colour in Excel);
- count (0 decimals; 1 when not whole, e.g. a projected count), percent (a value in 0..100, 1 decimal,
  the header says %), days (working days, 1), points (Decision 766, 2), number (the unit's decimals);
- value / change / target: a KPI value of the row's own unit (`unit_field`) and decimals (the row's `kpi`
  or `decimals`), a signed change, a declared target;
- date (dd/mm/yyyy), datetime (dd/mm/yyyy hh:mm, Hanoi time): real Excel dates, never text;
- period: a period label as the dashboard writes it ('11/2026', 'Quý 3/2026').
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd

from . import fmt

KINDS = ("text", "status", "count", "percent", "days", "points", "number", "value", "change", "target",
         "date", "datetime", "period")
NUMERIC_KINDS = ("count", "percent", "days", "points", "number", "value", "change", "target")
DATE_KINDS = ("date", "datetime")
KIND_OF_UNIT_KIND = {"percent": "percent", "count": "count", "days": "days", "points": "points", "number": "number"}
DEFAULT_DECIMALS = {"count": 0, "percent": 1, "days": 1, "points": 2}
_DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")                       # 16/03/2026 (fmt.day)
_HM_DMY = re.compile(r"^(\d{2}):(\d{2}) (\d{2})/(\d{2})/(\d{4})$")   # 14:32 16/03/2026 (fmt.moment)
_DMY_HM = re.compile(r"^(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2})$")   # 16/03/2026 14:32
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?)?$")


def kpi_decimals(unit: str | None, value: object = None, kpi: str | None = None) -> int:
    """Decimals of a value: the KPI's display decimals when its code is known, else its unit's
    (presentation.fmt.decimals_for); a value without a unit keeps 2."""
    if kpi:
        from metrics.registry import get_registry

        k = get_registry().kpis.get(kpi)
        if k is not None:
            return fmt.decimals_for(unit, value, k)
    if not (unit or "").strip():
        return 2
    return fmt.decimals_for(unit, value)


def as_datetime(x: object) -> datetime | None:
    """A date or time (datetime, Timestamp, date, ISO text) as a naive Hanoi datetime; None otherwise."""
    if x is None or fmt.is_na(x) or x == "":
        return None
    if isinstance(x, datetime | pd.Timestamp):
        return fmt.local(x)
    if isinstance(x, date):
        return datetime(x.year, x.month, x.day)
    if not isinstance(x, str):
        return None
    s = x.strip()
    try:
        if _ISO.match(s):
            return fmt.local(pd.Timestamp(s))
        if m := _DMY.match(s):
            return datetime(int(m[3]), int(m[2]), int(m[1]))
        if m := _HM_DMY.match(s):
            return datetime(int(m[5]), int(m[4]), int(m[3]), int(m[1]), int(m[2]))
        if m := _DMY_HM.match(s):
            return datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4]), int(m[5]))
    except ValueError:  # 31/02/2026: not a date
        return None
    return None


def is_dateish(x: object) -> bool:
    return as_datetime(x) is not None


@dataclass(frozen=True)
class Column:
    """One column: the row field (`key`), its header in the table's language (`label`), what its values are
    (`kind`), decimals (None: from the KPI or the unit), the unit of every value (`unit`) or the row field
    that holds each row's unit (`unit_field`), a relative width (the PDF)."""

    key: str
    label: str
    kind: str = "text"
    decimals: int | None = None
    unit: str | None = None
    unit_field: str | None = None
    width: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}; expected one of {KINDS}")

    # the names the reports (header) and the dashboard's downloads (field) gave these
    @property
    def header(self) -> str:
        return self.label

    @property
    def field(self) -> str:
        return self.key

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    def unit_of(self, row: dict | None) -> str | None:
        if self.unit_field and row is not None:
            u = row.get(self.unit_field)
            return None if u is None or fmt.is_na(u) else str(u)
        return self.unit

    def places(self, value: object, row: dict | None = None) -> int:
        """The decimals `value` keeps in this column."""
        if self.decimals is not None:
            d = self.decimals
        elif row is not None and row.get("decimals") is not None and not fmt.is_na(row.get("decimals")) \
                and self.kind in ("value", "change"):
            d = int(row["decimals"])
        elif self.kind in ("value", "change", "number", "target"):
            return kpi_decimals(self.unit_of(row), value, (row or {}).get("kpi") if self.unit_field else None)
        else:
            d = DEFAULT_DECIMALS.get(self.kind, 0)
        if d == 0 and self.kind in ("count", "value", "number", "change"):
            return fmt.decimals_for(None, value)  # a value that is not whole where the rule says 0 keeps 1
        return d

    def number(self, value: object, row: dict | None = None) -> float | int | None:
        """The number a cell holds (rounded as every surface shows it); whole counts as int; None for N/A."""
        if value is None or value == "" or fmt.is_na(value) or isinstance(value, bool):
            return None
        try:
            f = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        d = self.places(f, row) if self.kind != "target" else 4
        r = fmt.rounded(f, d)
        return int(r) if r is not None and d == 0 and float(r).is_integer() else r

    def cell(self, value: object, row: dict | None = None, lang: str = "vi") -> object:
        """What an Excel cell (or a Parquet/CSV column) holds: a number, a datetime, a period label, text, None."""
        if self.numeric:
            return self.number(value, row)
        if self.kind in DATE_KINDS:
            return as_datetime(value)
        if self.kind == "period":
            return fmt.period(value, lang) or None
        if value is None or fmt.is_na(value):
            return None
        if isinstance(value, list | tuple):
            return " | ".join(map(str, value))
        if isinstance(value, float) and value.is_integer():
            return int(value)  # an exact count in a text column: 27, not 27.0
        if hasattr(value, "item") and not isinstance(value, str):
            return value.item()  # numpy scalars
        return value

    def text(self, value: object, row: dict | None = None, lang: str = "vi") -> str:
        """The value as text, by presentation.fmt: what the PDF and the screen write."""
        if self.kind in ("value",):
            return fmt.value(value, self.unit_of(row), lang, decimals=self.places(value, row))
        if self.kind == "change":
            return "" if fmt.is_na(value) or value is None else fmt.change(
                value, self.unit_of(row), lang, decimals=self.places(value, row))
        if self.kind == "target":
            return fmt.target(value, self.unit_of(row), lang)
        if self.numeric:
            return fmt.number(value, self.places(value, row), lang)
        if self.kind == "date":
            return fmt.day(value, lang)
        if self.kind == "datetime":
            return fmt.moment(value, lang)
        if self.kind == "period":
            return fmt.period(value, lang)
        if value is None or fmt.is_na(value):
            return ""
        return str(value)

    def excel_format(self, value: object = None, row: dict | None = None) -> str | None:
        """The Excel number format of a cell: 'dd/mm/yyyy', '#,##0.0', ...; None for text (General)."""
        if self.kind == "date":
            return "dd/mm/yyyy"
        if self.kind == "datetime":
            return "dd/mm/yyyy hh:mm"
        if not self.numeric:
            return None
        if self.kind == "target":
            return "General"
        d = self.places(value, row)
        return "#,##0" + ("." + "0" * d if d else "")


@dataclass
class Table:
    """What a table shows, as data: title, columns and rows (dicts keyed by Column.key); a note and a closing
    row (`total`, from the metrics API too, never summed here); the KPIs it defines; filters and a file-name
    part (`stem`) for downloads."""

    title: str
    columns: list[Column]
    rows: list[dict]
    key: str = "table"
    note: str | None = None
    total: dict | None = None
    kpis: list[str] = field(default_factory=list)
    filters: dict[str, str] = field(default_factory=dict)
    stem: str = ""

    def frame(self) -> pd.DataFrame:
        """The rows as a frame with the column keys (raw values, before rounding)."""
        return pd.DataFrame(self.rows, columns=[c.key for c in self.columns])

    def to_store(self) -> dict:
        """JSON for a dcc.Store (NaN as null, dates as ISO text)."""
        return {"key": self.key, "title": self.title, "columns": dump(self.columns),
                "rows": [{k: _json(v) for k, v in r.items()} for r in self.rows], "kpis": list(self.kpis),
                "filters": dict(self.filters), "stem": self.stem}

    @staticmethod
    def from_store(stored: dict) -> Table:
        return Table(stored["title"], load(stored["columns"]), list(stored["rows"]), stored["key"],
                   kpis=list(stored.get("kpis") or []), filters=dict(stored.get("filters") or {}),
                   stem=stored.get("stem") or "")

    def with_dates(self) -> Table:
        """The table with its text columns that hold only dates (datetimes, ISO or dd/mm/yyyy text) as date
        or datetime columns: what an Excel file holds as real dates."""
        from dataclasses import fields, replace

        cols = []
        for c in self.columns:
            if c.kind == "text":
                kind = infer_kind([r.get(c.key) for r in self.rows])
                c = replace(c, kind=kind) if kind in DATE_KINDS else c
            cols.append(c)
        return Table(**{**{f.name: getattr(self, f.name) for f in fields(Table)}, "columns": cols})

    def texts(self, lang: str = "vi") -> list[list[str]]:
        """Every cell as text (presentation.fmt): the PDF's table."""
        return [[c.text(r.get(c.key), r, lang) for c in self.columns] for r in self.rows]

    def cells(self, lang: str = "vi") -> pd.DataFrame:
        """The table as a frame of cell values (numbers rounded, dates as datetimes), headed by the labels;
        two columns with the same words are both kept ('Giá trị', 'Giá trị (2)')."""
        cols: dict[str, pd.Series] = {}
        for c in self.columns:
            header, n = c.label, 2
            while header in cols:
                header, n = f"{c.label} ({n})", n + 1
            values = [c.cell(r.get(c.key), r, lang) for r in self.rows]
            series = pd.Series(values, dtype=object)
            nonnull = [v for v in values if v is not None]
            if nonnull and len(nonnull) == len(values) and all(
                    isinstance(v, int) and not isinstance(v, bool) for v in nonnull):
                series = series.astype("int64")
            elif c.kind in DATE_KINDS:
                series = pd.to_datetime(series)
            cols[header] = series
        return pd.DataFrame(cols, columns=list(cols))


def infer_kind(values: list, unit: str | None = None, unit_field: str | None = None) -> str:
    """The kind of a column declared only by its unit (the dashboard's downloads) or by its values:
    a unit word -> its kind; a per-row unit -> value; datetimes / ISO dates -> date or datetime; else text."""
    if unit is not None:
        return KIND_OF_UNIT_KIND.get(fmt.kind_of_unit(unit), "number")
    if unit_field is not None:
        return "value"
    present = [v for v in values if v is not None and not fmt.is_na(v) and v != ""]
    if present and all(is_dateish(v) for v in present):
        times = [as_datetime(v) for v in present]
        whole = all(t is not None and t.hour == t.minute == t.second == 0 for t in times)
        return "date" if whole else "datetime"
    return "text"


def from_frame(df: pd.DataFrame, title: str, key: str = "table", labels: dict[str, str] | None = None) -> Table:
    """A Table over a frame as it is (the API's exports): numbers keep their values (rounded by the caller),
    datetime columns become date cells, everything else text."""
    cols = []
    for name in df.columns:
        s = df[name]
        if pd.api.types.is_bool_dtype(s):
            kind = "text"
        elif pd.api.types.is_datetime64_any_dtype(s):
            kind = infer_kind(s.tolist()) if s.notna().any() else "date"
            kind = kind if kind in DATE_KINDS else "datetime"
        elif pd.api.types.is_numeric_dtype(s):
            kind = "raw"
        else:
            kind = infer_kind(s.tolist())
        cols.append((str(name), kind))
    columns = [RawColumn(n, (labels or {}).get(n, n)) if k == "raw" else Column(n, (labels or {}).get(n, n), k)
               for n, k in cols]
    rows = df.to_dict("records")
    return Table(title, columns, rows, key)


@dataclass(frozen=True)
class RawColumn(Column):
    """A numeric column written as it is (already rounded by its producer): integers stay integers."""

    kind: str = "number"

    def number(self, value: object, row: dict | None = None) -> float | int | None:
        if value is None or fmt.is_na(value) or isinstance(value, bool):
            return None
        try:
            f = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None
        return int(f) if f.is_integer() and not isinstance(value, float) else f

    def excel_format(self, value: object = None, row: dict | None = None) -> str | None:
        return None

    def text(self, value: object, row: dict | None = None, lang: str = "vi") -> str:
        return "" if value is None or fmt.is_na(value) else str(value)


def _json(v):
    if v is None or fmt.is_na(v):
        return None
    if hasattr(v, "item"):  # numpy scalars
        return v.item()
    if isinstance(v, pd.Timestamp | datetime | date):
        return v.isoformat()
    return v


def dump(columns: list[Column]) -> list[dict[str, Any]]:
    """Columns as JSON (a dcc.Store)."""
    return [{"key": c.key, "label": c.label, "kind": c.kind, "decimals": c.decimals, "unit": c.unit,
             "unit_field": c.unit_field, "width": c.width} for c in columns]


def load(stored: list[dict[str, Any]]) -> list[Column]:
    return [Column(**c) for c in stored]
