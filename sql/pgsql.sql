-- mod_polycom schema for PostgreSQL (DBDriver pgsql). The same tables and
-- columns as sql/sqlite.sql, in PostgreSQL's types; every statement of the
-- module runs unchanged on both.
--   createdb polycom && psql -d polycom -f sql/pgsql.sql
-- Times are microseconds since the Unix epoch (apr_time_t).

CREATE TABLE IF NOT EXISTS phones (
    mac           TEXT PRIMARY KEY CHECK (mac ~ '^[0-9a-f]{12}$'),
    model         TEXT NOT NULL DEFAULT '',
    site          TEXT NOT NULL DEFAULT '',
    label         TEXT NOT NULL DEFAULT '',
    enabled       BIGINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_us    BIGINT NOT NULL DEFAULT 0,
    sip_address   TEXT NOT NULL DEFAULT ''
);
-- When, from where and with what a phone was last seen: table last_seen.

CREATE TABLE IF NOT EXISTS params (
    scope      TEXT NOT NULL
               CHECK (scope IN ('global', 'site', 'model', 'phone')),
    scope_key  TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    value      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (scope, scope_key, name)
);

CREATE TABLE IF NOT EXISTS checkins (
    id          BIGSERIAL PRIMARY KEY,
    time_us     BIGINT NOT NULL,
    mac         TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    method      TEXT NOT NULL DEFAULT '',
    file        TEXT NOT NULL DEFAULT '',
    status      BIGINT NOT NULL DEFAULT 0,
    bytes       BIGINT NOT NULL DEFAULT 0,
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
-- A phone's history (GET /admin/checkins?mac=). SQLite goes without it
-- (see sql/sqlite.sql); a server keeps it in its own memory.
CREATE INDEX IF NOT EXISTS checkins_mac_time ON checkins (mac, time_us);

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
    SELECT time_us / 3600000000, count(*) FROM checkins
    WHERE NOT EXISTS (SELECT 1 FROM checkin_hours)
    GROUP BY time_us / 3600000000;

-- What each MAC did last, brought up to date from its check-ins (see
-- sql/sqlite.sql).
CREATE TABLE IF NOT EXISTS last_seen (
    mac            TEXT PRIMARY KEY,
    time_us        BIGINT NOT NULL,
    ip             TEXT NOT NULL DEFAULT '',
    file           TEXT NOT NULL DEFAULT '',
    status         BIGINT NOT NULL DEFAULT 0,
    model          TEXT NOT NULL DEFAULT '',
    firmware       TEXT NOT NULL DEFAULT '',
    settings_etag  TEXT NOT NULL DEFAULT '',
    settings_us    BIGINT NOT NULL DEFAULT 0
);
-- A database made before last_seen existed: fill it from the history (once:
-- not when last_seen has rows).
INSERT INTO last_seen (mac, time_us, ip, file, status, model,
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
    AND NOT EXISTS (SELECT 1 FROM last_seen)
    ON CONFLICT (mac) DO NOTHING;

CREATE TABLE IF NOT EXISTS discovered (
    mac            TEXT PRIMARY KEY,
    first_seen_us  BIGINT NOT NULL,
    last_seen_us   BIGINT NOT NULL,
    last_ip        TEXT NOT NULL DEFAULT '',
    model          TEXT NOT NULL DEFAULT '',
    firmware       TEXT NOT NULL DEFAULT '',
    requests       BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS uploads (
    mac        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    content    TEXT NOT NULL,
    size       BIGINT NOT NULL,
    time_us    BIGINT NOT NULL,
    PRIMARY KEY (mac, kind)
);

CREATE TABLE IF NOT EXISTS log_chunks (
    id       BIGSERIAL PRIMARY KEY,
    mac      TEXT NOT NULL,
    kind     TEXT NOT NULL,
    time_us  BIGINT NOT NULL,
    size     BIGINT NOT NULL,
    content  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS log_chunks_mac_kind ON log_chunks (mac, kind, id);

CREATE TABLE IF NOT EXISTS audit (
    id       BIGSERIAL PRIMARY KEY,
    time_us  BIGINT NOT NULL,
    admin    TEXT NOT NULL DEFAULT '',
    action   TEXT NOT NULL,
    target   TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT ''
);
-- A phone's, a site's or a model's audit rows, newest last (the fleet
-- view's filter=outdated reads the history instead, which every write
-- makes, imports and SQL by hand included).
CREATE INDEX IF NOT EXISTS audit_target ON audit (target, time_us);

CREATE TABLE IF NOT EXISTS reprovision (
    id             BIGSERIAL PRIMARY KEY,
    scope          TEXT NOT NULL CHECK (scope IN ('phone', 'site', 'fleet')),
    scope_key      TEXT NOT NULL DEFAULT '',
    server         TEXT NOT NULL,
    server_address TEXT NOT NULL,
    server_type    TEXT NOT NULL,
    boot_server    TEXT NOT NULL,
    prov_user      TEXT NOT NULL DEFAULT '',
    prov_password  TEXT NOT NULL DEFAULT '',
    deadline_us    BIGINT,
    created_us     BIGINT NOT NULL,
    admin          TEXT NOT NULL DEFAULT '',
    UNIQUE (scope, scope_key)
);

CREATE TABLE IF NOT EXISTS reprovision_state (
    mac           TEXT NOT NULL,
    target_id     BIGINT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('delivered', 'confirmed')),
    delivered_us  BIGINT,
    confirmed_us  BIGINT,
    PRIMARY KEY (mac, target_id)
);

CREATE TABLE IF NOT EXISTS resync_queue (
    id             BIGSERIAL PRIMARY KEY,
    mac            TEXT NOT NULL,
    reboot         BIGINT NOT NULL DEFAULT 0,
    host           TEXT NOT NULL,
    port           BIGINT NOT NULL,
    network        TEXT NOT NULL,
    not_before_us  BIGINT NOT NULL,
    state          TEXT NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'sending', 'done', 'failed')),
    claimed_by     TEXT NOT NULL DEFAULT '',
    claimed_us     BIGINT,
    created_us     BIGINT NOT NULL,
    admin          TEXT NOT NULL DEFAULT '',
    status         BIGINT,
    reason         TEXT NOT NULL DEFAULT '',
    transmissions  BIGINT NOT NULL DEFAULT 0,
    challenged     BIGINT NOT NULL DEFAULT 0,
    finished_us    BIGINT
);
CREATE INDEX IF NOT EXISTS resync_queue_due ON resync_queue (state, not_before_us);

-- Per-phone provisioning credentials, for Apache's own authentication
-- (mod_authn_dbd): see sql/sqlite.sql.
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
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    value  BIGINT NOT NULL
);
INSERT INTO revision (id, value) VALUES (1, 0) ON CONFLICT DO NOTHING;
-- What each move of the revision was for, per scope: see sql/sqlite.sql.
CREATE TABLE IF NOT EXISTS scope_revisions (
    scope      TEXT NOT NULL,
    scope_key  TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    PRIMARY KEY (scope, scope_key)
);
CREATE INDEX IF NOT EXISTS scope_revisions_revision ON scope_revisions (revision);
-- One function for the four tables' triggers: the scope a change touches
-- depends on the table (reprovision has a scope column too, of its own
-- meaning). An update marks the scope the row leaves and the one it joins,
-- the second only when it differs (one statement may not upsert a row
-- twice). OLD is not set on INSERT, nor NEW on DELETE.
CREATE OR REPLACE FUNCTION polycom_bump_revision() RETURNS trigger AS $$
DECLARE
    moved_to BIGINT;
    old_scope TEXT;
    old_key TEXT;
    new_scope TEXT;
    new_key TEXT;
BEGIN
    UPDATE revision SET value = value + 1 WHERE id = 1
        RETURNING value INTO moved_to;
    IF TG_TABLE_NAME = 'params' THEN
        IF TG_OP <> 'INSERT' THEN
            old_scope := OLD.scope;
            old_key := OLD.scope_key;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            new_scope := NEW.scope;
            new_key := NEW.scope_key;
        END IF;
    ELSIF TG_TABLE_NAME = 'phones' THEN
        IF TG_OP <> 'INSERT' THEN
            old_scope := 'phone';
            old_key := OLD.mac;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            new_scope := 'phone';
            new_key := NEW.mac;
        END IF;
    ELSE
        new_scope := 'reprovision';     -- reprovision, reprovision_state
        new_key := '';
    END IF;
    IF old_scope IS NOT NULL THEN
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES (old_scope, old_key, moved_to)
            ON CONFLICT (scope, scope_key) DO UPDATE
            SET revision = EXCLUDED.revision;
    END IF;
    IF new_scope IS NOT NULL
       AND (new_scope, new_key) IS DISTINCT FROM (old_scope, old_key) THEN
        INSERT INTO scope_revisions (scope, scope_key, revision)
            VALUES (new_scope, new_key, moved_to)
            ON CONFLICT (scope, scope_key) DO UPDATE
            SET revision = EXCLUDED.revision;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER revision_params AFTER INSERT OR UPDATE OR DELETE
    ON params FOR EACH ROW EXECUTE FUNCTION polycom_bump_revision();
CREATE OR REPLACE TRIGGER revision_phones
    AFTER INSERT OR DELETE OR UPDATE OF mac, model, site, label, enabled
    ON phones FOR EACH ROW EXECUTE FUNCTION polycom_bump_revision();
CREATE OR REPLACE TRIGGER revision_reprovision AFTER INSERT OR UPDATE OR DELETE
    ON reprovision FOR EACH ROW EXECUTE FUNCTION polycom_bump_revision();
CREATE OR REPLACE TRIGGER revision_state AFTER INSERT OR UPDATE OR DELETE
    ON reprovision_state FOR EACH ROW EXECUTE FUNCTION polycom_bump_revision();

-- What phones were served, flattened to name -> value: one row per distinct
-- ETag of a generated settings file, shared by every phone that got those
-- bytes (GET /admin/phones/{mac}/diff compares it with what the phone would
-- get now). A secret is kept only as a digest of its name and value. The
-- check-in writer adds a row when a render (a cache miss) made new bytes;
-- retention drops rows no phone's last fetch refers to any more.
CREATE TABLE IF NOT EXISTS snapshots (
    etag        TEXT PRIMARY KEY,
    created_us  BIGINT NOT NULL,
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
-- A change by hand is one transaction (its rows share now()).
CREATE TABLE IF NOT EXISTS history (
    id         BIGSERIAL PRIMARY KEY,
    time_us    BIGINT NOT NULL,
    admin      TEXT NOT NULL DEFAULT '',
    audit_id   BIGINT,
    kind       TEXT NOT NULL CHECK (kind IN ('param', 'phone')),
    scope      TEXT NOT NULL,
    scope_key  TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    old_value  TEXT,
    new_value  TEXT
);
CREATE INDEX IF NOT EXISTS history_layer ON history (scope, scope_key, id);
CREATE INDEX IF NOT EXISTS history_time ON history (time_us);
CREATE OR REPLACE FUNCTION polycom_history_params() RETURNS trigger AS $$
DECLARE
    now_us BIGINT := (extract(epoch FROM now()) * 1000000)::bigint;
    moved BOOLEAN := TG_OP = 'UPDATE'
        AND (OLD.scope, OLD.scope_key, OLD.name)
            IS DISTINCT FROM (NEW.scope, NEW.scope_key, NEW.name);
BEGIN
    IF TG_OP = 'DELETE' OR moved THEN
        INSERT INTO history (time_us, kind, scope, scope_key, name, old_value)
            VALUES (now_us, 'param', OLD.scope, OLD.scope_key, OLD.name, OLD.value);
    END IF;
    IF TG_OP = 'INSERT' OR moved THEN
        INSERT INTO history (time_us, kind, scope, scope_key, name, new_value)
            VALUES (now_us, 'param', NEW.scope, NEW.scope_key, NEW.name, NEW.value);
    ELSIF TG_OP = 'UPDATE' AND OLD.value IS DISTINCT FROM NEW.value THEN
        INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
            VALUES (now_us, 'param', NEW.scope, NEW.scope_key, NEW.name, OLD.value, NEW.value);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER history_params AFTER INSERT OR UPDATE OR DELETE
    ON params FOR EACH ROW EXECUTE FUNCTION polycom_history_params();
CREATE OR REPLACE FUNCTION polycom_history_phones() RETURNS trigger AS $$
DECLARE
    now_us BIGINT := (extract(epoch FROM now()) * 1000000)::bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO history (time_us, kind, scope, scope_key, name, new_value) VALUES
            (now_us, 'phone', 'phone', NEW.mac, 'model', NEW.model),
            (now_us, 'phone', 'phone', NEW.mac, 'site', NEW.site),
            (now_us, 'phone', 'phone', NEW.mac, 'label', NEW.label),
            (now_us, 'phone', 'phone', NEW.mac, 'enabled', NEW.enabled::text);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO history (time_us, kind, scope, scope_key, name, old_value) VALUES
            (now_us, 'phone', 'phone', OLD.mac, 'model', OLD.model),
            (now_us, 'phone', 'phone', OLD.mac, 'site', OLD.site),
            (now_us, 'phone', 'phone', OLD.mac, 'label', OLD.label),
            (now_us, 'phone', 'phone', OLD.mac, 'enabled', OLD.enabled::text);
    ELSE
        INSERT INTO history (time_us, kind, scope, scope_key, name, old_value, new_value)
            SELECT now_us, 'phone', 'phone', NEW.mac, f.name, f.old_value, f.new_value
            FROM (VALUES ('model', OLD.model, NEW.model),
                         ('site', OLD.site, NEW.site),
                         ('label', OLD.label, NEW.label),
                         ('enabled', OLD.enabled::text, NEW.enabled::text))
                AS f (name, old_value, new_value)
            WHERE f.old_value IS DISTINCT FROM f.new_value;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER history_phones
    AFTER INSERT OR DELETE OR UPDATE OF model, site, label, enabled
    ON phones FOR EACH ROW EXECUTE FUNCTION polycom_history_phones();

-- The newest change of each layer, kept by a trigger on history: see
-- sql/sqlite.sql. Filled from history when the table is new (empty), once
-- the trigger exists.
CREATE TABLE IF NOT EXISTS layer_changes (
    scope       TEXT NOT NULL,
    scope_key   TEXT NOT NULL,
    changed_us  BIGINT NOT NULL,
    PRIMARY KEY (scope, scope_key)
);
-- The revision row is locked first, as every write of the admin API does
-- (polycom_store_lock_revision): history's trigger runs before revision's
-- (triggers fire in name order), and taking the layer's row first would
-- deadlock a change made by hand against an API write to the same layer.
CREATE OR REPLACE FUNCTION polycom_layer_changed() RETURNS trigger AS $$
BEGIN
    PERFORM 1 FROM revision WHERE id = 1 FOR NO KEY UPDATE;
    INSERT INTO layer_changes (scope, scope_key, changed_us)
        VALUES (NEW.scope, NEW.scope_key, NEW.time_us)
        ON CONFLICT (scope, scope_key) DO UPDATE
        SET changed_us = GREATEST(layer_changes.changed_us, EXCLUDED.changed_us);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE TRIGGER layer_changes_history AFTER INSERT
    ON history FOR EACH ROW EXECUTE FUNCTION polycom_layer_changed();
INSERT INTO layer_changes (scope, scope_key, changed_us)
    SELECT scope, scope_key, max(time_us) FROM history
    WHERE NOT EXISTS (SELECT 1 FROM layer_changes)
    GROUP BY scope, scope_key
    ON CONFLICT (scope, scope_key) DO UPDATE
    SET changed_us = GREATEST(layer_changes.changed_us, EXCLUDED.changed_us);

-- The version of this schema: see sql/sqlite.sql.
CREATE TABLE IF NOT EXISTS schema_version (
    id       BIGINT PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO schema_version (id, version) VALUES (1, 4)
    ON CONFLICT (id) DO UPDATE
    SET version = GREATEST(schema_version.version, EXCLUDED.version);
