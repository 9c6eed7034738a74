"""A live drip of dossiers into the inbox, for the demo: new receipts plus updates to open dossiers.

Each `drop_batch` call writes one canonical CSV: `n` dossiers received just before `now`, and updates
that move some earlier open dossiers on (processing, completed, returned...) with a later
`updated_at`, reusing their dossier_id. Which dossiers are open is kept in a small JSON state file
beside the inbox (`.<inbox name>.live.json`), so the warehouse is never read. `remember_open` seeds
that state with the open dossiers of a generated history, so the live feed also clears its backlog.

Files are written under a dot-name and renamed into place, so an ingest never sees half a file.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from demo.catalog import world
from demo.generator import (
    DAY,
    DOSSIER_COLUMNS,
    N_UNIFORM,
    SEQ_LIMIT,
    _frame,
    _simulate,
    _weight_norm,
    day_weights,
)
from demo.workdays import WorkCalendar, ordinal

OPEN = ("received", "processing", "supplement_requested")
STATE_LIMIT = 5000  # open dossiers remembered; the overdue ones are kept first
_EPOCH = datetime(1970, 1, 1)


def state_path(inbox: Path) -> Path:
    """The live state file: beside the inbox, hidden, so ingest never picks it up."""
    inbox = Path(inbox)
    return inbox.parent / f".{inbox.name}.live.json"


def _load(inbox: Path) -> dict:
    path = state_path(inbox)
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"last_now": None, "seq": {}, "open": []}


def _save(inbox: Path, state: dict) -> None:
    path = state_path(inbox)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _records(frame: pd.DataFrame) -> list[dict]:
    """Canonical rows as JSON-friendly dicts (timestamps as ISO strings, missing as None)."""
    out = frame[DOSSIER_COLUMNS].astype(object).where(frame[DOSSIER_COLUMNS].notna(), None)
    recs = out.to_dict("records")
    for r in recs:
        for k in ("received_at", "due_at", "completed_at", "updated_at"):
            if r[k] is not None:
                r[k] = pd.Timestamp(r[k]).isoformat(sep=" ")
        for k, v in r.items():
            if isinstance(v, np.generic):
                r[k] = v.item()
    return recs


def remember_open(inbox: Path, frame: pd.DataFrame, limit: int = STATE_LIMIT) -> int:
    """Add the open dossiers of a generated frame to the live state; return how many are remembered."""
    state = _load(inbox)
    opened = frame[frame["status"].isin(OPEN)]
    merged = {r["dossier_id"]: r for r in state["open"]}
    merged.update({r["dossier_id"]: r for r in _records(opened)})
    rows = sorted(merged.values(), key=lambda r: (r["due_at"], r["dossier_id"]))  # overdue first
    state["open"] = rows[:limit]
    _save(inbox, state)
    return len(state["open"])


def _new_receipts(now: datetime, n: int, rng: np.random.Generator, since: datetime, state: dict,
                  seed: int) -> pd.DataFrame:
    units, procs = world(seed)
    cal = WorkCalendar(now.date() - timedelta(days=10), now.date() + timedelta(days=400))
    now_s = int((now - _EPOCH).total_seconds())
    day0 = ordinal(now.date())
    unit = rng.choice(len(units.codes), size=n, p=units.share)
    U = rng.random((N_UNIFORM, n), dtype=np.float32)
    f = _simulate(np.full(n, day0, dtype=np.int64), unit, U, units, procs, cal, now_s)
    window = max(1, min(int((now - since).total_seconds()), now_s - day0 * DAY, 600))
    recv = now_s - (rng.random(n) * window).astype(np.int64)
    office = cal.working[cal.index(day0)] and 7 <= now.hour < 17
    level = procs.level[f["proc"]]
    if not office:  # out of hours only the portal is open
        f["channel"] = np.where(level == 0, 0, np.where(level == 1, 1, f["channel"]))
    seq = np.empty(n, dtype=np.int64)
    for i, u in enumerate(unit):
        key = f"{units.codes[u]}-{now:%y%m%d}"
        state["seq"][key] = state["seq"].get(key, SEQ_LIMIT - 1) + 1
        seq[i] = min(state["seq"][key], 99_999)
    f.update(recv=recv, upd=recv, seq=seq, status=np.zeros(n, dtype=np.int64), completed=np.full(n, -1),
             rating=np.zeros(n, dtype=np.int64), sup_n=np.zeros(n, dtype=np.int64), sup_d=np.zeros(n, dtype=np.int64))
    return _frame(f, units, procs)


def _advance(rows: list[dict], now: datetime, rng: np.random.Generator) -> list[dict]:
    """Move each chosen open dossier one step on; finished ones get completed_at, maybe a rating."""
    stamp = now.isoformat(sep=" ", timespec="seconds")
    out = []
    for r in rows:
        r = dict(r)
        u = rng.random(4)
        if r["status"] == "supplement_requested" or (r["status"] == "received" and u[0] < 0.4):
            r["status"] = "processing"
        else:
            r["status"] = "completed" if u[1] < 0.96 else ("returned" if u[1] < 0.985 else "rejected")
            done = max(now - timedelta(seconds=int(u[2] * 120)), datetime.fromisoformat(r["received_at"]))
            r["completed_at"] = done.isoformat(sep=" ", timespec="seconds")
            if u[3] < 0.65:
                r["rating"] = int(rng.choice([5, 4, 3, 2, 1], p=[0.66, 0.27, 0.04, 0.02, 0.01]))
        r["updated_at"] = max(stamp, r["updated_at"] or stamp)
        out.append(r)
    return out


def _write_csv(frame: pd.DataFrame, inbox: Path, name: str) -> Path:
    """Write canonical CSV (ISO times, true/false, empty for missing) atomically into the inbox."""
    out = frame[DOSSIER_COLUMNS].copy()
    for col in ("cross_agency", "complaint", "paid_online", "digitized", "data_reused"):
        out[col] = out[col].map({True: "true", False: "false"})
    for col in ("received_at", "due_at", "completed_at", "updated_at"):
        out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m-%d %H:%M:%S")
    out["rating"] = out["rating"].astype("Int8")
    inbox.mkdir(parents=True, exist_ok=True)
    final = inbox / name
    tmp = inbox / f".{name}.tmp"
    out.to_csv(tmp, index=False, encoding="utf-8", lineterminator="\n")
    os.replace(tmp, final)
    return final


def realistic_count(now: datetime, seconds: float, rng: np.random.Generator, per_day: float = 3100) -> int:
    """How many dossiers Hanoi receives in `seconds` before `now` (at least one, so a drop shows)."""
    cal = WorkCalendar(now.date() - timedelta(days=40), now.date() + timedelta(days=40))
    weight = day_weights(cal)[cal.index(ordinal(now.date()))] / _weight_norm()
    busy = cal.working[cal.index(ordinal(now.date()))] and 7 <= now.hour < 17
    per_second = per_day * weight / (9 * 3600 if busy else 24 * 3600) * (1.0 if busy else 0.15)
    return max(1, int(rng.poisson(per_second * max(seconds, 1.0))))


def drop_batch(inbox: Path, now: datetime, n: int | None = 50, seed: int = 57,
               updates: int | None = None) -> Path:
    """Write a CSV of `n` new receipts at `now` plus updates to open dossiers; return its path.

    `n=None` draws a realistic count for the time since the previous drop (capped at ten minutes).
    `updates` (default half the receipts, at least one) open dossiers received at least ten minutes
    earlier move on one step. Same state, `now`, `n` and `seed` give the same file.
    """
    inbox = Path(inbox)
    state = _load(inbox)
    rng = np.random.default_rng([seed, 4242, int((now - _EPOCH).total_seconds())])
    since = datetime.fromisoformat(state["last_now"]) if state["last_now"] else now - timedelta(minutes=1)
    if n is None:
        n = realistic_count(now, min((now - since).total_seconds(), 600), rng)
    fresh = _new_receipts(now, n, rng, since, state, seed)

    cutoff = (now - timedelta(minutes=10)).isoformat(sep=" ")
    ready = [i for i, r in enumerate(state["open"]) if r["received_at"] <= cutoff]
    k = min(len(ready), max(1, n // 2) if updates is None else updates)
    chosen = set(rng.choice(ready, size=k, replace=False).tolist()) if k else set()
    moved = _advance([state["open"][i] for i in sorted(chosen)], now, rng)
    still = [r for i, r in enumerate(state["open"]) if i not in chosen]
    still += [r for r in moved if r["status"] in OPEN]
    new = _records(fresh)
    still.sort(key=lambda r: (r["due_at"], r["dossier_id"]))  # overdue first: they are kept
    state["open"] = still[: max(0, STATE_LIMIT - len(new))] + new
    today = f"{now:%y%m%d}"
    state["seq"] = {key: v for key, v in state["seq"].items() if key.endswith(today)}
    state["last_now"] = now.isoformat(sep=" ")

    frame = fresh
    if moved:
        upd = pd.DataFrame(moved, columns=DOSSIER_COLUMNS)
        for col in ("received_at", "due_at", "completed_at", "updated_at"):
            upd[col] = pd.to_datetime(upd[col])
        frame = pd.concat([fresh.astype(object), upd.astype(object)], ignore_index=True)
    name = f"dossiers-live-{now:%Y%m%dT%H%M%S}-{seed}.csv"
    path = _write_csv(frame, inbox, name)
    _save(inbox, state)
    return path
