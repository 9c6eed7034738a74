"""Docs that stay true: the committed metric dictionary is what the registries generate, every KPI
is in it, and the README names every CLI command."""

from __future__ import annotations

from pathlib import Path

import app
from metrics import list_kpis
from metrics.doc import metric_dictionary

ROOT = Path(__file__).resolve().parent.parent


def test_committed_metric_dictionary_is_up_to_date():
    for lang, name in (("vi", "metrics.md"), ("en", "metrics.en.md")):
        committed = (ROOT / "docs" / name).read_text(encoding="utf-8")
        assert committed == metric_dictionary(lang), f"docs/{name} is stale: run `make docs`"


def test_every_kpi_is_in_the_dictionary():
    text = metric_dictionary("vi")
    missing = [k for k in list_kpis()["kpi"] if f"`{k}`" not in text]
    assert missing == []


def test_readme_names_every_cli_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = app.build_parser()._subparsers._group_actions[0].choices
    assert [c for c in commands if f"app.py {c}" not in readme] == []
