"""Personal data of real-looking exports (shifted columns, values typed into the wrong cells) reaches no
table, snapshot, archived file, log line, API answer or data-health page — through the inbox as the
scheduler runs it, and through push ingest (loaded at once, and queued by a read-only worker)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import datetime

import duckdb
from flask import Flask

import api
from config import load_settings
from dashboard.views import health as health_view
from service.jobs import run_inbox
from service.writer import Writer
from warehouse.db import Reader

from . import hostile

TOKEN = "pii-test-token"


def _app(settings, writer):
    app = Flask("r57-pii")
    api.register(app, settings, Reader(settings), writer=writer)
    return app.test_client()


def test_no_personal_data_anywhere(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    settings = replace(load_settings(data_dir=tmp_path / "data", warehouse=tmp_path / "data" / "wh.duckdb"),
                       api_token=TOKEN, publish_min_interval_s=0)
    inbox = settings.dossier_inbox
    inbox.mkdir(parents=True)
    hostile.shifted_opencps(inbox / "left.csv", -1)
    hostile.shifted_opencps(inbox / "right.csv", +1)
    hostile.typed_into_wrong_cells(inbox / "typed.csv")
    hostile.good_csv(inbox / "good.csv")
    # the same hostile exports as Parquet: read through a view, their bad rows' text mapped again from it
    for name in ("left", "typed"):
        src = tmp_path / f"{name}.csv"
        (hostile.shifted_opencps(src, -1) if name == "left" else hostile.typed_into_wrong_cells(src))
        duckdb.sql(f"COPY (SELECT * FROM read_csv('{src}', all_varchar = true)) TO '{inbox / (name + '.parquet')}' "
                   "(FORMAT parquet)")
        src.unlink()
    writer = Writer(settings)
    answers = []
    try:
        reports = run_inbox(writer, "dossiers")
        assert sorted((r.file, r.status) for r in reports) == [
            ("good.csv", "ok"), ("left.csv", "partial"), ("left.parquet", "partial"), ("right.csv", "partial"),
            ("typed.csv", "partial"), ("typed.parquet", "partial")]
        # push: loaded at once by the process that holds the writer ...
        client = _app(settings, writer)
        auth = {"Authorization": f"Bearer {TOKEN}"}
        shifted = hostile.shifted_opencps(tmp_path / "push.csv", -1, n=3).read_bytes()
        r = client.post("/api/v1/dossiers?lang=vi", data=shifted, headers=auth, content_type="text/csv")
        answers.append(r.get_data(as_text=True))
        assert r.status_code == 200, r.get_data(as_text=True)
        records = [hostile.opencps_row(90 + i, **{"Trạng thái": hostile.PERSON["Chủ hồ sơ"]}) for i in range(2)]
        r = client.post("/api/v1/dossiers", data=json.dumps(records, ensure_ascii=False), headers=auth,
                        content_type="application/json")
        answers.append(r.get_data(as_text=True))
        assert r.status_code == 200, r.get_data(as_text=True)
        # ... and queued by a read-only web worker for the ingest process
        queued = _app(settings, None)
        r = queued.post("/api/v1/dossiers", data=hostile.shifted_opencps(tmp_path / "q.csv", +1, n=4).read_bytes(),
                        headers=auth, content_type="text/csv")
        assert r.status_code == 202
        assert [x.status for x in run_inbox(writer, "dossiers")] == ["partial"]
        writer.flush()
        with writer.session() as con:
            texts = {"warehouse": hostile.table_text(con)}
            for lang in ("vi", "en"):  # the data-health page and its download, as the browser gets them
                rows = health_view.quarantine(con, lang)
                texts[f"health-{lang}"] = json.dumps(rows, ensure_ascii=False)
                texts[f"health-download-{lang}"] = json.dumps(
                    health_view.quarantine_table(lang, rows).rows, ensure_ascii=False, default=str)
            assert con.execute("SELECT count(*) FROM quarantine").fetchone()[0] > 10
        for answer in answers:
            texts[f"push {len(texts)}"] = answer
        status = _app(settings, None).get("/api/v1/status").get_data(as_text=True)
        texts["api status"] = status
    finally:
        writer.close()
    texts["log"] = caplog.text
    files = hostile.scan_data_dir(settings.data_dir)
    assert any(".snapshots" in k for k in files) and any("processed" in k for k in files)
    assert any(".lake" in k and k.endswith(".parquet") for k in files)  # the serving path's dossier and aggregate files
    texts.update(files)
    assert hostile.find_personal_data(texts) == []
    assert list(inbox.iterdir()) == [] and not any((settings.data_dir / "push").glob("*"))


def test_an_unreadable_file_is_kept_as_received_for_a_short_while_only(tmp_path):
    """A file that could not be read at all keeps its bytes in failed/ (the officer must see what is
    wrong); its reason and the run record hold no personal data."""
    settings = load_settings(data_dir=tmp_path / "data", warehouse=tmp_path / "data" / "wh.duckdb")
    settings.dossier_inbox.mkdir(parents=True)
    hostile.headerless_export(settings.dossier_inbox / "no_header.csv")
    writer = Writer(settings)
    try:
        (report,) = run_inbox(writer, "dossiers")
        with writer.session() as con:
            warehouse = hostile.table_text(con)
    finally:
        writer.close()
    assert report.status == "failed"
    kept = list((settings.data_dir / "failed").rglob("no_header.csv"))
    reason = list((settings.data_dir / "failed").rglob("no_header.csv.reason.txt"))
    assert len(kept) == 1 and len(reason) == 1
    assert hostile.find_personal_data({"reason": reason[0].read_text(), "warehouse": warehouse}) == []
    assert hostile.find_personal_data({"kept": kept[0].read_text()})  # the original, as received
    assert datetime.now().timestamp() - kept[0].stat().st_mtime < 60
