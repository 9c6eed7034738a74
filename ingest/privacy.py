"""What of a rejected value may be kept: only what cannot carry personal data (Decree 13/2023/NĐ-CP).

Exports carry applicants' names, ID numbers, phones, e-mails and addresses, and a shifted column or
a value typed into the wrong cell puts them into the columns ingest reads. A value that breaks a
rule is therefore kept only when it has the *shape* its column allows (a date-like string for a
date, a short number for a count, a known code word for a status); anything else is replaced by
its shape alone: `<digits, 10>` or `<text, 13 chars>`. The same SQL expression masks the quarantine
table, the archived copy of a loaded file and, by migration, what older versions stored.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from sqltext import literal, nfc
from warehouse.reasons import DIGITS_TOKEN, TEXT_TOKEN

from .vocab import (
    APPLICANT_TYPES,
    CHANNELS,
    FALSE_WORDS,
    STATUS_WORDS,
    STATUSES,
    TRUE_WORDS,
)

DATE_COLUMNS = ("received_at", "due_at", "completed_at", "updated_at", "published_at")
NUMBER_COLUMNS = ("supplement_count", "supplement_days", "rating", "value")
WORD_COLUMNS = ("channel", "status", "applicant_type", "cross_agency", "complaint", "paid_online",
                "digitized", "data_reused")
CODE_COLUMNS = ("dossier_id", "procedure_code", "record_id", "indicator_code", "period", "source")

# dd/mm/yyyy [HH:MM[:SS]], yyyy-mm-dd[THH:MM[:SS[.f]]][offset]: digits and separators only, a year of
# four digits first or last, an offset only after a time (so 0912-34-5678 or 0912-34-56-78, a phone
# number, or 0012-34-5678-90, an ID number, has no date's shape)
DATE_SHAPE = (r"(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})"
              r"([ T]\d{1,2}(:\d{1,2}){0,2}(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)?)?")
# a count, a rating or an indicator value: at most 6 significant digits, so no phone or ID number
NUMBER_SHAPE = r"[+-]?\d{0,6}([.,]\d{0,6})?([eE][+-]?\d{1,4})?|[+-]?(nan|inf|infinity)"
# an identifier or code: no spaces, no '@', at most 64 characters ...
CODE_SHAPE = r"[A-Za-z0-9][A-Za-z0-9._\-/:#]{0,63}"
# ... and not a bare 9-12 digit number (the shape of a phone, CMND or CCCD number)
PERSONAL_NUMBER = r"\+?\d{9,12}"
# a unit's code or its name ("UBND Phường Cửa Nam"): letters, spaces and hyphens after the prefix
# (a class of excluded ASCII rather than \p{L}, whose Unicode tables cost DuckDB 80 ms to compile)
UNIT_SHAPE = (r"\d{1,5}|((UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\s+)?(Phường|Xã|Thị trấn|Sở)\s"
              r"[^0-9@#/\\(),.:;_<>\[\]{}|=+*&^%$!?\"'\x00-\x1f]{1,40}")
DIGITS_ONLY = r"[\d\s+().\-]+"


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[str, ...]:
    """Every code word any column may hold, lower-case NFC: such a value is no one's personal data."""
    from .profiles import load_profiles  # local: profiles read YAML files

    words = {*CHANNELS, "online", *STATUSES, *APPLICANT_TYPES, *STATUS_WORDS, *TRUE_WORDS, *FALSE_WORDS}
    for profile in load_profiles():
        for mapping in profile.values.values():
            words.update(k for k in mapping if k)
    return tuple(sorted({unicodedata.normalize("NFC", w).strip().lower() for w in words}))


def _in(expr: str, values) -> str:
    return f"list_contains([{', '.join(literal(v) for v in values)}], {expr})"


def _keeps(v: str, kind: str) -> str:
    """SQL condition: `v` has the shape a column of this kind allows."""
    if kind == "date":
        return f"length({v}) <= 32 AND regexp_full_match({v}, {literal(DATE_SHAPE)})"
    if kind == "number":
        return f"length({v}) <= 16 AND regexp_full_match({v}, {literal(NUMBER_SHAPE)}, 'i')"
    if kind == "word":
        return f"length({v}) <= 40 AND {_in(f'lower(trim({nfc(v)}))', _vocabulary())}"
    if kind == "unit":
        return f"length({v}) <= 64 AND regexp_full_match(trim({v}), {literal(UNIT_SHAPE)})"
    if kind == "code":
        return f"regexp_full_match({v}, {literal(CODE_SHAPE)}) AND NOT regexp_full_match({v}, {literal(PERSONAL_NUMBER)})"
    raise ValueError(kind)


KINDS = {**dict.fromkeys(DATE_COLUMNS, "date"), **dict.fromkeys(NUMBER_COLUMNS, "number"),
         **dict.fromkeys(WORD_COLUMNS, "word"), "unit_code": "unit", **dict.fromkeys(CODE_COLUMNS, "code")}


def mask_sql(value: str, column: str) -> str:
    """SQL: `value` if it fits the shape of its column, else its shape (`<digits, N>` / `<text, N chars>`).

    `column` is a column name (known when the SQL is written: the expression is specialised, which
    keeps DuckDB's planning cheap) or, wrapped as `sql:<expr>`, an SQL expression giving the name per
    row. NULL stays NULL; a value of no known column is always masked."""
    v = value
    if column.startswith("sql:"):
        c = column[4:]
        kept = " ".join(f"WHEN {_in(c, [n for n, k in KINDS.items() if k == kind])} AND {_keeps(v, kind)} THEN {v}"
                        for kind in ("date", "number", "word", "unit", "code"))
    else:
        kind = KINDS.get(column)
        kept = f"WHEN {_keeps(v, kind)} THEN {v}" if kind else ""
    return f"""(CASE WHEN {v} IS NULL THEN NULL {kept}
        WHEN regexp_full_match({v}, {literal(DIGITS_ONLY)})
             THEN {literal(DIGITS_TOKEN.split('{n}')[0])} || length(regexp_replace({v}, '[^0-9]', '', 'g'))
                  || {literal(DIGITS_TOKEN.split('{n}')[1])}
        ELSE {literal(TEXT_TOKEN.split('{n}')[0])} || length({v}) || {literal(TEXT_TOKEN.split('{n}')[1])} END)"""
