# PolycomCheckinRetention on a long history: check-ins past the retention
# (the default 90 days here) go in bounded rounds of 10,000 rows until none
# is left, newer ones stay, and what a phone was last seen as (last_seen),
# the console's recent hourly counts and new check-ins are untouched. The
# snapshots of what phones were served go with them, except the one a
# phone's last fetch names (the console's diff of that phone needs it).
# The rounds run in the check-in writer process, not in a child serving
# phones; with PolycomCheckinWriter Off, in a child's resync worker.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use Time::HiRes qw(sleep time);
use lib 't/lib';
use PolycomTest;
use PolycomNode;

plan tests => 16;

my @macs = ('0004f2eeee21', '0004f2eeee22');
my $day = 86400 * 1_000_000;
my $now = int(time() * 1_000_000);
my $old = $now - 200 * $day;            # past the 90 days
my $kept = $now - 60 * $day;            # within them
my $n_old = 12_000;                     # more than one round's 10,000
my $n_kept = 20;

# Negative ids: below every other row, where the oldest of a real history
# would be (a round takes the oldest rows by id).
my ($first, $last_old) = (-50_000, -50_000 + $n_old - 1);
my $range = "id BETWEEN $first AND " . ($last_old + $n_kept);
db_exec("DELETE FROM checkins WHERE $range");
db_exec("DELETE FROM last_seen WHERE mac IN ('$macs[0]', '$macs[1]')");
my @snaps = ('"ret-old-unnamed"', '"ret-old-named"', '"ret-new-unnamed"');
my $snap_list = join ', ', map { "'$_'" } @snaps;
db_exec("DELETE FROM snapshots WHERE etag IN ($snap_list)");
# The phones' last fetches first: the worker may prune between any two of
# these statements, and an old snapshot that no last fetch names yet is
# rightly pruned.
for my $mac (@macs) {
    # The first phone's last fetch of its settings got $snaps[1].
    my $etag = $mac eq $macs[0] ? $snaps[1] : '';
    db_exec("INSERT INTO last_seen (mac, time_us, ip, file, status,"
            . " settings_etag, settings_us) VALUES ('$mac', $old,"
            . " '192.0.2.7', '$mac.cfg', 200, '$etag', $old)");
}
db_exec("INSERT INTO snapshots (etag, created_us, params) VALUES"
        . " ('$snaps[0]', $old, '{}'), ('$snaps[1]', $old, '{}'),"
        . " ('$snaps[2]', $kept, '{}')");

t_start_error_log_watch();
# One statement, so one transaction: a round that ran between two batches
# of inserts would see fewer than 10,000 old rows and prove no bound. The
# ids come from five tables of digits, which all three databases join
# (MariaDB stops a recursive WITH at 1,000 rows).
my $digits = join ' UNION ALL ', map { "SELECT $_ AS d" } 0 .. 9;
my $count = $n_old + $n_kept;
db_exec("INSERT INTO checkins (id, time_us, mac, file, status)"
        . " WITH digit AS ($digits), seq AS (SELECT $first + a.d + 10 * b.d"
        . " + 100 * c.d + 1000 * e.d + 10000 * f.d AS i FROM digit a, digit b,"
        . " digit c, digit e, digit f)"
        . " SELECT i, CASE WHEN i <= $last_old THEN $old ELSE $kept END"
        . " + (i - $first), CASE WHEN i % 2 = 0 THEN '$macs[0]'"
        . " ELSE '$macs[1]' END, CASE WHEN i % 2 = 0 THEN '$macs[0].cfg'"
        . " ELSE '$macs[1].cfg' END, 200 FROM seq"
        . " WHERE i < " . ($first + $count));
my $hours_sql = "SELECT coalesce(sum(n), 0) AS n FROM checkin_hours"
              . " WHERE hour >= " . int(($now - 80 * $day) / 3_600_000_000);
my $hours = db_value($hours_sql);

# The worker looks every 10 s while there is nothing to prune, then every
# second while rounds find old rows.
my $deadline = time() + 40;
my $left;
do {
    sleep 0.5;
    $left = db_value("SELECT count(*) AS n FROM checkins"
                     . " WHERE id BETWEEN $first AND $last_old");
} while ($left && time() < $deadline);

is($left, 0, "all $n_old check-ins past the retention are pruned");
is(db_value("SELECT count(*) AS n FROM checkins WHERE id > $last_old"
            . " AND $range"), $n_kept,
   'check-ins within the retention stay');
my @round_lines = grep { /PC00122:/ } t_finish_error_log_watch();
my @rounds = map { /pruned (\d+) check-ins/ ? $1 : () } @round_lines;
ok((grep { $_ == 10_000 } @rounds) && !(grep { $_ > 10_000 } @rounds),
   "rounds are bounded at 10,000 rows (@rounds)");
is(db_value("SELECT count(*) AS n FROM last_seen WHERE time_us = $old"
            . " AND mac IN ('$macs[0]', '$macs[1]')"), 2,
   'last_seen keeps when the phones were last seen, 200 days ago');
is(db_value($hours_sql), $hours, 'the recent hourly counts are unchanged');

# Which process ran the rounds: the newest writer the log names.
my $vars = Apache::Test::config()->{vars};
my $writer = do {
    open my $log, '<', "$vars->{t_logs}/error_log";
    (map { /PC00037: check-in writer started \(pid (\d+)\)/ ? $1 : () }
     <$log>)[-1];
};
my @round_pids = map { /\[pid (\d+)/ ? $1 : () } @round_lines;
ok($writer && @round_pids && !(grep { $_ != $writer } @round_pids),
   'the rounds ran in the check-in writer, not in a child serving phones')
    or diag("writer $writer; rounds in pids @round_pids");

my $snap_left = sub {
    db_value("SELECT count(*) AS n FROM snapshots WHERE etag = '$_[0]'");
};
is($snap_left->($snaps[0]), 0,
   'a snapshot past the retention that no last fetch names is pruned');
is($snap_left->($snaps[1]), 1,
   'one a phone last fetched stays, however old');
is($snap_left->($snaps[2]), 1, 'a snapshot within the retention stays');

# The round finds old snapshots by their time: when none is old it reads
# no row, instead of every row of snapshots and last_seen every 10 s.
my $uses_index;
if (PolycomTest::backend() eq 'sqlite') {
    # The module's own statement (src/store_sql.c), its number made 0.
    open my $src, '<', 'src/store_sql.c' or die "src/store_sql.c: $!";
    my ($entry) = do { local $/; <$src> }
        =~ /\{\s*ST_PRUNE_SNAPSHOTS,\s*((?:"(?:[^"\\]|\\.)*"\s*(?:NUM\s*)?)+)/;
    my $prune = join '', map { $_ eq 'NUM' ? '0' : substr($_, 1, -1) }
        ($entry // '') =~ /("(?:[^"\\]|\\.)*"|NUM)/g;
    $prune =~ /^DELETE FROM snapshots / or die "no prune statement: $prune";
    open my $fh, '-|', PolycomTest::sqlite_cmd(PolycomTest::db_file(),
        "EXPLAIN QUERY PLAN $prune");
    my $plan = do { local $/; <$fh> } // '';
    $uses_index = $plan =~ /SEARCH snapshots USING .*INDEX snapshots_created/;
    diag($plan) unless $uses_index;
}
else {
    # A small table's plan is the planner's choice: the index is there.
    $uses_index = db_value(PolycomTest::backend() eq 'pgsql'
        ? "SELECT count(*) AS n FROM pg_indexes"
          . " WHERE indexname = 'snapshots_created'"
        : "SELECT count(*) AS n FROM information_schema.statistics"
          . " WHERE table_schema = DATABASE()"
          . " AND index_name = 'snapshots_created'");
}
ok($uses_index, 'old snapshots are found by the index on their time');

# A request still records its check-in.
my $start = int(time() * 1_000_000);
my $res = GET('/prov/' . MAC_TRIO . '.cfg', 'User-Agent' => UA_TRIO);
is($res->code, 200, 'a phone is served');
my $recorded = 0;
for (1 .. 50) {
    $recorded = db_value("SELECT count(*) AS n FROM checkins WHERE mac = '"
                         . MAC_TRIO . "' AND time_us >= $start");
    last if $recorded;
    sleep 0.1;
}
ok($recorded, 'and its check-in is recorded');
is(db_value("SELECT time_us FROM last_seen WHERE mac = '" . MAC_TRIO . "'")
   >= $start ? 1 : 0, 1, 'and its last_seen moves on');

db_exec("DELETE FROM checkins WHERE $range");
db_exec("DELETE FROM last_seen WHERE mac IN ('$macs[0]', '$macs[1]')");
db_exec("DELETE FROM snapshots WHERE etag IN ($snap_list)");

# PolycomCheckinWriter Off: a second node on the same database, whose
# retention (30 days) is shorter than this server's (90), prunes check-ins
# 60 days old in its resync worker; this server's writer leaves them.
my $node_log = "$vars->{t_logs}/node2_error_log";
my $log_from = -s $node_log // 0;       # the log lives on across starts
my ($off_first, $off_last) = (-70_000, -70_000 + 99);
my $sixty = $now - 60 * $day;
db_exec("DELETE FROM checkins WHERE id BETWEEN $off_first AND $off_last");
db_exec("INSERT INTO checkins (id, time_us, mac, file, status) VALUES "
        . join(', ', map { "($_, " . ($sixty + $_ - $off_first)
                           . ", '$macs[0]', '$macs[0].cfg', 200)" }
                     $off_first .. $off_last));
my $node = PolycomNode->new;
$node->start(extra => "PolycomCheckinWriter Off\n"
                      . "PolycomCheckinRetention 30\n");
$deadline = time() + 40;
do {
    sleep 0.5;
    $left = db_value("SELECT count(*) AS n FROM checkins"
                     . " WHERE id BETWEEN $off_first AND $off_last");
} while ($left && time() < $deadline);
$node->stop;
is($left, 0, 'writer off: a child prunes the check-ins past its retention');
open my $nl, '<', $node_log;
seek $nl, $log_from, 0;
my @node_lines = <$nl>;
ok(!(grep { /PC00037:/ } @node_lines),
   'writer off: there was no writer to run the rounds');
ok((grep { /PC00122: retention: pruned 100 check-ins/ } @node_lines),
   'writer off: its child\'s round says what it pruned, tagged');
db_exec("DELETE FROM checkins WHERE id BETWEEN $off_first AND $off_last");
