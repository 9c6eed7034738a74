"""Page parts kept per snapshot (dashboard/kept.py): the same request on the same snapshot, minute and rights
is answered with the same bytes, computed once; another viewer's scope, a new minute or a new snapshot is
computed again; an audited part, an error and an undeclared callback are never kept."""

from __future__ import annotations

from datetime import datetime
from itertools import count

import pytest

from config import load_settings
from dashboard import ids
from warehouse.db import open_writer, publish_snapshot

from .web_client import HOME, audit, post, seeded_world, signed_in, web_with_accounts

NOW = datetime(2026, 3, 16, 12, 0)
VI = {f"{ids.LANG}.data": "vi", f"{ids.VERSION}.data": "v1"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return seeded_world(tmp_path_factory.mktemp("kept-views"), NOW, per_day=120)


@pytest.fixture(scope="module")
def app(world):
    return web_with_accounts(world)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setenv("R57_NOW", NOW.isoformat())


@pytest.fixture
def counted(monkeypatch):
    """How many times the overview's cards and ranking were built."""
    from dashboard.views import overview as view

    calls = {"cards": 0, "ranking": 0}
    for name in calls:
        real = getattr(view, name)

        def wrapped(*a, _real=real, _name=name, **kw):
            calls[_name] += 1
            return _real(*a, **kw)

        monkeypatch.setattr(view, name, wrapped)
    return calls


def test_the_same_part_asked_again_is_the_same_bytes_computed_once(app, counted) -> None:
    app.server.r57_views.clear()
    leader = signed_in(app, "leader")
    first = post(leader, app, f"{ids.OV_CARDS}.children", VI)
    again = post(signed_in(app, "leader"), app, f"{ids.OV_CARDS}.children", VI)  # another session, same rights
    assert first.status_code == again.status_code == 200
    assert (first.headers["X-Cache"], again.headers["X-Cache"]) == ("MISS", "HIT")
    assert again.get_data() == first.get_data() and counted["cards"] == 1
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert "Set-Cookie" not in again.headers or "r57_session" not in again.headers["Set-Cookie"]
    # the page already shows it (its fingerprint in the request): a different request, answered by itself
    shown = first.get_json()["response"][ids.shown(ids.OV_CARDS)]["data"]
    same = post(leader, app, f"{ids.OV_CARDS}.children", {**VI, f"{ids.shown(ids.OV_CARDS)}.data": shown})
    # Dash 4 answers an all-no_update multi-output 200 with an empty response: nothing drawn, and that answer
    # belongs to this request alone (its body, with the fingerprint, is part of the key)
    assert same.status_code == 200 and same.get_json()["response"] == {}
    assert same.headers["X-Cache"] == "MISS" and counted["cards"] == 2


def test_a_scope_never_gets_another_scopes_part(app, counted) -> None:
    app.server.r57_views.clear()
    rank = f"{ids.OV_RANK}.children"
    values = {**VI, f"{ids.OV_RANK_KPI}.value": None, f"{ids.OV_RANK_VIEW}.value": "rank"}
    leader = post(signed_in(app, "leader"), app, rank, values)
    chair = post(signed_in(app, "chair"), app, rank, values)
    chair_again = post(signed_in(app, "chair"), app, rank, values)
    assert (leader.headers["X-Cache"], chair.headers["X-Cache"], chair_again.headers["X-Cache"]) == ("MISS", "MISS", "HIT")
    assert chair.get_data() != leader.get_data() and chair_again.get_data() == chair.get_data()
    assert counted["ranking"] == 2
    assert signed_in(app).post("/_dash-update-component", json={"output": rank}).status_code in (302, 401, 403)


def test_a_new_minute_is_computed_again(app, counted, monkeypatch) -> None:
    app.server.r57_views.clear()
    leader = signed_in(app, "leader")
    assert post(leader, app, f"{ids.OV_CARDS}.children", VI).headers["X-Cache"] == "MISS"
    monkeypatch.setenv("R57_NOW", NOW.replace(minute=1).isoformat())
    assert post(leader, app, f"{ids.OV_CARDS}.children", VI).headers["X-Cache"] == "MISS"
    assert counted["cards"] == 2


def test_an_audited_part_is_never_kept(app) -> None:
    chair = signed_in(app, "chair")
    values = {**VI, f"{ids.WU_UNIT}.value": HOME, f"{ids.WU_PROC_FILTER}.value": None}
    before = len(audit(app, "overdue_view", "chair"))
    for _ in range(2):
        r = post(chair, app, f"{ids.WU_DUE_GRID}.rowData", values)
        assert r.status_code == 200 and "X-Cache" not in r.headers
    assert len(audit(app, "overdue_view", "chair")) == before + 2  # each view of the lists is on record


def test_a_callback_naming_no_part_is_passed_on_unread(app, monkeypatch) -> None:
    """The wrapper looks for the declared parts' names in the body's bytes first: a callback of no declared
    part is neither parsed nor made to take the reader's lock (current())."""
    from dashboard.kept import names_any
    from warehouse.db import Reader

    asked = []
    real = Reader.current
    monkeypatch.setattr(Reader, "current", lambda self: asked.append(1) or real(self))
    chair = signed_in(app, "chair")
    values = {**VI, f"{ids.WU_UNIT}.value": HOME, f"{ids.WU_PROC_FILTER}.value": None}
    assert post(chair, app, f"{ids.WU_DUE_GRID}.rowData", values).status_code == 200
    assert asked == []
    assert post(chair, app, f"{ids.OV_CARDS}.children", VI).status_code == 200 and asked
    assert names_any(f'{{"output":"{ids.OV_CARDS}.children"}}'.encode())
    assert not names_any(f'{{"output":"{ids.WU_DUE_GRID}.rowData"}}'.encode())


def test_an_error_shown_in_place_is_not_kept(app, monkeypatch) -> None:
    from dashboard.views import overview as view

    app.server.r57_views.clear()
    tries = count(1)

    def broken(*a, **kw):
        next(tries)
        raise RuntimeError("the view failed")

    monkeypatch.setattr(view, "cards", broken)
    leader = signed_in(app, "leader")
    for _ in range(2):
        r = post(leader, app, f"{ids.OV_CARDS}.children", VI)
        assert r.status_code == 200 and r.headers["X-Cache"] == "MISS"
    assert next(tries) == 3 and len(app.server.r57_views) == 0


def test_a_new_snapshot_is_computed_again_and_off_means_off(tmp_path, monkeypatch) -> None:
    from demo.seed import seed_demo

    settings = load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb", auth="off")
    con = open_writer(settings)
    seed_demo(con, settings, days=10, per_day=60, now=NOW)
    first = publish_snapshot(con, settings)
    web = web_with_accounts(settings)
    c = web.server.test_client()
    a = post(c, web, f"{ids.OV_CARDS}.children", VI)
    assert a.headers["X-Cache"] == "MISS" and post(c, web, f"{ids.OV_CARDS}.children", VI).headers["X-Cache"] == "HIT"
    second = publish_snapshot(con, settings)
    con.close()
    assert second != first
    import time

    deadline = time.time() + 5
    while True:  # the reader switches to the new snapshot (it looks at CURRENT every 50 ms)
        b = post(c, web, f"{ids.OV_CARDS}.children", VI)
        if b.headers["X-Cache"] == "MISS" or time.time() > deadline:
            break
        time.sleep(0.1)
    assert b.headers["X-Cache"] == "MISS"

    import app as application

    off = application.build_web(load_settings(data_dir=tmp_path, warehouse=tmp_path / "wh.duckdb", auth="off",
                                              view_cache_mb=0))
    r = post(off.server.test_client(), off, f"{ids.OV_CARDS}.children", VI)
    assert r.status_code == 200 and "X-Cache" not in r.headers


def test_while_a_new_minute_is_computed_others_get_the_last_minutes_part(app, monkeypatch) -> None:
    """One request computes the new minute's part; meanwhile the same request from others is answered at once
    with the previous minute's (same snapshot), never with an older snapshot's nor a part older than STALE_S."""
    import threading

    from dashboard import kept
    from dashboard.views import overview as view

    app.server.r57_views.clear()
    leader = signed_in(app, "leader")
    old = post(leader, app, f"{ids.OV_CARDS}.children", VI)
    assert old.headers["X-Cache"] == "MISS"

    real, entered, release = view.cards, threading.Event(), threading.Event()

    def slow(*a, **kw):
        entered.set()
        release.wait(10)
        return real(*a, **kw)

    monkeypatch.setattr(view, "cards", slow)
    monkeypatch.setenv("R57_NOW", NOW.replace(minute=1).isoformat())
    got = {}
    computing = threading.Thread(target=lambda: got.setdefault("r", post(signed_in(app, "leader"), app,
                                                                         f"{ids.OV_CARDS}.children", VI)))
    computing.start()
    assert entered.wait(10)
    meanwhile = post(leader, app, f"{ids.OV_CARDS}.children", VI)
    assert meanwhile.headers["X-Cache"] == "STALE" and meanwhile.get_data() == old.get_data()
    release.set()
    computing.join(10)
    assert got["r"].headers["X-Cache"] == "MISS"
    assert post(leader, app, f"{ids.OV_CARDS}.children", VI).headers["X-Cache"] == "HIT"

    # a part older than STALE_S is never given: the request computes (it waits for nothing)
    monkeypatch.setattr(view, "cards", real)
    later = NOW.replace(minute=1 + kept.STALE_S // 60 + 1)
    monkeypatch.setenv("R57_NOW", later.isoformat())
    parts = app.server.r57_views
    key = next(iter(parts._lru))
    parts._refreshing[key] = threading.Event()  # as if someone were computing it (and never answering)
    try:
        assert parts.look(key, later.replace(second=0), wait_s=0.1)[0] == "MISS"
    finally:
        parts.done(key)


def test_when_nothing_is_kept_yet_one_computes_and_the_others_wait(app, counted) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from dashboard.views import overview as view

    app.server.r57_views.clear()
    real = view.cards

    def slow(*a, **kw):
        import time

        time.sleep(0.5)  # long enough for all eight to ask while it computes
        return real(*a, **kw)

    view_cards = view.cards
    try:
        view.cards = slow
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: post(signed_in(app, "leader"), app, f"{ids.OV_CARDS}.children", VI),
                                    range(8)))
    finally:
        view.cards = view_cards
    how = sorted(a.headers["X-Cache"] for a in answers)
    assert how.count("MISS") == 1 and how.count("WAIT") + how.count("HIT") == 7, how
    assert len({a.get_data() for a in answers}) == 1 and counted["cards"] == 1


def test_the_parts_store_is_bounded_by_bytes_and_off_keeps_nothing() -> None:
    """The same byte-bounded LRU as the API's answers (bytecache.ByteLRU): an eighth of the bound at most
    per part, least recently used out first; a bound of 0 keeps not even an empty answer."""
    from dashboard.kept import Parts

    minute = datetime(2026, 3, 16, 9, 30)
    off = Parts(0)
    off.put("k", minute, b"", {})
    assert len(off) == 0 and off.look("k", minute, wait_s=0) == ("MISS", None)
    small = Parts(8_000)
    small.put("big", minute, b"x" * 1_001, {})
    assert small.look("big", minute, wait_s=0) == ("MISS", None)  # over an eighth: computed each time
    small.done("big")
    for i in range(20):
        assert small.look(f"k{i}", minute, wait_s=0) == ("MISS", None)
        small.put(f"k{i}", minute, b"x" * 1_000, {"Content-Type": "application/json", "Set-Cookie": "s"})
    assert small.size <= 8_000 and len(small) == 8
    how, part = small.look("k19", minute, wait_s=0)
    assert how == "HIT" and part.body == b"x" * 1_000 and part.headers == (("Content-Type", "application/json"),)
    assert small.look("k0", minute, wait_s=0) == ("MISS", None)
