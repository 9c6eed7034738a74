"""The dossier column contract as SQL: map a profile's source columns, parse, and list each row's problems.

Everything runs inside DuckDB over the staged text table, so a million rows validate in about a
second. Each rule yields a struct {code, col, val}; a row with any problem goes to quarantine.
"""

from __future__ import annotations

import unicodedata

from sqltext import identifier as ident
from sqltext import literal as lit
from sqltext import nfc

from .profiles import Profile
from .vocab import (
    APPLICANT_TYPES,
    CHANNELS,
    DATE_FORMATS,
    FALSE_WORDS,
    FINISHED_STATUSES,
    OPEN_STATUSES,
    STATUS_WORDS,
    STATUSES,
    TRUE_WORDS,
)

TIMESTAMP_COLUMNS = ("received_at", "due_at", "completed_at", "updated_at")
BOOL_COLUMNS = ("cross_agency", "complaint", "paid_online", "digitized", "data_reused")
INT_COLUMNS = ("supplement_count", "supplement_days")
CANONICAL_VALUES = {"status": STATUSES, "channel": CHANNELS, "applicant_type": APPLICANT_TYPES}
TYPED_COLUMNS = TIMESTAMP_COLUMNS + BOOL_COLUMNS + INT_COLUMNS + ("rating",)  # each parsed into <col>_t
IDENTIFIER_COLUMNS = ("dossier_id", "procedure_code")
MAX_IDENTIFIER = 64
# whitespace, control and format characters (NUL, bidi overrides, zero-width space, BOM) and '@':
# never part of a dossier or procedure code, often of a name, an address or an e-mail typed there
BAD_IDENTIFIER_CHARS = r"[\s\p{Z}\p{Cc}\p{Cf}@]"


def _in(values) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


def _isin(expr: str, values) -> str:
    """`expr IN (...)` as a scalar list lookup: DuckDB plans long IN lists as joins, one per use,
    which cost more than the whole parse on a million rows."""
    return "list_contains([" + ", ".join(lit(v) for v in values) + f"], {expr})"


def _value_map(expr: str, mapping: dict[str, str], canonical: tuple[str, ...] = ()) -> str:
    """CASE mapping of source codes to canonical ones (case- and Unicode-form-insensitive);
    unmapped values pass through so the enum rules can name them. Values already canonical skip
    the normalisation, which keeps canonical files fast."""
    key = f"lower({nfc(f'trim({expr})')})"
    whens = [f"WHEN {_isin(expr, canonical)} THEN {expr}"] if canonical else []
    if "" in mapping:
        whens.append(f"WHEN {expr} IS NULL OR trim({expr}) = '' THEN {lit(mapping[''])}")
    whens += [
        f"WHEN {key} = {lit(unicodedata.normalize('NFC', k).lower())} THEN {lit(v)}"
        for k, v in mapping.items() if k != ""
    ]
    return f"(CASE {' '.join(whens)} ELSE {expr} END)"


def _clean_text(col: str) -> str:
    """Empty or blank -> NULL; surrounding spaces trimmed. Most cells have none, and checking the
    first and last byte is much cheaper than trimming a million strings."""
    return (f"(CASE WHEN {col} = '' THEN NULL WHEN prefix({col}, ' ') OR suffix({col}, ' ') "
            f"THEN nullif(trim({col}), '') ELSE {col} END)")


# Source types a typed file (Parquet) may keep for a canonical column of each kind, instead of the
# text round trip (CAST to text, then parse back). TIMESTAMP_NS and the rest go through text.
NATIVE_TYPES = {
    "timestamp": {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "DATE", "TIMESTAMP WITH TIME ZONE"},
    "boolean": {"BOOLEAN"},
    "number": {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
               "FLOAT", "DOUBLE"},
}


def _kind(col: str) -> str | None:
    if col in TIMESTAMP_COLUMNS:
        return "timestamp"
    if col in BOOL_COLUMNS:
        return "boolean"
    if col in INT_COLUMNS or col == "rating":
        return "number"
    return None


def native_columns(profile: Profile, headers: set[str], types: dict[str, str]) -> dict[str, str]:
    """Canonical column -> source type, for the columns read as they are typed in the file: one
    source among the file's `headers` (several are combined as text), of a type that fits the
    column's kind, and no value mapping for it in the profile. `types` holds the staged source
    columns' types (text columns absent); every other column goes through text."""
    native = {}
    for col in TIMESTAMP_COLUMNS + BOOL_COLUMNS + INT_COLUMNS + ("rating",):
        sources = [s for s in profile.sources(col) if s in headers]
        if (len(sources) == 1 and types.get(sources[0]) in NATIVE_TYPES[_kind(col)]
                and not profile.values.get(col)):
            native[col] = types[sources[0]]
    return native


def mapped_select(profile: Profile, headers: set[str], src: str, types: dict[str, str] | None = None) -> str:
    """SELECT producing canonical text columns (NULL when the profile or the file lacks them).

    `types` names the source columns staged with a type other than text (Parquet): those of
    `native_columns` pass as they are, the others are cast to text first, as if staged as text."""
    types = types or {}
    native = native_columns(profile, headers, types)
    status_map = dict(STATUS_WORDS)
    status_map.update(profile.values.get("status", {}))
    out = ["_line"]

    def text(source: str) -> str:
        return f"CAST({ident(source)} AS VARCHAR)" if source in types else ident(source)

    for col in (
        "dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "completed_at",
        "status", "cross_agency", "supplement_count", "supplement_days", "rating", "complaint",
        "paid_online", "digitized", "data_reused", "applicant_type", "updated_at",
    ):
        sources = [s for s in profile.sources(col) if s in headers]
        if not sources:
            expr = "NULL::VARCHAR"
        elif col in native:
            expr = ident(sources[0])
        elif len(sources) == 1 and col in IDENTIFIER_COLUMNS:  # one spelling per id: NFC, trimmed
            expr = f"nullif(trim({nfc(text(sources[0]))}), '')"
        elif len(sources) == 1:
            expr = _clean_text(text(sources[0]))
        elif col in TIMESTAMP_COLUMNS:
            # several date sources: the earliest counts (finish = first of completed / returned)
            texts = [_clean_text(text(s)) for s in sources]
            out.append(f"list_value({', '.join(texts)}) AS {col}__alts")
            expr = f"coalesce({', '.join(texts)})"
        else:  # several flag sources: true only when all are truthy (e.g. digitised in AND out)
            expr = "CASE WHEN " + " AND ".join(
                f"(nullif(trim({text(s)}), '') IS NOT NULL AND NOT {_isin(f'lower(trim({text(s)}))', FALSE_WORDS)})"
                for s in sources
            ) + " THEN 'true' ELSE 'false' END"
        mapping = status_map if col == "status" else profile.values.get(col, {})
        if mapping and sources:
            expr = _value_map(expr, mapping, CANONICAL_VALUES.get(col, ()))
        elif "" in mapping:  # the file lacks the column: the profile's value for "empty"
            expr = lit(mapping[""])
        out.append(f"{expr} AS {col}")
    return "SELECT " + ",\n       ".join(out) + f"\nFROM {src}"


# Every spelling under which a unit is matched exactly: its code, the code without the leading
# zeros Excel strips, its name, and the name after "UBND" / "Ủy ban nhân dân" (agency names).
UNIT_KEYS_SQL = """
    SELECT key, unit_code FROM (
        SELECT unit_code AS key, unit_code FROM units
        UNION SELECT ltrim(unit_code, '0'), unit_code FROM units WHERE unit_type <> 'city'
        UNION SELECT nfc_normalize(name), unit_code FROM units
        UNION SELECT 'UBND ' || nfc_normalize(name), unit_code FROM units
        UNION SELECT 'Ủy ban nhân dân ' || nfc_normalize(name), unit_code FROM units
    )
"""

# For the few values no exact key matched: compare case- and Unicode-form-insensitively.
UNIT_FALLBACK_SQL = """
    SELECT v.raw, min(u.unit_code) AS unit_t
    FROM (SELECT DISTINCT unit_code AS raw FROM _checked WHERE unit_t IS NULL AND unit_code IS NOT NULL) v
    JOIN units u ON lower(nfc_normalize(u.name)) = lower(""" + nfc("""trim(
        regexp_replace(v.raw, '^(UBND|Ủy ban nhân dân|Uỷ ban nhân dân)\\s+', '', 'i'))""") + """)
                 OR (regexp_full_match(v.raw, '0*\\d{1,5}') AND u.unit_code = lpad(ltrim(v.raw, '0'), 5, '0'))
    GROUP BY v.raw
"""


# A UTC offset after a time of day: 'Z', '+07', '+0700', '+07:00' (DuckDB and pandas write '+07').
# It must follow a time: the '-2024' that ends '01-07-2024' is a year, not an offset.
UTC_OFFSET = r"\d:\d\d(:\d\d(\.\d+)?)?\s*(Z|[+-]\d\d(:?\d\d)?)$"


def _has_offset(expr: str) -> str:
    """`expr` ends in a UTC_OFFSET. The regular expression runs only on text that can hold one (a
    'Z' at the end, a '+', or a '-' after a ':'), not on every plain 'yyyy-mm-dd hh:mm:ss'."""
    return (f"(CASE WHEN suffix({expr}, 'Z') OR contains({expr}, '+') OR {expr} LIKE '%:%-%' "
            f"THEN regexp_matches({expr}, {lit(UTC_OFFSET)}) ELSE false END)")


def parse_ts(expr: str) -> str:
    """Text -> local TIMESTAMP: ISO with offset converted to Asia/Ho_Chi_Minh, else local formats."""
    fmts = "[" + ", ".join(lit(f) for f in DATE_FORMATS) + "]"
    return (
        f"(CASE WHEN {expr} IS NULL THEN NULL "
        f"WHEN {_has_offset(expr)} "
        f"THEN timezone('Asia/Ho_Chi_Minh', try_cast({expr} AS TIMESTAMPTZ)) "
        f"ELSE coalesce(try_cast({expr} AS TIMESTAMP), try_strptime({expr}, {fmts})) END)"
    )


# A count, day total or rating above this is a typing error, not a dossier (and would overflow INTEGER).
MAX_INTEGER = 100_000


def _parse_int(expr: str, numeric: bool = False) -> str:
    """Whole numbers 0..MAX_INTEGER; anything else (1e400, nan, inf, 99999999999, 2.5) -> NULL, which
    the bad_integer/bad_rating rules quarantine row by row instead of failing the file on a CAST.
    `numeric`: the value is already a number (a typed file), the same rule without the text."""
    d = f"CAST({expr} AS DOUBLE)" if numeric else f"try_cast(replace({expr}, ',', '.') AS DOUBLE)"
    return (f"(CASE WHEN isfinite({d}) AND {d} = floor({d}) AND {d} BETWEEN 0 AND {MAX_INTEGER} "
            f"THEN CAST({d} AS INTEGER) END)")


def _parse_bool(expr: str) -> str:
    return (f"(CASE WHEN {expr} IS NULL THEN NULL WHEN {_isin(f'lower({expr})', TRUE_WORDS)} THEN TRUE "
            f"WHEN {_isin(f'lower({expr})', FALSE_WORDS)} THEN FALSE END)")


def _native_ts(expr: str, source_type: str) -> str:
    """A typed file's time as local TIMESTAMP: an instant (WITH TIME ZONE) shown in Hanoi time, a
    date at midnight, a wall time as it is (what the text round trip gives, without the text)."""
    if source_type == "TIMESTAMP WITH TIME ZONE":  # an instant no TIMESTAMP can hold -> NULL: bad_date
        return (f"(CASE WHEN {expr} BETWEEN TIMESTAMPTZ '1000-01-01 00:00:00+00' AND TIMESTAMPTZ '9000-01-01 00:00:00+00' "
                f"THEN timezone('Asia/Ho_Chi_Minh', {expr}) END)")
    return f"try_cast({expr} AS TIMESTAMP)"  # a date past TIMESTAMP's range -> NULL: bad_date, as its text


def typed_select(src: str, list_columns: set[str], unit_lookup: str, native: dict[str, str] | None = None) -> str:
    """Parse the canonical text columns; keep the text too, for quarantine messages. Columns of
    `native` (canonical column -> source type) are typed already and only converted."""
    native = native or {}
    parts = ["m.*"]
    for col in TIMESTAMP_COLUMNS:
        if col in native:
            parts.append(f"{_native_ts('m.' + col, native[col])} AS {col}_t")
        elif col in list_columns:  # the earliest of several sources
            parts.append(f"list_min(list_transform(m.{col}__alts, lambda x: {parse_ts('x')})) AS {col}_t")
        else:
            parts.append(f"{parse_ts('m.' + col)} AS {col}_t")
    for col in BOOL_COLUMNS:
        parts.append(f"m.{col} AS {col}_t" if col in native else f"{_parse_bool('m.' + col)} AS {col}_t")
    for col in INT_COLUMNS + ("rating",):
        parts.append(f"{_parse_int('m.' + col, numeric=col in native)} AS {col}_t")
    parts.append("ul.unit_code AS unit_t")
    parts.append("p.procedure_code IS NOT NULL AS procedure_known")
    parts.append("p.online_level AS p_online_level, p.cross_agency AS p_cross_agency")
    return f"""
        SELECT {", ".join(parts)}
        FROM {src} m
        LEFT JOIN {unit_lookup} ul ON ul.key = m.unit_code
        LEFT JOIN procedures p ON p.procedure_code = m.procedure_code
    """


def problems_expr(now_literal: str, list_columns: set[str], skew_minutes: float = 15,
                  due_horizon_days: int = 400) -> str:
    """A list of {code, col, val} structs, one per broken rule; empty for a good row.

    The list is built only for rows where some rule fires: for a good row the cost is one OR of
    booleans, not a 45-element list per row.
    """
    conds: list[str] = []

    def rule(cond: str, code: str, col: str, val: str) -> str:
        conds.append(f"coalesce({cond}, false)")
        return f"CASE WHEN {cond} THEN {{'code': {lit(code)}, 'col': {lit(col)}, 'val': CAST({val} AS VARCHAR)}} END"

    rules = []
    for col in ("dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "status"):
        rules.append(rule(f"{col} IS NULL", "missing_value", col, "NULL"))
    rules.append(rule("unit_code IS NOT NULL AND unit_t IS NULL", "unknown_unit", "unit_code", "unit_code"))
    rules.append(rule(f"channel IS NOT NULL AND NOT {_isin('channel', CHANNELS + ('online',))}",
                      "unknown_channel", "channel", "channel"))
    rules.append(rule(f"status IS NOT NULL AND NOT {_isin('status', STATUSES)}", "unknown_status", "status", "status"))
    rules.append(rule(f"applicant_type IS NOT NULL AND NOT {_isin('applicant_type', APPLICANT_TYPES)}",
                      "unknown_applicant_type", "applicant_type", "applicant_type"))
    for col in TIMESTAMP_COLUMNS:
        if col in list_columns:
            bad = f"list_filter({col}__alts, lambda x: x IS NOT NULL AND {parse_ts('x')} IS NULL)"
            rules.append(rule(f"len({bad}) > 0", "bad_date", col, f"{bad}[1]"))
        else:
            rules.append(rule(f"{col} IS NOT NULL AND {col}_t IS NULL", "bad_date", col, col))
        rules.append(rule(f"{col}_t IS NOT NULL AND ({col}_t < TIMESTAMP '2015-01-01' OR {col}_t >= TIMESTAMP '2041-01-01')",
                          "date_out_of_range", col, f"strftime({col}_t, '%d/%m/%Y')"))
    for col in IDENTIFIER_COLUMNS:
        rules.append(rule(f"length({col}) > {MAX_IDENTIFIER} OR regexp_matches({col}, {lit(BAD_IDENTIFIER_CHARS)})",
                          "bad_identifier", col, col))
    rules.append(rule(f"received_at_t > {now_literal}", "received_in_future", "received_at",
                      "strftime(received_at_t, '%d/%m/%Y %H:%M')"))
    # a finish or update stamp ahead of the clock would move every aggregate's horizon past now
    skew = f"{now_literal} + INTERVAL {int(skew_minutes * 60)} SECOND"
    for col in ("completed_at", "updated_at"):
        rules.append(rule(f"{col}_t > {skew}", "date_in_future", col, f"strftime({col}_t, '%d/%m/%Y %H:%M')"))
    rules.append(rule(f"due_at_t > {now_literal} + INTERVAL {int(due_horizon_days)} DAY", "due_too_far", "due_at",
                      "strftime(due_at_t, '%d/%m/%Y')"))
    rules.append(rule("due_at_t < received_at_t", "due_before_received", "due_at", "strftime(due_at_t, '%d/%m/%Y %H:%M')"))
    rules.append(rule("completed_at_t < received_at_t", "completed_before_received", "completed_at",
                      "strftime(completed_at_t, '%d/%m/%Y %H:%M')"))
    rules.append(rule(f"{_isin('status', FINISHED_STATUSES)} AND completed_at_t IS NULL AND completed_at IS NULL",
                      "finished_without_date", "completed_at", "status"))
    rules.append(rule(f"{_isin('status', OPEN_STATUSES)} AND completed_at_t IS NOT NULL",
                      "date_on_open_dossier", "completed_at", "status"))
    rules.append(rule("rating IS NOT NULL AND (rating_t IS NULL OR rating_t NOT BETWEEN 1 AND 5)",
                      "bad_rating", "rating", "rating"))
    for col in INT_COLUMNS:
        rules.append(rule(f"{col} IS NOT NULL AND {col}_t IS NULL", "bad_integer", col, col))
    for col in BOOL_COLUMNS:
        rules.append(rule(f"{col} IS NOT NULL AND {col}_t IS NULL", "bad_boolean", col, col))
    listed = "list_filter([" + ",\n ".join(rules) + "], lambda x: x IS NOT NULL)"
    return f"(CASE WHEN {' OR '.join(conds)} THEN {listed} ELSE []::STRUCT(code VARCHAR, col VARCHAR, val VARCHAR)[] END)"
