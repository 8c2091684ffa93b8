# Resync through the site's registrar: Debian's Kamailio, started here on
# 127.0.0.1 (the port t/TEST chose and PolycomResyncProxy names), with its
# registrations in the SQLite file PolycomResyncRegistrar reads. Phones
# played by this test register to it from ports other than the one a
# NOTIFY would be guessed at (5060 at their last check-in address), over
# UDP and TCP; the NOTIFY reaches them only through Kamailio, and what they
# answer (200, a digest challenge) is what the job records. Phones that
# cannot be addressed are reported one by one.
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
use PolycomKamailio;
use PolycomSipUA qw(sip_header);

plan tests => 34;

my $kport = Apache::Test::vars('kamailio_port');
my $kdb = Apache::Test::vars('kamailio_db');
my $kamailio = PolycomKamailio->start(port => $kport, db => $kdb,
                                      top => Apache::Test::vars('top_dir'));
ok($kamailio, "Kamailio runs on 127.0.0.1:$kport");
END { $kamailio->stop if $kamailio }

# The worker sends one NOTIFY at a time: jobs earlier files left to phones
# that no longer answer (64*T1 each) go first. Start on an empty queue.
my $drained = time + 90;
sleep 0.5 while time < $drained && PolycomTest::db_value(
    "SELECT count(*) AS n FROM resync_queue WHERE state IN ('queued', 'sending')");

sub job {
    my ($mac, $wait) = @_;
    my $until = time + ($wait // 15);
    while (1) {
        my (undef, $data) = api(GET => "phones/$mac/resync");
        my $j = $data->{resyncs}[0];
        return $j if !$j || $j->{state} =~ /^(done|failed)$/ || time > $until;
        sleep 0.1;
    }
}
sub make_phone {
    my ($mac, $user) = @_;
    my ($res) = api(PUT => "phones/$mac", json => {
        model => 'VVX411', site => 'nat',
        $user ? (lines => [{ user => $user, password => "pw-$user" }]) : () });
    return $res->code;
}

# ---- 1. A phone behind NAT, registered over UDP ------------------------
my $mac = '0004f2d10001';
is(make_phone($mac, '2001'), 201, 'a phone with line 2001, no sip_address');
is(GET("/prov/$mac.cfg")->code, 200,
   'it checks in: a direct NOTIFY would go to 127.0.0.1:5060');
my $udp = PolycomSipUA->new(registrar => "127.0.0.1:$kport", user => '2001', proto => 'udp');
is($udp->register, 200, 'it registers to Kamailio from port ' . $udp->sock->sockport);
my $received = `sqlite3 '$kdb' "SELECT received FROM location WHERE username = '2001'"`;
chomp $received;
like($received, qr/:\Q@{[ $udp->sock->sockport ]}\E\b/,
     "Kamailio's location table holds the NAT binding ($received)");

my ($res, $data) = api(POST => "phones/$mac/resync");
is($res->code, 202, 'resync queued');
my $msg = $udp->receive(10) // '';
like($msg, qr{^NOTIFY sip:2001\@127\.0\.0\.1:5060 SIP/2\.0\r\n},
     'the NOTIFY arrived at the port it registered from, through Kamailio');
is(sip_header($msg, 'Event'), 'check-sync', 'Event: check-sync');
my @via = $msg =~ /^Via:\s*(.*?)\r$/mgi;
like($via[0] // '', qr{^SIP/2\.0/UDP 127\.0\.0\.1:\Q$kport\E}, 'relayed by Kamailio (its Via on top)');
like($via[1] // '', qr{^SIP/2\.0/TCP }, 'sent by the module to the proxy over TCP (the second Via)');
$udp->reply($msg, '200 OK') if $msg;
my $j = job($mac);
is_deeply([@$j{qw(state status)}], ['done', 200], 'the phone\'s 200 is the job\'s: done, 200');
like($j->{reason}, qr/through the proxy 127\.0\.0\.1:\Q$kport\E\/TCP to sip:2001\@127\.0\.0\.1/,
     "the job says how it went: $j->{reason}");

# ---- 2. The phone challenges: the digest answer goes the same way -----
api(POST => "phones/$mac/resync");
$msg = $udp->receive(10) // '';
ok($msg, 'NOTIFY before the challenge');
$udp->reply($msg, '401 Unauthorized',
            'WWW-Authenticate: Digest realm="PolycomSPIP", nonce="kam42", qop="auth"') if $msg;
my $again = $udp->receive(10) // '';
my %p = (sip_header($again, 'Authorization') // '') =~ /(\w+)="?([^",]*)"?/g;
is(sip_header($again, 'CSeq'), '2 NOTIFY', 'the answer to the challenge arrived through Kamailio');
my $ha1 = md5_hex('2001:PolycomSPIP:pw-2001');
my $ha2 = md5_hex("NOTIFY:" . ($p{uri} // ''));
is($p{response} // '', md5_hex("$ha1:kam42:" . ($p{nc} // '') . ':' . ($p{cnonce} // '') . ":auth:$ha2"),
   'with the right digest for the line password');
is($p{uri}, 'sip:2001@127.0.0.1', 'for the AOR it was sent to');
$udp->reply($again, '200 OK') if $again;
$j = job($mac);
is_deeply([@$j{qw(state status challenged)}], ['done', 200, JSON::PP::true],
          'recorded: done after the challenge');

# ---- 3. A phone registered over TCP: Kamailio uses its connection -----
my $tmac = '0004f2d10003';
make_phone($tmac, '2003');
my $tcp = PolycomSipUA->new(registrar => "127.0.0.1:$kport", user => '2003', proto => 'tcp');
is($tcp->register, 200, 'a phone registers over TCP');
api(POST => "phones/$tmac/resync");
$msg = $tcp->receive(10) // '';
like($msg, qr{^NOTIFY sip:2003\@127\.0\.0\.1:5060;transport=tcp SIP/2\.0\r\n},
     'the NOTIFY arrived over the TCP connection it registered on');
like((($msg =~ /^Via:\s*(.*?)\r$/mi)[0]) // '', qr{^SIP/2\.0/TCP 127\.0\.0\.1:\Q$kport\E},
     'relayed over TCP');
$tcp->reply($msg, '200 OK') if $msg;
$j = job($tmac);
is_deeply([@$j{qw(state status)}], ['done', 200], 'recorded: done, 200');

# ---- 4. A line the registrar does not know: reported, not guessed -----
my $gone = '0004f2d10004';
make_phone($gone, '2004');
($res, $data) = api(POST => "phones/$gone/resync");
is($res->code, 202, 'a phone never seen, with a line: queued for the registrar');
$j = job($gone);
is($j->{state}, 'failed', 'not registered: the job fails');
like($j->{reason}, qr/not registered at the registrar/, "and says why: $j->{reason}");
is($j->{transmissions}, 0, 'nothing was sent to a guessed address');

# ---- 5. Bulk: each phone that cannot be addressed is named -------------
my $bare = '0004f2d10005';
make_phone($bare, undef);
($res, $data) = api(POST => 'resync', json => { macs => [$mac, $bare] });
is($res->code, 202, 'bulk resync: 202');
is_deeply([map { $_->{mac} } @{ $data->{queued} }], [$mac], 'the registered phone is queued');
is(scalar @{ $data->{skipped} }, 1, 'the other is reported');
is($data->{skipped}[0]{mac}, $bare, 'by its MAC');
like($data->{skipped}[0]{error}, qr/no line/, "with the reason: $data->{skipped}[0]{error}");
($res, $data) = api(GET => "phones/$bare/resync");
is($data->{resyncs}[0]{state}, 'failed', 'its resyncs show a failed job');
like($data->{resyncs}[0]{reason} // '', qr/no line/, 'saying why');
$msg = $udp->receive(10) // '';
$udp->reply($msg, '200 OK') if $msg;
is(job($mac)->{state}, 'done', 'and the registered phone got its NOTIFY');

my $kpid = $kamailio->{pid};
$kamailio->stop;
ok($kpid && !kill(0, $kpid), 'Kamailio stopped');
