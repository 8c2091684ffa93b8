# The schema of a running server's SQLite database changed by hand (here
# a table created with the sqlite3 CLI; an index added back, or
# sql/sqlite.sql applied for an upgrade, do the same). apr_dbd_sqlite3
# prepares with SQLite's legacy interface, so every statement prepared on
# the pooled connections before the change would fail for good: 500s
# until httpd restarts. Instead each connection prepares its statements
# again at its first failure (PC00038) and runs the failed statement once
# more; a request whose statement failed inside a transaction gets 503
# with Retry-After. Service comes back by itself, and no check-in is lost.
# The vhost has its own SQLite file in every pass of make test.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use Time::HiRes qw(sleep);
use lib 't/lib';
use PolycomTest;

plan tests => 7;

my $file = Apache::Test::vars('dbd_schemachange');
my $mac = MAC_VVX;
sub changing_db {
    my ($sql) = @_;
    open my $fh, '-|', PolycomTest::sqlite_cmd($file, $sql) or die "sqlite3: $!\n";
    local $/;
    my $out = <$fh>;
    close $fh or die "sqlite3 failed on: $sql\n";
    $out =~ s/\s+\z//;
    return $out;
}
sub checkins { changing_db("SELECT count(*) FROM checkins WHERE mac = '$mac'") }

Apache::TestRequest::module('dbd_schemachange');
# Every worker thread of every child takes a connection of its own, so
# that many connections hold statements prepared before the change.
my @before = map { GET("/prov/$mac-settings.cfg", 'User-Agent' => UA_VVX)->code }
    1 .. 20;
is_deeply(\@before, [(200) x 20], 'served before the change');
for (1 .. 50) { last if checkins() == 20; sleep 0.1 }

t_start_error_log_watch();
changing_db('CREATE TABLE schema_change_test (a INTEGER)');
my @codes;
my ($no_retry_after, $run) = (0, 0);
while (@codes < 300 && $run < 30) {
    my $res = GET("/prov/$mac-settings.cfg", 'User-Agent' => UA_VVX);
    push @codes, $res->code;
    $no_retry_after++ if $res->code == 503 && !$res->header('Retry-After');
    $run = $res->code == 200 ? $run + 1 : 0;
}
my @log = t_finish_error_log_watch();
Apache::TestRequest::module('default');

is(scalar(grep { $_ != 200 && $_ != 503 } @codes), 0,
   'after the change: never anything but 200 or 503')
    or diag("codes: @codes");
is($no_retry_after, 0, 'each 503 says when to come back (Retry-After)');
is($run, 30, 'service comes back by itself: 30 answers in a row are 200 '
   . '(after ' . scalar(@codes) . ' requests)')
    or diag("codes: @codes");
my @repaired = grep { /PC00038: .*prepared again/ } @log;
ok(@repaired, 'the connections prepared their statements again (PC00038)')
    or diag(@log);
is(scalar(grep { /PC00038: .*failed/ } @log), 0, 'and none failed to');

my $want = 20 + @codes;
for (1 .. 100) { last if checkins() == $want; sleep 0.1 }
is(checkins(), $want, 'every request after the change left its check-in '
   . '(the check-in writer recovered too)');
