"""`ingest --json` says what publishing cost (issue 13, item 6): publish_seconds, and publish_bytes = the bytes
the publication wrote (today: the snapshot it copied); nothing published, nothing counted."""

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
    snapshot = current_snapshot(load_settings(data_dir=tmp_path / "data"))
    assert item["publish_bytes"] == snapshot.stat().st_size > 0  # one publication: this snapshot
    assert 0 < item["publish_seconds"] < 600
    # the same file again: a duplicate, nothing changed, nothing published
    [again] = _ingest(tmp_path, monkeypatch, capsys, good)
    assert again["status"] == "duplicate"
    assert (again["publish_bytes"], again["publish_seconds"]) == (0, 0)
