"""Seeded, vectorised generator of realistic Hanoi dossiers in the canonical ingest format.

Every dossier is drawn from a random stream keyed by (seed, receipt day), so a day's dossiers do not
depend on the range, the chunking or `now`: only their status does (a dossier received before `now`
but finished after it is still open). Rates move with time the way docs/domain.md describes: more online
filing and fewer late dossiers after the two-tier start on 1 July 2025, faster cross-agency
processing against the 2024-07..2025-06 baseline, and a few weak units carrying an overdue backlog.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from demo.catalog import Procedures, Units, world
from demo.indicators import generate_indicators
from demo.workdays import WorkCalendar, ordinal

__all__ = ["DOSSIER_COLUMNS", "CHANNELS", "STATUSES", "generate_dossiers", "generate_indicators"]

DOSSIER_COLUMNS = [
    "dossier_id", "unit_code", "procedure_code", "channel", "received_at", "due_at", "completed_at",
    "status", "cross_agency", "supplement_count", "supplement_days", "rating", "complaint", "paid_online",
    "digitized", "data_reused", "applicant_type", "updated_at",
]
CHANNELS = ["online_full", "online_partial", "in_person", "postal"]
STATUSES = ["received", "processing", "supplement_requested", "completed", "returned", "rejected", "withdrawn"]
FINISHED = ("completed", "returned", "rejected")
REFORM = ordinal(date(2025, 7, 1))  # two-tier local government starts
ORIGIN = ordinal(date(2024, 1, 1))
DAY = 86_400
N_UNIFORM = 22
SEQ_LIMIT = 90_000  # generator sequence numbers stay below this; live drops use the range above


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def day_weights(cal: WorkCalendar) -> np.ndarray:
    """Relative volume of each calendar day: working days busy, weekends and holidays quiet, Tết deep."""
    w = np.array([1.12, 1.05, 1.0, 1.0, 0.93, 0.16, 0.025])[cal.weekday]
    w = np.where(cal.holiday, 0.02, w)
    idx = np.arange(len(w))
    tet_pos = np.flatnonzero(cal.tet)
    if len(tet_pos):
        nxt = tet_pos[np.clip(np.searchsorted(tet_pos, idx), 0, len(tet_pos) - 1)] - idx
        prv = idx - tet_pos[np.clip(np.searchsorted(tet_pos, idx, side="right") - 1, 0, len(tet_pos) - 1)]
        before = (nxt >= 1) & (nxt <= 7)
        after = (prv >= 1) & (prv <= 14)
        w = np.where(before & cal.working, w * (0.72 + 0.03 * nxt), w)
        w = np.where(after & cal.working, w * np.minimum(1.0, 0.45 + 0.04 * prv), w)
    return w


@lru_cache(maxsize=1)
def _weight_norm() -> float:
    """Mean day weight over 2024-2026: a fixed constant, so a date's volume never depends on the range."""
    cal = WorkCalendar(date(2023, 12, 1), date(2027, 1, 31))
    w = day_weights(cal)
    sel = (cal.days >= ordinal(date(2024, 1, 1))) & (cal.days <= ordinal(date(2026, 12, 31)))
    return float(w[sel].mean())


@lru_cache(maxsize=1)
def _seq_strings() -> pa.Array:
    return pa.array([f"{i:05d}" for i in range(100_000)])


def _draw_days(days: np.ndarray, lam: np.ndarray, units: Units, seed: int) -> tuple[np.ndarray, ...]:
    """Per-day random draws: receipt day, unit and uniforms for every dossier of those days."""
    out_day, out_unit, out_u = [], [], []
    for d, total in zip(days, lam, strict=True):
        rng = np.random.default_rng([seed, int(d)])
        counts = rng.poisson(total * units.share)
        n = int(counts.sum())
        out_day.append(np.full(n, d, dtype=np.int64))
        out_unit.append(np.repeat(np.arange(len(counts)), counts))
        out_u.append(rng.random((N_UNIFORM, n), dtype=np.float32))
    return np.concatenate(out_day), np.concatenate(out_unit), np.concatenate(out_u, axis=1)


def _simulate(day: np.ndarray, unit: np.ndarray, U: np.ndarray, units: Units, procs: Procedures,
              cal: WorkCalendar, now_s: int) -> dict[str, np.ndarray]:
    """Turn draws into dossier fields (times as int64 seconds since 1970-01-01, local time)."""
    pos = cal.index(day)
    years = (day - ORIGIN) / 365.25
    after = day >= REFORM
    post = np.maximum(day - REFORM, 0)
    ramp = np.clip(post / 548, 0, 1)                          # mid-2025 .. end-2026
    bump = np.where(after, np.exp(-post / 45.0), 0.0)         # teething trouble of the first weeks
    prog = np.clip(years / 3.0, 0, 1)                          # 2024 .. end-2026
    weak = units.weak[unit]

    g = units.group[unit]
    proc = np.searchsorted(procs.cdf, g + U[0], side="right") - g * len(procs.codes)
    proc = np.clip(proc, 0, len(procs.codes) - 1)
    level, S, cross = procs.level[proc], procs.days[proc], procs.cross[proc]

    # channel
    quiet = ~cal.working[pos] & ((cal.weekday[pos] == 6) | cal.holiday[pos])  # Sundays and holidays
    logit = (-0.75 + 1.5 * (units.urbanity[unit] - 0.5) + units.digital[unit] - 0.6 * weak
             + 0.2 * np.minimum(years, 1.5) + after * (0.3 + 1.1 * ramp) - 0.4 * (level == 1) + 2.5 * quiet)
    online = (U[1] < _sigmoid(logit)) & (level < 2)
    channel = np.where(online, np.where((level == 0) & (U[2] < 0.93), 0, 1), np.where(U[2] < 0.025, 3, 2))

    # receipt time: counters keep office hours (Saturday mornings only), portals never close
    office = np.where(U[4] < 0.58, 27_000 + U[3] * 14_400, 48_600 + U[3] * 12_600)
    office = np.where(cal.working[pos], office, 27_000 + U[3] * 14_400)
    portal = np.where(U[4] < 0.85, 25_200 + U[3] * 54_000, U[3] * 86_399)
    tod = np.where(online, portal, office).astype(np.int64)
    recv = day * DAY + tod
    due = cal.add_workdays(day, S) * DAY + 17 * 3600

    # processing: working days used (waiting for the citizen excluded)
    m = np.where(cross, 0.74 * (1 - 0.17 * np.clip(post / 540, 0, 1)) + 0.05 * bump, 0.55 - 0.08 * ramp)
    m = np.clip(m + 0.1 * weak, 0.2, 0.9)
    used = np.minimum(np.floor(U[5] ** (1 / m - 1) * (S + 1)), S).astype(np.int64)
    base_late = np.where(after, 0.035 * (1 - 0.7 * ramp) + 0.04 * bump, 0.045 - 0.01 * np.minimum(years, 1.5) / 1.5)
    p_late = np.clip(base_late * units.late_factor[unit] + 0.03 * weak, 0, 0.6)
    late = U[6] < p_late
    extra = 1 + np.floor(-np.log(np.maximum(U[7], 1e-9)) / 0.45).astype(np.int64)
    stuck = late & weak & (U[8] < 0.25)
    extra = np.where(stuck, 10 + np.floor(U[7] * 50).astype(np.int64), extra)
    used = np.where(late, S + extra, used)
    outcome = np.select([U[13] < 0.005, U[13] < 0.017, U[13] < 0.022], [6, 4, 5], 3)  # status index
    used = np.where((outcome == 4) | (outcome == 5), used // 2, used)
    same_day_ok = cal.working[pos] & (tod >= 25_200) & (tod < 57_600)
    used = np.where(same_day_ok, used, np.maximum(used, 1))

    # supplement requests: about 8 % one, 1.5 % two or more
    sup_n = np.select([U[9] < 0.0025, U[9] < 0.015, U[9] < 0.095], [3, 2, 1], 0)
    sup_d = np.where(sup_n > 0, 1 + np.floor(U[10] * 7), 0) + np.where(sup_n > 1, 1 + np.floor(U[11] * 5), 0)
    sup_d = (sup_d + np.where(sup_n > 2, 1 + np.floor(U[11] * U[10] * 4), 0)).astype(np.int64)
    sup_d = np.where(outcome == 6, 0, sup_d)
    sup_n = np.where(outcome == 6, 0, sup_n)

    fin_day = cal.add_workdays(day, used + sup_d)
    fin_tod = np.where(fin_day == day, tod + 600 + U[12] * np.maximum(61_200 - tod - 600, 60), 28_800 + U[12] * 30_600)
    finish = fin_day * DAY + fin_tod.astype(np.int64)
    finish = np.where(outcome == 6, recv + (U[12] * (finish - recv)).astype(np.int64), finish)

    # status as of now
    done = finish <= now_s
    elapsed = now_s - recv
    open_status = np.where((sup_n > 0) & (U[14] < 0.55), 2, np.where(elapsed < 4 * 3600, 0, 1))
    status = np.where(done, outcome, open_status)
    finished = done & (outcome != 6)

    # ratings, complaints, payment, digitisation
    p_rate = np.where(online, 0.72, 0.60)
    rated = finished & (U[15] < p_rate)
    v = U[15] / p_rate
    sat = np.where(late, 0.55, np.where(outcome != 3, 0.45, 0.915 + 0.04 * prog)) - 0.05 * weak
    low = (v - sat) / np.maximum(1 - sat, 1e-6)
    rating = np.where(v < sat * 0.68, 5, np.where(v < sat, 4, np.where(low < 0.5, 3, np.where(low < 0.78, 2, 1))))
    complaint = U[16] < 0.0018 + 0.03 * late + 0.02 * (outcome == 4) + 0.02 * (outcome == 5)
    fee = procs.fee[proc]
    paid = fee & (U[17] < np.where(online, 0.78 + 0.15 * ramp, 0.06 + 0.14 * ramp))
    digitized = U[18] < 0.52 + 0.27 * prog + 0.1 * online - 0.1 * weak
    reused = U[19] < 0.27 + 0.42 * prog + 0.05 * online
    business = U[20] < procs.business[proc]

    completed = np.where(finished, finish, -1)
    span = np.where(status == 0, 600, np.where(status == 1, 2 * DAY, 5 * DAY))
    upd = np.where(finished, finish + (U[21] * 300).astype(np.int64),
                   np.where(done, finish, recv + (U[21] * np.minimum(np.maximum(elapsed, 0), span)).astype(np.int64)))
    upd = np.maximum(np.minimum(upd, now_s), recv)
    return dict(day=day, unit=unit, proc=proc, channel=channel, recv=recv, due=due, completed=completed,
                status=status, cross=cross, sup_n=sup_n, sup_d=sup_d, rating=np.where(rated, rating, 0),
                complaint=complaint, paid=paid, digitized=digitized, reused=reused, business=business, upd=upd)


def _ts(seconds: np.ndarray) -> np.ndarray:
    """int64 seconds (negative = missing) -> datetime64[us] with NaT."""
    out = (seconds.astype(np.int64) * 1_000_000).view("datetime64[us]")
    return np.where(seconds >= 0, out, np.datetime64("NaT", "us"))


def _strings(indices: np.ndarray, values: list[str]) -> pd.api.extensions.ExtensionArray:
    arr = pa.DictionaryArray.from_arrays(pa.array(indices.astype(np.int32)), pa.array(values)).cast(pa.string())
    return pd.array(arr, dtype="str")


def _frame(f: dict[str, np.ndarray], units: Units, procs: Procedures) -> pd.DataFrame:
    """Order by receipt time, number dossiers per unit and day, and build the canonical frame.

    `f["seq"]`, when present, gives the sequence numbers; otherwise dossiers are numbered 1, 2, ...
    per unit and day in order of receipt.
    """
    order = np.argsort(f["recv"], kind="stable")
    f = {k: v[order] for k, v in f.items()}
    n = len(order)
    if "seq" in f:
        seq = f["seq"]
    else:
        grp = np.lexsort((np.arange(n), f["unit"], f["day"]))
        key = f["day"][grp] * 1000 + f["unit"][grp]
        starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
        rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        seq = np.empty(n, dtype=np.int64)
        seq[grp] = np.minimum(rank + 1, SEQ_LIMIT - 1)
    first = int(f["day"].min()) if n else 0
    day_ix = f["day"] - first
    labels = [(date(1970, 1, 1) + timedelta(days=first + i)).strftime("-%y%m%d-")
              for i in range(int(day_ix.max()) + 1 if n else 0)]
    prefixes = pa.array([f"H01.{c}" for c in units.codes])
    ids = pc.binary_join_element_wise(
        prefixes.take(pa.array(f["unit"])), pa.array(labels, pa.string()).take(pa.array(day_ix)),
        _seq_strings().take(pa.array(seq)), "")
    rating = pd.array(f["rating"].astype("int8"), dtype="Int8")
    rating[f["rating"] == 0] = pd.NA
    return pd.DataFrame({
        "dossier_id": pd.array(ids, dtype="str"),
        "unit_code": _strings(f["unit"], units.codes),
        "procedure_code": _strings(f["proc"], procs.codes),
        "channel": _strings(f["channel"], CHANNELS),
        "received_at": _ts(f["recv"]),
        "due_at": _ts(f["due"]),
        "completed_at": _ts(f["completed"]),
        "status": _strings(f["status"], STATUSES),
        "cross_agency": f["cross"],
        "supplement_count": f["sup_n"].astype(np.int64),
        "supplement_days": f["sup_d"].astype(np.int64),
        "rating": rating,
        "complaint": f["complaint"],
        "paid_online": f["paid"],
        "digitized": f["digitized"],
        "data_reused": f["reused"],
        "applicant_type": _strings(f["business"].astype(np.int8), ["citizen", "business"]),
        "updated_at": _ts(f["upd"]),
    })


def generate_dossiers(start: date, days: int, per_day: float = 3100, seed: int = 57,
                      now: datetime | None = None, chunk_days: int = 31) -> Iterator[pd.DataFrame]:
    """Yield canonical dossier frames for `days` receipt days from `start`, `chunk_days` days per frame.

    `now` (naive local time) is the moment the data describes: nothing is received after it and
    statuses are as of it. It defaults to midnight after the last day, which keeps output seeded.
    """
    units, procs = world(seed)
    end = start + timedelta(days=days)
    now = now or datetime.combine(end, time())
    last = min(end - timedelta(days=1), now.date())
    if last < start:
        return
    cal = WorkCalendar(start - timedelta(days=40), max(last, now.date()) + timedelta(days=400))
    weights = day_weights(cal) * (per_day / _weight_norm())
    now_s = int((now - datetime(1970, 1, 1)).total_seconds())
    first, stop = ordinal(start), ordinal(last) + 1
    for lo in range(first, stop, max(1, chunk_days)):
        ds = np.arange(lo, min(lo + chunk_days, stop), dtype=np.int64)
        day, unit, U = _draw_days(ds, weights[cal.index(ds)], units, seed)
        f = _simulate(day, unit, U, units, procs, cal, now_s)
        keep = f["recv"] <= now_s
        if not keep.all():
            f = {k: v[keep] for k, v in f.items()}
        if len(f["recv"]):
            yield _frame(f, units, procs)
