"""Why a row or a file was set aside, in words an officer can act on (Vietnamese first, English).

The warehouse stores only the code, the column and the offending value; the words live in the one word
catalogue (presentation/locale/*/r57.po, keys `reason.<code>` and `reason_title.<code>`), so they can be
improved without touching stored data. presentation.words is imported at call time: the warehouse does not
depend on the layer above it when it is imported.
"""

from __future__ import annotations

import re

# What a rejected value is replaced by when it cannot be kept (ingest.privacy writes them in SQL)
DIGITS_TOKEN, TEXT_TOKEN = "<digits, {n}>", "<text, {n} chars>"
_MASKED = re.compile(r"<(digits), (\d+)>|<(text), (\d+) chars>")


def is_masked(value) -> bool:
    return isinstance(value, str) and _MASKED.fullmatch(value) is not None


def masked_words(value: str, lang: str) -> str:
    """A masked value in the reader's language: `<dãy số, 10 chữ số>`, `<văn bản, 13 ký tự>`."""
    from presentation.words import t

    m = _MASKED.fullmatch(value)
    if m is None:
        return value
    if m.group(1):
        return t("masked.digits", lang, n=m.group(2))
    return t("masked.text", lang, n=m.group(4))


def title(code: str, lang: str = "vi") -> str:
    """A short name of the reason, for summaries."""
    from presentation.words import get

    return get(f"reason_title.{code}", lang, default=code)


def describe(code: str, column: str | None = None, value: str | None = None, lang: str = "vi") -> str:
    from presentation.words import get

    template = get(f"reason.{code}", lang, default=code)
    value = value if isinstance(value, str) else None  # SQL NULL read through pandas is NaN, not None
    column = column if isinstance(column, str) else None
    if not isinstance(value, str):  # None, or NaN from a pandas frame (SQL NULL in a text column)
        value = None
    if not isinstance(column, str):
        column = None
    if is_masked(value):  # stored as its shape only (ingest.privacy)
        value = masked_words(value, lang)
    shown = value if value is None or len(value) <= 80 else value[:77] + "..."
    return template.format(column=column or "", value="" if shown is None else shown)
