# A server that starts while another process holds its SQLite file's
# lock: the first process to open a WAL file after all had closed it
# (SQLite's recovery of the WAL, which the others wait for), a backup, an
# admin's sqlite3 in the middle of something. mod_dbd prepares its
# statements on each new connection before any hook could set a busy
# timeout, and SQLite's default is none: the children's connections failed
# at once ("AH00632 failed to prepare SQL statements: database is locked",
# "AH00636 child init failed!", at every start and at Debian's daily
# logrotate), and a phone asking then got an error. Now a new connection
# waits for the lock as DBDInitSQL's busy timeout would have it wait
# later, and the phone gets its config.
#
# A server of its own on a database of its own: no other connection may
# be open on the file while sqlite3 takes it for itself.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use IPC::Open2 qw(open2);
use LWP::UserAgent;
use Time::HiRes qw(sleep time);
use lib 't/lib';
use PolycomTest;
use PolycomOwnServer;

plan tests => 6;

my $held = 3;       # seconds the lock is held; the busy timeout is 5 s
my $mac = MAC_VVX;

my ($dir, $db) = PolycomOwnServer->fresh_db('busy', $mac);
my $server = PolycomOwnServer->new(
    dir => $dir, db => $db, offset => 160, start_servers => 2,
    initsql => 'PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL');
my $port = $server->port;

# sqlite3 takes the file for itself (exclusive locking mode: no other
# connection may read it, WAL or not), answers once it holds it
# (line-buffered, through stdbuf), and lets it go $held s later.
my @cmd = map { $_ eq 'sqlite3' ? ('stdbuf', '-oL', $_) : $_ }
    PolycomTest::sqlite_cmd($db);
my ($out, $in);
my $pid = open2($out, $in, @cmd);
print $in "PRAGMA locking_mode = EXCLUSIVE;\n"
    . "SELECT 'held', count(*) FROM phones;\n"
    . ".shell sleep $held\n";
close $in;
my @answer;
while (my $line = <$out>) {
    push @answer, $line;
    last if $line =~ /^held/;
}
my $locked_at = time;
ok((grep { /^held\|1$/ } @answer), 'another process holds the lock')
    or diag(@answer);

$server->start or die "httpd did not start\n";
my $started = time - $locked_at;
ok($started < $held, sprintf('the server started while the lock was held '
                             . '(%.1f s after it was taken)', $started));
$server->listening;
my $ua = LWP::UserAgent->new(timeout => 30);
my $res = $ua->get("http://127.0.0.1:$port/p/$mac-settings.cfg",
                   'User-Agent' => UA_VVX);
my $answered = time - $locked_at;
waitpid $pid, 0;
is($res->code, 200, sprintf('the phone got its settings (%.1f s after the '
                            . 'lock was taken)', $answered))
    or diag($res->status_line);
like($res->content, qr/reg\.1\.address="1001"/, 'its own settings');
$server->stop;

open my $log, '<', $server->error_log or die "error log: $!";
my @lines = <$log>;
is(scalar(grep { /database is locked|AH0063[26]|PC00029/ } @lines), 0,
   'no connection failed while the lock was held')
    or diag(grep { /error|crit/ } @lines);
is(scalar(grep { /PC00111/ } @lines), 0,
   'nor read the schema as an old one');
