"""Dash Pages: one module per page (register_page, layout, thin callbacks)."""

from __future__ import annotations

from ..i18n import request_lang, t


def title_text(key: str, lang: str) -> str:
    """A page's browser title in the language: 'R57 · Chỉ tiêu' / 'R57 · KPI'."""
    return f"R57 · {t(key, lang)}"


def title(key: str):
    """register_page's title: a function, so the title follows the request's language (its cookie)."""
    return lambda **_: title_text(key, request_lang())
