# Nothing grows without bound: check-ins older than PolycomCheckinRetention
# (default 90 days) and log chunks older than PolycomLogRetention's days
# (default 30) are pruned in the background by the resync worker, in
# bounded rounds, without a request; newer rows stay.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep time);
use lib 't/lib';
use PolycomTest;

plan tests => 4;

my $mac = '0004f2eeee01';
my $now = int(time() * 1_000_000);
my $old = $now - 200 * 86400 * 1_000_000;      # 200 days ago

# Rows with ids below every other, as the oldest of a history would be.
db_exec("DELETE FROM checkins WHERE id < 0");
db_exec("DELETE FROM log_chunks WHERE id < 0");
db_exec("INSERT INTO checkins (id, time_us, mac, file, status) VALUES"
        . " (-3, $old, '$mac', '$mac.cfg', 200),"
        . " (-2, 1000, '$mac', '$mac.cfg', 200),"
        . " (-1, $now, '$mac', '$mac.cfg', 200)");
db_exec("INSERT INTO log_chunks (id, mac, kind, time_us, size, content) VALUES"
        . " (-2, '$mac', 'app-log', $old, 4, 'old\n'),"
        . " (-1, '$mac', 'app-log', $now, 4, 'new\n')");

# The worker looks every 10 s when there is nothing to prune.
my $deadline = time() + 30;
my ($checkins, $logs);
do {
    sleep 0.5;
    $checkins = db_value("SELECT count(*) FROM checkins WHERE id IN (-3, -2)");
    $logs = db_value("SELECT count(*) FROM log_chunks WHERE id = -2");
} while (($checkins || $logs) && time() < $deadline);

is($checkins, 0, 'check-ins past the retention are pruned');
is(db_value("SELECT count(*) FROM checkins WHERE id = -1"), 1,
   'a recent check-in stays');
is($logs, 0, 'log chunks past their age are pruned without an upload');
is(db_value("SELECT count(*) FROM log_chunks WHERE id = -1"), 1,
   'a recent chunk stays');

db_exec("DELETE FROM checkins WHERE id < 0");
db_exec("DELETE FROM log_chunks WHERE id < 0");
