"""Snapshots under load: a hard cap on copies, readers that survive pruning, coalesced publication,
clean-up of copies a killed writer left half-written."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

import warehouse.db as db
from service.jobs import run_inbox
from service.writer import Writer
from warehouse.db import Reader, current_snapshot, get_meta, open_writer, publish_snapshot, set_meta

from .conftest import dossier, wait_for, write_csv


def snapshots(s) -> list:
    return sorted(s.snapshot_dir.glob("wh-*.duckdb"))


def probe(reader: Reader) -> str | None:
    read = reader.read()
    assert read is not None
    return get_meta(read.cursor, "probe")


# --- hard cap ----------------------------------------------------------------------------------

@pytest.mark.parametrize("cap", [3, 2])
def test_twenty_rapid_publishes_never_leave_more_than_the_cap(settings, cap):
    s = replace(settings, keep_snapshots=cap)
    con = open_writer(s)
    set_meta(con, "probe", "0")
    publish_snapshot(con, s)
    following = Reader(s)
    following.CHECK_EVERY_S = 0.0     # switches to every new snapshot
    pinned = Reader(s)
    pinned.CHECK_EVERY_S = 1e9        # keeps the first snapshot for the whole test
    assert probe(following) == probe(pinned) == "0"
    first = pinned.snapshot_path
    try:
        for i in range(1, 21):
            set_meta(con, "probe", str(i))
            publish_snapshot(con, s)
            assert len(snapshots(s)) <= cap, [p.name for p in snapshots(s)]
            assert probe(following) == str(i)
            assert probe(pinned) == "0"   # its file is long unlinked; the open inode still answers
        assert not first.exists()
        assert current_snapshot(s) == snapshots(s)[-1]
        assert len(snapshots(s)) == cap
    finally:
        following.close()
        pinned.close()
        con.close()


def test_reader_rereads_current_when_the_named_snapshot_was_pruned(settings, monkeypatch):
    """The race itself: the reader has read CURRENT, and before it opens that file the writer
    publishes a newer snapshot and prunes the one the reader was about to open."""
    import duckdb

    con = open_writer(settings)
    publish_snapshot(con, settings)
    opened = []

    class RacingDuckDB:
        IOException = duckdb.IOException

        @staticmethod
        def connect(path, read_only=False):
            opened.append(Path(path).name)
            if len(opened) == 1:
                newer = publish_snapshot(con, settings)
                Path(path).unlink()
                opened.append(f"published {newer.name}")
                return duckdb.connect(path, read_only=read_only)   # the file is gone: IOException
            return duckdb.connect(path, read_only=read_only)

    monkeypatch.setattr(db, "duckdb", RacingDuckDB)
    reader = Reader(settings)
    read = reader.read()
    assert read is not None, "the reader gave up instead of looking at CURRENT again"
    assert read.snapshot == current_snapshot(settings).name == opened[-1]
    assert read.cursor.execute("SELECT count(*) FROM units").fetchall()[0][0] > 0
    reader.close()
    con.close()


def test_readers_never_fail_while_the_writer_publishes_flat_out_at_the_smallest_cap(settings):
    s = replace(settings, keep_snapshots=1)   # raised to 2: with 1, readers lose the open race too often
    con = open_writer(s)
    publish_snapshot(con, s)
    stop = threading.Event()
    problems, reads = [], []

    def read_loop() -> None:
        reader = Reader(s)
        reader.CHECK_EVERY_S = 0.0
        while not stop.is_set():
            try:
                read = reader.read()
                if read is None:
                    problems.append("no snapshot")
                else:
                    assert read.cursor.execute("SELECT count(*) FROM units").fetchall()[0][0] > 0
                    reads.append(read.snapshot)
            except Exception as exc:  # collected, asserted below
                problems.append(repr(exc))
        reader.close()

    readers = [threading.Thread(target=read_loop) for _ in range(2)]
    for r in readers:
        r.start()
    for _ in range(40):
        before = len(reads) + len(problems)
        publish_snapshot(con, s)
        assert len(snapshots(s)) == 2
        # let the readers in between publications: until one of them has read (or failed) again
        assert wait_for(lambda n=before: len(reads) + len(problems) > n, timeout=10, step=0.001)
    stop.set()
    for r in readers:
        r.join()
    con.close()
    assert problems == []
    assert len(set(reads)) >= 3   # the readers kept switching while old copies were deleted


def test_reader_keeps_its_connection_when_every_retry_loses_the_race(settings, monkeypatch):
    con = open_writer(settings)
    held = publish_snapshot(con, settings)
    gone = publish_snapshot(con, settings)
    gone.unlink()
    con.close()
    monkeypatch.setattr(db, "named_snapshot", lambda s: held)
    reader = Reader(settings)
    assert reader.read().snapshot == held.name
    monkeypatch.setattr(db, "named_snapshot", lambda s: gone)   # always names a pruned file
    reader.CHECK_EVERY_S = 0.0
    read = reader.read()
    assert read is not None and read.snapshot == held.name
    assert read.cursor.execute("SELECT 42").fetchall() == [(42,)]
    reader.close()


def test_a_dangling_current_is_not_retried_forever_and_warned_once(settings, caplog):
    import logging

    settings.snapshot_dir.mkdir(parents=True)
    (settings.snapshot_dir / "CURRENT").write_text("wh-1.duckdb")   # names a file that is not there
    reader = Reader(settings)
    with caplog.at_level(logging.WARNING, logger="warehouse.db"):
        assert reader.read() is None and reader.read() is None
    assert len([r for r in caplog.records if "cannot open snapshot wh-1.duckdb" in r.getMessage()]) == 1
    reader.close()


# --- coalesced publication ---------------------------------------------------------------------

@pytest.fixture
def counted(monkeypatch):
    """Wrap the copy the Writer makes: count copies and the most that ever ran at once."""
    import service.writer as writer_module

    stats = {"copies": 0, "active": 0, "max_active": 0, "last_end": 0.0}
    lock = threading.Lock()
    real = writer_module.publish

    def wrapped(con, s):
        with lock:
            stats["active"] += 1
            stats["max_active"] = max(stats["max_active"], stats["active"])
        try:
            time.sleep(0.02)  # widen the window in which two copies could overlap
            return real(con, s)
        finally:
            with lock:
                stats["active"] -= 1
                stats["copies"] += 1
                stats["last_end"] = time.monotonic()

    monkeypatch.setattr(writer_module, "publish", wrapped)
    return stats


def test_twenty_publish_requests_within_a_second_make_at_most_three_copies(settings, counted):
    s = replace(settings, publish_min_interval_s=1.0)
    writer = Writer(s)
    reader = Reader(s)
    reader.CHECK_EVERY_S = 0.0
    counter = {"n": 0}
    counter_lock = threading.Lock()

    def requests(k: int) -> None:
        for _ in range(k):
            with writer.session() as con:
                with counter_lock:
                    counter["n"] += 1
                    set_meta(con, "probe", str(counter["n"]))
            writer.publish()
            time.sleep(0.04)

    threads = [threading.Thread(target=requests, args=(5,)) for _ in range(4)]  # 20 requests
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last_request = time.monotonic()
    # the bound holds however slow the machine is: one copy per interval the requests spanned, plus the last
    allowed = 2 + math.ceil((last_request - started) / s.publish_min_interval_s)
    assert wait_for(lambda: probe(reader) == "20", timeout=5), probe(reader)
    assert counted["last_end"] - last_request <= s.publish_min_interval_s + 1.0
    time.sleep(s.publish_min_interval_s + 0.3)   # nothing else is pending
    assert 2 <= counted["copies"] <= min(allowed, 20), (counted, allowed)
    assert counted["max_active"] == 1
    assert writer.publications == counted["copies"]
    writer.close()
    reader.close()


def test_a_deferred_publish_happens_with_no_further_activity(settings, counted):
    s = replace(settings, publish_min_interval_s=0.5)
    writer = Writer(s)
    reader = Reader(s)
    reader.CHECK_EVERY_S = 0.0
    assert writer.publish() is True          # the first one is immediate
    with writer.session() as con:
        set_meta(con, "probe", "late")
        assert writer.publish() is False     # inside a session (re-entrant lock), deferred
    asked = time.monotonic()
    assert probe(reader) is None
    assert wait_for(lambda: probe(reader) == "late", timeout=3)
    assert time.monotonic() - asked < s.publish_min_interval_s + 1.5  # the interval, plus a loaded machine's delay
    assert counted["copies"] == 2
    writer.close()
    reader.close()


def test_a_failed_deferred_publish_is_retried_on_its_own(settings, monkeypatch, caplog):
    import service.writer as writer_module

    s = replace(settings, publish_min_interval_s=0.2)
    writer = Writer(s)
    writer.publish()
    real, calls = writer_module.publish, []

    def flaky(con, st):
        calls.append(1)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return real(con, st)

    monkeypatch.setattr(writer_module, "publish", flaky)
    with writer.session() as con:
        set_meta(con, "probe", "after-retry")
    assert writer.publish() is False
    reader = Reader(s)
    reader.CHECK_EVERY_S = 0.0
    assert wait_for(lambda: probe(reader) == "after-retry", timeout=5)
    assert len(calls) == 2
    assert any("deferred snapshot publication failed" in r.getMessage() for r in caplog.records)
    writer.close()
    reader.close()


def test_publish_from_inside_a_session_does_not_deadlock(settings):
    writer = Writer(settings)
    done = threading.Event()

    def nested() -> None:
        with writer.session():
            writer.publish()
        done.set()

    t = threading.Thread(target=nested, daemon=True)
    t.start()
    assert done.wait(10), "publish() inside session() deadlocked"
    assert current_snapshot(settings) is not None
    writer.close()


def test_close_publishes_what_is_pending(settings, counted):
    s = replace(settings, publish_min_interval_s=60)
    writer = Writer(s)
    writer.publish()
    with writer.session() as con:
        set_meta(con, "probe", "at-close")
    assert writer.publish() is False
    writer.close()
    reader = Reader(s)
    assert probe(reader) == "at-close"
    assert counted["copies"] == 2
    reader.close()


def test_inbox_ticks_in_quick_succession_coalesce_but_publish_everything(settings, counted):
    # a long interval, so the test does not depend on how fast a tick ingests
    s = replace(settings, publish_min_interval_s=60)
    writer = Writer(s)
    s.dossier_inbox.mkdir(parents=True, exist_ok=True)
    for i in range(3):
        write_csv(s.dossier_inbox / f"t{i}.csv", [dossier(dossier_id=f"T{i}")])
        assert run_inbox(writer, "dossiers")[0].inserted == 1
    assert counted["copies"] == 1            # the later two ticks only marked a publish pending
    writer.flush()
    assert counted["copies"] == 2
    reader = Reader(s)
    assert reader.cursor().execute("SELECT count(*) FROM dossiers").fetchall() == [(3,)]
    writer.close()
    assert counted["copies"] == 2            # nothing was pending any more
    reader.close()


# --- orphans -----------------------------------------------------------------------------------

def test_writer_start_removes_copies_a_killed_publication_left(settings):
    con = open_writer(settings)
    good = publish_snapshot(con, settings)
    con.close()
    orphans = [settings.snapshot_dir / ".wh-1700000000000000000.duckdb.tmp", settings.snapshot_dir / ".CURRENT.tmp"]
    for p in orphans:
        p.write_bytes(b"half a copy")
    reader = Reader(settings)
    assert reader.read().snapshot == good.name
    assert all(p.exists() for p in orphans), "a reader must never delete them"
    reader.close()
    writer = Writer(settings)
    with writer.session():
        pass
    assert not any(p.exists() for p in orphans)
    assert good.exists() and current_snapshot(settings) == good
    writer.close()


def test_a_reader_serves_a_new_snapshot_within_its_check_and_reads_current_only_when_it_changed(settings, monkeypatch):
    """Issue 15: no 1 s wait between a publication and the readers; a look at an unchanged CURRENT is a stat()."""
    con = open_writer(settings)
    set_meta(con, "probe", "0")
    publish_snapshot(con, settings)
    reader = Reader(settings)
    assert reader.CHECK_EVERY_S <= 0.05
    try:
        assert probe(reader) == "0"
        reads = []
        real = db.named_snapshot
        monkeypatch.setattr(db, "named_snapshot", lambda s: reads.append(1) or real(s))
        for _ in range(5):  # CURRENT unchanged: looks, never reads it
            time.sleep(reader.CHECK_EVERY_S * 1.2)
            assert probe(reader) == "0"
        assert reads == []
        set_meta(con, "probe", "1")
        publish_snapshot(con, settings)
        published, by_writer = time.monotonic(), len(reads)  # the writer looks at CURRENT too (pruning)
        wait_for(lambda: probe(reader) == "1", timeout=2)
        assert time.monotonic() - published < 0.5 and len(reads) - by_writer == 1
    finally:
        reader.close()
        con.close()
