"""DuckDB limits per process (issue 13, item 5): every connection carries the configured memory_limit and
threads (R57_DUCKDB_MEMORY, R57_DUCKDB_THREADS), with defaults sized for N web workers + 1 writer on one host."""

from __future__ import annotations

import duckdb
import pytest

import config
from config import load_settings
from warehouse.db import Reader, connect, current_snapshot, open_writer, publish_snapshot


def limits(con) -> tuple[str, int]:
    mem, threads = con.execute("SELECT current_setting('memory_limit'), current_setting('threads')").fetchone()
    return mem, int(threads)


def test_defaults_share_60_percent_of_ram_between_the_workers_and_the_writer(monkeypatch):
    for name in ("R57_DUCKDB_MEMORY", "R57_DUCKDB_THREADS", "R57_WEB_WORKERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "ram_bytes", lambda: 10 * 2**30)  # 10 GiB
    monkeypatch.setattr(config.os, "cpu_count", lambda: 8)
    s = load_settings()
    assert s.web_workers == 4
    assert s.duckdb_memory == "1228MiB"  # 0.6 * 10240 MiB / (4 + 1) = 1228.8 MiB
    assert s.duckdb_threads == 4         # half of 8 cores
    monkeypatch.setenv("R57_WEB_WORKERS", "1")
    assert load_settings().duckdb_memory == "3072MiB"  # 0.6 * 10240 / 2
    monkeypatch.setattr(config.os, "cpu_count", lambda: 1)
    assert load_settings().duckdb_threads == 1  # never 0


@pytest.fixture()
def limited(tmp_path, monkeypatch):
    monkeypatch.setenv("R57_DUCKDB_MEMORY", "300MiB")
    monkeypatch.setenv("R57_DUCKDB_THREADS", "1")
    return load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")


def test_the_writer_and_a_reader_carry_the_configured_limits(limited):
    assert (limited.duckdb_memory, limited.duckdb_threads) == ("300MiB", 1)
    con = open_writer(limited)
    publish_snapshot(con, limited)
    reader = Reader(limited)
    try:
        assert limits(con) == ("300.0 MiB", 1)
        assert limits(reader.cursor()) == ("300.0 MiB", 1)
        assert limits(reader.read().cursor) == ("300.0 MiB", 1)
        # the limits are SET, not passed at connect: another connection of this process to the same snapshot
        # (a CLI command, a report job) still opens, and shares them
        other = duckdb.connect(str(current_snapshot(limited)), read_only=True)
        assert limits(other) == ("300.0 MiB", 1)
        other.close()
    finally:
        reader.close()
        con.close()


def test_other_connections_carry_them_too(limited):
    con = open_writer(limited)
    con.close()
    plain = duckdb.connect(str(limited.warehouse), read_only=True)  # what DuckDB gives without them
    assert limits(plain) != ("300.0 MiB", 1)
    plain.close()
    ro = connect(limited.warehouse, limited, read_only=True)
    assert limits(ro) == ("300.0 MiB", 1)
    assert ro.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "Asia/Ho_Chi_Minh"
    ro.close()


def test_a_bad_memory_size_says_which_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("R57_DUCKDB_MEMORY", "12 parsecs")
    s = load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb")
    with pytest.raises(ValueError, match="R57_DUCKDB_MEMORY '12 parsecs'"):
        connect(":memory:", s)
    monkeypatch.setenv("R57_DUCKDB_THREADS", "0")
    with pytest.raises(ValueError, match="R57_DUCKDB_THREADS"):
        load_settings()
