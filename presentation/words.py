"""The one word catalogue of every surface (dashboard, reports, exports, API, CLI): `t(key, lang, **values)`.

The words live in gettext catalogues, one per language, `presentation/locale/{vi,en}/LC_MESSAGES/r57.po`:
the msgid is a stable key (`nav_overview`, `report.h_kpi`, `reason.bad_date`), the msgstr the words.
They are read with Babel at first use and compiled in memory (no .mo to build or ship), then looked up
through `babel.support.Translations`, so plural forms follow each catalogue's Plural-Forms header:
Vietnamese has one form ("1 sản phẩm", "2 sản phẩm"), English two ("1 product", "2 products").

Vietnamese is the default language; a language outside LANGS reads Vietnamese. An unknown key shows
itself (visible in review); tests/test_words.py fails on any key missing from either catalogue, on a key
used in the code that no catalogue has, and on placeholders that differ between the languages.

A plural entry is looked up with the same `t`: its count is the `count` value when given, else `n`
(a formatted number such as '1.234' is read back to its integer).
"""

from __future__ import annotations

import io
import re
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGS = ("vi", "en")
DEFAULT_LANG = "vi"
DOMAIN = "r57"
LOCALE_DIR = Path(__file__).with_name("locale")


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def lang_of(value: object) -> str:
    """The language in a store, cookie or URL value, defaulting to Vietnamese."""
    return value if value in LANGS else DEFAULT_LANG  # type: ignore[return-value]


@cache
def catalogue(lang: str):
    """The Babel Catalog of a language, as read from its .po file."""
    with po_path(lang_of(lang)).open("rb") as f:
        return read_po(f, locale=lang_of(lang), domain=DOMAIN)


@cache
def translations(lang: str) -> Translations:
    """The language's catalogue compiled in memory into gettext Translations."""
    buf = io.BytesIO()
    write_mo(buf, catalogue(lang))
    buf.seek(0)
    return Translations(fp=buf, domain=DOMAIN)


@cache
def _plural_keys(lang: str) -> frozenset[str]:
    return frozenset(m.id[0] for m in catalogue(lang) if m.id and m.pluralizable)


@cache
def keys(lang: str = DEFAULT_LANG) -> frozenset[str]:
    """Every key of a language's catalogue (plural entries by their singular key)."""
    return frozenset((m.id[0] if m.pluralizable else m.id) for m in catalogue(lang) if m.id)


def has(key: str, lang: str = DEFAULT_LANG) -> bool:
    return key in keys(lang_of(lang))


def _count(values: dict) -> int:
    """The count that picks a plural form: `count`, else `n`; '1.234' or '1,234' reads as 1234; a number
    that is not whole (1.5, or a text that is not a number) takes the 'many' form."""
    raw = values.get("count", values.get("n"))
    if isinstance(raw, str):
        digits = re.sub(r"[.,\s\u00a0]", "", raw.replace("\u2212", "-"))
        raw = int(digits) if re.fullmatch(r"[-+]?\d+", digits) else None
    try:
        f = abs(float(raw))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 2
    return int(f) if f.is_integer() else 2


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The words of `key` in `lang`, with {placeholders} filled; an unknown key shows itself."""
    lang = lang_of(lang)
    tr = translations(lang)
    if key in _plural_keys(lang):
        text = tr.ngettext(key, key, _count(values))
    else:
        text = tr.gettext(key)
    values.pop("count", None)
    return text.format(**values) if values else text


def get(key: str, lang: str = DEFAULT_LANG, default: str | None = None, **values: object) -> str | None:
    """Like t, but `default` (not the key) for a key no catalogue has."""
    return t(key, lang, **values) if has(key, lang) else default


def unit_word(unit: str | None, count: object, lang: str = DEFAULT_LANG) -> str | None:
    """A unit of measure agreeing with its number: ('products', 1, 'en') -> 'product'. The catalogue keys
    units by their English plural (`uom.products`); a unit it does not list is returned as it is."""
    if not unit:
        return unit
    return get(f"uom.{unit}", lang, default=unit, count=count)


def n_word(kpi, lang: str = DEFAULT_LANG) -> str:
    """What a KPI's n counts, in words: ratings (the satisfaction KPIs, a denominator of rated_* measures) or
    dossiers. `kpi`: a registry Kpi or its code. The one rule (the dictionary, the dashboard, the reports)."""
    if isinstance(kpi, str):
        from metrics.registry import get_registry

        kpi = get_registry().kpi(kpi)
    from metrics.registry import formula_names, get_registry

    reg = get_registry()
    dens = list(getattr(kpi, "denominator", None) or ())
    if getattr(kpi, "formula", None):  # a derived KPI stands on its inputs' denominators
        dens += [m for c in set().union(*formula_names(kpi.formula)) for m in reg.kpi(c).denominator]
    if any(m in reg.measures and reg.measures[m].kind == "staff_days" for m in dens):
        return t("word_officer_days", lang)
    rated = any(str(m).startswith("rated") for m in dens)
    return t("word_ratings" if rated else "word_dossiers", lang)


def _read(row, column: str):
    try:
        return row[column]
    except TypeError:  # an object (a registry Target): its attribute
        return getattr(row, column)


def localised(row, field: str, lang: str = DEFAULT_LANG):
    """The language's version of a reference field: `name` in Vietnamese, `name_en` in English (a mapping,
    a pandas row or frame, or an object's attribute). Reference data keeps its English column as
    `<field>_en`; a field spelled `<stem>_vi` (group_name_vi) has its English twin at `<stem>_en`. Falls back
    to the Vietnamese value where no English one is given. This is the one place a surface chooses between
    a reference field's two languages."""
    column = localised_column(field, lang)
    try:
        value = _read(row, column)
    except (KeyError, IndexError, AttributeError):
        return _read(row, field)
    try:
        missing = value is None or value != value or value == ""
    except (TypeError, ValueError):  # a Series: the column as it is
        return value
    return _read(row, field) if missing else value


def localised_column(field: str, lang: str = DEFAULT_LANG) -> str:
    """The column of `field` in `lang`: ('name', 'en') -> 'name_en', ('group_name_vi', 'en') -> 'group_name_en',
    and the field itself in Vietnamese."""
    return {"vi": field, "en": (field[:-3] if field.endswith("_vi") else field) + "_en"}[lang_of(lang)]


# How a name is written inside a sentence: English lowers a KPI name's capital ("… by on-time rate"),
# Vietnamese keeps the name as it is.
_MID_SENTENCE = {"en": str.lower}


def mid_sentence(name: str, lang: str = DEFAULT_LANG) -> str:
    return _MID_SENTENCE.get(lang_of(lang), str)(name)
