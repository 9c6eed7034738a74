"""`ingest --json` says what publishing cost (issue 13, item 6): publish_seconds, and publish_bytes = the bytes
the publication wrote (the serving snapshot, plus the lake files and manifest; in copy mode the copy);
nothing published, nothing counted."""

from __future__ import annotations

import json

import app
from config import load_settings
from warehouse.db import current_snapshot

from . import hostile


def _ingest(tmp_path, monkeypatch, capsys, *paths) -> list[dict]:
    monkeypatch.setenv("R57_DATA_DIR", str(tmp_path / "data"))
    capsys.readouterr()
    app.main(["ingest", *map(str, paths), "--json"])
    return json.loads(capsys.readouterr().out)


def test_ingest_json_reports_the_publication(tmp_path, monkeypatch, capsys):
    good = hostile.good_csv(tmp_path / "good.csv", n=3)
    [item] = _ingest(tmp_path, monkeypatch, capsys, good)
    assert (item["status"], item["inserted"]) == ("ok", 3)
    settings = load_settings(data_dir=tmp_path / "data")
    snapshot = current_snapshot(settings)
    lake = sum(p.stat().st_size for p in settings.lake_dir.rglob("*") if p.is_file() and p.name != ".lock")
    assert lake > 0
    assert item["publish_bytes"] == snapshot.stat().st_size + lake  # one publication: this snapshot, the lake
    assert 0 < item["publish_seconds"] < 600
    # the same file again: a duplicate, nothing changed, nothing published
    [again] = _ingest(tmp_path, monkeypatch, capsys, good)
    assert again["status"] == "duplicate"
    assert (again["publish_bytes"], again["publish_seconds"]) == (0, 0)


def test_copy_mode_counts_the_copy(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("R57_PUBLISH", "copy")
    [item] = _ingest(tmp_path, monkeypatch, capsys, hostile.good_csv(tmp_path / "good.csv", n=3))
    settings = load_settings(data_dir=tmp_path / "data")
    assert item["publish_bytes"] == current_snapshot(settings).stat().st_size == settings.warehouse.stat().st_size
    assert not settings.lake_dir.exists()
