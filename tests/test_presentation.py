"""The presentation layer: one formatter (Babel), one palette, one ranking, and a KPI added in YAML only
found on every surface its `display.show` lists, with its decimals."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask

import metrics
import metrics.registry as registry_module
from metrics.registry import DEFINITIONS_DIR, RegistryError, load_registry
from presentation import fmt, palette
from presentation.ranking import rank_records, target_row
from warehouse.db import Reader

from .conftest import DEMO_NOW

NOW = DEMO_NOW
WARD = "00073"
NEW = "online_full_of_online"
NEW_YAML = """
  online_full_of_online:
    name_vi: Tỷ lệ toàn trình trong hồ sơ trực tuyến
    name_en: Fully-online share of online dossiers
    display: {decimals: 2, show: [overview, ranking, ward, ward_trend, wards_grid, report, report_trend]}
    description_vi: Hồ sơ trực tuyến toàn trình / hồ sơ trực tuyến.
    description_en: Fully-online dossiers / online dossiers.
    type: ratio
    numerator: [online_full]
    denominator: [online]
    unit: "%"
    direction: higher
    bounds: [0, 100]
    legal_basis: Thử nghiệm
    tags: [dossiers]
"""


# --- formatter ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("x", "d", "lang", "expected"), [
    (1234.5, 1, "vi", "1.234,5"), (1234.5, 1, "en", "1,234.5"), (1234567, 0, "vi", "1.234.567"),
    (-3.25, 2, "vi", "\u22123,25"), (-0.01, 1, "en", "0.0"), (0.05, 1, "vi", "0,1"), (None, 1, "vi", "N/A"),
])
def test_numbers_in_both_languages(x, d, lang, expected) -> None:
    assert fmt.number(x, d, lang) == expected


def test_percent_and_values_by_unit() -> None:
    assert fmt.percent(72.88, "vi") == "72,9 %" and fmt.percent(72.88, "en") == "72.9%"
    assert fmt.value(19.494, "điểm", "vi") == "19,49 điểm"            # Decision 766 points: 2 decimals
    assert fmt.value(4.25, "ngày làm việc", "vi") == "4,2 ngày làm việc"
    assert fmt.value(3.1, "sản phẩm", "en") == "3.1 sản phẩm" and fmt.value(3.0, "sản phẩm", "vi") == "3 sản phẩm"
    assert fmt.change(1.23, "%", "vi") == "+1,2 điểm %" and fmt.change(-12, "hồ sơ", "vi") == "\u221212 hồ sơ"
    assert fmt.target(14.5, "%", "vi") == "14,5 %" and fmt.target(80, "%", "en") == "80%"
    assert fmt.rounded(2.675, 2) == round(2.675, 2) and fmt.rounded(None, 1) is None


def test_dates_times_in_hanoi_and_relative_times() -> None:
    assert fmt.day(date(2026, 3, 5)) == "05/03/2026" and fmt.day(None) == ""
    aware = datetime(2026, 11, 22, 7, 32, tzinfo=UTC)           # 14:32 in Hanoi
    assert fmt.moment(aware) == "14:32 22/11/2026" and fmt.clock(aware) == "14:32"
    assert fmt.moment(datetime(2026, 11, 22, 14, 32)) == "14:32 22/11/2026"  # naive = Hanoi time
    assert fmt.ago(40, "vi") == "40 giây trước" and fmt.ago(40, "en") == "40 seconds ago"
    assert fmt.ago(7300, "vi") == "2 giờ trước" and fmt.ago(0, "vi") == "0 giây trước"
    assert fmt.period("2026-11", "en", long=True) == "November 2026" and fmt.period("2026-Q3", "vi") == "Quý 3/2026"


def test_every_surface_rounds_with_the_one_rule() -> None:
    from dashboard import fmt as screen
    from exports.tables import decimals_for as export_decimals
    from metrics.cli import fmt_number
    from reports import fmt as report

    for unit, x in (("%", 72.8849), ("điểm", 19.4949), ("ngày làm việc", 4.26), ("hồ sơ", 1234.0)):
        d = fmt.decimals_for(unit, x)
        assert screen.decimals_for(unit, x) == report.decimals_for(unit, x) == export_decimals(unit, x) == d
        assert report.rounded(x, unit) == fmt.rounded(x, d)
        assert report.fmt_value(x, unit, "vi") == screen.value(x, unit, "vi") == fmt.value(x, unit, "vi")
        assert fmt_number(x, d, "en") == fmt.number(x, d, "en")
    from presentation.tables import Column

    assert fmt.decimals_for("điểm") == 2 and Column("v", "V", "value", unit="điểm").excel_format(72.7) == "#,##0.00"


# --- palette ----------------------------------------------------------------------------------------

def test_palette_is_the_same_on_screen_and_in_the_pdf() -> None:
    from dashboard import theme
    from reports import text

    assert set(palette.STATUSES) == {"achieved", "on_track", "needs_acceleration", "limited", "deteriorating",
                                     "no_data", "few_data", "partial"}
    for status, style in palette.PALETTE.items():
        assert theme.STATUS_COLORS[status] == style.colour
        assert theme.STATUS_PATTERNS[status] == style.pattern and theme.STATUS_SEVERITY[status] == style.severity
        assert text.STATUS_SYMBOLS[status] == style.symbol and text.STATUS_ASCII[status] == style.ascii
        if status in palette.UNCOLOURED:
            assert status not in text.STATUS_COLOURS        # few data, partial: never a status colour
        else:
            assert "#" + text.STATUS_COLOURS[status] == style.colour.upper()
    assert theme.STATUS_COLORS["on_track"] == "#0072B2"    # Okabe–Ito blue, in the PDF too


# --- one ranking, one target row ----------------------------------------------------------------------

def test_one_ranking_worst_first_few_apart_no_data_last_city_out() -> None:
    rows = [{"code": "00001", "value": 90.0}, {"code": "00002", "value": 50.0},
            {"code": "00003", "value": 10.0, "few_data": True}, {"code": "00004", "value": None},
            {"code": "01", "value": 1.0}, {"code": "00005", "value": 70.0}]
    out = rank_records(rows, "higher")
    assert [r["code"] for r in out] == ["00002", "00005", "00001", "00003", "00004"]
    assert [r["rank"] for r in out] == [1, 2, 3, None, None]
    assert [r["group"] for r in out] == ["ranked", "ranked", "ranked", "few_data", "no_data"]
    assert [r["code"] for r in rank_records(rows, "lower")][:3] == ["00001", "00005", "00002"]


def test_target_row_uses_select_target() -> None:
    reg = metrics.get_registry()
    tg = target_row(reg, "on_time_rate", {"target": None}, None, 2026)
    assert tg["has_target"] and tg["target"] == metrics.targets.select_target(reg, "on_time_rate", "01", 2026).value
    assert target_row(reg, "received", {}, None, 2026)["has_target"] is False
    assert target_row(reg, "on_time_rate", {"target": 91.0, "target_comparison": ">="})["target"] == 91.0


# --- display metadata --------------------------------------------------------------------------------

@pytest.fixture
def defs(tmp_path):
    for f in DEFINITIONS_DIR.glob("*.yaml"):  # every shipped definition file (kpis, targets, index766, workload…)
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def _add_kpi(folder, body: str = NEW_YAML) -> None:
    path = folder / "kpis.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.rstrip("\n") + "\n" + body, encoding="utf-8")


def test_display_defaults_keep_every_kpi_s_look() -> None:
    reg = metrics.get_registry()
    assert reg.kpi("on_time_rate").decimals == 1 and reg.kpi("on_time_rate").is_percent
    assert reg.kpi("received").decimals == 0 and reg.kpi("received").display.kind == "count"
    assert reg.kpi("publicity_766").decimals == 2 and reg.kpi("publicity_766").display.kind == "points"
    assert reg.kpi("processing_time_mean").display.kind == "days"


def test_a_bad_display_entry_names_the_file_and_the_kpi(defs) -> None:
    _add_kpi(defs, NEW_YAML.replace("decimals: 2, show: [overview", "decimals: 2, show: [homepage"))
    with pytest.raises(RegistryError, match=rf"kpis.yaml: KPI '{NEW}': display.show"):
        load_registry(defs)
    shutil.copy(DEFINITIONS_DIR / "kpis.yaml", defs / "kpis.yaml")
    _add_kpi(defs, NEW_YAML.replace("decimals: 2", "decimals: 9"))
    with pytest.raises(RegistryError, match=rf"kpis.yaml: KPI '{NEW}': display: .*between 0 and 4"):
        load_registry(defs)


# --- add a KPI in YAML only: every surface in its `show` lists it, with its decimals ----------------------

@pytest.fixture(scope="module")
def warehouse(demo_warehouse):
    """The shared, read-only demo warehouse (tests/conftest.py): 45 days of demo data ending NOW."""
    return demo_warehouse


@pytest.fixture
def new_registry(defs, monkeypatch):
    """The shipped definitions plus one KPI, in force for every module (get_registry reads the folder)."""
    _add_kpi(defs)
    monkeypatch.setattr(registry_module, "DEFINITIONS_DIR", defs)
    registry_module.get_registry.cache_clear()
    yield metrics.get_registry()
    monkeypatch.undo()
    registry_module.get_registry.cache_clear()


def _text(component) -> str:
    out = []

    def walk(c):
        if isinstance(c, str | int | float):
            out.append(str(c))
        elif isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif c is not None and hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return " ".join(out)


def _two_decimals(text: str, lang: str = "vi") -> bool:
    import re

    sep = "," if lang == "vi" else r"\."
    return re.search(rf"\d{sep}\d\d ?%", text) is not None


def test_a_kpi_added_in_yaml_is_on_every_surface_with_its_decimals(warehouse, new_registry) -> None:
    from api import register
    from dashboard import data
    from dashboard.views import overview, ward, wards
    from metrics.cli import kpis_report
    from reports import collect
    from reports.data import TREND_KPIS

    assert new_registry.kpi(NEW).decimals == 2
    reader = Reader(warehouse)
    con = reader.cursor()
    try:
        # overview: a target card, and a choice of the ranking
        assert NEW in data.r57_codes()
        cards = overview.cards(con, "vi", now=NOW)
        card = next(c for c in cards if f"kpi={NEW}" in str(c))
        row = next(r for r in overview.target_rows(con, now=NOW) if r["kpi"] == NEW)
        assert fmt.value(row["value"], "%", "vi", decimals=2) in _text(card) and _two_decimals(_text(card))
        assert NEW in overview.RANK_KPIS
        title, body = overview.ranking(con, NEW, "vi", now=NOW)
        assert new_registry.kpi(NEW).name_vi in title and _two_decimals(_text(body))
        # ward page: the KPI table and the trend choices
        div, table = ward.kpi_view(con, WARD, "vi", now=NOW)
        assert NEW in [r["kpi"] for r in table.rows] and NEW in ward.TREND_KPIS
        assert _two_decimals(_text(div))
        # wards grid: a column at 2 decimals, and its values in the rows
        col = next(c for c in wards.column_defs("vi") if c["field"] == NEW)
        assert "R57num(params.value, 2, 'vi', ' %')" in col["valueFormatter"]["function"]
        units, _ = wards.rows(con, "vi", now=NOW)
        assert any(u.get(NEW) is not None for u in units)
        # report: the target table (with its decimals) and the trend
        month = (NOW.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        rep = collect(con, month, lang="en", now=NOW)
        mine = next(r for r in rep.targets.rows if r["kpi"] == NEW)
        assert mine["decimals"] == 2 and NEW in TREND_KPIS
        assert set(rep.trend["kpi"]) >= {NEW}
        # API /kpis: listed with its display metadata
        app = Flask("r57-presentation-test")
        register(app, warehouse, Reader(warehouse))
        items = {k["kpi"]: k for k in app.test_client().get("/api/v1/kpis").get_json()["kpis"]}
        assert items[NEW]["decimals"] == 2 and "wards_grid" in items[NEW]["show"]
        # CLI: a line with its value to 2 decimals
        line = next(x for x in kpis_report(con, now=NOW, lang="en").splitlines() if "Fully-online share of online" in x)
        assert _two_decimals(line, "en")
    finally:
        con.close()
        reader.close()
