"""The one word catalogue (presentation/words.py, gettext .po under presentation/locale): complete in both
languages, every key the code asks for exists, placeholders agree, plural forms; and the English pages
carry no Vietnamese words except the names of units, procedures and offices (data, not words)."""

from __future__ import annotations

import csv
import re
import string
import unicodedata
from pathlib import Path

from presentation import fmt, words

from .conftest import DEMO_NOW

ROOT = Path(__file__).resolve().parents[1]
CODE_DIRS = ("dashboard", "reports", "exports", "api", "presentation", "warehouse", "metrics", "ingest", "service")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _messages(lang: str) -> dict[str, object]:
    return {(m.id[0] if m.pluralizable else m.id): m for m in words.catalogue(lang) if m.id}


# --- the catalogue ------------------------------------------------------------------------------

def test_both_languages_have_the_same_keys_all_translated() -> None:
    vi, en = _messages("vi"), _messages("en")
    assert set(vi) == set(en), (set(vi) ^ set(en))
    assert len(vi) > 400
    for key in vi:
        for lang, m in (("vi", vi[key]), ("en", en[key])):
            texts = m.string if isinstance(m.string, tuple) else (m.string,)
            assert all(s and s.strip() for s in texts), (lang, key)
            assert not m.fuzzy, (lang, key)
        assert vi[key].pluralizable == en[key].pluralizable, key


def test_placeholders_are_the_same_in_both_languages() -> None:
    vi, en = _messages("vi"), _messages("en")
    for key in vi:
        forms = [*(vi[key].string if vi[key].pluralizable else (vi[key].string,)),
                 *(en[key].string if en[key].pluralizable else (en[key].string,))]
        assert len({frozenset(_fields(s)) for s in forms}) == 1, key


def test_plural_forms_follow_the_catalogue_header() -> None:
    assert words.catalogue("vi").num_plurals == 1 and words.catalogue("en").num_plurals == 2
    assert fmt.change(1, "products", "en") == "+1 product"       # the '+1 products' bug
    assert fmt.change(2, "products", "en") == "+2 products"
    assert fmt.value(1, "dossiers", "en") == "1 dossier" and fmt.value(1234, "dossiers", "en") == "1,234 dossiers"
    assert fmt.value(1.0, "working days", "en", decimals=1) == "1.0 working days"
    assert fmt.value(1, "sản phẩm", "vi") == "1 sản phẩm" and fmt.value(2, "sản phẩm", "vi") == "2 sản phẩm"
    assert words.t("ratings", "en", n=1) == "1 rating" and words.t("ratings", "en", n="1,234") == "1,234 ratings"
    assert words.t("ov_new_overdue", "en", n="1", count=1).endswith("1 dossier")
    assert words.t("ratings", "vi", n=1) == "1 lượt đánh giá"


def test_one_lookup_signature_everywhere() -> None:
    import dashboard.i18n
    import reports.text

    assert dashboard.i18n.t is words.t and reports.text.t is words.t
    assert words.t("nav_overview") == "Tổng quan" and words.t("nav_overview", "en") == "Overview"
    assert words.t("status_on_track", "fr") == "Đúng tiến độ"        # unknown language: Vietnamese
    assert words.t("no-such-key", "en") == "no-such-key"             # unknown key: shows itself
    assert words.get("no-such-key", "en", default="x") == "x"
    assert words.localised({"name": "Phường Cửa Nam", "name_en": "Cua Nam Ward"}, "name", "en") == "Cua Nam Ward"
    assert words.localised({"name": "Phường Cửa Nam", "name_en": ""}, "name", "en") == "Phường Cửa Nam"
    assert words.localised_column("group_name_vi", "en") == "group_name_en"


_LITERAL = re.compile(r"""(?<![\w.])(?:t|get|_t)\(\s*(f?)(["'])([^"'\n]+)\2\s*[,)]""")


def _keys_in_code() -> list[tuple[str, str, bool]]:
    out = []
    for d in CODE_DIRS:
        for path in (ROOT / d).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "import t" not in text and "words" not in text and "def t(" not in text:
                continue
            for m in _LITERAL.finditer(text):
                out.append((f"{path.relative_to(ROOT)}", m.group(3), bool(m.group(1))))
    text = (ROOT / "app.py").read_text(encoding="utf-8")
    out += [("app.py", m.group(3), bool(m.group(1))) for m in _LITERAL.finditer(text)]
    return out


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    keys = words.keys("vi")
    used = _keys_in_code()
    assert len(used) > 300
    missing = []
    for where, key, is_f in used:
        if is_f:  # t(f"status_{key}"): some key must start with the literal part
            stem = key.split("{", 1)[0]
            if not any(k.startswith(stem) for k in keys):
                missing.append((where, key))
        elif key not in keys:
            missing.append((where, key))
    assert not missing, missing


# --- the English pages --------------------------------------------------------------------------

_VI_LETTER = re.compile(r"[^\W\d_]")


def _has_vietnamese(s: str) -> bool:
    """A letter with a diacritic (ă, ê, ơ, ư, đ, tone marks): the mark of a Vietnamese word."""
    return any(ord(c) > 127 and _VI_LETTER.match(c) and "LATIN" in unicodedata.name(c, "") for c in s)


def _allowed_names() -> list[str]:
    """Names, not words: units, procedures, the offices accountable for targets and publishing indicators,
    the legal documents KPIs cite."""
    names: set[str] = set()
    ref = ROOT / "data" / "reference"
    with (ref / "units.csv").open(encoding="utf-8") as f:
        names |= {r["name"] for r in csv.DictReader(f)}
    with (ref / "procedures.csv").open(encoding="utf-8") as f:
        names |= {r["name_vi"] for r in csv.DictReader(f)}
    import metrics.registry

    reg = metrics.registry.get_registry()
    names |= {tg.accountable_unit for tg in reg.targets}
    # Legal citations: the registry keeps a KPI's legal basis as the document's Vietnamese title, with no
    # English twin yet (a `legal_basis_en` in kpis.yaml would let the English pages translate it).
    names |= {k.legal_basis for k in reg.kpis.values()}
    from demo.indicators import SOURCES  # the offices that publish indicators (demo data)

    names |= set(SOURCES.values())
    names |= {"Hà Nội"}  # 'Hanoi' is the English; the city's own name may appear in a unit name
    return sorted((n for n in names if n), key=len, reverse=True)


def _strings(obj, out: list[str]) -> None:
    """Every string a component tree, a figure or a callback's output carries (children, labels, titles,
    placeholders, options, column headers, row cells, figure text), recursively."""
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("id", "className", "style", "href", "src", "key", "field", "colId", "type", "function",
                     "valueFormatter", "cellClass", "cellClassRules", "getRowStyle", "comparator", "hovertemplate_raw"):
                continue
            _strings(v, out)
    elif isinstance(obj, list | tuple):
        for x in obj:
            _strings(x, out)
    elif hasattr(obj, "to_plotly_json"):
        j = obj.to_plotly_json()
        _strings(j.get("props", j) if isinstance(j, dict) else j, out)
    elif hasattr(obj, "to_dict"):
        try:
            _strings(obj.to_dict(), out)
        except TypeError:
            pass


def _vietnamese_left(obj) -> list[str]:
    names = _allowed_names()
    found = []
    strings: list[str] = []
    _strings(obj, strings)
    for s in strings:
        rest = s
        for n in names:
            if n in rest:
                rest = rest.replace(n, "")
        if _has_vietnamese(rest):
            found.append(s)
    return sorted(set(found))


def test_vietnamese_detector() -> None:
    assert _has_vietnamese("Tỷ lệ") and _has_vietnamese("đúng") and not _has_vietnamese("On-time rate ≥ 95 % — ◆")
    assert _vietnamese_left(["Phường Cửa Nam (00073)", "Open overdue dossiers"]) == []
    assert _vietnamese_left(["hồ sơ"]) == ["hồ sơ"]


def test_grid_words_are_spelled_out_in_both_languages() -> None:
    """AG Grid keeps the words of the first drawing when handed an empty locale, so English must be explicit."""
    from dashboard.i18n import grid_locale

    vi, en = grid_locale("vi"), grid_locale("en")
    assert set(vi) == set(en) and len(en) >= 40
    assert all(isinstance(v, str) and v for v in en.values())
    assert _vietnamese_left(list(en.values())) == []
    assert en["page"] == "Page" and en["of"] == "of" and vi["of"] == "trên"


NOW = DEMO_NOW   # the shared views warehouse (tests/conftest.py) ends here
WARD = "00073"   # Phường Cửa Nam


def test_english_views_have_no_vietnamese_words(views_con) -> None:
    from dashboard.views import economy, health, kpi, overview, ward, wards

    con = views_con

    parts = {
        "overview.cards": overview.cards(con, "en", now=NOW),
        "overview.ranking": overview.ranking(con, "on_time_rate", "en", now=NOW),
        "overview.changes": overview.changes(con, "en", now=NOW),
        "wards.rows": wards.rows(con, "en", "2026-03", now=NOW),
        "wards.columns": wards.column_defs("en"),
        "ward.kpi_table": ward.kpi_table(con, WARD, "en", "2026-03", now=NOW),
        "ward.overdue": ward.overdue(con, WARD, "en", now=NOW),
        "ward.trend": ward.trend_figure(con, WARD, "on_time_rate", "en", now=NOW),
        "ward.procedures": ward.procedures(con, WARD, "en", "2026-03", now=NOW),
        "ward.channels": ward.channel_figure(con, WARD, "en", "2026-03", now=NOW),
        "ward.index_766": ward.index_766(con, WARD, "en", "2026-03", now=NOW),
        "kpi.header": kpi.header(con, "satisfaction", None, "en", now=NOW),
        "kpi.trend": kpi.trend_figure(con, "satisfaction", WARD, "month", "en", now=NOW),
        "kpi.units": kpi.units_figure(con, "on_time_rate", "en", now=NOW),
        "kpi.definition": kpi.definition("on_time_rate", "en"),
        "economy.cards": economy.cards(con, "en", now=NOW),
        "economy.series": economy.series_panels(con, "en", now=NOW),
        "economy.coverage": economy.coverage_5g(con, "en", now=NOW),
        "health.freshness": health.freshness(con, "en", now=NOW),
        "health.runs": health.runs(con, "en"),
        "health.reasons": health.reasons(con, "en"),
        "health.quarantine": health.quarantine(con, "en"),
    }
    left = {name: found for name, part in parts.items() if (found := _vietnamese_left(part))}
    assert not left, left
    assert _vietnamese_left(overview.cards(con, "vi", now=NOW))  # the check sees the words


def test_english_page_layouts_and_words_have_no_vietnamese(views_warehouse) -> None:
    import sys

    import dash

    from dashboard.app import create_app

    app = create_app(views_warehouse, refresh_s=5)
    app.server.test_client().get("/")
    left = {}
    with app.server.test_request_context("/", headers={"Cookie": "r57_lang=en"}):
        for name in ("overview", "wards", "ward", "kpi", "economy", "health", "reports"):
            page = sys.modules[f"dashboard.pages.{name}"]
            for what, part in (("layout", page.layout()), ("words", page.words("en"))):
                if found := _vietnamese_left(part):
                    left[f"{name}.{what}"] = found
        assert dash.page_registry
    with app.server.test_request_context("/", headers={"Cookie": "r57_lang=vi"}):  # the check sees the words
        assert _vietnamese_left(sys.modules["dashboard.pages.overview"].layout())
    assert not left, left
