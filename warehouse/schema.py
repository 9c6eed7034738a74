"""Versioned schema. Each migration runs once, in order, inside a transaction; `schema_version` records it.

Timestamps are naive local times in Asia/Ho_Chi_Minh: every source speaks local time, statutory
deadlines are local working days, and keeping one zone in storage avoids per-query conversion.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb

# (version, name, SQL or a function giving SQL built from code that owns the rule it applies)
MIGRATIONS: list[tuple[int, str, str | Callable[[], str]]] = [
    (
        1,
        "initial schema",
        """
        CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);

        CREATE TABLE units (
            unit_code   VARCHAR PRIMARY KEY,   -- GSO 5-digit code; '01' is the city itself
            name        VARCHAR NOT NULL,      -- with diacritics, e.g. 'Phường Cửa Nam'
            name_en     VARCHAR NOT NULL,
            unit_type   VARCHAR NOT NULL,      -- city | phuong | xa
            parent_code VARCHAR                -- '01' for wards/communes, NULL for the city
        );

        CREATE TABLE procedures (
            procedure_code  VARCHAR PRIMARY KEY,
            name_vi         VARCHAR NOT NULL,
            name_en         VARCHAR NOT NULL,
            sector          VARCHAR NOT NULL,   -- e.g. 'Hộ tịch'
            sector_en       VARCHAR NOT NULL,
            online_level    VARCHAR NOT NULL,   -- full (toàn trình) | partial (một phần) | none
            fee_bearing     BOOLEAN NOT NULL,
            cross_agency    BOOLEAN NOT NULL,
            statutory_days  INTEGER NOT NULL,   -- working days
            level           VARCHAR NOT NULL,   -- commune | city: who handles it
            active          BOOLEAN NOT NULL DEFAULT TRUE
        );

        -- Working-day calendar (Mon-Fri minus Vietnam's public holidays, Tết included).
        -- wd_cum = number of working days on or before `day`; working days between two dates are
        -- a difference of wd_cum, which keeps processing-time SQL a pair of joins.
        CREATE TABLE calendar (
            day         DATE PRIMARY KEY,
            is_working  BOOLEAN NOT NULL,
            holiday     VARCHAR,
            wd_cum      INTEGER NOT NULL
        );

        CREATE TABLE dossiers (
            dossier_id        VARCHAR NOT NULL,
            unit_code         VARCHAR NOT NULL,
            procedure_code    VARCHAR NOT NULL,
            channel           VARCHAR NOT NULL,   -- online_full | online_partial | in_person | postal
            received_at       TIMESTAMP NOT NULL,
            due_at            TIMESTAMP NOT NULL,
            completed_at      TIMESTAMP,          -- finish time: completed | returned | rejected
            status            VARCHAR NOT NULL,
            cross_agency      BOOLEAN,
            supplement_count  INTEGER NOT NULL,
            supplement_days   INTEGER NOT NULL,   -- working days waiting for the citizen
            rating            TINYINT,            -- 1..5, NULL when not rated
            complaint         BOOLEAN,
            paid_online       BOOLEAN,
            digitized         BOOLEAN,
            data_reused       BOOLEAN,
            applicant_type    VARCHAR,            -- citizen | business
            updated_at        TIMESTAMP NOT NULL,
            -- derived at load time (see ingest.dossiers.DERIVED_SQL), never supplied by sources
            procedure_known   BOOLEAN NOT NULL,   -- FALSE: code not in the catalogue (loaded, flagged)
            received_date     DATE NOT NULL,
            finished_date     DATE,               -- date(completed_at) when status is a finish
            effective_due_at  TIMESTAMP NOT NULL, -- due_at pushed back by supplement_days working days
            processing_wd     INTEGER,            -- working days received -> finish, minus supplement_days
            row_hash          UBIGINT NOT NULL,   -- content hash: tie-break for equal updated_at
            ingest_run_id     BIGINT NOT NULL
        );

        CREATE SEQUENCE ingest_run_seq START 1;
        CREATE TABLE ingest_runs (
            run_id        BIGINT PRIMARY KEY,
            source        VARCHAR NOT NULL,   -- dossiers | indicators
            channel       VARCHAR NOT NULL,   -- inbox | cli | push | demo
            file_name     VARCHAR,
            file_hash     VARCHAR,
            profile       VARCHAR,
            started_at    TIMESTAMP NOT NULL,
            finished_at   TIMESTAMP,
            duration_ms   DOUBLE,
            rows_read     BIGINT DEFAULT 0,
            inserted      BIGINT DEFAULT 0,
            updated       BIGINT DEFAULT 0,
            unchanged     BIGINT DEFAULT 0,
            quarantined   BIGINT DEFAULT 0,
            status        VARCHAR NOT NULL,   -- ok | partial | failed | duplicate
            error         VARCHAR
        );

        CREATE TABLE quarantine (
            run_id       BIGINT NOT NULL,
            source       VARCHAR NOT NULL,
            file_name    VARCHAR,
            line         BIGINT,           -- 1-based line in the file (header = line 1); row for xlsx/parquet
            record_id    VARCHAR,          -- dossier_id or indicator key when known
            reason_code  VARCHAR NOT NULL,
            column_name  VARCHAR,
            bad_value    VARCHAR,
            raw          VARCHAR,          -- JSON of the mapped canonical fields only: never personal data
            quarantined_at TIMESTAMP NOT NULL
        );

        CREATE TABLE indicator_catalogue (
            indicator_code VARCHAR PRIMARY KEY,
            name_vi        VARCHAR NOT NULL,
            name_en        VARCHAR NOT NULL,
            uom            VARCHAR NOT NULL,   -- '%', 'people', 'products', ...
            direction      VARCHAR NOT NULL,   -- higher | lower
            level          VARCHAR NOT NULL,   -- city | unit | both
            frequency      VARCHAR NOT NULL,   -- year | quarter | month
            source_vi      VARCHAR,
            source_en      VARCHAR
        );

        CREATE TABLE indicators (
            indicator_code VARCHAR NOT NULL,
            unit_code      VARCHAR NOT NULL,
            period         VARCHAR NOT NULL,   -- '2026' | '2026-Q1' | '2026-03'
            grain          VARCHAR NOT NULL,   -- year | quarter | month
            period_start   DATE NOT NULL,
            period_end     DATE NOT NULL,      -- exclusive
            value          DOUBLE NOT NULL,
            source         VARCHAR,
            published_at   TIMESTAMP NOT NULL,
            ingest_run_id  BIGINT NOT NULL,
            PRIMARY KEY (indicator_code, unit_code, period, published_at)
        );

        -- The latest publication of each (indicator, unit, period) counts; earlier ones are revisions.
        CREATE VIEW indicator_latest AS
        SELECT *,
               count(*) OVER (PARTITION BY indicator_code, unit_code, period) AS publications,
               min(published_at) OVER (PARTITION BY indicator_code, unit_code, period) AS first_published_at
        FROM indicators
        QUALIFY row_number() OVER (PARTITION BY indicator_code, unit_code, period ORDER BY published_at DESC) = 1;
        """,
    ),
    (
        2,
        "change log of replaced dossier versions",
        """
        -- When an upsert replaces a dossier, the version it replaces is logged here (its keys and
        -- event dates), so derived aggregates can refresh exactly the partitions the old version
        -- touched. Inserts need no entry: the new row carries its ingest_run_id.
        CREATE TABLE dossier_changes (
            run_id            BIGINT NOT NULL,
            dossier_id        VARCHAR NOT NULL,
            unit_code         VARCHAR NOT NULL,
            procedure_code    VARCHAR NOT NULL,
            received_date     DATE NOT NULL,
            finished_date     DATE,
            effective_due_at  TIMESTAMP NOT NULL
        );
        """,
    ),
    (
        3,
        "no personal data in quarantine or run records; run warnings",
        lambda: _purge_personal_data_sql(),
    ),
    (
        4,
        "procedure history: online level and activity with validity dates",
        lambda: _procedure_levels_sql(),
    ),
    (
        5,
        "whole replaced dossier versions, for a refresh in proportion to the batch",
        """
        -- The full row of each version an upsert replaces (dossiers' columns, then the run that replaced
        -- it), so the metrics refresh can subtract exactly what the old version added to the aggregates
        -- and add the new one, instead of recomputing whole months (metrics.aggregates._delta). The
        -- refresh deletes the rows it has used. A migration that adds a column to dossiers adds it here.
        CREATE TABLE dossier_replaced AS SELECT *, CAST(NULL AS BIGINT) AS replaced_run_id FROM dossiers WHERE false;
        -- runs after this one record their replaced versions: a refresh from an older state cannot use them
        INSERT OR REPLACE INTO meta
        SELECT 'dossier_replaced_since', CAST(coalesce(max(run_id), 0) AS VARCHAR) FROM ingest_runs;
        """,
    ),
    (
        6,
        "units carry their province (the national shape)",
        """
        -- GSO province code of each unit ('01' Hanoi); the lake partitions dossiers by it, the API
        -- selects by it. Every unit loaded before is Hanoi's.
        ALTER TABLE units ADD COLUMN province_code VARCHAR;
        UPDATE units SET province_code = '01';
        """,
    ),
    (
        7,
        "a warehouse identity, recorded in the lake's data version",
        """
        -- A random id, made once: the lake manifest's data version names it, and an aggregate build over
        -- that lake carries it, so the writer takes only builds of its own data (metrics.aggregates_load).
        INSERT OR IGNORE INTO meta VALUES ('warehouse_id', CAST(uuid() AS VARCHAR));
        """,
    ),
]


def _purge_personal_data_sql() -> str:
    # the masking rule is ingest's (it knows each column's shape); imported here, once, not duplicated
    from ingest.privacy import mask_sql

    return f"""
        -- Earlier versions kept a JSON of each quarantined row and the offending value as typed: a
        -- shifted export put names, phones and ID numbers there. Keep only what fits the column's
        -- shape (ingest.privacy), drop the JSON, and drop run errors that may quote file content.
        ALTER TABLE quarantine DROP COLUMN raw;
        UPDATE quarantine SET bad_value = {mask_sql('bad_value', 'sql:column_name')},
                              record_id = {mask_sql('record_id', 'record_id')};
        UPDATE ingest_runs SET error = split_part(error, ':', 1) || ': details removed (they may have quoted the file)'
        WHERE split_part(error, ':', 1) IN ('no_profile', 'corrupt_file', 'internal_error');
        ALTER TABLE ingest_runs ADD COLUMN warnings VARCHAR;   -- JSON list of texts, NULL when none
        """


def _procedure_levels_sql() -> str:
    # the catalogue's dating rule is the reference loader's (it reads the file); imported here, once
    from warehouse.reference import procedure_levels_fill_sql

    return """
        -- The history of each procedure's state, so catalogue KPIs can be judged as of any time.
        -- A row holds the online level (Decree 42/2022: full = toàn trình, partial = một phần, none)
        -- and whether the procedure is in force, over [valid_from, valid_to): valid_to is exclusive
        -- and NULL while the state lasts. A withdrawn procedure ends with an open row with
        -- active = FALSE and its last level, as `procedures` keeps it with active = FALSE. Rows are
        -- appended by warehouse.reference (a change takes effect on the day it is loaded); days
        -- before that are never rewritten. `procedures` keeps the state today.
        CREATE TABLE procedure_levels (
            procedure_code  VARCHAR NOT NULL,
            online_level    VARCHAR NOT NULL,   -- full | partial | none
            active          BOOLEAN NOT NULL,
            valid_from      DATE NOT NULL,
            valid_to        DATE,               -- exclusive; NULL = still in force
            PRIMARY KEY (procedure_code, valid_from)
        );
        """ + procedure_levels_fill_sql()


LATEST_VERSION = MIGRATIONS[-1][0]


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    row = con.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Bring the schema to the latest version; return the versions applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP)"
    )
    have = current_version(con)
    applied = []
    for version, name, sql in MIGRATIONS:
        if version <= have:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(sql() if callable(sql) else sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, current_localtimestamp())", [version, name]
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied
