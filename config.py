"""Runtime settings: one place, read from the environment with defaults for `make run`.

Every path can be overridden by a flag on the CLI or an environment variable, so tests and
production point the same code at their own files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CITY_CODE = "01"  # Hanoi's province code; the city-level unit in `units`
REFERENCE_DIR = ROOT / "data" / "reference"
DEFAULT_RATE_LIMIT = "100 per minute"  # per signed-in user or token, else per address (R57_RATE_LIMIT)


LIVE_STREAMS = 64  # server push's default streams per web process (gunicorn.conf.py reads it too)


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def ram_bytes() -> int:
    """This host's physical memory (psutil: also right inside a container that reports the host's)."""
    import psutil

    return int(psutil.virtual_memory().total)


def default_duckdb_memory(web_workers: int) -> str:
    """60 % of RAM shared by the web workers and the one writer: each DuckDB process gets its part."""
    return f"{int(0.6 * ram_bytes() / (max(1, web_workers) + 1)) // 2**20}MiB"


def default_duckdb_threads() -> int:
    """Half the cores: web workers and the writer run queries side by side on one host."""
    return max(1, (os.cpu_count() or 2) // 2)


def reloader_debug() -> bool:
    """`serve --debug` marks its processes so (R57_DEBUG=1) before Flask's reloader forks the watcher."""
    return os.environ.get("R57_DEBUG") == "1"


def mark_reloader_debug() -> None:
    os.environ["R57_DEBUG"] = "1"


def frozen_now() -> datetime | None:
    """R57_NOW ('2026-12-01T08:00', Hanoi local time): a fixed clock for the dashboard (demos, screenshots,
    browser tests of the 1st of a month); unset in production. Read on every call."""
    value = os.environ.get("R57_NOW")
    return datetime.fromisoformat(value).replace(tzinfo=None) if value else None


@dataclass(frozen=True)
class IngestLimits:
    """What one file may cost and what its dates may say; beyond these a file or a row is refused."""

    xlsx_max_rows: int = field(default_factory=lambda: _env_int("R57_XLSX_MAX_ROWS", 300_000))
    xlsx_max_bytes: int = field(default_factory=lambda: _env_int("R57_XLSX_MAX_MB", 256) * 1024 * 1024)
    # completion and update stamps may run this far ahead of the server's clock (other systems' clocks)
    clock_skew_minutes: float = field(default_factory=lambda: _env_float("R57_CLOCK_SKEW_MIN", 15))
    # a due date further ahead than this is a typing error (statutory deadlines are weeks, not years)
    due_horizon_days: int = field(default_factory=lambda: _env_int("R57_DUE_HORIZON_DAYS", 400))


@dataclass(frozen=True)
class Settings:
    """Where the warehouse and the inboxes live, and how often ingest runs."""

    data_dir: Path = field(default_factory=lambda: _env_path("R57_DATA_DIR", ROOT / "data"))
    warehouse: Path | None = None  # defaults to data_dir / "warehouse.duckdb"
    dossier_interval_s: float = field(default_factory=lambda: _env_float("R57_DOSSIER_INTERVAL", 30))
    indicator_interval_s: float = field(default_factory=lambda: _env_float("R57_INDICATOR_INTERVAL", 600))
    api_token: str | None = field(default_factory=lambda: os.environ.get("R57_API_TOKEN") or None)
    ingest: IngestLimits = field(default_factory=IngestLimits)
    # web: how often pages look for a new snapshot; optional unit boundaries for the overview's map
    refresh_s: float = field(default_factory=lambda: _env_float("R57_REFRESH_S", 30))
    # freshness (issue 15): pages ask the version endpoint every poll_s (a 304 when nothing changed; 0: off);
    # the scheduler loads an inbox file as soon as it is renamed in (watch), bursts coalesced within debounce
    poll_s: float = field(default_factory=lambda: _env_float("R57_POLL_S", 2))
    # the version endpoint's own limit per signed-in user (per address when sign-in is off), in place of the default
    poll_rate_limit: str = field(default_factory=lambda: os.environ.get("R57_POLL_RATE_LIMIT") or "240 per minute")
    # server push (dashboard/live.py): open pages' event streams per web process, each holding a server thread
    # (`serve` adds that many threads; gunicorn.conf.py too); 0: off, pages poll every `poll_s`
    live_streams: int = field(default_factory=lambda: _env_int("R57_LIVE_STREAMS", LIVE_STREAMS))
    # requests (other than event streams) a web process runs at once: its threads for requests
    web_threads: int = field(default_factory=lambda: _env_int("R57_WEB_THREADS", 8))
    watch_inbox: bool = field(default_factory=lambda: os.environ.get("R57_WATCH", "1").lower() not in ("0", "false", "no"))
    # web: a request slower than this is logged with its path (and a callback's outputs); 0 logs every one
    slow_request_ms: float = field(default_factory=lambda: _env_float("R57_SLOW_REQUEST_MS", 2000))
    ingest_debounce_s: float = field(default_factory=lambda: _env_float("R57_INGEST_DEBOUNCE_MS", 250) / 1000)
    geojson: Path | None = field(default_factory=lambda: _env_path("R57_GEOJSON", None) if os.environ.get("R57_GEOJSON") else None)
    geojson_key: str = field(default_factory=lambda: os.environ.get("R57_GEOJSON_KEY") or "properties.unit_code")
    host: str = field(default_factory=lambda: os.environ.get("R57_HOST") or "127.0.0.1")
    port: int = field(default_factory=lambda: _env_int("R57_PORT", 8050))
    live_interval_s: float = field(default_factory=lambda: _env_float("R57_LIVE_INTERVAL", 5))  # demo feed
    report_font: Path | None = field(default_factory=lambda: _env_path("R57_REPORT_FONT", None)
                                     if os.environ.get("R57_REPORT_FONT") else None)
    # snapshots: a hard cap on copies kept on disk (at least 2), and the least time between two publications
    keep_snapshots: int = field(default_factory=lambda: _env_int("R57_KEEP_SNAPSHOTS", 3))
    publish_min_interval_s: float = field(default_factory=lambda: _env_float("R57_PUBLISH_MIN_INTERVAL", 2))
    # what a publication writes: "serving" (a small snapshot: every table but the dossiers, which it reads
    # from the Parquet lake, of which only changed partitions are rewritten) or "copy" (the whole warehouse)
    publish: str = field(default_factory=lambda: (os.environ.get("R57_PUBLISH") or "serving").lower())
    lake: Path | None = field(default_factory=lambda: _env_path("R57_LAKE", None) if os.environ.get("R57_LAKE") else None)
    # an aggregate build folder (`aggregates build --out DIR` -> DIR/<engine>): a full rebuild of the metrics
    # aggregates loads it when it is of this warehouse's data (metrics.aggregates_load), else rebuilds here
    aggregates_build: Path | None = field(default_factory=lambda: _env_path("R57_AGGREGATES_BUILD", None)
                                          if os.environ.get("R57_AGGREGATES_BUILD") else None)
    # retention (Decree 13/2023): archived files and quarantine rows; failed files keep original bytes
    retention_days: float = field(default_factory=lambda: _env_float("R57_RETENTION_DAYS", 30))
    failed_retention_days: float = field(default_factory=lambda: _env_float("R57_FAILED_RETENTION_DAYS", 7))
    retention_interval_s: float = field(default_factory=lambda: _env_float("R57_RETENTION_INTERVAL", 86400))

    # access (issue 10): the application database (users, sessions, tokens, audit), sign-in and limits
    app_db: str | None = field(default_factory=lambda: os.environ.get("R57_APP_DB") or None)
    auth: str = field(default_factory=lambda: (os.environ.get("R57_AUTH") or "on").lower())  # "off": dev only
    roles_file: Path | None = field(default_factory=lambda: _env_path("R57_ROLES_FILE", None)
                                    if os.environ.get("R57_ROLES_FILE") else None)
    secret_key: str | None = field(default_factory=lambda: os.environ.get("R57_SECRET_KEY") or None)
    session_hours: float = field(default_factory=lambda: _env_float("R57_SESSION_HOURS", 12))
    tls: bool = field(default_factory=lambda: os.environ.get("R57_TLS", "").lower() in ("1", "true", "yes"))
    proxy_hops: int = field(default_factory=lambda: _env_int("R57_PROXY_HOPS", 0))  # behind N reverse proxies
    rate_limit: str = field(default_factory=lambda: os.environ.get("R57_RATE_LIMIT") or DEFAULT_RATE_LIMIT)
    oidc_issuer: str | None = field(default_factory=lambda: os.environ.get("R57_OIDC_ISSUER") or None)
    oidc_client_id: str | None = field(default_factory=lambda: os.environ.get("R57_OIDC_CLIENT_ID") or None)
    oidc_client_secret: str | None = field(default_factory=lambda: os.environ.get("R57_OIDC_CLIENT_SECRET") or None)
    oidc_role_claim: str = field(default_factory=lambda: os.environ.get("R57_OIDC_ROLE_CLAIM") or "r57_role")
    oidc_units_claim: str = field(default_factory=lambda: os.environ.get("R57_OIDC_UNITS_CLAIM") or "r57_units")

    # DuckDB in every process (web worker, writer, CLI): SET memory_limit / threads on each connection
    # (warehouse.db.connect). Defaults: 60 % of RAM / (web workers + 1 writer), half the cores.
    web_workers: int = field(default_factory=lambda: _env_int("R57_WEB_WORKERS", 4))
    duckdb_memory: str | None = field(default_factory=lambda: os.environ.get("R57_DUCKDB_MEMORY") or None)
    duckdb_threads: int = field(default_factory=lambda: _env_int("R57_DUCKDB_THREADS", default_duckdb_threads()))
    # finished /api/v1/values answers kept per web process (api/answers.py), in MB; 0 = off
    api_cache_mb: int = field(default_factory=lambda: _env_int("R57_API_CACHE_MB", 64))
    # finished answers of the page parts declared in dashboard/kept.py, kept per web process, in MB; 0 = off
    view_cache_mb: int = field(default_factory=lambda: _env_int("R57_VIEW_CACHE_MB", 64))

    def __post_init__(self) -> None:
        if self.duckdb_memory is None:
            object.__setattr__(self, "duckdb_memory", default_duckdb_memory(self.web_workers))
        if self.duckdb_threads < 1:
            raise ValueError(f"R57_DUCKDB_THREADS must be at least 1, got {self.duckdb_threads}")
        if self.warehouse is None:
            default = self.data_dir / "warehouse.duckdb"
            object.__setattr__(self, "warehouse", _env_path("R57_WAREHOUSE", default))

    @property
    def inbox(self) -> Path:
        return _env_path("R57_INBOX", self.data_dir / "inbox")

    @property
    def dossier_inbox(self) -> Path:
        return self.inbox / "dossiers"

    @property
    def indicator_inbox(self) -> Path:
        return self.inbox / "indicators"

    @property
    def processed_dir(self) -> Path:
        return self.data_dir / "processed"

    @property
    def failed_dir(self) -> Path:
        return self.data_dir / "failed"

    @property
    def push_dir(self) -> Path:
        return self.data_dir / "push"   # staging of push-ingest bodies (api/push.py)

    @property
    def snapshot_dir(self) -> Path:
        # Snapshots sit beside the warehouse file they copy, so each warehouse has its own.
        assert self.warehouse is not None
        return self.warehouse.parent / (self.warehouse.stem + ".snapshots")

    @property
    def lake_dir(self) -> Path:
        """R57_LAKE, or `<warehouse>.lake` beside the warehouse: the dossier lake the writer keeps."""
        if self.lake is not None:
            return self.lake
        assert self.warehouse is not None
        return self.warehouse.parent / (self.warehouse.stem + ".lake")

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def app_db_url(self) -> str:
        """R57_APP_DB, or a SQLite file beside the warehouse (one application database per warehouse)."""
        if self.app_db:
            return self.app_db
        assert self.warehouse is not None
        return f"sqlite:///{self.warehouse.parent / (self.warehouse.stem + '.app.sqlite3')}"

    @property
    def auth_enabled(self) -> bool:
        return self.auth != "off"

    def with_warehouse(self, path: str | Path | None) -> Settings:
        if path is None:
            return self
        return replace(self, warehouse=Path(path).expanduser().resolve())


def load_settings(**overrides) -> Settings:
    clean = {k: v for k, v in overrides.items() if v is not None}
    settings = Settings(**{k: v for k, v in clean.items() if k != "warehouse"})
    return settings.with_warehouse(clean.get("warehouse"))
