# Resync: SIP NOTIFY check-sync, sent by the background worker, to a UDP
# listener in this test that plays the phone: it answers 200, challenges
# with digest, or stays silent, and sees the pacing of a bulk resync.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Digest::MD5 qw(md5_hex);
use JSON::PP ();
use Time::HiRes qw(time sleep);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;
use PolycomSipUA qw(sip_header);

plan tests => 41;

sub make_phone {
    my ($mac, $phone, %line) = @_;
    my ($res) = api(PUT => "phones/$mac", json => {
        model => 'VVX411', site => 'lab',
        sip_address => $phone->address,
        lines => [{ user => '1042', password => 'line-secret', %line }] });
    return $res->code;
}
sub job {
    my ($mac, $wait) = @_;
    my $until = time + ($wait // 10);
    while (1) {
        my (undef, $data) = api(GET => "phones/$mac/resync");
        my $j = $data->{resyncs}[0];
        return $j if !$j || $j->{state} =~ /^(done|failed)$/ || time > $until;
        sleep 0.1;
    }
}

my $phone = PolycomSipUA->listener(addr => '127.0.0.1');

# The worker sends one NOTIFY at a time, in one child: jobs earlier files
# left to phones that no longer answer go first, and after a burst of load
# (the console's browser) the child that runs it may be on its way out for
# seconds before another takes over. The checks below time the worker, so
# they start once it has answered a phone of this file: a warm-up phone of
# its own site, answered whenever its NOTIFY comes (up to 90 s), then gone.
my $warmup = '0004f2d000ff';
api(PUT => "phones/$warmup", json => {
    model => 'VVX411', site => 'lab-warmup', sip_address => $phone->address,
    lines => [{ user => '1042', password => 'line-secret' }] });
api(POST => "phones/$warmup/resync");
my $warm_until = time + 90;
while (time < $warm_until) {
    my ($m) = $phone->receive(1) or next;
    $phone->reply($m, '200 OK');
    last;
}
job($warmup, 10);
api(DELETE => "phones/$warmup");
1 while $phone->receive(0.2);       # retransmissions of the warm-up's

# 1. The phone answers 200.
my $mac = '0004f2d00001';
is(make_phone($mac, $phone), 201, 'a phone with a SIP address');
my ($res, $data) = api(POST => "phones/$mac/resync");
is($res->code, 202, 'resync queued: 202');
is($data->{queued}[0]{mac}, $mac, 'for that phone');
my $msg = $phone->receive(5);
ok($msg, 'the NOTIFY arrived') or diag('nothing within 5 s');
$msg //= '';
my $target = $phone->address;
like($msg, qr{^NOTIFY sip:1042\@\Q$target\E SIP/2\.0\r\n}, 'request line to the line user');
like(sip_header($msg, 'Via') // '', qr{^SIP/2\.0/UDP [\d.]+:\d+;branch=z9hG4bK\w+}, 'Via with a branch');
like(sip_header($msg, 'From') // '', qr{^<sip:[^>]+>;tag=\w+$}, 'From with a tag');
is(sip_header($msg, 'To'), "<sip:1042\@$target>", 'To');
like(sip_header($msg, 'Call-ID') // '', qr/^\w+\@[\d.]+$/, 'Call-ID');
is(sip_header($msg, 'CSeq'), '1 NOTIFY', 'CSeq');
is(sip_header($msg, 'Max-Forwards'), '70', 'Max-Forwards');
like(sip_header($msg, 'Contact') // '', qr{^<sip:[^>]+>$}, 'Contact');
is(sip_header($msg, 'Event'), 'check-sync', 'Event: check-sync');
is(sip_header($msg, 'Content-Length'), '0', 'empty body');
$phone->reply($msg, '200 OK') if $msg;
my $j = job($mac);
is_deeply([@$j{qw(state status transmissions)}], ['done', 200, 1],
          'recorded: done, 200, one transmission');

# 2. Reboot asks for it in the Event.
api(POST => "phones/$mac/resync", json => { reboot => JSON::PP::true });
$msg = $phone->receive(5);
is(sip_header($msg // '', 'Event'), 'check-sync;reboot=true', 'reboot: check-sync;reboot=true');
$phone->reply($msg, '200 OK') if $msg;
job($mac);

# 3. The phone challenges: the worker answers with the line's digest.
api(POST => "phones/$mac/resync");
$msg = $phone->receive(5);
ok($msg, 'NOTIFY before the challenge');
$phone->reply($msg, '401 Unauthorized',
              'WWW-Authenticate: Digest realm="PolycomSPIP", nonce="n0nce42", qop="auth"') if $msg;
# Retransmissions of the first NOTIFY (T1 is 50 ms here) may still be on
# their way: the answer to the challenge is the next CSeq.
my $again = '';
my $until = time + 5;
while (time < $until) {
    my ($m) = $phone->receive($until - time) or last;
    next if (sip_header($m, 'CSeq') // '') eq '1 NOTIFY';
    $again = $m;
    last;
}
my $auth = sip_header($again, 'Authorization') // '';
my %p = $auth =~ /(\w+)="?([^",]*)"?/g;
is(sip_header($again, 'CSeq'), '2 NOTIFY', 'a new transaction: CSeq 2');
is(sip_header($again, 'Call-ID'), sip_header($msg, 'Call-ID'), 'same Call-ID');
isnt(sip_header($again, 'Via'), sip_header($msg, 'Via'), 'new branch');
is_deeply([@p{qw(username realm nonce qop nc)}],
          ['1042', 'PolycomSPIP', 'n0nce42', 'auth', '00000001'], 'digest fields');
my $ha1 = md5_hex("1042:PolycomSPIP:line-secret");
my $ha2 = md5_hex("NOTIFY:$p{uri}");
is($p{response}, md5_hex("$ha1:n0nce42:$p{nc}:$p{cnonce}:auth:$ha2"),
   'the digest response is right for the line password');
unlike($again, qr/line-secret/, 'the password itself is never sent');
$phone->reply($again, '200 OK');
$j = job($mac);
is_deeply([@$j{qw(state status challenged)}], ['done', 200, JSON::PP::true],
          'recorded: done after the challenge');

# 4. The phone stays silent: retransmissions on timer E, then timer F.
api(POST => "phones/$mac/resync");
my @arrivals;
my $start = time;
while (time - $start < 4.5) {
    my ($m) = $phone->receive(0.5) or next;
    push @arrivals, time - $start;
}
ok(@arrivals >= 5, scalar(@arrivals) . ' transmissions while silent (T1 = 50 ms)');
my @gaps = map { $arrivals[$_] - $arrivals[$_ - 1] } 1 .. $#arrivals;
ok(@gaps >= 3 && $gaps[2] > $gaps[0], 'the interval doubles: '
   . join(', ', map { sprintf '%.2f', $_ } @gaps));
$j = job($mac, 5);
is_deeply([@$j{qw(state status reason)}], ['failed', 408, 'timeout'],
          'recorded: failed, timeout');
is($j->{transmissions}, scalar @arrivals, 'every transmission counted');

# 5. Pacing: six phones, three per network; 120 per minute per network
#    means 0.5 s apart within a network, 600 per minute 0.1 s overall.
my @phones = map { PolycomSipUA->listener(addr => $_) } '127.0.0.1', '127.0.1.1';
my @macs;
for my $i (0 .. 5) {
    my $m = sprintf('0004f2d001%02d', $i);
    make_phone($m, $phones[$i % 2]);
    push @macs, $m;
}
($res, $data) = api(POST => 'resync', json => { macs => \@macs });
is($res->code, 202, 'bulk resync queued');
my %when = map { $_->{mac} => $_->{not_before_us} } @{ $data->{queued} };
is(scalar keys %when, 6, 'all six queued');
# The slots: 0.5 s apart within a network, 0.1 s apart overall.
my (%slots_by_net, $slots_ok);
push @{ $slots_by_net{ $_ =~ /0[024]$/ ? 'a' : 'b' } }, $when{$_} for keys %when;
$slots_ok = 1;
for my $t (values %slots_by_net) {
    my @t = sort { $a <=> $b } @$t;
    $slots_ok &&= $t[$_] - $t[$_ - 1] >= 500_000 for 1 .. $#t;
}
my @all_slots = sort { $a <=> $b } values %when;
$slots_ok &&= $all_slots[$_] - $all_slots[$_ - 1] >= 100_000 for 1 .. $#all_slots;
ok($slots_ok, 'queued 0.5 s apart per network and 0.1 s apart overall');
my %seen;
$start = time;
# The slots end within 1.5 s. The window is wider: a worker that wakes up
# late (seen once in a PostgreSQL pass: a NOTIFY missing after 6 s) is
# slow, not a lost NOTIFY; the pacing checks below still hold it to its
# slots.
while (time - $start < 15 && keys(%seen) < 6) {
    for my $s (@phones) {
        my ($m) = $s->receive(0.05) or next;
        my ($user_mac) = grep { !$seen{$_} } @macs;   # any: we time arrivals
        $seen{ sip_header($m, 'Call-ID') } = [time - $start, $s->sock->sockhost];
        $s->reply($m, '200 OK');
    }
}
is(scalar keys %seen, 6, 'every phone got its NOTIFY');
my %by_net;
push @{ $by_net{ $_->[1] } }, $_->[0] for values %seen;
my $net_ok = 1;
for my $times (values %by_net) {
    my @t = sort { $a <=> $b } @$times;
    $net_ok &&= $t[$_] - $t[$_ - 1] > 0.25 for 1 .. $#t;
}
# Sent at the worker's first wake-up (every 200 ms) after each slot.
ok($net_ok, 'sent within one network well apart (slot 0.5 s, wake-up 0.2 s)');
my @all = sort { $a <=> $b } map { $_->[0] } values %seen;
ok($all[-1] - $all[0] >= 0.9, sprintf('the bulk is spread over %.1f s', $all[-1] - $all[0]));
# The worker wakes every 200 ms, so two jobs due in one wake-up may leave
# together; more than two at once would break the pacing.
my $burst = 0;
for my $i (0 .. $#all) {
    my $n = grep { $_ >= $all[$i] && $_ < $all[$i] + 0.15 } @all;
    $burst = $n if $n > $burst;
}
ok($burst <= 2, "never more than two NOTIFYs within 0.15 s (saw $burst)");

# Validation and bookkeeping.
($res) = api(POST => 'phones/0004f2ffff01/resync');
is($res->code, 404, 'unknown phone: 404');
api(PUT => 'phones/0004f2d00099', json => { model => 'VVX411' });
($res) = api(POST => 'phones/0004f2d00099/resync');
is($res->code, 409, 'a phone never seen and without sip_address: 409');
($res) = api(POST => 'resync', json => { macs => ['zz'] });
is($res->code, 400, 'bad MAC in a bulk resync: 400');
($res) = api(POST => 'resync', json => {});
is($res->code, 400, 'a bulk resync names its phones');
($res, $data) = api(POST => 'sites/lab/resync');
is($res->code, 202, 'site resync');
is(scalar @{ $data->{queued} }, 7, 'queues every phone of the site');
