# One check-in row per provisioning request, with the family, model,
# firmware and stage parsed from the User-Agent of every phone family, the
# MAC from the path or from (SN:...), and the phone's last check-in as the
# admin API shows it.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_cmp);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

my @agents = (
    ['FileTransport PolycomSoundPointIP-SPIP_330-UA/3.2.7.0198',
     'SoundPointIP', 'SPIP330', '3.2.7.0198', ''],
    ['FileTransport PolycomSoundPointIP-SPIP_550-UA/4.0.15.1047 (SN:0004f2000550) Type/Application',
     'SoundPointIP', 'SPIP550', '4.0.15.1047', 'application'],
    ['FileTransport PolycomSoundStationIP-SSIP_6000-UA/5.0.3.1667 Type/Updater',
     'SoundStationIP', 'SSIP6000', '5.0.3.1667', 'updater'],
    ['FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Application',
     'VVX', 'VVX411', '5.9.5.0614', 'application'],
    ['FileTransport PolycomRealPresenceTrio-Trio_8800-UA/7.2.2.1094 Type/Application',
     'RealPresenceTrio', 'Trio8800', '7.2.2.1094', 'application'],
    ['FileTransport PolyEdge-Edge_E450-UA/8.1.3.0651 Type/Application',
     'Edge', 'EdgeE450', '8.1.3.0651', 'application'],
    ['FileTransport PolyCCX-CCX_500-UA/7.1.1.0573 Type/Application',
     'CCX', 'CCX500', '7.1.1.0573', 'application'],
    ['Wget/1.21.3', 'unknown', '', '', ''],
);

plan tests => @agents * 2 + 9;

my $mac = MAC_TRIO;
for my $a (@agents) {
    my ($ua, @want) = @$a;
    db_exec('DELETE FROM checkins');
    GET "/prov/$mac-web.cfg", 'User-Agent' => $ua;
    my $rows = db_rows('SELECT * FROM checkins');
    is(scalar @$rows, 1, "one row for '$ua'");
    my $r = $rows->[0] || {};
    is_deeply([@$r{qw(family model firmware stage)}], \@want,
              "family, model, firmware, stage of '$want[1]'");
}

db_exec('DELETE FROM checkins');
my $res = GET "/prov/$mac.cfg", 'User-Agent' => UA_TRIO,
    'X-Ignored' => 'x';
my $r = db_rows('SELECT * FROM checkins')->[0] || {};
is($r->{mac}, $mac, 'MAC from the path');
is($r->{method} . ' ' . $r->{file} . ' ' . $r->{status}, "GET $mac.cfg 200",
   'method, file and status');
is($r->{bytes}, length($res->content), 'bytes sent');
is($r->{etag}, $res->header('ETag'), 'the ETag that was served');
is($r->{ip}, '127.0.0.1', 'client address');
cmp_ok($r->{time_us}, '>', (time() - 300) * 1e6, 'time in microseconds');

settle();
my (undef, $phone) = api(GET => "phones/$mac");
is_deeply([@{ ($phone // {})->{last_checkin} // {} }{qw(file status model firmware)}],
          ["$mac.cfg", 200, 'Trio8800', '7.2.2.1094'],
          "the admin API's last-seen summary is that newest check-in");

db_exec('DELETE FROM checkins');
GET '/prov/000000000000.cfg', 'User-Agent' => $agents[1][0];
is(db_value('SELECT mac FROM checkins'), '0004f2000550',
   'no MAC in the path: the MAC comes from (SN:...)');

# The same facts are request notes, for LogFormat %{polycom-mac}n.
my $log = Apache::Test::vars('t_logs') . '/polycom_log';
GET "/prov/$mac.cfg", 'User-Agent' => UA_TRIO;
sleep 1 unless -s $log;
open my $fh, '<', $log or die "$log: $!";
my @lines = grep { m{/prov/$mac\.cfg$} } <$fh>;
like($lines[-1] || '', qr/ 200 $mac Trio8800 7\.2\.2\.1094 /,
     'LogFormat notes polycom-mac, polycom-model, polycom-firmware');
