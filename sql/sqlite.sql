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
--
-- phones and params are WITHOUT ROWID: each row is stored in its primary
-- key's b-tree, so a phone's row is one descent and its own parameters sit
-- side by side in one leaf, whatever order they were added in (a setting
-- added for every phone at once put each phone's rows on pages far apart).
-- A phone's first request after a change reads them in a read transaction
-- of its own, and the check-in writer's commits empty every connection's
-- page cache, so each page touched is read again: at 100,000 phones with
-- four parameters each, one such statement took 35-40 us with rowid
-- tables and 15-20 us without (a first poll after a change 0.55x -> about
-- 0.75x of a static file). tools/polycom-dbupgrade rebuilds the two tables
-- of a database made before this.
CREATE TABLE IF NOT EXISTS phones (
    mac           TEXT PRIMARY KEY
                  CHECK (length(mac) = 12 AND mac NOT GLOB '*[^0-9a-f]*'),
    model         TEXT NOT NULL DEFAULT '',
    site          TEXT NOT NULL DEFAULT '',
    label         TEXT NOT NULL DEFAULT '',
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_us    INTEGER NOT NULL DEFAULT 0,
    -- where SIP NOTIFY goes ("host" or "host:port"); '' = the address of
    -- its newest check-in, port 5060
    sip_address   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
-- When, from where and with what a phone was last seen: table last_seen.

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
) WITHOUT ROWID;

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
-- The console's pictures (GET stats): check-ins per hour over a week. New
-- rows go at the index's end, so a check-in pays little for it, unlike an
-- index on mac (see last_seen below).
CREATE INDEX IF NOT EXISTS checkins_time ON checkins (time_us);

-- The console's check-in pictures (GET stats): check-ins per hour (hour =
-- time_us / 3600000000), counted by the check-in writer in the transaction
-- that stores them, so a week's picture reads 168 rows, not every
-- check-in. Filled from the history when the table is new (empty): an
-- existing database's check-ins are counted once, by this statement.
CREATE TABLE IF NOT EXISTS checkin_hours (
    hour  INTEGER PRIMARY KEY,
    n     INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO checkin_hours (hour, n)
    SELECT time_us / 3600000000, count(*) FROM checkins
    WHERE NOT EXISTS (SELECT 1 FROM checkin_hours)
    GROUP BY time_us / 3600000000;

-- What each MAC did last, brought up to date from its check-ins (below):
-- its newest check-in (by time, the later-written on a tie) and its newest
-- good fetch of <mac>-settings.cfg (whether it has the settings it would
-- get now). One row per MAC, so these stay one lookup at any history size.
-- checkins has no index on mac: with one, every check-in of a large fleet
-- changed a page of a big index at random, and the check-in writer spent
-- most of its time reading and writing those pages (make bench, 100,000
-- phones, a new connection per request: p99 of a config with check-ins
-- 2.9x the static file's with the index, 1.2x with last_seen instead). A
-- phone's history (GET /admin/checkins?mac=) is read newest first: about
-- 0.5 s for a phone with few rows among 5 million. If you read it often on
-- a large fleet, add the index back, at that price per check-in:
--   CREATE INDEX checkins_by_mac ON checkins (mac, time_us);
-- (by another name than the old checkins_mac_time, which this file drops).
-- The check-in writer brings last_seen up to date apart from the
-- check-ins, from what it gathered of its batches (50 ms after its last
-- batch, or every five seconds under load: a statement per MAC in each
-- batch was 42 % of its work), so a row may be up to about five seconds
-- behind checkins; rows added to checkins by hand are taken in only by a
-- writer starting after one that crashed or was killed (it goes over the
-- last 30 s of check-ins). A child that writes check-ins itself (no
-- writer) writes last_seen with them.
CREATE TABLE IF NOT EXISTS last_seen (
    mac            TEXT PRIMARY KEY,
    time_us        INTEGER NOT NULL,
    ip             TEXT NOT NULL DEFAULT '',
    file           TEXT NOT NULL DEFAULT '',
    status         INTEGER NOT NULL DEFAULT 0,
    model          TEXT NOT NULL DEFAULT '',
    firmware       TEXT NOT NULL DEFAULT '',
    settings_etag  TEXT NOT NULL DEFAULT '',
    settings_us    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
-- A database made before last_seen existed (it still has the index
-- checkins_mac_time): fill last_seen from the history while the index makes
-- that quick, then drop the index. Without the index this is skipped: on a
-- large history each row's lookup would read the whole table.
INSERT OR IGNORE INTO last_seen (mac, time_us, ip, file, status, model,
                                 firmware, settings_etag, settings_us)
    SELECT c.mac, c.time_us, c.ip, c.file, c.status, c.model, c.firmware,
        coalesce((SELECT g.etag FROM checkins g
                   WHERE g.mac = c.mac AND g.file = c.mac || '-settings.cfg'
                   AND g.method = 'GET' AND g.status IN (200, 304)
                   ORDER BY g.time_us DESC, g.id DESC LIMIT 1), ''),
        coalesce((SELECT g.time_us FROM checkins g
                   WHERE g.mac = c.mac AND g.file = c.mac || '-settings.cfg'
                   AND g.method = 'GET' AND g.status IN (200, 304)
                   ORDER BY g.time_us DESC, g.id DESC LIMIT 1), 0)
    FROM checkins c
    WHERE c.mac <> '' AND c.id = (SELECT l.id FROM checkins l
                                  WHERE l.mac = c.mac
                                  ORDER BY l.time_us DESC, l.id DESC LIMIT 1)
    AND EXISTS (SELECT 1 FROM sqlite_master
                WHERE type = 'index' AND name = 'checkins_mac_time');
DROP INDEX IF EXISTS checkins_mac_time;

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

-- Files phones upload (overrides, directories, call lists); the
-- latest body per phone and kind. mac '000000000000' holds site-wide files.
CREATE TABLE IF NOT EXISTS uploads (
    mac        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    content    BLOB NOT NULL,
    size       INTEGER NOT NULL,
    time_us    INTEGER NOT NULL,
    PRIMARY KEY (mac, kind)
);

-- Logs phones upload (boot-log, app-log), kept as chunks in upload order;
-- the oldest chunks are pruned past the retention (PolycomLogRetention).
CREATE TABLE IF NOT EXISTS log_chunks (
    id       INTEGER PRIMARY KEY,
    mac      TEXT NOT NULL,
    kind     TEXT NOT NULL,
    time_us  INTEGER NOT NULL,
    size     INTEGER NOT NULL,
    content  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_chunks_mac_kind ON log_chunks (mac, kind, id);

-- Every change made through the admin API: who, when, what.
CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY,
    time_us  INTEGER NOT NULL,
    admin    TEXT NOT NULL DEFAULT '',
    action   TEXT NOT NULL,
    target   TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT ''
);
-- A phone's, a site's or a model's audit rows, newest last (the fleet
-- view's filter=outdated reads the history instead, which every write
-- makes, imports and SQL by hand included).
CREATE INDEX IF NOT EXISTS audit_target ON audit (target, time_us);

-- Reprovisioning: move phones to another provisioning server. A target
-- applies to one phone, a site, or the whole fleet (the most specific
-- wins); server_address is the target without scheme and credentials
-- ("host[:port]/path"), to recognise a check-in at the target.
CREATE TABLE IF NOT EXISTS reprovision (
    id             INTEGER PRIMARY KEY,
    scope          TEXT NOT NULL CHECK (scope IN ('phone', 'site', 'fleet')),
    scope_key      TEXT NOT NULL DEFAULT '',
    server         TEXT NOT NULL,
    server_address TEXT NOT NULL,
    server_type    TEXT NOT NULL,
    boot_server    TEXT NOT NULL,
    prov_user      TEXT NOT NULL DEFAULT '',
    prov_password  TEXT NOT NULL DEFAULT '',
    deadline_us    INTEGER,
    created_us     INTEGER NOT NULL,
    admin          TEXT NOT NULL DEFAULT '',
    UNIQUE (scope, scope_key)
);

-- Each phone's move: delivered when it fetched the stanza, confirmed when
-- it checked in at the target (it is then never served the stanza again).
CREATE TABLE IF NOT EXISTS reprovision_state (
    mac           TEXT NOT NULL,
    target_id     INTEGER NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('delivered', 'confirmed')),
    delivered_us  INTEGER,
    confirmed_us  INTEGER,
    PRIMARY KEY (mac, target_id)
);

-- SIP NOTIFY check-sync jobs, worked by one background task per node;
-- a node claims a job by moving it from queued to sending.
CREATE TABLE IF NOT EXISTS resync_queue (
    id             INTEGER PRIMARY KEY,
    mac            TEXT NOT NULL,
    reboot         INTEGER NOT NULL DEFAULT 0,
    host           TEXT NOT NULL,
    port           INTEGER NOT NULL,
    network        TEXT NOT NULL,
    not_before_us  INTEGER NOT NULL,
    state          TEXT NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'sending', 'done', 'failed')),
    claimed_by     TEXT NOT NULL DEFAULT '',
    claimed_us     INTEGER,
    created_us     INTEGER NOT NULL,
    admin          TEXT NOT NULL DEFAULT '',
    status         INTEGER,
    reason         TEXT NOT NULL DEFAULT '',
    transmissions  INTEGER NOT NULL DEFAULT 0,
    challenged     INTEGER NOT NULL DEFAULT 0,
    finished_us    INTEGER
);
CREATE INDEX IF NOT EXISTS resync_queue_due ON resync_queue (state, not_before_us);

-- Per-phone provisioning credentials, for Apache's own authentication
-- (mod_authn_dbd). A phone may have several (rotation: add the new one,
-- move the phone to it, delete the old one). password_hash is bcrypt, for
-- Basic (AuthDBDUserPWQuery); digest_ha1 is MD5(username:realm:password),
-- for Digest (AuthDBDUserRealmQuery). The clear password is never stored.
CREATE TABLE IF NOT EXISTS phone_credentials (
    username       TEXT PRIMARY KEY,
    mac            TEXT NOT NULL,
    realm          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    digest_ha1     TEXT NOT NULL,
    created_us     BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS phone_credentials_mac ON phone_credentials (mac);

-- One counter that every change to what phones are served moves, made by
-- the admin API or by hand with SQL alike (triggers): the module keeps
-- rendered files while it stands still. Check-ins do not move it.
CREATE TABLE IF NOT EXISTS revision (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    value  INTEGER NOT NULL
);
INSERT INTO revision (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING;
-- What each move of the revision was for: per scope ('global' and '', a
-- site, a model, a phone by its mac, 'reprovision' and '' for the moves)
-- the revision its newest change made, set by the same trigger after the
-- bump. A phone's settings are made of the global layer, its site's, its
-- model's, its own row and parameters, and the moves (its master of its
-- row and the moves): the module keeps them across changes to anything
-- else. With the one counter alone, one edit
-- of any phone made every cached file of the fleet stale (100,000 phones,
-- one edit a second: the settings 132 us a request instead of 65, make
-- bench). It starts empty: the module needs only the changes made after
-- it starts reading it.
CREATE TABLE IF NOT EXISTS scope_revisions (
    scope      TEXT NOT NULL,
    scope_key  TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    PRIMARY KEY (scope, scope_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS scope_revisions_revision ON scope_revisions (revision);
-- The revision's triggers are made anew each time this file is applied: a
-- trigger of an older schema must not stay, moving the revision without
-- saying what for, once schema_version says 4 (the module would trust an
-- empty table). In one savepoint (a transaction of its own when the file
-- is applied by hand, part of polycom-dbupgrade's otherwise), so that no
-- write of a running server falls between a trigger's drop and its
-- making again.
SAVEPOINT revision_triggers;
DROP TRIGGER IF EXISTS revision_params_i;
CREATE TRIGGER revision_params_i AFTER INSERT ON params
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES (new.scope, new.scope_key, (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
-- An update marks the scope the row leaves and the one it joins (the same
-- one twice, to the same value, when it stays).
DROP TRIGGER IF EXISTS revision_params_u;
CREATE TRIGGER revision_params_u AFTER UPDATE ON params
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES (old.scope, old.scope_key, (SELECT value FROM revision WHERE id = 1)),
               (new.scope, new.scope_key, (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_params_d;
CREATE TRIGGER revision_params_d AFTER DELETE ON params
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES (old.scope, old.scope_key, (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_phones_i;
CREATE TRIGGER revision_phones_i AFTER INSERT ON phones
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES ('phone', new.mac, (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_phones_u;
CREATE TRIGGER revision_phones_u
    AFTER UPDATE OF mac, model, site, label, enabled ON phones
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES ('phone', old.mac, (SELECT value FROM revision WHERE id = 1)),
               ('phone', new.mac, (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_phones_d;
CREATE TRIGGER revision_phones_d AFTER DELETE ON phones
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES ('phone', old.mac, (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_reprovision_i;
CREATE TRIGGER revision_reprovision_i AFTER INSERT ON reprovision
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_reprovision_u;
CREATE TRIGGER revision_reprovision_u AFTER UPDATE ON reprovision
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_reprovision_d;
CREATE TRIGGER revision_reprovision_d AFTER DELETE ON reprovision
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_state_i;
CREATE TRIGGER revision_state_i AFTER INSERT ON reprovision_state
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_state_u;
CREATE TRIGGER revision_state_u AFTER UPDATE ON reprovision_state
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
DROP TRIGGER IF EXISTS revision_state_d;
CREATE TRIGGER revision_state_d AFTER DELETE ON reprovision_state
    BEGIN UPDATE revision SET value = value + 1 WHERE id = 1;
    INSERT INTO scope_revisions (scope, scope_key, revision)
        VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
        ON CONFLICT (scope, scope_key) DO UPDATE SET revision = excluded.revision; END;
RELEASE revision_triggers;

-- What phones were served, flattened to name -> value: one row per distinct
-- ETag of a generated settings file, shared by every phone that got those
-- bytes (GET /admin/phones/{mac}/diff compares it with what the phone would
-- get now). A secret is kept only as a digest of its name and value. The
-- check-in writer adds a row when a render (a cache miss) made new bytes;
-- retention drops rows no phone's last fetch refers to any more.
--
-- A rowid table, unlike phones and params: after a change of a layer,
-- every phone's next poll adds a row of a few hundred bytes under a new
-- ETag, which falls anywhere in the ETags' order. Stored in the ETags'
-- order (WITHOUT ROWID, as until the twenty-ninth session, within the same
-- schema version) each row landed on a page of its own among 50 MB at
-- 100,000 phones, and the check-in writer wrote that whole page; by rowid
-- the rows are appended side by side, and only the index on the ETag (a
-- few dozen bytes a row) takes them in its order: half the writer's cost
-- of a row, measured. tools/polycom-dbupgrade rebuilds the table of a
-- database made before this.
CREATE TABLE IF NOT EXISTS snapshots (
    id          INTEGER PRIMARY KEY,
    etag        TEXT NOT NULL UNIQUE,
    created_us  INTEGER NOT NULL,
    params      TEXT NOT NULL
);
-- The retention looks for snapshots past their age by this index, so a
-- round that finds none reads no row (without it, every row of snapshots
-- and last_seen, every ten seconds: 97 ms at 100,000 phones).
CREATE INDEX IF NOT EXISTS snapshots_created ON snapshots (created_us);

-- Every change to the layers (params) and the phones, made by the admin
-- API or by hand with SQL alike (triggers): one row per parameter or phone
-- field, old_value NULL when it was added, new_value NULL when removed.
-- The admin API fills in admin and audit_id (the audit row of its write)
-- in the same transaction; a change made by hand has neither. Restoring a
-- layer or a phone to an earlier version reads these rows backwards. Rows
-- hold values as params does, secrets included (the API masks them).
CREATE TABLE IF NOT EXISTS history (
    id         INTEGER PRIMARY KEY,
    time_us    INTEGER NOT NULL,
    admin      TEXT NOT NULL DEFAULT '',
    audit_id   INTEGER,
    kind       TEXT NOT NULL CHECK (kind IN ('param', 'phone')),
    scope      TEXT NOT NULL,
    scope_key  TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    old_value  TEXT,
    new_value  TEXT
);
CREATE INDEX IF NOT EXISTS history_layer ON history (scope, scope_key, id);
CREATE INDEX IF NOT EXISTS history_time ON history (time_us);
CREATE TRIGGER IF NOT EXISTS history_params_i AFTER INSERT ON params
    BEGIN INSERT INTO history (time_us, kind, scope, scope_key, name, new_value)
        VALUES (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'param', new.scope, new.scope_key, new.name, new.value); END;
CREATE TRIGGER IF NOT EXISTS history_params_d AFTER DELETE ON params
    BEGIN INSERT INTO history (time_us, kind, scope, scope_key, name, old_value)
        VALUES (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'param', old.scope, old.scope_key, old.name, old.value); END;
CREATE TRIGGER IF NOT EXISTS history_params_u AFTER UPDATE ON params
    BEGIN
    INSERT INTO history (time_us, kind, scope, scope_key, name, old_value)
        SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'param', old.scope, old.scope_key, old.name, old.value
        WHERE NOT (old.scope IS new.scope AND old.scope_key IS new.scope_key AND old.name IS new.name);
    INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
        SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'param', new.scope, new.scope_key, new.name,
            CASE WHEN old.scope IS new.scope AND old.scope_key IS new.scope_key AND old.name IS new.name THEN old.value END, new.value
        WHERE NOT (old.scope IS new.scope AND old.scope_key IS new.scope_key AND old.name IS new.name AND old.value IS new.value);
    END;
CREATE TRIGGER IF NOT EXISTS history_phones_i AFTER INSERT ON phones
    BEGIN INSERT INTO history (time_us, kind, scope, scope_key, name, new_value) VALUES
        (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', new.mac, 'model', new.model),
        (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', new.mac, 'site', new.site),
        (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', new.mac, 'label', new.label),
        (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', new.mac, 'enabled', new.enabled); END;
CREATE TRIGGER IF NOT EXISTS history_phones_d AFTER DELETE ON phones
    BEGIN INSERT INTO history (time_us, kind, scope, scope_key, name, old_value) VALUES
        (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', old.mac, 'model', old.model),
        (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', old.mac, 'site', old.site),
        (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', old.mac, 'label', old.label),
        (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', old.mac, 'enabled', old.enabled); END;
CREATE TRIGGER IF NOT EXISTS history_phones_u
    AFTER UPDATE OF model, site, label, enabled ON phones
    BEGIN
    INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
        SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', new.mac, 'model', old.model, new.model WHERE old.model IS NOT new.model;
    INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
        SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', new.mac, 'site', old.site, new.site WHERE old.site IS NOT new.site;
    INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
        SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', new.mac, 'label', old.label, new.label WHERE old.label IS NOT new.label;
    INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
        SELECT CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER), 'phone', 'phone', new.mac, 'enabled', old.enabled, new.enabled WHERE old.enabled IS NOT new.enabled;
    END;

-- The newest change of each layer (scope 'global' with key '', a site, a
-- model, or a phone: its row or its parameters), as history records it:
-- kept by a trigger on history, so every write counts, SQL by hand
-- included. The fleet view's "not up to date" compares a phone's last
-- fetch with its own layer's row here (one key look-up per phone, where
-- the newest history row of each phone cost a subquery per phone) and its
-- site's, model's and the global row (a few rows, read once). Filled from
-- history when the table is new (empty), after its trigger exists, so a
-- write meanwhile is in one or the other (polycom-dbupgrade fills it again
-- when it migrates to version 3, whatever it holds).
CREATE TABLE IF NOT EXISTS layer_changes (
    scope       TEXT NOT NULL,
    scope_key   TEXT NOT NULL,
    changed_us  INTEGER NOT NULL,
    PRIMARY KEY (scope, scope_key)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS layer_changes_history AFTER INSERT ON history
    BEGIN INSERT INTO layer_changes (scope, scope_key, changed_us)
        VALUES (new.scope, new.scope_key, new.time_us)
        ON CONFLICT (scope, scope_key) DO UPDATE
        SET changed_us = max(changed_us, excluded.changed_us); END;
INSERT INTO layer_changes (scope, scope_key, changed_us)
    SELECT scope, scope_key, max(time_us) FROM history
    WHERE NOT EXISTS (SELECT 1 FROM layer_changes)
    GROUP BY scope, scope_key
    ON CONFLICT (scope, scope_key) DO UPDATE
    SET changed_us = max(changed_us, excluded.changed_us);

-- The version of this schema (include/polycom_schema.h,
-- POLYCOM_SCHEMA_VERSION): one row. A database without the table was made
-- before versions were recorded (version 0). Upgrade an older database with
-- tools/polycom-dbupgrade, which also makes the changes that adding what is
-- missing cannot (columns); applying this file again never lowers it.
CREATE TABLE IF NOT EXISTS schema_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  INTEGER NOT NULL
);
INSERT INTO schema_version (id, version) VALUES (1, 4)
    ON CONFLICT (id) DO UPDATE SET version = max(version, excluded.version);
