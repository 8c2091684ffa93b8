-- mod_polycom schema for MariaDB (DBDriver mysql; 10.3 or newer, tested
-- with Debian 12's 10.11; MySQL's own server lacks CREATE OR REPLACE
-- TRIGGER, which this file uses). The same
-- tables and columns as sql/sqlite.sql and sql/pgsql.sql; the few statements
-- whose syntax differs have their MySQL form beside the common one in
-- src/store.c.
--   mariadb -e 'CREATE DATABASE polycom'
--   mariadb --default-character-set=utf8mb4 polycom < sql/mysql.sql
-- InnoDB throughout (transactions); every text column is utf8mb4 with the
-- binary collation, so that names compare and sort byte for byte as they do
-- in SQLite and PostgreSQL ('VVX411' and 'vvx411' are two models).
-- Columns that are keys are VARCHARs of the lengths the admin API allows;
-- free text is TEXT, uploads and log chunks MEDIUMTEXT (up to 16 MB; the
-- driver's fldsz, 1 MB unless DBDParams says more, bounds what it reads).
-- Times are microseconds since the Unix epoch (apr_time_t).

SET NAMES utf8mb4 COLLATE utf8mb4_bin;

CREATE TABLE IF NOT EXISTS phones (
    mac           VARCHAR(12) PRIMARY KEY
                  CHECK (mac REGEXP BINARY '^[0-9a-f]{12}$'),
    model         VARCHAR(64) NOT NULL DEFAULT '',
    site          VARCHAR(64) NOT NULL DEFAULT '',
    label         VARCHAR(256) NOT NULL DEFAULT '',
    enabled       BIGINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_us    BIGINT NOT NULL DEFAULT 0,
    sip_address   VARCHAR(255) NOT NULL DEFAULT '',
    KEY phones_site (site)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS params (
    scope      VARCHAR(8) NOT NULL
               CHECK (scope IN ('global', 'site', 'model', 'phone')),
    scope_key  VARCHAR(64) NOT NULL DEFAULT '',
    name       VARCHAR(255) NOT NULL,
    value      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (scope, scope_key, name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS checkins (
    id          BIGINT AUTO_INCREMENT PRIMARY KEY,
    time_us     BIGINT NOT NULL,
    mac         VARCHAR(12) NOT NULL DEFAULT '',
    ip          VARCHAR(64) NOT NULL DEFAULT '',
    method      VARCHAR(16) NOT NULL DEFAULT '',
    file        VARCHAR(255) NOT NULL DEFAULT '',
    status      BIGINT NOT NULL DEFAULT 0,
    bytes       BIGINT NOT NULL DEFAULT 0,
    etag        VARCHAR(64) NOT NULL DEFAULT '',
    family      VARCHAR(512) NOT NULL DEFAULT '',
    model       VARCHAR(512) NOT NULL DEFAULT '',
    firmware    VARCHAR(512) NOT NULL DEFAULT '',
    stage       VARCHAR(512) NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    -- a phone's history; SQLite goes without it (see sql/sqlite.sql)
    KEY checkins_mac_time (mac, time_us),
    -- the console's check-ins per hour (GET stats)
    KEY checkins_time (time_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The console's check-in pictures (GET stats): check-ins per hour (hour =
-- time_us / 3600000000), counted by the check-in writer in the transaction
-- that stores them, so a week's picture reads 168 rows, not every
-- check-in. Filled from the history when the table is new (empty): an
-- existing database's check-ins are counted once, by this statement.
CREATE TABLE IF NOT EXISTS checkin_hours (
    hour  BIGINT PRIMARY KEY,
    n     BIGINT NOT NULL
);
INSERT INTO checkin_hours (hour, n)
    SELECT time_us DIV 3600000000, count(*) FROM checkins
    WHERE NOT EXISTS (SELECT 1 FROM (SELECT hour FROM checkin_hours LIMIT 1) AS any_hour)
    GROUP BY time_us DIV 3600000000;

-- What each MAC did last, brought up to date from its check-ins (see
-- sql/sqlite.sql).
CREATE TABLE IF NOT EXISTS last_seen (
    mac            VARCHAR(12) PRIMARY KEY,
    time_us        BIGINT NOT NULL,
    ip             VARCHAR(64) NOT NULL DEFAULT '',
    file           VARCHAR(255) NOT NULL DEFAULT '',
    status         BIGINT NOT NULL DEFAULT 0,
    model          VARCHAR(512) NOT NULL DEFAULT '',
    firmware       VARCHAR(512) NOT NULL DEFAULT '',
    settings_etag  VARCHAR(64) NOT NULL DEFAULT '',
    settings_us    BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- A database made before last_seen existed: fill it from the history (once:
-- not when last_seen has rows).
INSERT IGNORE INTO last_seen (mac, time_us, ip, file, status, model,
                              firmware, settings_etag, settings_us)
    SELECT c.mac, c.time_us, c.ip, c.file, c.status, c.model, c.firmware,
        coalesce((SELECT g.etag FROM checkins g
                   WHERE g.mac = c.mac AND g.file = CONCAT(c.mac, '-settings.cfg')
                   AND g.method = 'GET' AND g.status IN (200, 304)
                   ORDER BY g.time_us DESC, g.id DESC LIMIT 1), ''),
        coalesce((SELECT g.time_us FROM checkins g
                   WHERE g.mac = c.mac AND g.file = CONCAT(c.mac, '-settings.cfg')
                   AND g.method = 'GET' AND g.status IN (200, 304)
                   ORDER BY g.time_us DESC, g.id DESC LIMIT 1), 0)
    FROM checkins c
    WHERE c.mac <> '' AND c.id = (SELECT l.id FROM checkins l
                                  WHERE l.mac = c.mac
                                  ORDER BY l.time_us DESC, l.id DESC LIMIT 1)
    AND NOT EXISTS (SELECT 1 FROM last_seen);

CREATE TABLE IF NOT EXISTS discovered (
    mac            VARCHAR(12) PRIMARY KEY,
    first_seen_us  BIGINT NOT NULL,
    last_seen_us   BIGINT NOT NULL,
    last_ip        VARCHAR(64) NOT NULL DEFAULT '',
    model          VARCHAR(512) NOT NULL DEFAULT '',
    firmware       VARCHAR(512) NOT NULL DEFAULT '',
    requests       BIGINT NOT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS uploads (
    mac        VARCHAR(12) NOT NULL,
    kind       VARCHAR(32) NOT NULL,
    content    MEDIUMTEXT NOT NULL,
    size       BIGINT NOT NULL,
    time_us    BIGINT NOT NULL,
    PRIMARY KEY (mac, kind)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS log_chunks (
    id       BIGINT AUTO_INCREMENT PRIMARY KEY,
    mac      VARCHAR(12) NOT NULL,
    kind     VARCHAR(32) NOT NULL,
    time_us  BIGINT NOT NULL,
    size     BIGINT NOT NULL,
    content  MEDIUMTEXT NOT NULL,
    KEY log_chunks_mac_kind (mac, kind, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS audit (
    id       BIGINT AUTO_INCREMENT PRIMARY KEY,
    time_us  BIGINT NOT NULL,
    admin    VARCHAR(255) NOT NULL DEFAULT '',
    action   VARCHAR(64) NOT NULL,
    target   VARCHAR(255) NOT NULL DEFAULT '',
    detail   MEDIUMTEXT NOT NULL DEFAULT '',
    -- a phone's, a site's or a model's audit rows (see sql/sqlite.sql)
    KEY audit_target (target, time_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS reprovision (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    scope          VARCHAR(8) NOT NULL
                   CHECK (scope IN ('phone', 'site', 'fleet')),
    scope_key      VARCHAR(64) NOT NULL DEFAULT '',
    server         VARCHAR(512) NOT NULL,
    server_address VARCHAR(512) NOT NULL,
    server_type    VARCHAR(16) NOT NULL,
    boot_server    VARCHAR(32) NOT NULL,
    prov_user      VARCHAR(255) NOT NULL DEFAULT '',
    prov_password  VARCHAR(255) NOT NULL DEFAULT '',
    deadline_us    BIGINT,
    created_us     BIGINT NOT NULL,
    admin          VARCHAR(255) NOT NULL DEFAULT '',
    UNIQUE KEY reprovision_scope (scope, scope_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS reprovision_state (
    mac           VARCHAR(12) NOT NULL,
    target_id     BIGINT NOT NULL,
    state         VARCHAR(16) NOT NULL
                  CHECK (state IN ('delivered', 'confirmed')),
    delivered_us  BIGINT,
    confirmed_us  BIGINT,
    PRIMARY KEY (mac, target_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS resync_queue (
    id             BIGINT AUTO_INCREMENT PRIMARY KEY,
    mac            VARCHAR(12) NOT NULL,
    reboot         BIGINT NOT NULL DEFAULT 0,
    host           VARCHAR(255) NOT NULL,
    port           BIGINT NOT NULL,
    network        VARCHAR(64) NOT NULL,
    not_before_us  BIGINT NOT NULL,
    state          VARCHAR(16) NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'sending', 'done', 'failed')),
    claimed_by     VARCHAR(255) NOT NULL DEFAULT '',
    claimed_us     BIGINT,
    created_us     BIGINT NOT NULL,
    admin          VARCHAR(255) NOT NULL DEFAULT '',
    status         BIGINT,
    reason         TEXT NOT NULL DEFAULT '',
    transmissions  BIGINT NOT NULL DEFAULT 0,
    challenged     BIGINT NOT NULL DEFAULT 0,
    finished_us    BIGINT,
    KEY resync_queue_due (state, not_before_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Per-phone provisioning credentials, for Apache's own authentication
-- (mod_authn_dbd): see sql/pgsql.sql.
CREATE TABLE IF NOT EXISTS phone_credentials (
    username       VARCHAR(64) PRIMARY KEY,
    mac            VARCHAR(12) NOT NULL,
    realm          VARCHAR(64) NOT NULL,
    password_hash  VARCHAR(255) NOT NULL,
    digest_ha1     VARCHAR(64) NOT NULL,
    created_us     BIGINT NOT NULL,
    KEY phone_credentials_mac (mac)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- One counter that every change to what phones are served moves, made by
-- the admin API or by hand with SQL alike (triggers): the module keeps
-- rendered files while it stands still. Check-ins do not move it, and
-- neither does an update that changes nothing (MySQL runs an ON DUPLICATE
-- KEY UPDATE even when every value stays the same), and neither does
-- last_seen.
CREATE TABLE IF NOT EXISTS revision (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    value  BIGINT NOT NULL
) ENGINE=InnoDB;
INSERT IGNORE INTO revision (id, value) VALUES (1, 0);
-- What each move of the revision was for, per scope: see sql/sqlite.sql.
-- scope is longer than params' ('reprovision'); scope_key as long as
-- params' (a site or a model) and phones.mac.
CREATE TABLE IF NOT EXISTS scope_revisions (
    scope      VARCHAR(16) NOT NULL,
    scope_key  VARCHAR(64) NOT NULL,
    revision   BIGINT NOT NULL,
    PRIMARY KEY (scope, scope_key),
    KEY scope_revisions_revision (revision)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- CREATE OR REPLACE: each application of this file makes the revision's
-- triggers anew, one statement each (no moment without one), so that a
-- trigger of an older schema never stays, moving the revision without
-- saying what for, once schema_version says 4. An update
-- marks the scope the row leaves and the one it joins (the same one twice,
-- to the same value, when it stays).
DELIMITER //
CREATE OR REPLACE TRIGGER revision_params_i AFTER INSERT ON params
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES (NEW.scope, NEW.scope_key, (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
CREATE OR REPLACE TRIGGER revision_params_u AFTER UPDATE ON params
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES (OLD.scope, OLD.scope_key, (SELECT value FROM revision WHERE id = 1)),
                   (NEW.scope, NEW.scope_key, (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
CREATE OR REPLACE TRIGGER revision_params_d AFTER DELETE ON params
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES (OLD.scope, OLD.scope_key, (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
CREATE OR REPLACE TRIGGER revision_phones_i AFTER INSERT ON phones
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES ('phone', NEW.mac, (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
CREATE OR REPLACE TRIGGER revision_phones_u AFTER UPDATE ON phones
    FOR EACH ROW
    IF NOT (OLD.mac <=> NEW.mac AND OLD.model <=> NEW.model
            AND OLD.site <=> NEW.site AND OLD.label <=> NEW.label
            AND OLD.enabled <=> NEW.enabled) THEN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES ('phone', OLD.mac, (SELECT value FROM revision WHERE id = 1)),
                   ('phone', NEW.mac, (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END IF//
CREATE OR REPLACE TRIGGER revision_phones_d AFTER DELETE ON phones
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES ('phone', OLD.mac, (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
CREATE OR REPLACE TRIGGER revision_reprovision_i AFTER INSERT ON reprovision
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
CREATE OR REPLACE TRIGGER revision_reprovision_u AFTER UPDATE ON reprovision
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
CREATE OR REPLACE TRIGGER revision_reprovision_d AFTER DELETE ON reprovision
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
CREATE OR REPLACE TRIGGER revision_state_i AFTER INSERT ON reprovision_state
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
CREATE OR REPLACE TRIGGER revision_state_u AFTER UPDATE ON reprovision_state
    FOR EACH ROW
    IF NOT (OLD.state <=> NEW.state
            AND OLD.delivered_us <=> NEW.delivered_us
            AND OLD.confirmed_us <=> NEW.confirmed_us) THEN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END IF//
CREATE OR REPLACE TRIGGER revision_state_d AFTER DELETE ON reprovision_state
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value + 1 WHERE id = 1;
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES ('reprovision', '', (SELECT value FROM revision WHERE id = 1))
            ON DUPLICATE KEY UPDATE revision = VALUES(revision);
    END//
DELIMITER ;

-- What phones were served, flattened to name -> value: one row per distinct
-- ETag of a generated settings file, shared by every phone that got those
-- bytes (GET /admin/phones/{mac}/diff compares it with what the phone would
-- get now). A secret is kept only as a digest of its name and value. The
-- check-in writer adds a row when a render (a cache miss) made new bytes;
-- retention drops rows no phone's last fetch refers to any more.
CREATE TABLE IF NOT EXISTS snapshots (
    etag        VARCHAR(64) PRIMARY KEY,
    created_us  BIGINT NOT NULL,
    params      MEDIUMTEXT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- The retention looks for snapshots past their age by this index, so a
-- round that finds none reads no row (without it, every row of snapshots
-- and last_seen, every ten seconds: 97 ms at 100,000 phones). Its own
-- statement, not a KEY of the table, so that an existing table gets it.
CREATE INDEX IF NOT EXISTS snapshots_created ON snapshots (created_us);

-- Every change to the layers (params) and the phones, made by the admin
-- API or by hand with SQL alike (triggers): one row per parameter or phone
-- field, old_value NULL when it was added, new_value NULL when removed.
-- The admin API fills in admin and audit_id (the audit row of its write)
-- in the same transaction; a change made by hand has neither. Restoring a
-- layer or a phone to an earlier version reads these rows backwards. Rows
-- hold values as params does, secrets included (the API masks them).
CREATE TABLE IF NOT EXISTS history (
    id         BIGINT AUTO_INCREMENT PRIMARY KEY,
    time_us    BIGINT NOT NULL,
    admin      VARCHAR(255) NOT NULL DEFAULT '',
    audit_id   BIGINT,
    kind       VARCHAR(8) NOT NULL CHECK (kind IN ('param', 'phone')),
    scope      VARCHAR(8) NOT NULL,
    scope_key  VARCHAR(64) NOT NULL DEFAULT '',
    name       VARCHAR(255) NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    KEY history_layer (scope, scope_key, id),
    KEY history_time (time_us)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

DELIMITER //
CREATE TRIGGER IF NOT EXISTS history_params_i AFTER INSERT ON params
    FOR EACH ROW INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
        VALUES (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'param', NEW.scope, NEW.scope_key, NEW.name, NULL, NEW.value)//
CREATE TRIGGER IF NOT EXISTS history_params_d AFTER DELETE ON params
    FOR EACH ROW INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
        VALUES (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'param', OLD.scope, OLD.scope_key, OLD.name, OLD.value, NULL)//
CREATE TRIGGER IF NOT EXISTS history_params_u AFTER UPDATE ON params
    FOR EACH ROW
    IF NOT (OLD.scope <=> NEW.scope AND OLD.scope_key <=> NEW.scope_key
            AND OLD.name <=> NEW.name) THEN
        INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
            VALUES (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'param', OLD.scope, OLD.scope_key, OLD.name, OLD.value, NULL),
                   (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'param', NEW.scope, NEW.scope_key, NEW.name, NULL, NEW.value);
    ELSEIF NOT OLD.value <=> NEW.value THEN
        INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
            VALUES (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'param', NEW.scope, NEW.scope_key, NEW.name, OLD.value, NEW.value);
    END IF//
CREATE TRIGGER IF NOT EXISTS history_phones_i AFTER INSERT ON phones
    FOR EACH ROW INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value) VALUES
            (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', NEW.mac, 'model', NULL, NEW.model),
            (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', NEW.mac, 'site', NULL, NEW.site),
            (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', NEW.mac, 'label', NULL, NEW.label),
            (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', NEW.mac, 'enabled', NULL, NEW.enabled)//
CREATE TRIGGER IF NOT EXISTS history_phones_d AFTER DELETE ON phones
    FOR EACH ROW INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value) VALUES
            (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', OLD.mac, 'model', OLD.model, NULL),
            (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', OLD.mac, 'site', OLD.site, NULL),
            (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', OLD.mac, 'label', OLD.label, NULL),
            (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', OLD.mac, 'enabled', OLD.enabled, NULL)//
CREATE TRIGGER IF NOT EXISTS history_phones_u AFTER UPDATE ON phones
    FOR EACH ROW
    BEGIN
        IF NOT OLD.model <=> NEW.model THEN
            INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
                VALUES (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', NEW.mac, 'model', OLD.model, NEW.model);
        END IF;
        IF NOT OLD.site <=> NEW.site THEN
            INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
                VALUES (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', NEW.mac, 'site', OLD.site, NEW.site);
        END IF;
        IF NOT OLD.label <=> NEW.label THEN
            INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
                VALUES (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', NEW.mac, 'label', OLD.label, NEW.label);
        END IF;
        IF NOT OLD.enabled <=> NEW.enabled THEN
            INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
                VALUES (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), 'phone', 'phone', NEW.mac, 'enabled', OLD.enabled, NEW.enabled);
        END IF;
    END//
DELIMITER ;

-- The newest change of each layer, kept by a trigger on history: see
-- sql/sqlite.sql. Filled from history when the table is new (empty), once
-- the trigger exists.
CREATE TABLE IF NOT EXISTS layer_changes (
    scope       VARCHAR(16) NOT NULL,
    scope_key   VARCHAR(64) NOT NULL,
    changed_us  BIGINT NOT NULL,
    PRIMARY KEY (scope, scope_key)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- The revision row is locked first, as every write of the admin API does
-- (polycom_store_lock_revision) and PostgreSQL's function does: MariaDB
-- fires a table's triggers in the order they were made, and the
-- revision's, made anew each time this file is applied, then come after
-- history's; taking the layer's row first would deadlock a change made by
-- hand against an API write to the same layer.
DELIMITER //
CREATE OR REPLACE TRIGGER layer_changes_history AFTER INSERT ON history
    FOR EACH ROW BEGIN
        UPDATE revision SET value = value WHERE id = 1;
        INSERT INTO layer_changes (scope, scope_key, changed_us)
            VALUES (NEW.scope, NEW.scope_key, NEW.time_us)
            ON DUPLICATE KEY UPDATE
            changed_us = GREATEST(changed_us, VALUES(changed_us));
    END//
DELIMITER ;
INSERT INTO layer_changes (scope, scope_key, changed_us)
    SELECT scope, scope_key, max(time_us) FROM history
    WHERE NOT EXISTS (SELECT 1 FROM layer_changes)
    GROUP BY scope, scope_key
    ON DUPLICATE KEY UPDATE changed_us = GREATEST(changed_us, VALUES(changed_us));

-- The version of this schema: see sql/sqlite.sql.
CREATE TABLE IF NOT EXISTS schema_version (
    id       BIGINT PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
INSERT INTO schema_version (id, version) VALUES (1, 4)
    ON DUPLICATE KEY UPDATE version = GREATEST(version, VALUES(version));
