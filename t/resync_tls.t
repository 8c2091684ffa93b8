# Resync through the site's registrar over TLS: Debian's Kamailio with its
# TLS module (kamailio-tls-modules), started here on 127.0.0.1 with a
# server certificate from the test CA (t/TEST makes both). httpd is
# restarted with PolycomResyncProxy 127.0.0.1:<TLS port> tls (and back
# afterwards); PolycomResyncTLSCA is the test CA. A phone registered over
# TLS keeps its connection open; the NOTIFY goes to Kamailio over TLS and
# reaches the phone over its own TLS connection, and what the phone
# answers (200, a digest challenge) is the job's. A Kamailio whose
# certificate the CA does not vouch for, or that names another host, gets
# nothing: the job fails naming the certificate's problem, and one log
# line says so.
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

plan tests => 31;

my $kport = Apache::Test::vars('kamailio_port');
my $tport = Apache::Test::vars('kamailio_tls_port');
my $kdb = Apache::Test::vars('kamailio_db');
my $ssl = Apache::Test::vars('ssl_dir');
my $top = Apache::Test::vars('top_dir');
my $override = Apache::Test::vars('serverroot') . '/conf/resync_tls_proxy.conf';

sub kamailio {
    my ($cert) = @_;
    return PolycomKamailio->start(port => $kport, db => $kdb, top => $top,
                                  tls_port => $tport,
                                  cert => "$ssl/$cert.crt",
                                  key => "$ssl/$cert.key");
}
my $kamailio = kamailio('server');
ok($kamailio, "Kamailio runs with TLS on 127.0.0.1:$tport");

# ---- httpd with the proxy over TLS -------------------------------------
# A restart (SIGHUP) re-reads the configuration; the resync worker starts
# again with it in the new generation of children.
sub restart_httpd {
    my $pid = PolycomTest::server_pid();
    my $before = grep { /resuming normal operations/ } PolycomTest::error_log_lines();
    kill 'HUP', $pid or return 0;
    my $until = time + 30;
    while (time < $until) {
        sleep 0.2;
        next if $before >= grep { /resuming normal operations/ } PolycomTest::error_log_lines();
        my $r = eval { GET '/prov/000000000000.cfg' };
        return 1 if $r && $r->code == 200;
    }
    return 0;
}
sub restore {
    return unless -e $override;
    unlink $override;
    restart_httpd();
}
END { $kamailio->stop if $kamailio; restore() }

open my $o, '>', $override or die "$override: $!";
print $o "PolycomResyncProxy 127.0.0.1:$tport tls\n";
close $o;
ok(restart_httpd(), "httpd restarted with PolycomResyncProxy 127.0.0.1:$tport tls");

# The worker sends one NOTIFY at a time: start on an empty queue.
my $drained = time + 90;
sleep 0.5 while time < $drained && PolycomTest::db_value(
    "SELECT count(*) AS n FROM resync_queue WHERE state IN ('queued', 'sending')");

# ---- a phone's SIP side over TLS ---------------------------------------
# The phone verifies the registrar with the test CA unless told not to
# (a phone that trusts whatever answers, for the Kamailios below whose
# certificate the module refuses).
sub new_ua {
    my ($user, $verify) = @_;
    return PolycomSipUA->new(registrar => "127.0.0.1:$tport", user => $user,
                             proto => 'tls',
                             $verify ? (ca_file => "$ssl/ca.crt") : ());
}
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
        model => 'VVX411', site => 'tls',
        lines => [{ user => $user, password => "pw-$user" }] });
    return $res->code;
}

# ---- 1. A phone registered over TLS ------------------------------------
my $mac = '0004f2d10006';
is(make_phone($mac, '2006'), 201, 'a phone with line 2006, no sip_address');
my $ua = new_ua('2006', 1);
is($ua->register, 200, 'it registers to Kamailio over TLS');
my $contact = `sqlite3 '$kdb' "SELECT contact FROM location WHERE username = '2006'"`;
chomp $contact;
like($contact, qr/transport=tls/, "Kamailio's location holds a TLS contact ($contact)");

my ($res) = api(POST => "phones/$mac/resync");
is($res->code, 202, 'resync queued');
my $msg = $ua->receive(10) // '';
like($msg, qr{^NOTIFY sip:2006\@127\.0\.0\.1:5061;transport=tls SIP/2\.0\r\n},
     'the NOTIFY arrived over the TLS connection the phone registered on');
is(sip_header($msg, 'Event'), 'check-sync', 'Event: check-sync');
my @via = $msg =~ /^Via:\s*(.*?)\r$/mgi;
like($via[0] // '', qr{^SIP/2\.0/TLS 127\.0\.0\.1:\Q$tport\E}, 'relayed by Kamailio over TLS');
like($via[1] // '', qr{^SIP/2\.0/TLS 127\.0\.0\.1:(\d+)}, 'sent by the module to the proxy over TLS');
like(sip_header($msg, 'Contact') // '', qr/;transport=tls>/, 'its Contact says TLS');
$ua->reply($msg, '200 OK') if $msg;
my $j = job($mac);
is_deeply([@$j{qw(state status)}], ['done', 200], "the phone's 200 is the job's: done, 200");
like($j->{reason}, qr{through the proxy 127\.0\.0\.1:\Q$tport\E/TLS to sip:2006\@127\.0\.0\.1},
     "the job says how it went: $j->{reason}");

# ---- 2. A digest challenge: answered on the same TLS connection --------
api(POST => "phones/$mac/resync");
$msg = $ua->receive(10) // '';
ok($msg, 'NOTIFY before the challenge');
$ua->reply($msg, '401 Unauthorized',
           'WWW-Authenticate: Digest realm="PolycomSPIP", nonce="tls42", qop="auth"') if $msg;
my $again = $ua->receive(10) // '';
is(sip_header($again, 'CSeq'), '2 NOTIFY', 'the answer to the challenge arrived over TLS');
# The module's Via (under Kamailio's) names its end of the connection.
my ($first_port) = ((($msg =~ /^Via:\s*(.*?)\r$/mgi)[1]) // '') =~ /:(\d+)/;
my ($second_port) = ((($again =~ /^Via:\s*(.*?)\r$/mgi)[1]) // '') =~ /:(\d+)/;
ok($first_port && $first_port == ($second_port // 0),
   'from the same TLS connection to the proxy (port ' . ($first_port // '?') . ')');
my %p = (sip_header($again, 'Authorization') // '') =~ /(\w+)="?([^",]*)"?/g;
my $ha1 = md5_hex('2006:PolycomSPIP:pw-2006');
my $ha2 = md5_hex('NOTIFY:' . ($p{uri} // ''));
is($p{response} // '', md5_hex("$ha1:tls42:" . ($p{nc} // '') . ':' . ($p{cnonce} // '') . ":auth:$ha2"),
   'with the right digest for the line password');
$ua->reply($again, '200 OK') if $again;
$j = job($mac);
is_deeply([@$j{qw(state status challenged)}], ['done', 200, JSON::PP::true],
          'recorded: done after the challenge');

# ---- 3. A proxy whose certificate the CA does not vouch for ------------
sub tagged_lines {
    my ($mac, $from) = @_;
    my @lines = PolycomTest::error_log_lines();
    return grep { /PC00173: resync of \Q$mac\E not sent/ } @lines[$from .. $#lines];
}
$kamailio->stop;
$kamailio = kamailio('rogue');          # self-signed, from no known CA
my $rogue_ua = new_ua('2006', 0);
is($rogue_ua->register, 200, 'Kamailio with a self-signed certificate; the phone registers to it');
my $log_from = scalar(my @l = PolycomTest::error_log_lines());
api(POST => "phones/$mac/resync");
$j = job($mac);
is($j->{state}, 'failed', 'a certificate from another CA: the job fails');
like($j->{reason}, qr/certificate of 127\.0\.0\.1 is not trusted by \S+ca\.crt \(PolycomResyncTLSCA\): self[- ]signed certificate/,
     "naming the certificate's problem: $j->{reason}");
is($j->{transmissions}, 0, 'nothing was sent');
ok(!$rogue_ua->receive(1), 'no NOTIFY reached the phone');
my @tagged = tagged_lines($mac, $log_from);
is(scalar @tagged, 1, 'one log line says so (PC00173)');
like($tagged[0] // '', qr/not trusted/, 'with the reason');

# ---- 4. A certificate from the CA, for another host --------------------
$kamailio->stop;
$kamailio = kamailio('sip-elsewhere');  # the test CA's, for sip.example.net
my $other_ua = new_ua('2006', 0);
is($other_ua->register, 200, 'Kamailio with the CA\'s certificate for sip.example.net');
$log_from = scalar(@l = PolycomTest::error_log_lines());
api(POST => "phones/$mac/resync");
$j = job($mac);
is($j->{state}, 'failed', 'a certificate naming another host: the job fails');
like($j->{reason}, qr/the certificate 127\.0\.0\.1 presented \(CN=sip\.example\.net\) does not name 127\.0\.0\.1/,
     "saying so: $j->{reason}");
ok(!$other_ua->receive(1), 'no NOTIFY reached the phone');
is(scalar(tagged_lines($mac, $log_from)), 1, 'one log line (PC00173)');

my $kpid = $kamailio->{pid};
$kamailio->stop;
ok($kpid && !kill(0, $kpid), 'Kamailio stopped');
