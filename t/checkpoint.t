# Who copies SQLite's WAL into the database, and when. The check-in
# writer checkpoints every SQLite database of the module four times a
# second, copying without the node's turn to write (a PASSIVE checkpoint
# waits for no one and no writer waits for it), and restarting the WAL
# under the turn where a batch came in. Done under the turn, the copying
# and its syncs held every phone's log upload of the node for 20-30 ms,
# four times a second. And the children leave checkpoints to the writer
# (up to 10,000 pages of WAL), where SQLite's default made an upload's
# commit copy the WAL now and then, under the turn too.
#
# A server of its own (the event MPM, one child of four threads) whose
# gate is a flock(2) file, so that this test can hold it as another of
# the node's processes would. Its phones' check-ins are off: the writer
# gets no batch for its database, and checkpoints it all the same. What
# the WAL holds and how much of it is copied is read from the WAL-index header in the -shm file, as SQLite
# documents it (https://www.sqlite.org/walformat.html): reading it does
# not checkpoint.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Fcntl qw(:flock);
use LWP::UserAgent;
use Time::HiRes qw(sleep time);
use lib 't/lib';
use PolycomTest;
use PolycomOwnServer;

plan tests => 10;

my $mac = MAC_VVX;

my ($dir, $db) = PolycomOwnServer->fresh_db('checkpoint', $mac);
my $server = PolycomOwnServer->gated(
    dir => $dir, db => $db, offset => 180,
    location => "    PolycomUploads On\n    PolycomLogRetention 1M\n"
                . "    PolycomCheckins Off");
my $port = $server->port;

my $ua = LWP::UserAgent->new(timeout => 30, agent => UA_VVX);
my $settings = "http://127.0.0.1:$port/p/$mac-settings.cfg";
my $log_url = "http://127.0.0.1:$port/p/$mac-app.log";

# (frames the WAL holds, frames copied into the database), or () when
# the -shm file cannot be read.
sub wal_index {
    open my $shm, '<:raw', "$db-shm" or return ();
    my $read = read($shm, my $header, 100) // 0;
    return () if $read < 100;
    return (unpack('L', substr($header, 16, 4)),
            unpack('L', substr($header, 96, 4)));
}

# Waits up to @a seconds for the WAL to be copied whole (and, with
# @a steady, to stay so that long): 1 when it is.
sub wal_copied {
    my ($seconds, $steady) = @_;
    my ($deadline, $since) = (time + $seconds, undef);
    while (time < $deadline) {
        my ($frames, $copied) = wal_index();
        if (defined $copied && $copied == $frames && $frames > 0) {
            $since //= time;
            return 1 if !$steady || time - $since >= $steady;
        }
        else {
            $since = undef;
        }
        sleep 0.05;
    }
    return 0;
}

is($ua->get($settings)->code, 200, 'the phone gets its settings');
my $first = $ua->put($log_url, Content => "first boot\n")->code;
ok($first == 201 || $first == 204, "its boot log is stored ($first)");
ok(wal_copied(5, 0.6),
   'and copied into the database by the writer, with no check-in written')
    or diag(join ' ', 'frames, copied:', wal_index());

my $gate_file = $server->gate_file;
ok($gate_file, 'the gate is a file of the Mutex directory')
    or diag(`ls -l $dir`);
open my $gate, '<', $gate_file // '/dev/null' or die "gate: $!";

# Another of the node's processes has the turn (as a phone's upload does
# while it writes), and an admin changes a phone with SQL meanwhile.
my ($copied_under_gate, @index) = (0);
for my $try ($gate_file ? (1 .. 3) : ()) {
    flock($gate, LOCK_EX) or die "flock: $!";
    system(PolycomTest::sqlite_cmd($db),
           "UPDATE phones SET label = 'Reception $try' WHERE mac = '$mac'")
        == 0 or die "sqlite3: cannot change the phone\n";
    $copied_under_gate = wal_copied(2, 0);
    @index = wal_index();
    flock($gate, LOCK_UN);
    last if $copied_under_gate;
    sleep 1;
}
ok($copied_under_gate,
   'while another process holds the turn to write, the writer still copies '
   . 'the WAL into the database')
    or diag("frames, copied: @index");

# Phones upload their logs: each upload is a commit of a child, copied
# by the writer within 250 ms; a commit that finds the WAL copied whole
# writes it again from its start, so the WAL stays small whatever they
# upload.
my $chunk = ('x' x 1023 . "\n") x 500;      # 500 KiB, under PolycomLogLimit
my ($stored, $uploads) = (0, 96);
for my $i (1 .. $uploads) {
    my $code = $ua->put($log_url, Content => $chunk)->code;
    $stored++ if $code == 201 || $code == 204;
    sleep 0.05;
}
is($stored, $uploads, "$uploads log uploads of 500 KiB are stored");
my $tail = $ua->get($log_url);
ok($tail->code == 200 && length($tail->content) >= length($chunk),
   'and the newest is served back');
ok(wal_copied(5, 0), 'the writer copies them into the database')
    or diag(join ' ', 'frames, copied:', wal_index());
my $wal_bytes = -s "$db-wal" // 0;
ok($wal_bytes < 20 * 1024 * 1024,
   sprintf('the WAL file stays small: %.1f MB after %.1f MB of uploads',
           $wal_bytes / 1e6, $uploads * length($chunk) / 1e6));

$server->stop;
open my $log, '<', $server->error_log or die "error log: $!";
my @lines = <$log>;
is(scalar(grep { /database is locked|exit signal|PC00045/ } @lines), 0,
   'no write failed, no child crashed and the writer ran throughout')
    or diag(grep { /error|crit|signal/ } @lines);
