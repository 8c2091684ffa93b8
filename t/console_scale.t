# The fleet console on the bench database of issue 19: 100,000 phones and
# 5 million check-ins, made in SQL by the database itself (a recursive CTE
# in SQLite, generate_series in PostgreSQL, the sequence engine in
# MariaDB), on each backend's pass. Headless Chromium opens the console
# and the test prints how long, from the start of the navigation, the
# first page of the fleet table and the pictures took to be drawn; the
# plans of the fleet page's statements and of the pictures' are checked to
# be index-bound (no statement reads every check-in or every history row).
# Screenshot: t/logs/console-scale.png.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use JSON::PP ();
use Time::HiRes ();
use lib 't/lib';
use PolycomTest;

plan tests => 12;

my $logs = Apache::Test::vars('t_logs');
my $top = Apache::Test::vars('top_dir');
my $api = 'http://' . Apache::TestRequest::hostport() . '/admin/';
my $json = JSON::PP->new->canonical->utf8;
my $backend = backend();
my $phones = 100_000;
my $checkins = 5_000_000;
my $now = int(Time::HiRes::time() * 1_000_000);
my $hour = 3_600_000_000;
# Check-ins spread over the week before now (inside any retention), so
# the week's pictures have something in every hour.
my $step = int(7 * 24 * $hour / $checkins);

settle();
my $kept_max = db_value('SELECT coalesce(max(id), 0) AS n FROM checkins');
my $kept_history = db_value('SELECT coalesce(max(id), 0) AS n FROM history');
my $started = Time::HiRes::time();

# ---- the database: n runs 0 .. count - 1 in each backend's own way ----
sub numbers {
    my ($count) = @_;
    return $backend eq 'pgsql' ? "(SELECT generate_series(0::bigint, $count - 1) AS i) n"
         : $backend eq 'mysql' ? "(SELECT seq AS i FROM seq_0_to_" . ($count - 1) . ") n"
         : "(WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < $count - 1)"
           . " SELECT i FROM r) n";
}
my $mod = sub { $backend eq 'mysql' ? "MOD($_[0], $_[1])" : "($_[0] % $_[1])" };
my $hex = sub {
    my ($n) = @_;
    return $backend eq 'pgsql' ? "lpad(to_hex($n), 5, '0')"
         : $backend eq 'mysql' ? "lpad(lower(hex($n)), 5, '0')"
         : "printf('%05x', $n)";
};
my $cat = $backend eq 'mysql' ? sub { 'CONCAT(' . join(', ', @_) . ')' }
                              : sub { join ' || ', @_ };
my $div = $backend eq 'mysql' ? 'DIV' : '/';
my $mac = $cat->("'0004f29'", $hex->('i'));
my $model = "CASE " . $mod->('i', 3) . " WHEN 0 THEN 'VVX411' WHEN 1 THEN 'VVX601' ELSE 'Trio8800' END";

db_exec("DELETE FROM phones WHERE mac LIKE '0004f29%'");
db_exec("DELETE FROM last_seen WHERE mac LIKE '0004f29%'");
# Forty sites, three models, five firmware versions; every 97th phone
# disabled, every 11th never seen, the others seen within the last two days.
my $insert_phones = 'INSERT INTO phones (mac, model, site, label, enabled, created_us, sip_address)'
    . " SELECT $mac, $model, " . $cat->("'site'", $mod->('i', 40)) . ', '
    . $cat->("'Desk '", 'i') . ', CASE WHEN ' . $mod->('i', 97) . ' = 0 THEN 0 ELSE 1 END,'
    . " 1, '' FROM " . numbers($phones);
if ($backend eq 'pgsql') {
    # PostgreSQL's row triggers (history, revision) took 80 s for these
    # rows, one plpgsql call each: off for this statement, and the history
    # rows they would have written (a phone's four fields) written in one.
    db_exec("SET session_replication_role = replica; $insert_phones;"
            . ' INSERT INTO history (time_us, kind, scope, scope_key, name, new_value)'
            . " SELECT $now, 'phone', 'phone', $mac, f, '' FROM " . numbers($phones)
            . " CROSS JOIN (VALUES ('model'), ('site'), ('label'), ('enabled')) v(f);"
            . ' INSERT INTO layer_changes (scope, scope_key, changed_us)'
            . " SELECT 'phone', $mac, $now FROM " . numbers($phones)
            . ' ON CONFLICT (scope, scope_key) DO UPDATE SET changed_us = EXCLUDED.changed_us;'
            . ' UPDATE revision SET value = value + 1 WHERE id = 1');
}
else {
    db_exec($insert_phones);
}
my $seen = "$now - " . $mod->('i', 2880) . ' * 60000000';
db_exec('INSERT INTO last_seen (mac, time_us, ip, file, status, model, firmware,'
        . ' settings_etag, settings_us)'
        . " SELECT $mac, $seen, " . $cat->("'10.'", $mod->("i $div 256", 256), "'.'",
                                           $mod->('i', 256), "'.1'")
        . ", 'x', 200, $model, " . $cat->("'6.4.'", $mod->('i', 5)) . ", '', $seen"
        . ' FROM ' . numbers($phones) . ' WHERE ' . $mod->('i', 11) . ' <> 0');
db_exec('INSERT INTO checkins (time_us, mac, ip, method, file, status)'
        . " SELECT $now - i * $step, " . $cat->("'0004f29'", $hex->($mod->('i', $phones)))
        . ", '10.0.0.1', 'GET', 'x.cfg', 200 FROM " . numbers($checkins));
# The hourly rollup the pictures read, as the schema fills it: anew, from
# the history.
db_exec('DELETE FROM checkin_hours');
db_exec("INSERT INTO checkin_hours (hour, n) SELECT time_us $div 3600000000, count(*)"
        . " FROM checkins GROUP BY time_us $div 3600000000");
# Statistics, as autovacuum would have them on a database of that size.
# Not for SQLite: its ANALYZE changes the schema (sqlite_stat1), which
# fails the statements the server's connections have prepared once each;
# its plans here are the same without it.
db_exec('ANALYZE TABLE phones, last_seen, checkins, history, layer_changes') if $backend eq 'mysql';
db_exec('ANALYZE') if $backend eq 'pgsql';
my $built = Time::HiRes::time() - $started;
is(db_value("SELECT count(*) AS n FROM phones WHERE mac LIKE '0004f29%'"), $phones,
   '100,000 phones');
is(db_value("SELECT count(*) AS n FROM checkins WHERE id > $kept_max"), $checkins,
   '5,000,000 check-ins');
diag(sprintf '%s: the bench database made in %.1f s', $backend, $built);

# ---- the plans: index-bound at this size ----
# The statements of src/store_sql.c as the fleet page and the pictures run
# them (the fleet page: its page, its counts; the pictures: check-ins per
# hour), with their arguments.
my $outdated = "(SELECT g.changed_us FROM layer_changes g WHERE g.scope = 'global' AND g.scope_key = '')"
    . ' > c.settings_us OR hs.changed > c.settings_us OR hm.changed > c.settings_us'
    . ' OR hp.changed_us > c.settings_us';
my $layers = join(' ', map {
    "LEFT JOIN (SELECT scope_key, max(changed_us) AS changed FROM layer_changes WHERE scope = '$_->[0]'"
    . " GROUP BY scope_key) $_->[1] ON $_->[1].scope_key = $_->[2]"
} ['site', 'hs', 'p.site'], ['model', 'hm', 'p.model'])
    . " LEFT JOIN layer_changes hp ON hp.scope = 'phone' AND hp.scope_key = p.mac";
my %sql = (
    page => 'SELECT p.mac, p.model, c.time_us FROM phones p LEFT JOIN last_seen c ON c.mac = p.mac'
            . " WHERE (c.mac IS NULL OR c.time_us < 9223372036854775807) ORDER BY p.mac LIMIT 50 OFFSET 0",
    counts => 'SELECT count(*) AS total, coalesce(sum(CASE WHEN p.enabled = 1 AND (c.mac IS NULL'
              . " OR c.settings_us = 0 OR c.settings_us < p.created_us OR $outdated) THEN 1 ELSE 0 END), 0)"
              . " AS outdated FROM phones p LEFT JOIN last_seen c ON c.mac = p.mac $layers",
    hours => 'SELECT hour, n AS checkins FROM checkin_hours WHERE hour >= '
             . (int($now / $hour) - 167) . ' ORDER BY hour',
    firmware => "SELECT p.model, coalesce(c.firmware, '') AS firmware, count(*) AS phones"
                . ' FROM phones p LEFT JOIN last_seen c ON c.mac = p.mac'
                . " GROUP BY p.model, coalesce(c.firmware, '')",
);
sub plan_of {
    my ($sql) = @_;
    if ($backend eq 'mysql') {
        my $rows = PolycomTest::my_dbh()->selectall_arrayref("EXPLAIN $sql", { Slice => {} });
        return join "\n", map { "$_->{table} type=$_->{type} key=" . ($_->{key} // '') } @$rows;
    }
    my @cmd = $backend eq 'pgsql' ? PolycomTest::psql_cmd('-c', "EXPLAIN $sql")
            : PolycomTest::sqlite_cmd(PolycomTest::db_file(), "EXPLAIN QUERY PLAN $sql");
    open my $fh, '-|', @cmd or die "plan: $!\n";
    local $/;
    my $plan = <$fh>;
    close $fh;
    return $plan // '';
}
# What reads a whole table in each database's words.
sub scans {
    my ($plan, $table) = @_;
    return $backend eq 'mysql' ? $plan =~ /^\Q$table\E type=ALL/m
         : $backend eq 'pgsql' ? $plan =~ /Seq Scan on \Q$table\E/
         : $plan =~ /\bSCAN \Q$table\E\b(?! USING (COVERING )?INDEX)|\bSCAN \w+ \(\Q$table\E\)/;
}
my %plan = map { $_ => plan_of($sql{$_}) } keys %sql;
diag("plan of $_:\n$plan{$_}") for sort keys %plan;
ok(!scans($plan{page}, 'last_seen') && !scans($plan{page}, 'c'),
   'the fleet page finds each phone\'s last check-in by its key');
ok($plan{counts} =~ /layer_changes/ && $plan{counts} !~ /\b(history|checkins)\b/,
   'the counts read each layer\'s newest change (layer_changes), never the history or the check-ins');
ok($plan{hours} =~ /checkin_hours/ && $plan{hours} !~ /\bcheckins\b/,
   'the check-ins per hour are read from the rollup (at most an hour a row), not the check-ins');
ok($plan{firmware} !~ /\b(checkins|history)\b/,
   'firmware by model: one pass over the phones and their last check-ins, not the history');

# ---- the browser ----
my $out = `node $top/t/browser/scale.mjs '$api' admin admin-secret '$logs' 2>&1`;
my $page = eval { $json->decode((grep { /^\{/ } split /\n/, $out)[-1] // '') };
ok($page && !@{ $page->{errors} }, 'Chromium opened the console without a JavaScript error')
    or diag($out);
my @loads = @{ $page->{loads} // [] };
is(scalar(@loads), 5, 'five loads measured (after one that warms the browser)');
for my $i (0 .. $#loads) {
    diag(sprintf '%s, load %d: first page of the fleet table drawn %.0f ms after navigation'
         . ' (its request and drawing %.0f ms), the filters\' counts %.0f ms, pictures %.0f ms,'
         . ' whole page %.0f ms',
         $backend, $i + 1, @{ $loads[$i] }{qw(tableAt pageMs countsAt chartsAt loadedMs)});
    diag("  $_") for @{ $loads[$i]{requests} // [] };
}
my @table = sort { $a <=> $b } map { $_->{tableAt} } @loads;
my @charts = sort { $a <=> $b } map { $_->{chartsAt} } @loads;
my @counts = sort { $a <=> $b } map { $_->{countsAt} } @loads;
my ($median_table, $median_charts, $median_counts)
    = ($table[2] // 1e9, $charts[2] // 1e9, $counts[2] // 1e9);
diag(sprintf '%s: median of five: first page %.0f ms (target: 300 ms), the filters\' counts'
     . ' %.0f ms, pictures %.0f ms', $backend, $median_table, $median_counts, $median_charts);
is($loads[0]{total}, $phones + db_value("SELECT count(*) AS n FROM phones WHERE mac NOT LIKE '0004f29%'"),
   'the first page counts the whole fleet');
# The issue's target is 300 ms on a quiet machine (the report gives the
# figure). This test runs on a 2-core CI machine that builds and tests
# other things at the same time, and under ASan: a bound of 300 ms would
# fail for the machine, not for the console. 3 s still catches what this
# test is for, a statement that reads every check-in or history row
# (seconds to tens of seconds at this size), while a busy machine's
# scheduling does not reach it.
cmp_ok($median_table, '<', 3000, 'the first page is drawn within 3 s (see the comment)');
cmp_ok($median_counts, '<', 3000, 'so are the filters\' counts');
cmp_ok($median_charts, '<', 3000, 'so are the pictures');

# ---- the bench database goes; what was there before stays ----
my $cleanup = Time::HiRes::time();
if ($backend eq 'sqlite') {
    db_exec("DELETE FROM checkins WHERE id > $kept_max");
}
else {
    # Deleting 5 million rows one by one took a minute: keep the others,
    # empty the table at once, put them back.
    db_exec('DROP TABLE IF EXISTS scale_keep');
    db_exec("CREATE TABLE scale_keep AS SELECT * FROM checkins WHERE id <= $kept_max");
    db_exec('TRUNCATE TABLE checkins');
    db_exec('INSERT INTO checkins SELECT * FROM scale_keep');
    db_exec('DROP TABLE scale_keep');
}
db_exec('DELETE FROM checkin_hours');
db_exec("INSERT INTO checkin_hours (hour, n) SELECT time_us $div 3600000000, count(*)"
        . " FROM checkins GROUP BY time_us $div 3600000000");
db_exec("DELETE FROM last_seen WHERE mac LIKE '0004f29%'");
db_exec(($backend eq 'pgsql' ? 'SET session_replication_role = replica; ' : '')
        . "DELETE FROM phones WHERE mac LIKE '0004f29%'"
        . ($backend eq 'pgsql' ? '; UPDATE revision SET value = value + 1 WHERE id = 1' : ''));
db_exec("DELETE FROM layer_changes WHERE scope = 'phone' AND scope_key LIKE '0004f29%'");
db_exec("DELETE FROM history WHERE id > $kept_history AND scope = 'phone'"
        . " AND scope_key LIKE '0004f29%'");
diag(sprintf '%s: cleaned up in %.1f s', $backend, Time::HiRes::time() - $cleanup);
