# Resync across a child's exit: a graceful restart (Debian's logrotate
# makes one every night) while the resync worker waits for a phone that
# does not answer. The old child exits without a crash, the new children
# serve at once, and the job keeps its claim (sent again when the claim
# expires) or records the timeout, neither lost nor recorded as answered.
# What the change behind this file guards (the child's exit waits for a
# statement of the worker in progress, and the worker uses no connection
# after the child's pool is gone) is a window of milliseconds that this
# test cannot aim at: httpd ends a child's process without joining
# mod_watchdog's thread.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Time::HiRes qw(time sleep);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;
use PolycomSipUA;

plan tests => 6;


my $phone = PolycomSipUA->listener(addr => '127.0.0.1');
my $mac = '0004f2e0a174';
# Not left for the files after this one, even when this one dies: their
# worker would wait for this address again once the claim expires.
END {
    eval {
        PolycomTest::db_exec("UPDATE resync_queue SET state = 'failed', "
                             . "reason = 'test over' WHERE mac = '$mac' "
                             . "AND state IN ('queued', 'sending')");
        api(DELETE => "phones/$mac");
    };
}
my ($res) = api(PUT => "phones/$mac", json => {
    model => 'VVX411', site => 'lab-exit', sip_address => $phone->address,
    lines => [{ user => '1174', password => 'line-secret' }] });
ok($res->code == 200 || $res->code == 201,
   'a phone whose address never answers a NOTIFY');

# The worker sends one NOTIFY at a time; jobs other files left go first.
api(POST => "phones/$mac/resync");
my $first;
my $until = time + 90;
while (!$first && time < $until) {
    ($first) = $phone->receive(1);
}
ok($first && $first =~ /^NOTIFY /, 'the worker sent its NOTIFY and waits');

my $seen = () = PolycomTest::error_log_lines();
ok(kill('USR1', PolycomTest::server_pid()), 'graceful restart while it waits');

# The old child goes (its listener is the new generation's); give it the
# NOTIFY's whole transaction (64 * 50 ms here) and then some.
my @since;
$until = time + 8;
my $served = 0;
while (time < $until) {
    sleep 0.5;
    my $r = eval { GET "/prov/$mac.cfg" };
    $served ||= $r && $r->code == 200;
}
my @lines = PolycomTest::error_log_lines();
@since = @lines[$seen .. $#lines];
ok($served, 'the new children serve the phone after the restart');
my @crashed = grep { /exit signal|AddressSanitizer|SIGSEGV/ } @since;
is_deeply(\@crashed, [], 'no child crashed on its way out');

# The old child usually goes before the NOTIFY's transaction ends, and the
# job keeps its claim; a child held up longer (a kept-alive connection, a
# slow build) sees the timeout first and records it. Either way, never an
# answer the phone did not give, nor a job lost.
my (undef, $data) = api(GET => "phones/$mac/resync");
my $job = $data->{resyncs}[0] // {};
ok(($job->{state} // '') eq 'sending'
   || (($job->{state} // '') eq 'failed' && ($job->{reason} // '') eq 'timeout'),
   'the job is still claimed, or failed on the timeout: '
   . join(' ', map { $_ // '-' } @$job{qw(state reason)}));
