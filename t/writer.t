# The check-in writer: one process per node, forked by httpd's parent,
# writes the check-ins of every child. Killed outright, it loses nothing
# (the children write their own batches meanwhile) and the parent starts
# another, which takes the check-ins again, and goes over the last moments
# of check-ins for last_seen, which the one killed may have left out.
# Stopped by its parent (a graceful restart), it first brings last_seen
# up to date, and the next one need not go over them again.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use HTTP::Request;
use IO::Socket::INET;
use LWP::UserAgent;
use POSIX qw(sysconf _SC_CLK_TCK);
use POSIX ();
use Time::HiRes qw(sleep time);
use lib 't/lib';
use PolycomTest;
use PolycomNode;

plan tests => 29;

my $vars = Apache::Test::config()->{vars};
my $base = 'http://' . Apache::TestRequest::hostport();

sub writer_pids {
    open my $log, '<', "$vars->{t_logs}/error_log" or return ();
    return map { /PC00037: check-in writer started \(pid (\d+)\)/ ? $1 : () }
        <$log>;
}
sub writer_rows { metric($base, 'polycom_checkin_writer_rows_total') }
sub checkins {
    return db_value("SELECT count(*) FROM checkins WHERE mac = '"
                    . MAC_VVX . "'");
}
# Check-ins are written after the response, in batches (every 20 ms, and
# later under ASan or when a child first finds the writer gone): wait up
# to 10 s for $n more than $rows, and return how many more there are.
sub checkins_since {
    my ($rows, $n) = @_;
    my $more;
    for (1 .. 100) {
        $more = checkins() - $rows;
        last if $more >= $n;
        sleep 0.1;
    }
    return $more;
}
sub boot {
    my ($n) = @_;
    GET('/prov/' . MAC_VVX . '.cfg', 'User-Agent' => UA_VVX) for 1 .. $n;
}
# The writers a node's log names from byte $from on: [pid, line] each.
sub node_writers {
    my ($path, $from) = @_;
    open my $fh, '<', $path or return ();
    seek $fh, $from, 0;
    return map { /PC00037: check-in writer started \(pid (\d+)\)/
                 ? [$1, $_] : () } <$fh>;
}
sub stat_of {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/stat" or return ();
    my $line = <$fh>;
    $line =~ s/^.*\)\s+//;          # after "pid (comm)"
    return split ' ', $line;        # state, ppid, ...
}

my $writer = (writer_pids())[-1];
ok($writer && kill(0, $writer), 'a check-in writer process runs')
    or diag('no PC00037 line in the error log');
open my $pidfile, '<', "$vars->{t_logs}/httpd.pid";
my $parent = $pidfile ? <$pidfile> : 0;
chomp $parent if $parent;
is((stat_of($writer))[1], $parent, "forked by httpd's parent process");
if ($> == 0) {
    isnt((stat "/proc/$writer")[4], 0, 'running as the children\'s user, not root');
}
else {
    # Not started as root, httpd cannot switch users: the writer runs as
    # the very user of the parent that forked it.
    is((stat "/proc/$writer")[4], (stat "/proc/$parent")[4],
       'not run as root: the writer keeps the user httpd started as');
}

my ($rows, $written) = (checkins(), writer_rows());
boot(20);
is(checkins_since($rows, 20), 20, 'twenty requests, twenty check-ins');
is(writer_rows() - $written, 20, 'all of them written by the writer');

# The parent starts another writer only for one that lived 10 s or more.
my $age = do {
    open my $up, '<', '/proc/uptime';
    my ($uptime) = split ' ', scalar <$up>;
    $uptime - (stat_of($writer))[19] / sysconf(_SC_CLK_TCK);
};
sleep(10.5 - $age) if $age < 10.5;

# A check-in the writer committed but had not yet taken into last_seen
# when it died (it does that apart, 50 ms after its last batch): written
# by hand once last_seen is up to date, so that the writer about to die
# has nothing left to go over.
my $unflushed = '0004f2eeee31';
settle();
db_exec("DELETE FROM last_seen WHERE mac = '$unflushed'");
db_exec('INSERT INTO checkins (time_us, mac, ip, method, file, status)'
        . ' VALUES (' . int(time() * 1_000_000) . ", '$unflushed',"
        . " '192.0.2.31', 'GET', '$unflushed.cfg', 200)");
t_start_error_log_watch();
$rows = checkins();
kill 'KILL', $writer;
boot(20);
is(checkins_since($rows, 20), 20, 'killed outright: no check-in lost');

my $next;
for (1 .. 150) {            # up to 15 s: slower under ASan
    ($next) = grep { $_ != $writer } (writer_pids())[-1];
    last if $next;
    sleep 0.1;
}
ok($next && kill(0, $next), 'the parent started another writer');
my @log = t_finish_error_log_watch();
ok((grep { /PC00034: check-in writer \(pid $writer\) exited/ } @log),
   'the exit is logged, tagged');
my ($started) = grep { /PC00037: check-in writer started \(pid $next\)/ } @log;
like($started // '', qr/last_seen goes over the last 30 s of check-ins/,
     'killed outright, it said nothing: the next goes over the last 30 s');
ok((grep { /PC00032: check-in writer did not answer/ } @log),
   'a child that lost it says it writes its own check-ins');

# Children reconnect a second after they lost it, each at its next batch.
my $through = 0;
for (1 .. 10) {
    sleep 1.1;
    ($rows, $written) = (checkins(), writer_rows());
    boot(5);
    if (checkins() - $rows == 5 && writer_rows() - $written == 5) {
        $through = 1;
        last;
    }
}
ok($through, 'the new writer takes the check-ins again');
is(db_value("SELECT ip FROM last_seen WHERE mac = '$unflushed'"),
   '192.0.2.31', 'and took into last_seen the check-in the killed one had '
   . 'left out');

# A graceful restart (Debian's logrotate makes one every day): the parent
# tells its writer to finish. It takes no new child but goes on writing
# the batches of the old children, which serve their open connections on
# (a phone's kept-alive one here), then brings last_seen up to date and
# says so by its exit status; the next writer starts from there instead
# of going over the whole fleet's last 30 s again.
my $node_log = "$vars->{t_logs}/node2_error_log";
my $log_from = -s $node_log // 0;       # the log lives on across starts
my $node = PolycomNode->new;
# Kept-alive connections last longer than a slow writer start (ASan).
$node->start(extra => "KeepAliveTimeout 60\n");
my $before;
for (1 .. 50) {
    ($before) = map { $_->[0] } node_writers($node_log, $log_from);
    last if $before;
    sleep 0.1;
}
my $ua = LWP::UserAgent->new(agent => UA_VVX, timeout => 10);
$rows = checkins();
my $asked = int(time() * 1_000_000);
$ua->get('http://127.0.0.1:' . $node->port . '/prov/' . MAC_VVX . '.cfg')
    for 1 .. 4;
# One more on a connection kept open across the restart.
my $kept = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $node->port,
                                 Timeout => 10);
my $ask = "GET /prov/" . MAC_VVX . ".cfg HTTP/1.1\r\nHost: localhost\r\n"
          . "User-Agent: " . UA_VVX . "\r\n\r\n";
sub kept_status {
    print $kept $ask;
    my ($status, $length);
    while (defined(my $line = <$kept>)) {
        $status //= $line =~ m{^HTTP/1\.1 (\d+)} ? $1 : 'garbled';
        $length = $1 if $line =~ /^Content-Length: (\d+)/i;
        last if $line eq "\r\n";
    }
    read($kept, my $body, $length // 0);
    return $status // 'closed';
}
is(kept_status(), 200, 'a phone\'s kept-alive connection to the node');
is(checkins_since($rows, 5), 5, 'five check-ins through the node');
$node->graceful;
my @after;
for (1 .. 100) {
    @after = grep { $_->[0] != ($before // 0) }
             node_writers($node_log, $log_from);
    last if @after;
    sleep 0.1;
}
$rows = checkins();
is(kept_status(), 200, 'after the restart the old child answers on it');
is(checkins_since($rows, 1), 1, 'and its check-in is recorded');
# The old writer finishes its children's batches, then leaves; the
# parent reaps it (within a second or so of its exit).
close $kept;
my $gone;
for (1 .. 100) {
    $gone = $before && !kill(0, $before);
    last if $gone;
    sleep 0.1;
}
ok($before && @after && $gone,
   'a graceful restart: a new writer started, the old one finished')
    or diag("writer before $before; after: ", map { $_->[1] } @after);
like(@after ? $after[0][1] : '',
     qr/the one before left last_seen up to date/,
     'the old writer handed last_seen over up to date, and it is said');
open my $nlog, '<', $node_log;
seek $nlog, $log_from, 0;
my @lost = grep { /PC00032|PC00051/ } <$nlog>;
ok(!@lost, 'no old child lost its writer, and no replay was needed')
    or diag(@lost);
cmp_ok(db_value("SELECT time_us FROM last_seen WHERE mac = '"
                . lc(MAC_VVX) . "'"), '>=', $asked,
       'last_seen has the check-ins made before the restart');
$node->stop;

# A writer killed while it finishes (here: the old child keeps a
# connection open): the next one, which started from the newest moment on
# its word, is told to go over the last 30 s after all.
$log_from = -s $node_log // 0;
$node = PolycomNode->new;
$node->start(extra => "KeepAliveTimeout 60\n");
($before) = ();
for (1 .. 50) {
    ($before) = map { $_->[0] } node_writers($node_log, $log_from);
    last if $before;
    sleep 0.1;
}
$kept = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $node->port,
                              Timeout => 10);
kept_status();
sleep 0.5;                      # its batch reaches the writer
$node->graceful;
@after = ();
for (1 .. 100) {
    @after = grep { $_->[0] != ($before // 0) }
             node_writers($node_log, $log_from);
    last if @after;
    sleep 0.1;
}
ok($before && @after && kill('KILL', $before),
   'the old writer, still finishing, is killed');
my @replay;
for (1 .. 50) {
    open $nlog, '<', $node_log;
    seek $nlog, $log_from, 0;
    @replay = grep { /PC00051/ } <$nlog>;
    last if @replay;
    sleep 0.1;
}
is(scalar @replay, 1, 'the new writer goes over the last 30 s after all, '
   . 'and says so once');
close $kept;
$node->stop;

# PolycomCheckinWriter Off: no writer process, each child writes its own.
$log_from = -s $node_log // 0;
$node = PolycomNode->new;
$node->start(extra => "PolycomCheckinWriter Off\n");
($rows, $written) = (checkins(), writer_rows());
$ua->get('http://127.0.0.1:' . $node->port . '/prov/' . MAC_VVX . '.cfg')
    for 1 .. 5;
is(checkins_since($rows, 5), 5, 'writer off: every check-in still recorded');
my $req = HTTP::Request->new(GET => 'http://127.0.0.1:' . $node->port
                                    . '/admin/metrics');
$req->authorization_basic('admin', 'admin-secret');
my ($node_rows) = $ua->request($req)->content
    =~ /^polycom_checkin_writer_rows_total (\d+)$/m;
is($node_rows, 0, 'writer off: none written by a writer');
open my $nl, '<', $node_log;
seek $nl, $log_from, 0;
my @started = grep { /PC00037/ } <$nl>;
ok(!@started, 'writer off: no writer process started') or diag(@started);
$node->stop;

# A writer that falls behind: each child holds at most PolycomCheckinQueue
# check-ins, then its requests write their own. Memory stays bounded and
# nothing is lost; one tagged line says so.
$log_from = -s $node_log // 0;
$node = PolycomNode->new;
$node->start(extra => "PolycomCheckinQueue 16\n");
my $node_writer;
for (1 .. 50) {
    open $nl, '<', $node_log;
    seek $nl, $log_from, 0;
    ($node_writer) = map { /PC00037: check-in writer started \(pid (\d+)\)/
                           ? $1 : () } <$nl>;
    last if $node_writer;
    sleep 0.1;
}
# Stopped where it waits for batches, not inside a transaction: frozen
# there, it would hold SQLite's locks and the children could not write
# their own (under ASan its start-up catch-up lasts long enough to be
# caught in). /proc/PID/syscall names the system call it is stopped in.
my $stopped;
for (1 .. 150) {
    last unless $node_writer && kill('STOP', $node_writer);
    sleep 0.05;
    open my $sc, '<', "/proc/$node_writer/syscall" or last;
    my ($call) = split ' ', scalar <$sc> // '';
    # epoll_wait, epoll_pwait on x86_64; elsewhere the first stop counts
    if ((POSIX::uname())[4] ne 'x86_64'
        || (defined $call && $call =~ /^(232|281)$/)) {
        $stopped = 1;
        last;
    }
    kill 'CONT', $node_writer;
    sleep 0.1;
}
ok($stopped, 'the node\'s writer is stopped, waiting for batches')
    or diag('no PC00037 line in node2_error_log');
$rows = checkins();
$ua = LWP::UserAgent->new(agent => UA_VVX, timeout => 10, keep_alive => 1);
my @codes = map {
    $ua->get('http://127.0.0.1:' . $node->port . '/prov/' . MAC_VVX
             . '.cfg')->code
} 1 .. 100;
sleep 0.3;
my $meanwhile = checkins() - $rows;
ok($meanwhile >= 100 - 3 * 16 - 32 && $meanwhile < 100,
   'past the queue, requests write their own check-ins; the queued wait')
    or diag("$meanwhile of 100 recorded while the writer was stopped");
kill 'CONT', $node_writer;
my $recorded;
# Up to 30 s: under ASan the children's queued batches and the writer's
# catching up take longer than the 5 s that sufficed otherwise.
for (1 .. 300) {
    $recorded = checkins() - $rows;
    last if $recorded >= 100;
    sleep 0.1;
}
is($recorded, 100, 'the writer back: all 100 check-ins recorded, none lost')
    or diag('statuses: ' . join ' ', @codes);
open $nl, '<', $node_log;
seek $nl, $log_from, 0;
my @full = grep { /PC00039:/ } <$nl>;
ok(@full >= 1 && @full <= 3, 'one tagged line per child that filled its queue')
    or diag(scalar(@full) . " lines:\n", @full);
$node->stop;
