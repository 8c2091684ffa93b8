# tools/polycom-dbupgrade on SQLite: a database made with an older schema
# (t/upgrade/sqlite-<commit>.sql, taken from git history: the first schema,
# the last one before last_seen, version 1, the last before history and
# snapshots, version 2, the last before layer_changes, and version 3, the
# last before scope_revisions) and filled with rows in every table is
# migrated in place to today's schema: every row kept, every table, column,
# index and trigger of a new database there, the version recorded; running
# it again changes nothing, a newer database is refused, and a migration
# that fails leaves the database as it was. phones and params, rowid tables
# until 314abda, are rebuilt as WITHOUT ROWID tables, and snapshots, a
# WITHOUT ROWID table until the twenty-ninth session, as a rowid table, at
# any version. Rows deleted by another writer (httpd's retention) while
# the tool waits for the lock do not fail a migration from version 3. The
# three schema files and include/polycom_schema.h name the same version.
# On a new database and on each migrated one, scope_revisions is there,
# empty, and every change that moves the revision marks the scopes it
# touches with the new value, and no other (scope_checks). PostgreSQL and
# MariaDB get the same, with t/upgrade/<driver>-<commit>.sql, when
# POLYCOM_PG_CONNINFO or POLYCOM_MY_CONNINFO names a server
# (tools/run-tests.sh starts them; tools/pg-server.sh and
# tools/my-server.sh start one by hand).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use FindBin;
use File::Temp qw(tempdir);
use File::Copy qw(copy);

my $top = "$FindBin::Bin/..";
my $tool = "$top/tools/polycom-dbupgrade";
my $dir = tempdir(CLEANUP => 1);

plan skip_all => 'sqlite3 (the command) is not installed'
    unless grep { -x "$_/sqlite3" } split /:/, $ENV{PATH};

sub sql {
    my ($db, $query) = @_;
    open my $fh, '-|', 'sqlite3', '-batch', '-noheader', '-init', '/dev/null',
        $db, $query or die "sqlite3: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return $out;
}
sub apply {
    my ($db, $file) = @_;
    system("sqlite3 -batch -init /dev/null '$db' < '$file' >/dev/null") == 0
        or die "sqlite3 $db < $file failed";
}
sub tool {
    my $out = `'$tool' @_ 2>&1`;
    return ($? >> 8, $out);
}
# Objects and columns: "table phones", "column phones.mac", "index ...".
sub shape {
    my ($db) = @_;
    my %shape;
    for my $row (split /\n/, sql($db, "SELECT type, name FROM sqlite_master"
                                      . " WHERE name NOT LIKE 'sqlite_%'")) {
        my ($type, $name) = split /\|/, $row;
        $shape{"$type $name"} = 1;
        next unless $type eq 'table';
        $shape{"column $name.$_"} = 1
            for split /\n/, sql($db, "SELECT name FROM pragma_table_info('$name')");
    }
    return \%shape;
}
# Every row of every table, in each table's own columns, in a stable order.
sub rows {
    my ($db, $columns_of) = @_;
    my %rows;
    for my $table (sort keys %$columns_of) {
        my $cols = join ', ', map { "quote($_)" } @{ $columns_of->{$table} };
        $rows{$table} = sql($db, "SELECT $cols FROM $table ORDER BY $cols");
    }
    return \%rows;
}
sub columns_of {
    my ($db) = @_;
    my %cols;
    for my $t (split /\n/, sql($db, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                   . " AND name NOT LIKE 'sqlite_%'")) {
        $cols{$t} = [ split /\n/, sql($db, "SELECT name FROM pragma_table_info('$t')") ];
    }
    return \%cols;
}

# scope_revisions (schema version 4) on a database just made or migrated:
# there, with its index, and empty. $q runs one statement and returns its
# rows as "a|b\n"; $index counts the index by its name.
sub scope_table_checks {
    my ($what, $q, $index) = @_;
    is($q->('SELECT count(*) FROM scope_revisions'), "0\n",
       "$what: table scope_revisions is there, empty");
    is($q->($index), "1\n", "$what: and its index on revision");
}
my %scope_index = (
    sqlite3 => "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
        . " AND tbl_name = 'scope_revisions' AND name = 'scope_revisions_revision'",
    pgsql => "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()"
        . " AND tablename = 'scope_revisions' AND indexname = 'scope_revisions_revision'",
    mysql => "SELECT count(DISTINCT index_name) FROM information_schema.statistics"
        . " WHERE table_schema = DATABASE() AND table_name = 'scope_revisions'"
        . " AND index_name = 'scope_revisions_revision'",
);
# Changes made by hand with SQL, as the module will read them: each moves
# the revision by one and marks the scopes it touches with the new value;
# a scope it does not touch keeps its row. Phones and names of their own,
# so that the rows a database already has do not matter.
sub scope_checks {
    my ($what, $q) = @_;
    my $rev = sub { $q->('SELECT value FROM revision WHERE id = 1') };
    my $at = sub {
        my ($scope, $key) = @_;
        return $q->("SELECT revision FROM scope_revisions"
                    . " WHERE scope = '$scope' AND scope_key = '$key'");
    };
    my ($a, $b) = ('0004f20000a1', '0004f20000b1');
    my $r = $rev->();
    $q->("INSERT INTO phones (mac, model, site) VALUES ('$a', 'VVX411', 'hq')");
    $q->("INSERT INTO phones (mac, model, site) VALUES ('$b', 'VVX411', 'hq')");
    is($at->('phone', $a) . $at->('phone', $b) . $rev->(),
       ($r + 1) . "\n" . ($r + 2) . "\n" . ($r + 2) . "\n",
       "$what: a new phone marks its own scope with the revision it moved to");

    $q->("INSERT INTO params VALUES ('site', 'hq', 'scope.test', '1')");
    is($at->('site', 'hq'), ($r + 3) . "\n",
       "$what: a site parameter added marks ('site', 'hq') with the new revision");
    is($rev->(), ($r + 3) . "\n", "$what: which is revision.value");

    $q->("UPDATE phones SET site = 'branch' WHERE mac = '$a'");
    is($at->('phone', $a) . $rev->(), ($r + 4) . "\n" . ($r + 4) . "\n",
       "$what: a phone moved to another site marks its scope");

    $q->("INSERT INTO params VALUES ('phone', '$a', 'reg.1.label', 'desk')");
    $q->("DELETE FROM params WHERE scope = 'phone' AND scope_key = '$a'");
    is($at->('phone', $a) . $rev->(), ($r + 6) . "\n" . ($r + 6) . "\n",
       "$what: a phone parameter deleted marks the phone's scope");

    $q->("INSERT INTO reprovision (scope, scope_key, server, server_address,"
         . " server_type, boot_server, created_us) VALUES ('fleet', '',"
         . " 'https://new.example/prov', 'new.example/prov', 'HTTPS', 'Static', 1)");
    is($at->('reprovision', '') . $rev->(), ($r + 7) . "\n" . ($r + 7) . "\n",
       "$what: a move added marks ('reprovision', '')");
    $q->("INSERT INTO reprovision_state (mac, target_id, state, delivered_us)"
         . " VALUES ('$a', 1, 'delivered', 2)");
    is($at->('reprovision', '') . $rev->(), ($r + 8) . "\n" . ($r + 8) . "\n",
       "$what: and a phone's move delivered too");

    $q->("INSERT INTO params VALUES ('site', 'a', 'scope.test', '1')");
    $q->("UPDATE params SET scope_key = 'b' WHERE scope = 'site' AND scope_key = 'a'");
    is($at->('site', 'a') . $at->('site', 'b') . $rev->(),
       ($r + 10) . "\n" . ($r + 10) . "\n" . ($r + 10) . "\n",
       "$what: a parameter moved from site a to site b marks both");

    $q->("INSERT INTO params VALUES ('global', '', 'scope.test', '1')");
    is($at->('global', ''), ($r + 11) . "\n", "$what: a global parameter marks ('global', '')");
    $q->("UPDATE phones SET label = 'lobby' WHERE mac = '$a'");
    is($at->('phone', $a) . $rev->(), ($r + 12) . "\n" . ($r + 12) . "\n",
       "$what: an edit of phone A marks A's scope");
    is($at->('phone', $b) . $at->('global', '') . $at->('site', 'hq'),
       ($r + 2) . "\n" . ($r + 11) . "\n" . ($r + 3) . "\n",
       "$what: and leaves phone B's, the global and its site's rows as they were");

    my $c = '0004f20000c1';
    $q->("UPDATE phones SET mac = '$c' WHERE mac = '$a'");
    is($at->('phone', $a) . $at->('phone', $c), ($r + 13) . "\n" . ($r + 13) . "\n",
       "$what: a phone's MAC changed marks the old MAC's scope and the new one's");
    $q->("DELETE FROM phones WHERE mac = '$b'");
    is($at->('phone', $b) . $rev->(), ($r + 14) . "\n" . ($r + 14) . "\n",
       "$what: a phone deleted marks its scope");
    is($q->("SELECT count(*) FROM scope_revisions WHERE revision > " . $rev->()), "0\n",
       "$what: no scope is marked past the revision");
}

# Rows in each table the old schema has, as the module of its day wrote them.
my %fill = (
    phones => "INSERT INTO phones (mac, model, site, label) VALUES
        ('0004f2000001', 'VVX411', 'hq', 'reception'),
        ('0004f2000002', 'SPIP330', 'hq', ''), ('0004f2000003', '', '', '')",
    params => "INSERT INTO params VALUES ('global', '', 'tcpIpApp.sntp.address', 'pool.ntp.org'),
        ('phone', '0004f2000001', 'reg.1.address', '1001'),
        ('phone', '0004f2000001', 'reg.1.auth.password', 's3cret')",
    checkins => "INSERT INTO checkins (time_us, mac, ip, method, file, status, etag, model, firmware)
        VALUES (1000, '0004f2000001', '192.0.2.1', 'GET', '0004f2000001-settings.cfg', 200, '\"e1\"', 'VVX411', '5.9.0'),
               (2000, '0004f2000001', '192.0.2.1', 'GET', '000000000000.cfg', 200, '\"m\"', 'VVX411', '5.9.0'),
               (1500, '0004f2000002', '192.0.2.2', 'GET', '0004f2000002.cfg', 404, '', 'SPIP330', '3.3.5')",
    discovered => "INSERT INTO discovered (mac, first_seen_us, last_seen_us, last_ip)
        VALUES ('0004f2abcdef', 10, 20, '192.0.2.9')",
    uploads => "INSERT INTO uploads VALUES ('0004f2000001', 'directory', X'3c6469722f3e', 6, 3000)",
    log_chunks => "INSERT INTO log_chunks (mac, kind, time_us, size, content)
        VALUES ('0004f2000001', 'boot-log', 4000, 5, 'hello')",
    audit => "INSERT INTO audit (time_us, admin, action, target) VALUES (5000, 'admin', 'phone.create', '0004f2000001')",
    phone_credentials => "INSERT INTO phone_credentials VALUES
        ('0004f2000001', '0004f2000001', 'polycom', '\$2y\$05\$x', 'abc', 6000)",
);

my $fresh = "$dir/fresh.db";
my ($code, $out) = tool('sqlite3', $fresh);
is($code, 0, 'a new database is created') or diag $out;
my $fresh_shape = shape($fresh);
# Which of phones, params and snapshots are WITHOUT ROWID tables (1) or
# rowid ones (0): sql/sqlite.sql says why the first two must be the former
# and snapshots the latter.
sub clustered {
    my ($db) = @_;
    my $list = sql($db, "SELECT name || ':' || wr FROM pragma_table_list"
                        . " WHERE name IN ('params', 'phones', 'snapshots')"
                        . " ORDER BY name");
    return join ' ', split /\n/, $list;
}
is(clustered($fresh), 'params:1 phones:1 snapshots:0',
   'a new database has phones and params as WITHOUT ROWID tables, snapshots as a rowid table');
{
    my $db = "$dir/scopes.db";
    copy($fresh, $db) or die $!;
    my $q = sub { sql($db, $_[0]) };
    scope_table_checks('a new database', $q, $scope_index{sqlite3});
    scope_checks('a new database', $q);
}
# Schema 3 given sql/sqlite.sql by hand instead of the tool: the file
# records version 4, so it must leave the revision's triggers of version 4
# behind, not the older ones (which move the revision without saying what
# for: the module would trust an empty table and serve stale files).
{
    my $db = "$dir/by_hand.db";
    unlink $db;
    apply($db, "$top/t/upgrade/sqlite-3b8064e.sql");
    apply($db, "$top/sql/sqlite.sql");
    my $q = sub { sql($db, $_[0]) };
    is($q->('SELECT version FROM schema_version'), "4\n",
       'schema 3 with sql/sqlite.sql applied by hand: version 4');
    scope_checks('schema 3 with sql/sqlite.sql applied by hand', $q);
}

# The version, in one place per file.
open my $h, '<', "$top/include/polycom_schema.h" or die $!;
my ($header_version) = map { /^#define POLYCOM_SCHEMA_VERSION (\d+)/ ? $1 : () } <$h>;
ok($header_version, 'include/polycom_schema.h defines POLYCOM_SCHEMA_VERSION');
is(sql($fresh, 'SELECT id, version FROM schema_version'), "1|$header_version\n",
   'a new database records the version of include/polycom_schema.h');
for my $file (qw(pgsql mysql)) {
    open my $fh, '<', "$top/sql/$file.sql" or die $!;
    my ($v) = map { /^INSERT INTO schema_version \(id, version\) VALUES \(1, (\d+)\)/ ? $1 : () } <$fh>;
    is($v, $header_version, "sql/$file.sql records the same version");
}

for my $old (sort glob "$top/t/upgrade/sqlite-*.sql") {
    my ($commit) = $old =~ /sqlite-(\w+)\.sql$/;
    my $db = "$dir/$commit.db";
    apply($db, $old);
    for my $table (sort keys %fill) {
        sql($db, $fill{$table})
            if sql($db, "SELECT count(*) FROM sqlite_master WHERE name = '$table'") == 1;
    }
    # The oldest schemas kept the newest check-in in phones.last_*.
    sql($db, "UPDATE phones SET last_seen_us = 1500, last_ip = '192.0.2.2',"
             . " last_file = '0004f2000002.cfg', last_status = 404,"
             . " last_model = 'SPIP330', last_firmware = '3.3.5' WHERE mac = '0004f2000002'")
        if sql($db, "SELECT count(*) FROM pragma_table_info('phones') WHERE name = 'last_seen_us'") == 1;
    my $from = sql($db, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'") == 1
        ? sql($db, 'SELECT version FROM schema_version') + 0 : 0;
    my $old_columns = columns_of($db);
    my $before = rows($db, $old_columns);

    ($code, $out) = tool('--check', 'sqlite3', $db);
    is($code, 2, "$commit: --check says an old database needs the tool") or diag $out;

    # A migration that fails is rolled back whole.
    my $broken = "$dir/broken-$commit";
    mkdir $broken;
    copy("$top/sql/sqlite.sql", "$broken/sqlite.sql") or die $!;
    open my $b, '>>', "$broken/sqlite.sql" or die $!;
    print $b "INSERT INTO no_such_table VALUES (1);\n";
    close $b;
    ($code, $out) = tool("--schema-dir=$broken", 'sqlite3', $db);
    isnt($code, 0, "$commit: a failing migration fails");
    like($out, qr/rolled back/, "$commit: and says it was rolled back");
    my $pristine = "$dir/$commit-pristine.db";
    apply($pristine, $old);
    is_deeply(shape($db), shape($pristine),
              "$commit: the failed migration changed no table, column, index or trigger");
    is_deeply(rows($db, $old_columns), $before, "$commit: nor any row");

    ($code, $out) = tool('sqlite3', $db);
    is($code, 0, "$commit: migrated") or diag $out;
    like($out, qr/schema version $from -> $header_version/, "$commit: from version $from");
    is(sql($db, 'SELECT version FROM schema_version'), "$header_version\n",
       "$commit: the version is recorded");
    scope_table_checks($commit, sub { sql($db, $_[0]) }, $scope_index{sqlite3});
    # (schema_version, where the old schema had it, holds the new version;
    # checkin_hours, a rollup of the check-ins, is filled from them when
    # empty, as these rows, written by hand after the table, leave it)
    my $after = rows($db, $old_columns);
    delete @$_{qw(schema_version checkin_hours)} for $after, my $kept = { %$before };
    is_deeply($after, $kept,
              "$commit: every row of every table is kept, value for value");

    my $shape = shape($db);
    my @missing = grep { !$shape->{$_} } sort keys %$fresh_shape;
    is("@missing", '', "$commit: every table, column, index and trigger of a new database is there");
    is(clustered($db), 'params:1 phones:1 snapshots:0',
       "$commit: phones and params are WITHOUT ROWID tables, snapshots a rowid table");
    my @extra = grep { !$fresh_shape->{$_} && !/^column phones\.last_/ } sort keys %$shape;
    is("@extra", '', "$commit: nothing else but the old phones.last_* columns");

    # Schemas before last_seen: filled from the history by the migration
    # (version 1 had it, filled by the module, not by these rows).
    is(sql($db, 'SELECT mac, time_us, ip, file, status, settings_etag, settings_us'
                . ' FROM last_seen ORDER BY mac'),
       "0004f2000001|2000|192.0.2.1|000000000000.cfg|200|\"e1\"|1000\n"
       . "0004f2000002|1500|192.0.2.2|0004f2000002.cfg|404||0\n",
       "$commit: last_seen holds each phone's newest check-in and settings fetch")
        if $from < 1;
    is(sql($db, "PRAGMA journal_mode"), "wal\n", "$commit: the file is in WAL mode");

    # The revision triggers work on the migrated database.
    my $rev = sql($db, 'SELECT value FROM revision');
    sql($db, "UPDATE params SET value = '1002' WHERE name = 'reg.1.address'");
    is(sql($db, 'SELECT value FROM revision'), ($rev + 1) . "\n",
       "$commit: a change moves the revision");
    is(sql($db, "SELECT revision FROM scope_revisions WHERE scope = 'phone'"
                . " AND scope_key = '0004f2000001'"), ($rev + 1) . "\n",
       "$commit: and marks the phone's scope with it");

    # The history triggers work on the migrated database too.
    sql($db, "UPDATE params SET value = '1003' WHERE name = 'reg.1.address'");
    is(sql($db, "SELECT count(*), group_concat(old_value || '>' || new_value) FROM history"
                . " WHERE name = 'reg.1.address' AND old_value IS NOT NULL"),
       "2|1001>1002,1002>1003\n",
       "$commit: a change to a layer is kept as a version");

    # Each layer's newest change: filled from the history a version 2
    # database had, then kept by the trigger on history.
    my $newest = "SELECT scope, scope_key, max(time_us) FROM history"
        . " GROUP BY scope, scope_key ORDER BY scope, scope_key";
    is(sql($db, 'SELECT scope, scope_key, changed_us FROM layer_changes ORDER BY scope, scope_key'),
       sql($db, $newest), "$commit: layer_changes holds each layer's newest change");
    like(sql($db, "SELECT count(*) FROM layer_changes WHERE scope = 'phone'"
                  . " AND scope_key = '0004f2000001'"), qr/^1$/m,
         "$commit: the changed phone's layer among them");
    scope_checks($commit, sub { sql($db, $_[0]) });

    ($code, $out) = tool('sqlite3', $db);
    is($code, 0, "$commit: a second run succeeds");
    like($out, qr/up to date/, "$commit: and has nothing to do");

    # A table added within the current version (checkin_hours came to
    # version 2 after it was first released) is added to a database that
    # lacks it, with its rows filled from the history.
    sql($db, 'DROP TABLE checkin_hours');
    ($code, $out) = tool('sqlite3', $db);
    is($code . sql($db, 'SELECT count(*) FROM checkin_hours WHERE n > 0'),
       "0" . sql($db, 'SELECT count(DISTINCT time_us / 3600000000) FROM checkins'),
       "$commit: an up-to-date database lacking a table of its version gets it, filled");
    ($code, $out) = tool('--check', 'sqlite3', $db);
    is($code, 0, "$commit: --check says it is current");
}

# snapshots made again as it was until the twenty-ninth session (WITHOUT
# ROWID, keyed by the ETag), with two rows.
sub old_snapshots {
    my ($db) = @_;
    my $snapshot = sql($db, "SELECT sql FROM sqlite_master WHERE name = 'snapshots'");
    $snapshot =~ s/^CREATE TABLE snapshots \(\s*id\s+INTEGER PRIMARY KEY,\s*etag\s+TEXT NOT NULL UNIQUE,/CREATE TABLE old_snapshots (etag TEXT PRIMARY KEY,/
        or die "snapshots is not as this test knows it: $snapshot";
    $snapshot .= ' WITHOUT ROWID';
    sql($db, "BEGIN; $snapshot; DROP TABLE snapshots;"
             . " ALTER TABLE old_snapshots RENAME TO snapshots;"
             . " CREATE INDEX snapshots_created ON snapshots (created_us);"
             . " INSERT INTO snapshots VALUES ('\"e1\"', 1000, 'reg.1.address=1001'),"
             . " ('\"e0\"', 900, 'reg.1.address=1000'); COMMIT");
}

# A database of the current version made before phones and params were
# WITHOUT ROWID tables (the schema file of 314abda) and while snapshots was
# one (until the twenty-ninth session): all three are rebuilt in place by
# the run that finds it up to date, every row and value kept, no history
# written by the copy, the triggers work on the new tables, and the check-in
# writer's statement still keeps one snapshot per ETag.
{
    my $db = "$dir/rowid.db";
    copy($fresh, $db) or die $!;
    sql($db, "$fill{phones}; $fill{params}");
    old_snapshots($db);
    for my $t (qw(phones params)) {
        my $create = sql($db, "SELECT sql FROM sqlite_master WHERE name = '$t'");
        $create =~ s/\) WITHOUT ROWID\s*$/)/ or die "no WITHOUT ROWID in $create";
        $create =~ s/^CREATE TABLE $t /CREATE TABLE old_$t / or die $create;
        sql($db, "BEGIN; $create; INSERT INTO old_$t SELECT * FROM $t; DROP TABLE $t;"
                 . " ALTER TABLE old_$t RENAME TO $t; COMMIT");
    }
    apply($db, "$top/sql/sqlite.sql");      # the triggers, as before
    is(clustered($db), 'params:0 phones:0 snapshots:1', 'rowid tables and a WITHOUT ROWID one, as made before');
    my $columns = columns_of($db);
    my $before = rows($db, $columns);
    my $history = sql($db, 'SELECT count(*) FROM history');
    ($code, $out) = tool('--check', 'sqlite3', $db);
    is($code, 2, 'a current database with tables stored the other way: --check says it needs the tool');
    like($out, qr/to rebuild as WITHOUT ROWID: phones params/, 'and names the tables');
    like($out, qr/to rebuild as rowid tables: snapshots/, 'all three');
    is(clustered($db), 'params:0 phones:0 snapshots:1', '--check changed nothing');
    ($code, $out) = tool('sqlite3', $db);
    is($code, 0, 'a current database with tables stored the other way: the run succeeds') or diag $out;
    like($out, qr/up to date; rebuilt as WITHOUT ROWID: phones params; rebuilt as rowid tables: snapshots/,
         'and says it rebuilt the three tables');
    is(clustered($db), 'params:1 phones:1 snapshots:0',
       'phones and params are WITHOUT ROWID tables now, snapshots a rowid table');
    is_deeply(rows($db, $columns), $before, 'every row of every table is kept, value for value');
    is(sql($db, 'SELECT count(*) FROM history'), $history, 'the copy wrote no history');
    is_deeply(shape($db), $fresh_shape, 'every table, column, index and trigger is there');
    # The check-in writer's statement (src/store_sql.c): a second render of
    # the same bytes adds nothing, a new ETag adds its row.
    my $put = "INSERT INTO snapshots (etag, created_us, params) VALUES (%s, %d, 'x')"
            . " ON CONFLICT (etag) DO NOTHING";
    sql($db, sprintf($put, q('"e1"'), 5000) . '; ' . sprintf($put, q('"e2"'), 5000));
    is(sql($db, "SELECT etag || ' ' || created_us || ' ' || params FROM snapshots ORDER BY etag"),
       qq("e0" 900 reg.1.address=1000\n"e1" 1000 reg.1.address=1001\n"e2" 5000 x\n),
       'one snapshot per ETag: the old rows kept, a known ETag not added again, a new one added');
    my $rev = sql($db, 'SELECT value FROM revision');
    sql($db, "UPDATE params SET value = '1002' WHERE name = 'reg.1.address'");
    is(sql($db, 'SELECT value FROM revision'), ($rev + 1) . "\n",
       'a change to a parameter moves the revision');
    is(sql($db, "SELECT old_value || '>' || new_value FROM history WHERE name = 'reg.1.address'"
                . " AND old_value IS NOT NULL"), "1001>1002\n", 'and is kept in the history');
    sql($db, "UPDATE phones SET site = 'branch' WHERE mac = '0004f2000003'");
    is(sql($db, 'SELECT value FROM revision'), ($rev + 2) . "\n",
       'a change to a phone moves the revision');
    ($code, $out) = tool('sqlite3', $db);
    unlike($out, qr/rebuilt/, 'a second run rebuilds nothing');
    ($code, $out) = tool('--check', 'sqlite3', $db);
    is($code, 0, 'and --check says it is current');
}

# The tool run on SQLite database $db while another sqlite3, as httpd's
# retention does, deletes rows with $delete in a transaction that holds the
# write lock for two seconds: the run waits for it.
sub tool_while_deleting {
    my ($db, $delete) = @_;
    open my $pruner, '|-', 'sqlite3', '-batch', '-init', '/dev/null', $db or die "sqlite3: $!";
    print $pruner "BEGIN IMMEDIATE;\n$delete;\n.shell sleep 2\nCOMMIT;\n";
    $pruner->flush;
    select(undef, undef, undef, 0.5);   # the pruner holds the write lock now
    my @result = tool('sqlite3', $db);
    close $pruner;
    return @result;
}

# Only snapshots stored the old way, on a node whose httpd runs: its
# retention deletes an old snapshot while the run waits for the write lock
# (here a transaction holds it for two seconds). The run still succeeds,
# rebuilds that one table and keeps every row that is left.
{
    my $db = "$dir/pruned.db";
    copy($fresh, $db) or die $!;
    old_snapshots($db);
    is(clustered($db), 'params:1 phones:1 snapshots:1', 'only snapshots is stored the old way');
    ($code, $out) = tool_while_deleting($db, "DELETE FROM snapshots WHERE etag = '\"e0\"'");
    is($code, 0, 'a snapshot deleted while the run waited: the run succeeds') or diag $out;
    like($out, qr/up to date; rebuilt as rowid tables: snapshots$/m,
         'and rebuilt snapshots alone');
    unlike($out, qr/WITHOUT ROWID/, 'not phones or params');
    is(clustered($db), 'params:1 phones:1 snapshots:0', 'snapshots is a rowid table now');
    is(sql($db, "SELECT etag FROM snapshots"), qq("e1"\n),
       'the snapshot left is kept, the deleted one is gone');
    ($code, $out) = tool('sqlite3', $db);
    unlike($out, qr/rebuilt/, 'a second run rebuilds nothing');
}

# The same on a migration from an older version (version 3, 3b8064e):
# retention deletes the old check-ins while the run waits for the write
# lock. The rows are counted once the run has the lock, so it migrates and
# keeps everything else.
{
    my $db = "$dir/pruned-3b8064e.db";
    apply($db, "$top/t/upgrade/sqlite-3b8064e.sql");
    sql($db, $fill{$_}) for qw(phones params checkins log_chunks);
    ($code, $out) = tool_while_deleting($db, 'DELETE FROM checkins WHERE time_us < 2000');
    is($code, 0, 'check-ins deleted while a migration from version 3 waited: it succeeds')
        or diag $out;
    like($out, qr/schema version 3 -> $header_version, rows kept \(now: phones 3, params 3, checkins 1, .*log_chunks 1,/,
         'and says what each table holds now');
    is(sql($db, 'SELECT version FROM schema_version'), "$header_version\n",
       'the version is recorded');
    is(sql($db, 'SELECT time_us FROM checkins'), "2000\n",
       'the check-in left is kept, the deleted ones are gone');
}

# A database from a newer version is never touched.
sql($fresh, 'UPDATE schema_version SET version = version + 1');
($code, $out) = tool('sqlite3', $fresh);
is($code, 3, 'a newer database is refused with exit 3');
like($out, qr/newer than this version/, 'and the message says why');
($code, $out) = tool('--check', 'sqlite3', $fresh);
is($code, 3, '--check says it is newer');

# PostgreSQL and MariaDB, in the passes that have a server
# (tools/run-tests.sh sets POLYCOM_PG_CONNINFO, POLYCOM_MY_CONNINFO): a new
# database of its own, then one made with each old schema of
# t/upgrade/<driver>-<commit>.sql (fd1a59c, version 0; 8b90218, version 3),
# with rows, migrated.
my %server = (
    pgsql => $ENV{POLYCOM_PG_CONNINFO},
    mysql => $ENV{POLYCOM_MY_CONNINFO},
);
for my $driver (sort grep { $server{$_} } keys %server) {
    my %kv = map { split /=/, $_, 2 } split ' ', $server{$driver};
    my $name = 'polycom_dbupgrade_t';
    my (@admin, @in_db, @tool);
    if ($driver eq 'pgsql') {
        my $base = join ' ', map { "$_=$kv{$_}" } grep { $_ ne 'dbname' } sort keys %kv;
        @admin = ('psql', "$base dbname=postgres", '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c');
        @in_db = ('psql', "$base dbname=$name", '-X', '-q', '-A', '-t', '-F', '|', '-v', 'ON_ERROR_STOP=1');
        @tool = ('pgsql', "'$base dbname=$name'");
    }
    else {
        my @opts = ('-h', $kv{host}, '-P', $kv{port}, '-u', $kv{user},
                    defined $kv{pass} ? "-p$kv{pass}" : ());
        @admin = ('mariadb', @opts, '-N', '-B', '-e');
        @in_db = ('mariadb', @opts, '-N', '-B', '--default-character-set=utf8mb4', $name);
        @tool = ('mysql', @opts, $name);
    }
    my $query = sub {
        my ($sql) = @_;
        open my $fh, '-|', @in_db, ($driver eq 'pgsql' ? '-c' : '-e'), $sql or die $!;
        local $/;
        my $out = <$fh> // '';
        close $fh;
        $out =~ s/\t/|/g;
        return $out;
    };
    my $new_database = sub {
        system(@admin, "DROP DATABASE IF EXISTS $name") == 0 or die "$driver: DROP DATABASE failed";
        system(@admin, "CREATE DATABASE $name") == 0 or die "$driver: CREATE DATABASE failed";
    };

    # A new database, made by the tool from the schema file.
    $new_database->();
    ($code, $out) = tool(@tool);
    is($code, 0, "$driver: a new database is created") or diag $out;
    like($out, qr/created, schema version $header_version/, "$driver: at the current version");
    scope_table_checks("$driver new", $query, $scope_index{$driver});
    scope_checks("$driver new", $query);

    for my $old (sort glob "$top/t/upgrade/$driver-*.sql") {
        my ($commit) = $old =~ /-(\w+)\.sql$/;
        my $what = "$driver $commit";
        $new_database->();
        {
            open my $schema, '<', $old or die $!;
            local $/;
            my $text = <$schema>;
            open my $w, '|-', @in_db or die "$driver: $!";
            print $w $text;
            close $w or die "$driver: the old schema failed";
        }
        my $from = $query->("SELECT count(*) FROM information_schema.tables WHERE table_schema = "
                            . ($driver eq 'pgsql' ? 'current_schema()' : 'DATABASE()')
                            . " AND table_name = 'schema_version'") == 1
            ? $query->('SELECT version FROM schema_version') + 0 : 0;
        $query->("INSERT INTO phones (mac, model, site) VALUES ('0004f2000001', 'VVX411', 'hq')");
        $query->("INSERT INTO params VALUES ('phone', '0004f2000001', 'reg.1.auth.password', 's3cret')");
        $query->("INSERT INTO checkins (time_us, mac, ip, method, file, status, etag)"
                 . " VALUES (1000, '0004f2000001', '192.0.2.1', 'GET', '0004f2000001-settings.cfg', 200, 'e1')");
        $query->("INSERT INTO uploads VALUES ('0004f2000001', 'directory', '<dir/>', 6, 3000)");
        my $dump = "SELECT mac, model, site FROM phones ORDER BY mac;"
            . " SELECT scope, scope_key, name, value FROM params ORDER BY name;"
            . " SELECT id, time_us, mac, file, status, etag FROM checkins ORDER BY id;"
            . " SELECT mac, kind, size FROM uploads ORDER BY mac";
        my $before = join '', map { $query->($_) } split /;\s*/, $dump;

        ($code, $out) = tool(@tool);
        is($code, 0, "$what: the old schema is migrated") or diag $out;
        like($out, qr/schema version $from -> $header_version/, "$what: from version $from");
        is(join('', map { $query->($_) } split /;\s*/, $dump), $before,
           "$what: every row is kept");
        is($query->('SELECT version FROM schema_version'), "$header_version\n",
           "$what: the version is recorded");
        scope_table_checks($what, $query, $scope_index{$driver});
        is($query->('SELECT mac, time_us, settings_etag FROM last_seen'),
           "0004f2000001|1000|e1\n", "$what: last_seen is filled from the history");
        # The console's indexes (checkins by time, audit by target) are there
        # after the migration too: the fleet view and its pictures need them.
        my $indexes = $driver eq 'pgsql'
            ? "SELECT indexname FROM pg_indexes WHERE indexname IN ('checkins_time', 'audit_target') ORDER BY indexname"
            : "SELECT DISTINCT index_name FROM information_schema.statistics WHERE table_schema = '$name'"
              . " AND index_name IN ('checkins_time', 'audit_target') ORDER BY index_name";
        is($query->($indexes), "audit_target\ncheckins_time\n",
           "$what: the console's indexes are added to the old tables");
        # The revision's triggers (MariaDB) or their function (PostgreSQL)
        # are the new ones: a change marks its scope.
        my $rev = $query->('SELECT value FROM revision WHERE id = 1');
        $query->("UPDATE params SET value = 's4cret' WHERE name = 'reg.1.auth.password'");
        is($query->("SELECT revision FROM scope_revisions WHERE scope = 'phone'"
                    . " AND scope_key = '0004f2000001'"), ($rev + 1) . "\n",
           "$what: a change marks the phone's scope with the revision it moved to");
        scope_checks($what, $query);
        ($code, $out) = tool(@tool);
        like($out, qr/up to date/, "$what: a second run has nothing to do");
    }
    # PostgreSQL: retention deletes a check-in in a transaction that is
    # still open when the migration from version 3 (8b90218) starts, and
    # commits once the run waits for it. The run locks the tables against
    # writers before it counts their rows, so it counts once the deletion
    # is committed, migrates, and keeps the rest (counted before, the
    # deletion failed the run's check).
    if ($driver eq 'pgsql') {
        my $what = "$driver 8b90218, a check-in deleted meanwhile";
        $new_database->();
        system(@in_db, '-o', '/dev/null', '-f', "$top/t/upgrade/pgsql-8b90218.sql") == 0
            or die "$driver: the old schema failed";
        $query->("INSERT INTO phones (mac, model, site) VALUES ('0004f2000001', 'VVX411', 'hq')");
        $query->("INSERT INTO checkins (time_us, mac, ip, method, file, status, etag)"
                 . " VALUES ($_, '0004f2000001', '192.0.2.1', 'GET', '0004f2000001-settings.cfg', 200, 'e1')")
            for 1000, 2000;
        open my $pruner, '|-', @in_db, '-o', '/dev/null' or die "$driver: $!";
        # (it commits once the run waits for a lock it holds, 30 s at most)
        print $pruner "BEGIN;\nDELETE FROM checkins WHERE time_us < 2000;\n"
                      . "DO \$\$ BEGIN FOR i IN 1 .. 300 LOOP EXIT WHEN EXISTS ("
                      . "SELECT 1 FROM pg_locks WHERE pid <> pg_backend_pid() AND NOT granted);"
                      . " PERFORM pg_sleep(0.1); END LOOP; END \$\$;\n"
                      . "COMMIT;\n";
        $pruner->flush;
        select(undef, undef, undef, 0.5);   # the deletion is made, not committed
        ($code, $out) = tool(@tool);
        close $pruner;
        is($code, 0, "$what: the migration succeeds") or diag $out;
        like($out, qr/schema version 3 -> $header_version, rows kept \(now: phones 1, params 0, checkins 1,/,
             "$what: and says what each table holds now");
        is($query->('SELECT time_us FROM checkins'), "2000\n",
           "$what: the check-in left is kept, the deleted one is gone");

        # An admin's change under way when the migration starts: it takes
        # the revision row first, then writes a parameter, as the admin API
        # does, once the run has come as far as the lock it takes first
        # (the row, waiting for the admin; before it took the row, the
        # tables, and the admin's write and the run then waited for each
        # other until PostgreSQL ended one as a deadlock).
        $what = "$driver 8b90218, an admin's change under way";
        $new_database->();
        system(@in_db, '-o', '/dev/null', '-f', "$top/t/upgrade/pgsql-8b90218.sql") == 0
            or die "$driver: the old schema failed";
        $query->("INSERT INTO phones (mac, model, site) VALUES ('0004f2000001', 'VVX411', 'hq')");
        open my $admin, '|-', @in_db, '-o', '/dev/null' or die "$driver: $!";
        print $admin "BEGIN;\nUPDATE revision SET value = value WHERE id = 1;\n"
                     . "DO \$\$ BEGIN FOR i IN 1 .. 300 LOOP EXIT WHEN EXISTS ("
                     . "SELECT 1 FROM pg_locks WHERE pid <> pg_backend_pid() AND ("
                     . "(locktype = 'transactionid' AND NOT granted) OR "
                     . "(relation = 'params'::regclass AND mode = 'ShareLock' AND granted)));"
                     . " PERFORM pg_sleep(0.1); END LOOP; END \$\$;\n"
                     . "INSERT INTO params VALUES ('phone', '0004f2000001', 'reg.1.address', '1001');\n"
                     . "COMMIT;\n";
        $admin->flush;
        select(undef, undef, undef, 0.5);   # the admin holds the revision row
        ($code, $out) = tool(@tool);
        close $admin;   # (the admin waits 30 s at most for the run)
        is($? >> 8, 0, "$what: the admin's change is committed");
        is($code, 0, "$what: the migration succeeds") or diag $out;
        is($query->("SELECT value FROM params WHERE name = 'reg.1.address'"), "1001\n",
           "$what: the admin's parameter is there");
    }
    system(@admin, "DROP DATABASE $name");
}

done_testing();
