"""KPI, target and Decision 766 index registries: YAML declarations parsed into frozen, validated models.

Loaded lazily on first use (never at import). A bad definition raises RegistryError naming the file,
the entry and the form expected, so an analyst who edits a YAML file sees what to fix.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import re
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from .periods import Grain, Period, PeriodError, parse_label, range_period

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
DOSSIER_DIMENSIONS = ("unit_code", "procedure_code", "channel", "sector", "applicant_type")
EventDay = Literal["received_date", "finished_date", "due_date", "withdrawn_date"]


class RegistryError(ValueError):
    """A definition file that cannot be used; the message names the file, the entry and the expected form."""


DEFAULT_MIN_N = 30  # dossiers: below this a rate is "ít dữ liệu" (DOMAIN: 30 dossiers, 10 ratings)


class KpiType(StrEnum):
    RATIO = "ratio"
    COUNT = "count"
    MEAN = "mean"
    MEDIAN = "median"
    DERIVED = "derived"
    CATALOGUE = "catalogue"
    INDICATOR = "indicator"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- display metadata: how a KPI is written and where it appears (presentation/ reads it) -------------
DisplayKind = Literal["percent", "count", "days", "points", "number"]
# the surfaces a KPI can be listed on: overview target cards, the overview's ranking choices, the ward
# page's KPI table and trend choices, the wards grid's columns, the report's target table and trend chart
# where a KPI is listed; `headline` marks the one KPI every page leads with (the ward page's first row, the
# rankings' default, the report's ranking order); `ward_procedures` the columns of the ward's per-procedure
# table; `backlog` the KPI every overdue list and count stands for (the report's overdue section, the ward's list);
# `report_ranking` the rates the report draws a ranking chart of and ranks a ward on
Surface = Literal["overview", "ranking", "ward", "ward_trend", "wards_grid", "report", "report_trend", "headline",
                  "ward_procedures", "backlog", "report_ranking"]
SURFACES: tuple[str, ...] = ("overview", "ranking", "ward", "ward_trend", "wards_grid", "report", "report_trend",
                             "headline", "ward_procedures", "backlog", "report_ranking")
ONE_KPI_SURFACES = ("headline", "backlog")  # a role, not a list: exactly one KPI
KIND_DECIMALS = {"percent": 1, "count": 0, "days": 1, "points": 2, "number": 0}
_UNIT_KINDS = {"%": "percent", "ngày làm việc": "days", "working days": "days", "điểm": "points",
               "points": "points", "hồ sơ": "count", "dossiers": "count"}


def kind_of_unit(unit: str | None) -> str:
    """The display kind a unit implies when a KPI does not declare one: % -> percent, working days ->
    days, points -> points, dossiers -> count, anything else ('sản phẩm', 'nhóm') -> number."""
    return _UNIT_KINDS.get((unit or "").strip(), "number")


def decimals_of_unit(unit: str | None) -> int:
    """The decimals a unit implies (Decision 766 points: 2; % and working days: 1; counts: 0)."""
    return KIND_DECIMALS[kind_of_unit(unit)]


class Display(_Frozen):
    """How a KPI is shown: decimals, kind (percent, count, days, points, number) and the surfaces it is on.

    Omitted fields default from the unit (kind_of_unit, KIND_DECIMALS); `show` defaults to nowhere but the
    KPI page and the KPI lists (dictionary, API, CLI), which show every KPI.
    """

    decimals: int | None = None
    kind: DisplayKind | None = None
    show: tuple[Surface, ...] = ()

    @model_validator(mode="after")
    def _shape(self) -> Display:
        if self.decimals is not None and not 0 <= self.decimals <= 4:
            raise ValueError("display.decimals must be between 0 and 4")
        if len(set(self.show)) != len(self.show):
            raise ValueError("display.show lists a surface twice")
        return self


_PLAIN_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


class Measure(_Frozen):
    """What is counted over dossier rows: a flow on a date, a histogram, or a stock at a moment T.

    Two kinds read more than dossier rows (metrics/staffing.py), with a unit_code breakdown only:
    `staff_days` sums, over the working days of the period (warehouse calendar) up to T, a per-unit
    count indicator in force that day (e.g. officers at the one-stop counter: officer-days);
    `unit_median` is the median over every staffed unit of the city of ratio[0] / ratio[1] (a flow
    over a staff_days measure), the same value for every unit, whatever the viewer's scope."""

    name: str
    kind: Literal["flow", "histogram", "stock", "current", "staff_days", "unit_median"] = "flow"
    time: Literal["received_date", "finished_date"] | None = None
    agg: Literal["count", "sum"] = "count"
    expr: str | None = None
    filter: str | None = None
    at: str | None = None
    enters: tuple[EventDay, ...] = ()
    leaves: tuple[EventDay, ...] = ()
    indicator: str | None = None                # staff_days: the per-unit count indicator
    ratio: tuple[str, str] | None = None        # unit_median: (flow measure, staff_days measure)

    @model_validator(mode="after")
    def _shape(self) -> Measure:
        if not _PLAIN_CODE.fullmatch(self.name):  # it names SQL columns (aggregates, the fold's f__<name>)
            raise ValueError("a measure's name is a plain code: a lower-case letter, then letters, digits, '_'")
        if self.kind == "staff_days" and not (self.indicator and _PLAIN_CODE.fullmatch(self.indicator)):
            raise ValueError("a staff_days measure needs `indicator`, a code from the indicator catalogue "
                             "(letters, digits, '_')")
        if self.kind == "unit_median" and not self.ratio:
            raise ValueError("a unit_median measure needs `ratio: [flow measure, staff_days measure]`")
        if (self.indicator or self.ratio) and self.kind not in ("staff_days", "unit_median"):
            raise ValueError("`indicator` and `ratio` belong to staff_days and unit_median measures")
        if self.kind in ("flow", "histogram") and self.time is None:
            raise ValueError("a flow or histogram measure needs `time: received_date | finished_date`")
        if self.kind == "histogram" and not self.expr:
            raise ValueError("a histogram measure needs `expr` (an integer column such as processing_wd)")
        if self.agg == "sum" and not self.expr:
            raise ValueError("`agg: sum` needs `expr`")
        if self.kind in ("stock", "current") and (not self.at or "{T}" not in self.at):
            raise ValueError("a stock measure needs `at`, a condition over the judgement time {T}")
        if self.kind == "stock" and (not self.enters or not self.leaves):
            raise ValueError("a stock measure needs `enters` and `leaves` (lists of received_date, "
                             "finished_date, due_date, withdrawn_date)")
        for text in (self.expr, self.filter, self.at):
            if text and ";" in text:
                raise ValueError("SQL expressions may not contain ';'")
        return self


class Kpi(_Frozen):
    """One KPI: how measures (or other KPIs, or the catalogue, or an indicator) make its value."""

    code: str
    name_vi: str
    name_en: str
    description_vi: str
    description_en: str
    type: KpiType
    numerator: tuple[str, ...] = ()
    denominator: tuple[str, ...] = ()
    current_numerator: tuple[str, ...] = ()   # used instead of `numerator` when judged now
    formula: str | None = None
    numerator_filter: str | None = None       # catalogue KPIs: over table `procedures`
    denominator_filter: str | None = None
    indicator: str | None = None
    aggregation: Literal["none", "population_weighted"] = "none"
    unit: str
    unit_en: str | None = None
    direction: Literal["higher", "lower"]
    source: Literal["dossiers", "catalogue", "indicator"] | None = None
    time: Literal["received_date", "finished_date", "snapshot"] = "received_date"
    grains: tuple[Grain, ...] = tuple(Grain)
    dimensions: tuple[str, ...] | None = None
    bounds: tuple[float | None, float | None] = (None, None)
    legal_basis: str
    auxiliary: bool = False
    tags: tuple[str, ...] = ()
    # small numbers: a rate over fewer than min_n (its denominator) is marked "ít dữ liệu", never
    # judged, coloured or ranked like the others; default 30 dossiers for dossier rates and means
    min_n: int | None = None
    display: Display = Display()

    @model_validator(mode="after")
    def _shape(self) -> Kpi:
        t = self.type
        need = {
            KpiType.COUNT: ("numerator",), KpiType.RATIO: ("numerator", "denominator"),
            KpiType.MEAN: ("numerator", "denominator"), KpiType.MEDIAN: ("numerator", "denominator"),
            KpiType.DERIVED: ("formula",), KpiType.CATALOGUE: ("numerator_filter", "denominator_filter"),
            KpiType.INDICATOR: ("indicator",),
        }[t]
        missing = [f for f in need if not getattr(self, f)]
        if missing:
            raise ValueError(f"a {t.value} KPI needs {', '.join(missing)}")
        source = {KpiType.CATALOGUE: "catalogue", KpiType.INDICATOR: "indicator"}.get(t, "dossiers")
        dims = {"catalogue": ("sector",), "indicator": ("unit_code",)}.get(source, DOSSIER_DIMENSIONS)
        object.__setattr__(self, "source", self.source or source)
        object.__setattr__(self, "dimensions", self.dimensions if self.dimensions is not None else dims)
        object.__setattr__(self, "unit_en", self.unit_en or self.unit)
        if self.min_n is None and source == "dossiers" and t in (KpiType.RATIO, KpiType.MEAN, KpiType.MEDIAN,
                                                                 KpiType.DERIVED):
            object.__setattr__(self, "min_n", DEFAULT_MIN_N)
        bad = [d for d in self.dimensions if d not in DOSSIER_DIMENSIONS]
        if bad:
            raise ValueError(f"unknown dimensions {bad}; expected some of {list(DOSSIER_DIMENSIONS)}")
        kind = self.display.kind or kind_of_unit(self.unit)
        decimals = self.display.decimals if self.display.decimals is not None else KIND_DECIMALS[kind]
        object.__setattr__(self, "display", Display(decimals=decimals, kind=kind, show=self.display.show))
        return self

    @property
    def is_percent(self) -> bool:
        """Whether values are percentages (0..100): written '72,9 %', changes in percentage points."""
        return self.display.kind == "percent"

    @property
    def decimals(self) -> int:
        """Decimals every surface rounds this KPI's values to (display.decimals, default from the unit)."""
        return int(self.display.decimals or 0)

    def shown_on(self, surface: str) -> bool:
        return surface in self.display.show

    def _in(self, vi: str, en: str, lang: str) -> str:
        """The one choice between a field's Vietnamese and English values (registry data, not words)."""
        return getattr(self, vi) if lang == "vi" else (getattr(self, en) or getattr(self, vi))

    def name(self, lang: str = "vi") -> str:
        return self._in("name_vi", "name_en", lang)

    def description(self, lang: str = "vi") -> str:
        return self._in("description_vi", "description_en", lang)

    def unit_in(self, lang: str = "vi") -> str:
        """The unit of measure in `lang` ('hồ sơ' / 'dossiers'; '%' in both)."""
        return self._in("unit", "unit_en", lang)


class Baseline(_Frozen):
    """Where progress is measured from: a period label, a date range (inclusive), or a value at a date."""

    period: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    value: float | None = None
    date: dt.date | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Baseline:
        forms = [self.period is not None, self.start is not None or self.end is not None,
                 self.value is not None or self.date is not None]
        if sum(forms) != 1:
            raise ValueError("baseline must be one of {period: 2025-Q3}, {start: 2024-07-01, end: 2025-06-30} "
                             "or {value: 52.0, date: 2025-06-30}")
        if forms[1] and (self.start is None or self.end is None or self.end < self.start):
            raise ValueError("baseline range needs start <= end (both dates, end inclusive)")
        if forms[2] and (self.value is None or self.date is None):
            raise ValueError("baseline value needs both `value` and `date`")
        if self.period is not None:
            try:
                parse_label(str(self.period))
            except PeriodError as exc:
                raise ValueError(str(exc)) from None
        return self

    def as_period(self) -> Period | None:
        if self.period is not None:
            return parse_label(str(self.period))
        if self.start is not None and self.end is not None:
            return range_period(self.start, self.end + dt.timedelta(days=1))
        return None


class Basis(StrEnum):
    """Which value a target is judged on (the status and projection always use complete periods)."""

    YEAR_TO_DATE = "year_to_date"                 # complete months of the year so far (annual targets)
    LAST_COMPLETE_MONTH = "last_complete_month"
    LATEST_PUBLICATION = "latest_publication"     # indicators: the latest period published


class Target(_Frozen):
    kpi: str
    value: float
    comparison: Literal[">=", "<="]
    deadline: date
    basis: Basis | None = None   # default: latest_publication for indicators, else year_to_date
    baseline: Baseline | None = None
    document_vi: str
    document_en: str
    accountable_unit: str
    unit_code: str | None = None
    year: int | None = None
    note: str | None = None


class IndexComponent(_Frozen):
    kpi: str
    max_points: float
    threshold: float | None = None
    points: bool = False   # the KPI is already in points out of max_points

    @model_validator(mode="after")
    def _threshold(self) -> IndexComponent:
        if not self.points and (self.threshold is None or self.threshold <= 0):
            raise ValueError("a component needs `threshold` > 0 (or `points: true`)")
        return self


class IndexGroup(_Frozen):
    group: int
    name_vi: str
    name_en: str
    points: float
    components: tuple[IndexComponent, ...]


class IndexLayout(_Frozen):
    version: int = 1
    name_vi: str
    name_en: str
    legal_basis: str
    groups: tuple[IndexGroup, ...]


class Registry(_Frozen):
    measures: dict[str, Measure]
    kpis: dict[str, Kpi]
    targets: tuple[Target, ...]
    index766: IndexLayout

    @property
    def measures_version(self) -> str:
        """Hash of the measure declarations: the aggregates are rebuilt in full when it changes."""
        blob = json.dumps({k: v.model_dump() for k, v in sorted(self.measures.items())}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def kpi(self, code: str) -> Kpi:
        try:
            return self.kpis[code]
        except KeyError:
            raise KeyError(f"unknown KPI '{code}'; known: {', '.join(self.kpis)}") from None

    def targets_for(self, code: str) -> list[Target]:
        return [t for t in self.targets if t.kpi == code]

    def one_on(self, surface: str) -> str:
        """The one KPI that plays a role (ONE_KPI_SURFACES: `headline`, `backlog`)."""
        codes = self.shown_on(surface)
        if len(codes) != 1:
            raise RegistryError(f"display.show '{surface}' must be on exactly one KPI; found {codes or 'none'}")
        return codes[0]

    def shown_on(self, surface: str) -> list[str]:
        """The KPI codes listed on `surface` (see SURFACES), in the registry's order."""
        if surface not in SURFACES:
            raise KeyError(f"unknown surface '{surface}'; known: {', '.join(SURFACES)}")
        return [c for c, k in self.kpis.items() if surface in k.display.show]


# --- loading ---------------------------------------------------------------------------------------

def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise RegistryError(f"{path.name}: expected a mapping at the top level")
    return data


def _explain(exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(x) for x in e["loc"])
        parts.append(f"{loc + ': ' if loc else ''}{e['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def _build(model, file: str, what: str, data) -> BaseModel:
    if not isinstance(data, dict):
        raise RegistryError(f"{file}: {what}: expected a mapping of fields, got {type(data).__name__}")
    try:
        return model(**data)
    except ValidationError as exc:
        raise RegistryError(f"{file}: {what}: {_explain(exc)}") from None


def formula_names(formula: str, file: str = "kpis.yaml", code: str = "?") -> tuple[set[str], set[str]]:
    """KPI codes used by a derived formula, plainly and inside baseline(); only + - * / and numbers."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError:
        raise RegistryError(f"{file}: KPI '{code}': formula '{formula}' is not an arithmetic expression") from None
    plain, base = set(), set()

    def walk(node, in_baseline=False):
        if isinstance(node, ast.Expression):
            walk(node.body)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            walk(node.left, in_baseline)
            walk(node.right, in_baseline)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            walk(node.operand, in_baseline)
        elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            pass
        elif isinstance(node, ast.Name):
            (base if in_baseline else plain).add(node.id)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "baseline"
              and len(node.args) == 1 and isinstance(node.args[0], ast.Name) and not node.keywords):
            walk(node.args[0], True)
        else:
            raise RegistryError(f"{file}: KPI '{code}': formula '{formula}': only numbers, KPI codes, "
                                "+ - * /, parentheses and baseline(kpi) are allowed")
    walk(tree)
    return plain, base


def _check_kpis(measures: dict[str, Measure], kpis: dict[str, Kpi], file: str) -> None:
    for code, k in kpis.items():
        for field in ("numerator", "denominator", "current_numerator"):
            for m in getattr(k, field):
                if m not in measures:
                    raise RegistryError(f"{file}: KPI '{code}': {field} names measure '{m}', which is not "
                                        f"declared under `measures` (known: {', '.join(measures)})")
        if k.type == KpiType.MEDIAN and measures[k.numerator[0]].kind not in ("histogram", "unit_median"):
            raise RegistryError(f"{file}: KPI '{code}': a median KPI needs a histogram (or unit_median) "
                                "measure as numerator")
        if k.type in (KpiType.COUNT, KpiType.RATIO, KpiType.MEAN):
            kinds = {measures[m].kind for m in k.numerator + k.denominator}
            if kinds & {"histogram", "current", "unit_median"}:
                raise RegistryError(f"{file}: KPI '{code}': numerator/denominator must be flow, stock or "
                                    "staff_days measures (current ones go in current_numerator)")
        staffed = [m for m in k.numerator + k.denominator if measures[m].kind in ("staff_days", "unit_median")]
        if staffed and set(k.dimensions) - {"unit_code"}:
            raise RegistryError(f"{file}: KPI '{code}': measure '{staffed[0]}' is counted per unit only: "
                                "declare `dimensions: [unit_code]`")
        if k.formula:
            plain, base = formula_names(k.formula, file, code)
            for name in plain | base:
                if name not in kpis or name == code:
                    raise RegistryError(f"{file}: KPI '{code}': formula uses '{name}', which is not another KPI")
    # derived KPIs must not depend on themselves through others
    def deps(code: str, seen: tuple[str, ...]) -> None:
        k = kpis[code]
        if not k.formula:
            return
        for name in set().union(*formula_names(k.formula, file, code)):
            if name in seen:
                raise RegistryError(f"{file}: KPI '{code}': formula cycle {' -> '.join(seen + (name,))}")
            deps(name, seen + (name,))
    for code in kpis:
        deps(code, (code,))


def load_registry(directory: Path | str = DEFINITIONS_DIR) -> Registry:
    """Parse and cross-check kpis.yaml, targets.yaml and index766.yaml from `directory`."""
    folder = Path(directory)
    kfile, tfile, ifile = "kpis.yaml", "targets.yaml", "index766.yaml"
    kdata = _read(folder / kfile)
    if not isinstance(kdata.get("measures"), dict) or not isinstance(kdata.get("kpis"), dict):
        raise RegistryError(f"{kfile}: expected top-level mappings `measures:` and `kpis:`")
    measures = {name: _build(Measure, kfile, f"measure '{name}'", {**(body or {}), "name": name})
                for name, body in kdata["measures"].items()}
    for name, m in measures.items():
        if m.kind == "unit_median":
            num, den = (measures.get(x) for x in m.ratio)
            if num is None or num.kind != "flow" or den is None or den.kind != "staff_days":
                raise RegistryError(f"{kfile}: measure '{name}': `ratio` needs a flow measure then a "
                                    f"staff_days measure, both declared under `measures` (got {list(m.ratio)})")
    kpis = {}
    for code, body in kdata["kpis"].items():
        if not isinstance(body, dict):
            raise RegistryError(f"{kfile}: KPI '{code}': expected a mapping of fields "
                                "(name_vi, name_en, type, unit, direction, ...)")
        kpis[code] = _build(Kpi, kfile, f"KPI '{code}'", {**body, "code": code})
    _check_kpis(measures, kpis, kfile)

    tdata = _read(folder / tfile)
    if not isinstance(tdata.get("targets"), list):
        raise RegistryError(f"{tfile}: expected a top-level list `targets:`")
    targets = []
    for i, body in enumerate(tdata["targets"], 1):
        code = body.get("kpi", "?") if isinstance(body, dict) else "?"
        t = _build(Target, tfile, f"target #{i} (KPI '{code}')", body)
        if t.kpi not in kpis:
            raise RegistryError(f"{tfile}: target #{i}: KPI '{t.kpi}' is not in {kfile}")
        targets.append(t)

    idata = _read(folder / ifile)
    layout = _build(IndexLayout, ifile, "index layout", idata)
    for g in layout.groups:
        for c in g.components:
            if c.kpi not in kpis:
                raise RegistryError(f"{ifile}: group {g.group}: component KPI '{c.kpi}' is not in {kfile}")
        total = sum(c.max_points for c in g.components)
        if abs(total - g.points) > 1e-9:
            raise RegistryError(f"{ifile}: group {g.group}: components' max_points add up to {total:g}, "
                                f"expected the group's {g.points:g}")
    for surface in ONE_KPI_SURFACES:
        on = [c for c, k in kpis.items() if surface in k.display.show]
        if len(on) > 1:
            raise RegistryError(f"{kfile}: display.show '{surface}' is a role of one KPI; found {on}")
    return Registry(measures=measures, kpis=kpis, targets=tuple(targets), index766=layout)


@cache
def get_registry() -> Registry:
    """The registry shipped in metrics/definitions, parsed once per process on first use."""
    return load_registry(DEFINITIONS_DIR)
