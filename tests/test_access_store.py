"""The application database and its stores (issue 10), on SQLite and on PostgreSQL.

PostgreSQL cases need R57_TEST_PG_URL (e.g. postgresql://r57:r57@127.0.0.1:5432/r57_test; .ci/run sets it);
each test runs in a fresh schema made and dropped by the fixture. Unset: skipped locally, failed in CI."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from access import audit, passwords, sessions, tokens, users
from access.db import AppDB, get_appdb, normalise_url, open_appdb
from access.demo import demo_accounts
from access.models import ApiToken, LoginSession, User


def _head_revision() -> str:
    """The newest migration's revision (0001 access, 0002 alerts, ...): what a migrated database must be at."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "access" / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()


HEAD_REVISION = _head_revision()

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-57"


@pytest.fixture
def db(db_url):
    d = open_appdb(db_url)
    yield d
    d.close()


def _dump(db: AppDB) -> str:
    """Every row of every table, as text (to prove what is not stored)."""
    out = []
    with db.session(readonly=True) as s:
        for table in ("users", "user_units", "login_sessions", "api_tokens", "api_token_units", "audit_events"):
            out.extend(repr(tuple(r)) for r in s.execute(text(f"SELECT * FROM {table}")))
    return "\n".join(out)


# --- the database ----------------------------------------------------------------------------------

def test_open_settings_and_dialect(db, db_url):
    assert db.dialect == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    assert db.revision() == HEAD_REVISION
    if db.dialect == "postgresql":
        assert db.url.startswith("postgresql+psycopg://")
    else:
        with db.session(readonly=True) as s:
            assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert s.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_normalise_url():
    assert normalise_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"
    with pytest.raises(ValueError):
        AppDB("mysql://u@h/db")


def test_default_url_beside_warehouse_and_cache(tmp_path, monkeypatch):
    from config import load_settings

    monkeypatch.delenv("R57_APP_DB", raising=False)
    settings = load_settings(data_dir=tmp_path, warehouse=tmp_path / "sub" / "wh.duckdb")
    db = open_appdb(settings=settings)
    try:
        assert (tmp_path / "sub" / "wh.app.sqlite3").exists()
        assert db.revision() == HEAD_REVISION
    finally:
        db.close()
    first = get_appdb(settings)
    try:
        assert get_appdb(settings) is first
    finally:
        first.close()
    assert get_appdb(settings) is not first
    get_appdb(settings).close()


def test_migrations_twice_are_a_no_op(db, db_url):
    users.add_user(db, "alice", "leader")
    db.upgrade()
    again = open_appdb(db_url)
    try:
        assert again.revision() == HEAD_REVISION
        with again.session(readonly=True) as s:
            assert s.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
        assert [a.username for a in users.list_users(again)] == ["alice"]
    finally:
        again.close()


def test_without_upgrade_nothing_is_created(db_url):
    bare = open_appdb(db_url, upgrade=False)
    try:
        assert bare.revision() is None
        with pytest.raises(DBAPIError):  # an unaudited action must not pass silently
            audit.record(bare, "login", actor="alice")
    finally:
        bare.close()


def test_concurrent_first_start(db_url):
    errors: list[BaseException] = []
    opened: list[AppDB] = []

    def start():
        try:
            opened.append(open_appdb(db_url))
        except BaseException as exc:  # pragma: no cover - the failure is the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors, errors
        assert all(d.revision() == HEAD_REVISION for d in opened)
    finally:
        for d in opened:
            d.close()


def test_times_are_utc_aware(db):
    acc = users.add_user(db, "alice", "leader")
    with db.session(readonly=True) as s:
        u = s.get(User, acc.id)
        assert u.created_at.tzinfo is not None and u.created_at.utcoffset() == timedelta(0)
        assert abs(datetime.now(UTC) - u.created_at) < timedelta(minutes=1)


# --- passwords -------------------------------------------------------------------------------------

def test_passwords():
    h = passwords.hash_password(PASSWORD)
    assert h.startswith("$argon2id$") and PASSWORD not in h
    assert passwords.verify_password(h, PASSWORD)
    assert not passwords.verify_password(h, PASSWORD + "x")
    assert not passwords.verify_password("not a hash", PASSWORD)
    assert not passwords.needs_rehash(h)
    assert passwords.needs_rehash(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD))
    assert passwords.check_password_policy("short") == "too_short"
    assert passwords.check_password_policy("1234567890123") == "all_digits"
    assert passwords.check_password_policy("") == "blank"
    assert passwords.check_password_policy(PASSWORD) is None


# --- users -----------------------------------------------------------------------------------------

def test_add_get_list_users(db):
    a = users.add_user(db, "Alice.B", "ward", ["00073"], password=PASSWORD, display_name="Alice", actor="cli:root")
    assert a == users.Account(a.id, "alice.b", "Alice", "ward", ("00073",), False, True, None)
    b = users.add_user(db, "bob", "department", ["00073", "00070", "00073"])
    assert b.units == ("00070", "00073") and not b.has_password
    assert users.get_user(db, "ALICE.B") == a
    assert users.get_user(db, "nobody") is None and users.get_user(db, "x") is None
    assert users.get_user_by_id(db, b.id) == b and users.get_user_by_id(db, 999) is None
    assert [u.username for u in users.list_users(db)] == ["alice.b", "bob"]
    ev = audit.events(db, action="user_add")
    assert [(e["actor"], e["target"]) for e in ev] == [("system", "bob"), ("cli:root", "alice.b")]


@pytest.mark.parametrize("kwargs, message", [
    ({"username": "ab"}, "3 to 64"),
    ({"username": "bad name"}, "3 to 64"),
    ({"username": "x" * 65}, "3 to 64"),
    ({"role": "boss"}, "unknown role"),
    ({"units": ["99999"]}, "unknown unit"),
    ({"password": "short"}, "at least 10"),
    ({"password": "12345678901"}, "digits"),
])
def test_add_user_refuses(db, kwargs, message):
    args = {"username": "carol", "role": "ward", "units": ["00073"]} | kwargs
    with pytest.raises(users.AccountError, match=message):
        users.add_user(db, **args)
    assert users.list_users(db) == []


def test_add_user_duplicate(db):
    users.add_user(db, "carol", "leader")
    with pytest.raises(users.AccountError, match="exists"):
        users.add_user(db, "Carol", "leader")


def test_only_argon2_hashes_are_stored(db):
    users.add_user(db, "alice", "leader", password=PASSWORD)
    users.set_password(db, "alice", "another-pass-57")
    with db.session(readonly=True) as s:
        stored = s.scalar(select(User.password_hash))
    assert stored.startswith("$argon2id$")
    dump = _dump(db)
    assert PASSWORD not in dump and "another-pass-57" not in dump


def test_authenticate(db):
    users.add_user(db, "alice", "leader", password=PASSWORD)
    users.add_user(db, "oidc.only", "leader")
    assert users.authenticate(db, "Alice", PASSWORD).username == "alice"
    assert users.authenticate(db, "alice", "wrong-password") is None
    assert users.authenticate(db, "nobody", PASSWORD) is None
    assert users.authenticate(db, "", PASSWORD) is None
    assert users.authenticate(db, "oidc.only", "") is None
    users.disable_user(db, "alice")
    assert users.authenticate(db, "alice", PASSWORD) is None
    users.enable_user(db, "alice")
    assert users.authenticate(db, "alice", PASSWORD) is not None


def test_authenticate_rehashes_old_parameters(db):
    acc = users.add_user(db, "alice", "leader", password=PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with db.session() as s:
        s.execute(update(User).where(User.id == acc.id).values(password_hash=weak))
    assert users.authenticate(db, "alice", PASSWORD) is not None
    with db.session(readonly=True) as s:
        new = s.scalar(select(User.password_hash).where(User.id == acc.id))
    assert new != weak and not passwords.needs_rehash(new) and passwords.verify_password(new, PASSWORD)


def test_set_password_and_role_units(db):
    users.add_user(db, "alice", "ward", ["00073"], password=PASSWORD)
    with pytest.raises(users.AccountError):
        users.set_password(db, "alice", "short")
    with pytest.raises(users.AccountError, match="no user"):
        users.set_password(db, "nobody", "another-pass-57")
    users.set_password(db, "alice", "another-pass-57", actor="quantri")
    assert users.authenticate(db, "alice", PASSWORD) is None
    assert users.authenticate(db, "alice", "another-pass-57") is not None
    acc = users.set_role_units(db, "alice", "department", ["00070", "00073"], actor="quantri")
    assert (acc.role, acc.units) == ("department", ("00070", "00073"))
    with pytest.raises(users.AccountError):
        users.set_role_units(db, "alice", "boss", [])
    (change,) = audit.events(db, action="user_role_change")
    assert change["actor"] == "quantri" and change["target"] == "alice"
    assert change["detail"]["role"] == "department" and change["detail"]["was_units"] == ["00073"]
    (pw,) = audit.events(db, action="password_change")
    assert pw["detail"] == {} and pw["actor"] == "quantri"


def test_disabled_user_sessions_stop_resolving(db):
    acc = users.add_user(db, "alice", "leader", password=PASSWORD)
    raw1 = sessions.start_session(db, acc.id, client="10.0.0.1")
    raw2 = sessions.start_session(db, acc.id)
    assert sessions.resolve_session(db, raw1) == acc
    disabled = users.disable_user(db, "alice", actor="quantri")
    assert disabled.disabled
    assert sessions.resolve_session(db, raw1) is None and sessions.resolve_session(db, raw2) is None
    (ev,) = audit.events(db, action="user_disable")
    assert ev["detail"] == {"sessions_ended": 2} and ev["actor"] == "quantri"
    users.enable_user(db, "alice")
    assert sessions.resolve_session(db, raw1) is None  # ended, not paused
    assert [e["action"] for e in audit.events(db, user="alice")] == ["user_enable", "user_disable", "user_add"]


def test_upsert_oidc_user(db):
    a = users.upsert_oidc_user(db, "sub-1", "Lan.Nguyen", "ward", ["00073"], display_name="Lan")
    assert (a.username, a.oidc_subject, a.has_password, a.units) == ("lan.nguyen", "sub-1", False, ("00073",))
    b = users.upsert_oidc_user(db, "sub-1", "lan.nguyen", "department", ["00070"])
    assert b.id == a.id and (b.role, b.units) == ("department", ("00070",))
    c = users.upsert_oidc_user(db, "sub-1", "lan.nguyen", "department", ["00070"])
    assert c == b
    assert [e["action"] for e in audit.events(db)] == ["user_role_change", "user_add"]
    users.add_user(db, "local", "leader", password=PASSWORD)
    with pytest.raises(users.AccountError, match="another account"):
        users.upsert_oidc_user(db, "sub-2", "local", "leader", [])
    with pytest.raises(users.AccountError):
        users.upsert_oidc_user(db, "sub-3", "x.y", "boss", [])
    assert users.get_user(db, "local").oidc_subject is None


# --- sessions --------------------------------------------------------------------------------------

def test_sessions(db):
    acc = users.add_user(db, "alice", "leader")
    raw = sessions.start_session(db, acc.id, client="10.0.0.1", hours=1)
    assert len(raw) >= 40
    with db.session(readonly=True) as s:
        row = s.scalar(select(LoginSession))
    assert row.token_hash == hashlib.sha256(raw.encode()).hexdigest() and raw not in _dump(db)
    assert row.client == "10.0.0.1" and timedelta(minutes=59) < row.expires_at - row.created_at <= timedelta(hours=1)
    assert sessions.resolve_session(db, raw) == acc
    assert sessions.resolve_session(db, "nope") is None and sessions.resolve_session(db, None) is None
    assert sessions.resolve_session(db, "") is None
    assert sessions.end_session(db, raw) is True
    assert sessions.end_session(db, raw) is False
    assert sessions.resolve_session(db, raw) is None


def test_session_expiry_and_touch(db):
    acc = users.add_user(db, "alice", "leader")
    expired = sessions.start_session(db, acc.id, hours=-0.01)
    assert sessions.resolve_session(db, expired) is None
    raw = sessions.start_session(db, acc.id)
    h = hashlib.sha256(raw.encode()).hexdigest()
    old = datetime.now(UTC) - timedelta(minutes=5)
    with db.session() as s:
        s.execute(update(LoginSession).where(LoginSession.token_hash == h).values(last_seen_at=old))

    def seen():
        with db.session(readonly=True) as s:
            return s.scalar(select(LoginSession.last_seen_at).where(LoginSession.token_hash == h))

    assert sessions.resolve_session(db, raw) is not None
    first = seen()
    assert first > old + timedelta(minutes=4)
    assert sessions.resolve_session(db, raw) is not None
    assert seen() == first  # not rewritten within the minute


def test_end_user_sessions(db):
    a = users.add_user(db, "alice", "leader")
    b = users.add_user(db, "bob", "leader")
    ra = [sessions.start_session(db, a.id) for _ in range(3)]
    rb = sessions.start_session(db, b.id)
    assert sessions.end_user_sessions(db, a.id) == 3
    assert sessions.end_user_sessions(db, a.id) == 0
    assert all(sessions.resolve_session(db, r) is None for r in ra)
    assert sessions.resolve_session(db, rb) == b


# --- tokens ----------------------------------------------------------------------------------------

def test_tokens(db):
    info, raw = tokens.add_token(db, "Feed.Ward", ["00073"], push=True, created_by="cli:root")
    assert raw.startswith("r57_") and len(raw) > 40
    assert (info.name, info.units, info.push, info.revoked, info.last_used_at) == ("feed.ward", ("00073",), True,
                                                                                    False, None)
    with db.session(readonly=True) as s:
        stored = s.scalar(select(ApiToken.token_hash))
    assert stored == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in _dump(db) and raw[4:] not in _dump(db)
    got = tokens.resolve_token(db, raw)
    assert got is not None and got.id == info.id
    with db.session(readonly=True) as s:
        used = s.scalar(select(ApiToken.last_used_at))
    assert used is not None
    tokens.resolve_token(db, raw)
    with db.session(readonly=True) as s:
        assert s.scalar(select(ApiToken.last_used_at)) == used  # at most once a minute
    assert tokens.resolve_token(db, "r57_wrong") is None
    assert tokens.resolve_token(db, raw[4:]) is None and tokens.resolve_token(db, None) is None
    reader, raw2 = tokens.add_token(db, "reader")
    assert reader.units == () and not reader.push
    assert [t.name for t in tokens.list_tokens(db)] == ["feed.ward", "reader"]
    assert tokens.revoke_token(db, "feed.ward", actor="quantri").revoked
    assert tokens.resolve_token(db, raw) is None and tokens.resolve_token(db, raw2) is not None
    tokens.revoke_token(db, "feed.ward")  # again: nothing more to audit
    assert [(e["action"], e["target"]) for e in audit.events(db)] == [
        ("token_revoke", "feed.ward"), ("token_add", "reader"), ("token_add", "feed.ward")]


def test_tokens_refuse(db):
    tokens.add_token(db, "feed")
    with pytest.raises(tokens.TokenError, match="exists"):
        tokens.add_token(db, "feed")
    with pytest.raises(tokens.TokenError, match="unknown unit"):
        tokens.add_token(db, "other", ["99999"])
    with pytest.raises(tokens.TokenError):
        tokens.add_token(db, "a b")
    with pytest.raises(tokens.TokenError, match="no token"):
        tokens.revoke_token(db, "nope")


# --- audit -----------------------------------------------------------------------------------------

def test_audit_record_and_events(db):
    audit.record(db, "login", actor="alice", outcome="failed", client="10.0.0.1")
    audit.record(db, "login", actor="alice", outcome="ok", client="10.0.0.1", scope="00073")
    audit.record(db, "download", actor="bob", target="kpis.csv", scope="*", detail={"rows": 12, "đơn vị": "Cửa Nam"})
    ev = audit.events(db)
    assert [e["action"] for e in ev] == ["download", "login", "login"]
    assert ev[0]["detail"] == {"rows": 12, "đơn vị": "Cửa Nam"} and ev[0]["target"] == "kpis.csv"
    assert ev[0]["at"].endswith("+07:00")
    assert set(ev[0]) >= {"at", "actor", "action", "outcome", "target", "scope", "detail", "client"}
    assert [e["outcome"] for e in audit.events(db, user="alice")] == ["ok", "failed"]
    assert len(audit.events(db, action="login", limit=1)) == 1
    assert audit.events(db, since=date.today() + timedelta(days=2)) == []
    assert len(audit.events(db, since=date.today() - timedelta(days=1))) == 3
    assert len(audit.events(db, since=datetime.now(UTC) - timedelta(minutes=5), limit=None)) == 3
    since = datetime.now(UTC) - timedelta(minutes=15)
    assert audit.count_recent(db, "login", since=since) == 2
    assert audit.count_recent(db, "login", since=since, actor="alice", outcome="failed") == 1
    assert audit.count_recent(db, "login", since=since, client="10.0.0.1") == 2
    assert audit.count_recent(db, "login", since=since, client="10.0.0.2") == 0
    assert audit.count_recent(db, "login", since=datetime.now(UTC) + timedelta(minutes=1)) == 0


def test_audit_refuses_bad_events(db):
    with pytest.raises(ValueError):
        audit.record(db, "login", actor="alice", outcome="maybe")
    with pytest.raises(ValueError):
        audit.record(db, "password_change", actor="alice", detail={"password": "x"})
    with pytest.raises(ValueError):
        audit.record(db, "login", actor="")
    assert audit.events(db) == []


def test_audit_is_append_only(db):
    audit.record(db, "login", actor="alice")
    for sql in ("UPDATE audit_events SET actor = 'mallory'", "DELETE FROM audit_events"):
        with pytest.raises(Exception, match="append-only"):
            with db.session() as s:
                s.execute(text(sql))
    if db.dialect == "postgresql":
        with pytest.raises(Exception, match="append-only"):
            with db.session() as s:
                s.execute(text("TRUNCATE audit_events"))
    (ev,) = audit.events(db)
    assert ev["actor"] == "alice"
    assert not hasattr(audit, "delete") and not hasattr(audit, "update")


# --- concurrency -----------------------------------------------------------------------------------

def test_concurrent_writes_from_8_threads(db):
    base = users.add_user(db, "base", "leader")
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        try:
            barrier.wait()
            acc = users.add_user(db, f"user{i}", "ward", ["00073"], actor=f"t{i}")
            for j in range(10):
                audit.record(db, "view", actor=f"user{i}", target=f"page{j}", client=f"10.0.0.{i}")
            raw = sessions.start_session(db, acc.id)
            assert sessions.resolve_session(db, raw) == acc
            sessions.start_session(db, base.id)
            tokens.add_token(db, f"tok{i}", ["00073"])
            users.set_role_units(db, f"user{i}", "department", ["00070"], actor=f"t{i}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(users.list_users(db)) == 9 and len(tokens.list_tokens(db)) == 8
    assert len(audit.events(db, action="view", limit=None)) == 80
    assert sessions.end_user_sessions(db, base.id) == 8


# --- demo accounts ---------------------------------------------------------------------------------

def test_demo_accounts(db):
    first = demo_accounts(db)
    assert [(u, r, units) for u, r, units, _ in first] == [
        ("lanhdao", "leader", ()), ("cuanam", "ward", ("00073",)), ("sokhcn", "department", ("00070", "00073")),
        ("phantich", "analyst", ()), ("quantri", "admin", ())]
    assert all(p.startswith("demo-") for *_, p in first)
    assert demo_accounts(db) == first
    assert len(users.list_users(db)) == 5 and len(audit.events(db, action="user_add")) == 5
    assert users.authenticate(db, "cuanam", "demo-cuanam-57").units == ("00073",)


# --- the command line ------------------------------------------------------------------------------

def _cli(tmp_path, url, *args, stdin=None):
    env = {k: v for k, v in os.environ.items() if k != "R57_APP_DB"}
    return subprocess.run([sys.executable, "app.py", *args, "--warehouse", str(tmp_path / "wh.duckdb"),
                           "--app-db", url], cwd=ROOT, input=stdin, capture_output=True, text=True, env=env,
                          timeout=120)


def test_cli_end_to_end(tmp_path, db_url):
    r = _cli(tmp_path, db_url, "users", "add", "Cuanam2", "--role", "ward", "--unit", "00073",
             "--display-name", "Phường Cửa Nam", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout
    r = _cli(tmp_path, db_url, "users", "add", "lead", "--role", "leader")
    assert r.returncode == 0, r.stderr
    generated = r.stdout.split("Password: ")[1].split()[0]
    assert len(generated) >= 16 and "will not be shown again" in r.stdout
    r = _cli(tmp_path, db_url, "users", "add", "bad", "--role", "boss")
    assert r.returncode == 2 and "unknown role" in r.stderr
    r = _cli(tmp_path, db_url, "users", "list", "--json")
    assert r.returncode == 0, r.stderr
    listed = json.loads(r.stdout)
    assert [(u["username"], u["role"], u["units"], u["display_name"]) for u in listed] == [
        ("cuanam2", "ward", ["00073"], "Phường Cửa Nam"), ("lead", "leader", [], None)]
    r = _cli(tmp_path, db_url, "tokens", "add", "feed", "--unit", "00073", "--push")
    assert r.returncode == 0, r.stderr
    raw = [w for w in r.stdout.split() if w.startswith("r57_")]
    assert len(raw) == 1 and "will not be shown again" in r.stdout
    r = _cli(tmp_path, db_url, "tokens", "list", "--json")
    assert json.loads(r.stdout)[0]["name"] == "feed" and raw[0] not in r.stdout
    r = _cli(tmp_path, db_url, "users", "disable", "lead")
    assert r.returncode == 0, r.stderr
    r = _cli(tmp_path, db_url, "audit", "--json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    # each new account gets its role's default alert rules (issue 11), each audited
    assert [e["action"] for e in ev if e["action"] != "alert_rule_add"] == ["user_disable", "token_add", "user_add",
                                                                             "user_add"]
    assert sum(e["action"] == "alert_rule_add" for e in ev) >= 2
    assert all(e["actor"].startswith("cli:") for e in ev)
    assert PASSWORD not in r.stdout and generated not in r.stdout and raw[0] not in r.stdout
    r = _cli(tmp_path, db_url, "audit", "--since", "31/02/2026")
    assert r.returncode == 2 and "dd/mm/yyyy" in r.stderr
    r = _cli(tmp_path, db_url, "audit", "--since", date.today().strftime("%d/%m/%Y"), "--user", "lead")
    assert r.returncode == 0 and "user_disable" in r.stdout and "token_add" not in r.stdout
    db = open_appdb(db_url)
    try:
        assert users.authenticate(db, "cuanam2", PASSWORD) is not None
        assert tokens.resolve_token(db, raw[0]).push
    finally:
        db.close()
