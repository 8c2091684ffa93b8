-- sql/sqlite.sql as of commit d9a94c1 (2026-11-23), a schema from before
-- versions were recorded (version 0): t/dbupgrade.t and make test-deb migrate it.
-- mod_polycom schema for SQLite (DBDriver sqlite3).
--
-- Apply once to a new file:  sqlite3 /var/lib/polycom/polycom.db < sql/sqlite.sql
-- The file is put in WAL mode here (a persistent property of the file), so
-- phones can be served while check-ins are written. Give the directory and
-- the file to the httpd user: SQLite writes its -wal and -shm files beside it.
-- Per connection, mod_dbd should also set a busy timeout and NORMAL sync:
--   DBDInitSQL "PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL"
-- Times are microseconds since the Unix epoch (apr_time_t).

PRAGMA journal_mode = WAL;

-- The fleet. model is the master token of REFERENCE.md 2.4 (SPIP330,
-- VVX411, Trio8800): it selects model-scope parameters and firmware.
CREATE TABLE IF NOT EXISTS phones (
    mac           TEXT PRIMARY KEY
                  CHECK (length(mac) = 12 AND mac NOT GLOB '*[^0-9a-f]*'),
    model         TEXT NOT NULL DEFAULT '',
    site          TEXT NOT NULL DEFAULT '',
    label         TEXT NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_us    INTEGER NOT NULL DEFAULT 0,
    -- last-seen summary, kept current by every check-in of this phone
    last_seen_us  INTEGER,
    last_ip       TEXT,
    last_file     TEXT,
    last_status   INTEGER,
    last_model    TEXT,
    last_firmware TEXT
);

-- Settings as Polycom parameters at a scope, lowest first:
-- global (scope_key '') < site (site name) < model (token) < phone (mac).
-- The most specific scope wins; registrations are phone-scope reg.N.*.
CREATE TABLE IF NOT EXISTS params (
    scope      TEXT NOT NULL
               CHECK (scope IN ('global', 'site', 'model', 'phone')),
    scope_key  TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    value      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (scope, scope_key, name)
);

-- Append-only history: one row per provisioning request.
CREATE TABLE IF NOT EXISTS checkins (
    id          INTEGER PRIMARY KEY,
    time_us     INTEGER NOT NULL,
    mac         TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    method      TEXT NOT NULL DEFAULT '',
    file        TEXT NOT NULL DEFAULT '',
    status      INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    etag        TEXT NOT NULL DEFAULT '',
    family      TEXT NOT NULL DEFAULT '',
    model       TEXT NOT NULL DEFAULT '',
    firmware    TEXT NOT NULL DEFAULT '',
    stage       TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS checkins_mac_time ON checkins (mac, time_us);

-- MACs that asked for a master while unknown to the phones table.
CREATE TABLE IF NOT EXISTS discovered (
    mac            TEXT PRIMARY KEY,
    first_seen_us  INTEGER NOT NULL,
    last_seen_us   INTEGER NOT NULL,
    last_ip        TEXT NOT NULL DEFAULT '',
    model          TEXT NOT NULL DEFAULT '',
    firmware       TEXT NOT NULL DEFAULT '',
    requests       INTEGER NOT NULL DEFAULT 1
);

-- Files phones upload (logs, overrides, directories, call lists); the
-- latest body per phone and kind. mac '000000000000' holds site-wide files.
CREATE TABLE IF NOT EXISTS uploads (
    mac        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    content    BLOB NOT NULL,
    size       INTEGER NOT NULL,
    time_us    INTEGER NOT NULL,
    PRIMARY KEY (mac, kind)
);
