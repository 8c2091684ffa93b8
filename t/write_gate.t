# SQLite writers of one node take turns at a gate (httpd's mutex
# polycom-sqlite-write) before they write. apr_dbd_sqlite3 runs every
# statement of a process behind one mutex and waits out a busy database
# while holding it: a phone's log upload that met another process's write
# used to hold up every request of its child (the one-row read of a cache
# hit too) until that write ended, up to the busy timeout. With the
# event MPM's threads, one child served both.
#
# A server of its own (the event MPM, one child of four threads) whose
# gate is a flock(2) file, so that this test can hold it as another of
# the node's processes would, while sqlite3 holds SQLite's write lock.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Fcntl qw(:flock);
use POSIX ();
use IPC::Open2 qw(open2);
use LWP::UserAgent;
use Time::HiRes qw(sleep time);
use lib 't/lib';
use PolycomTest;
use PolycomOwnServer;

plan tests => 18;

my $mac = MAC_VVX;
my $held = 4;       # seconds sqlite3 holds the write lock

my ($dir, $db) = PolycomOwnServer->fresh_db('gate', $mac);
my $server = PolycomOwnServer->gated(
    dir => $dir, db => $db, offset => 170,
    location => '    PolycomUploads On');
my $port = $server->port;

my $ua = LWP::UserAgent->new(timeout => 30, agent => UA_VVX);
my $settings = "http://127.0.0.1:$port/p/$mac-settings.cfg";
my $log_url = "http://127.0.0.1:$port/p/$mac-app.log";
is($ua->get($settings)->code, 200, 'the phone gets its settings');

my $gate_file = $server->gate_file;
ok($gate_file, 'the gate is a file of the Mutex directory')
    or diag(`ls -l $dir`);
open my $gate, '<', $gate_file // '/dev/null' or die "gate: $!";

# A PUT of the phone's log in a process of its own; its status, and when
# it was sent and answered, come back through a pipe.
sub put_log {
    my ($body) = @_;
    pipe my $from, my $to or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $from;
        my $start = time;
        my $res = LWP::UserAgent->new(timeout => 30, agent => UA_VVX)
            ->put($log_url, Content => $body);
        printf $to "%d %.3f %.3f\n", $res->code, $start, time;
        close $to;
        POSIX::_exit(0);
    }
    close $to;
    return sub {
        my $line = <$from> // '0 0 0';
        waitpid $pid, 0;
        return split ' ', $line;
    };
}

# Another of the node's processes in the middle of a write: it has the
# gate, and SQLite's write lock (sqlite3 keeps it $held s).
flock($gate, LOCK_EX) or die "flock: $!";
my @cmd = map { $_ eq 'sqlite3' ? ('stdbuf', '-oL', $_) : $_ }
    PolycomTest::sqlite_cmd($db);
my ($out, $in);
my $sqlite = open2($out, $in, @cmd);
print $in "BEGIN IMMEDIATE;\n"
    . "UPDATE phones SET label = label WHERE mac = '$mac';\n"
    . "SELECT 'held';\n.shell sleep $held\nCOMMIT;\n";
close $in;
while (my $line = <$out>) {
    last if $line =~ /^held/;
}
my $locked_at = time;
my $upload = put_log("first boot\n");
sleep 1;
my $start = time;
my $res = $ua->get($settings);
my $took = time - $start;
is($res->code, 200, 'while a log upload waits for its turn to write, the '
                    . 'phone still gets its settings');
ok($took < 1.5, sprintf('at once (%.2f s; the write lock is held %d s)',
                        $took, $held));
like($res->content, qr/reg\.1\.address="1001"/, 'its own settings');
waitpid $sqlite, 0;
my $released = time;
flock($gate, LOCK_UN);
my ($code, $sent, $answered) = $upload->();
ok($code == 201 || $code == 204,
   "the upload is stored once the turn is free ($code)");
ok($answered >= $released,
   sprintf('it waited for its turn (answered %.2f s after the gate was '
           . 'let go, %.1f s after the write began)', $answered - $released,
           $released - $locked_at));
is($ua->get($log_url)->content, "first boot\n", 'and is served back');

# A gate that is never let go (a process stopped in the middle, say) is
# waited for 5 s, as long as SQLite's busy timeout: then the write goes
# on without it.
flock($gate, LOCK_EX) or die "flock: $!";
$upload = put_log("second boot\n");
($code, $sent, $answered) = $upload->();
flock($gate, LOCK_UN);
my $seconds = $answered - $sent;
ok($code == 201 || $code == 204, "a gate held for ever: the upload is "
                                 . "stored all the same ($code)");
ok($seconds >= 4.5 && $seconds < 9,
   sprintf('after the 5 s it waits at most (%.1f s)', $seconds));
like($ua->get($log_url)->content, qr/second boot/, 'and is served back');

# A graceful restart keeps the gate: the old generation's children and
# check-in writer, still finishing their requests and batches, take turns
# with the new one's. A gate made afresh would be another file, and the
# new generation would not wait for a holder of the old.
ok($server->graceful, 'a graceful restart')
    or diag(`tail -5 ${\ $server->error_log}`);
is(join(' ', glob("$dir/polycom-sqlite-write.*")), $gate_file // '',
   'the gate is the same file after it');
flock($gate, LOCK_EX) or die "flock: $!";
$upload = put_log("third boot\n");
sleep 1;
$start = time;
is($ua->get($settings)->code, 200,
   'the new generation serves the phone while its upload waits');
$released = time;
flock($gate, LOCK_UN);
($code, $sent, $answered) = $upload->();
ok(($code == 201 || $code == 204) && $answered >= $released,
   sprintf('the new generation\'s upload waited for the gate held before '
           . 'the restart (%d, answered %.2f s after it was let go)', $code,
           $answered - $released));
like($ua->get($log_url)->content, qr/third boot/, 'and is served back');

$server->stop;
open my $log, '<', $server->error_log or die "error log: $!";
my @lines = <$log>;
is(scalar(grep { /database is locked|exit signal/ } @lines), 0,
   'no write failed and no child crashed')
    or diag(grep { /error|crit|signal/ } @lines);
is(scalar(grep { /PC0005[45]/ } @lines), 0, 'the gate was made and opened')
    or diag(grep { /PC0005[45]/ } @lines);
