# Unknown and disabled phones, and the default files for phones the
# database does not know: no secret ever leaves through them.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use lib 't/lib';
use PolycomTest;

plan tests => 13;

my $mac = '0004f2c0ffee';
my $res = GET "/prov/$mac.cfg", 'User-Agent' => UA_VVX;
is($res->code, 404, 'unknown MAC: 404, so the phone falls back');
unlike($res->content, qr/APPLICATION/, 'no master in the body');
my $row = db_rows("SELECT * FROM discovered WHERE mac = '$mac'")->[0];
ok($row, 'the unknown MAC is recorded as discovered');
is($row && $row->{model}, 'VVX411', 'with the model from its User-Agent');
GET "/prov/$mac.cfg", 'User-Agent' => UA_VVX;
is(db_value("SELECT requests FROM discovered WHERE mac = '$mac'"), 2,
   'a second request counts, still one row');
is(GET("/prov/$mac-settings.cfg")->code, 404, 'unknown MAC: no settings');

db_exec("UPDATE phones SET enabled = 0 WHERE mac = '" . MAC_TRIO . "'");
is(GET('/prov/' . MAC_TRIO . '.cfg')->code, 404, 'disabled phone: 404');
is(GET('/prov/' . MAC_TRIO . '-settings.cfg')->code, 404,
   'disabled phone: no settings, so no secrets');
db_exec("UPDATE phones SET enabled = 1 WHERE mac = '" . MAC_TRIO . "'");
is(GET('/prov/' . MAC_TRIO . '.cfg')->code, 200, 're-enabled: served again');

# The default master and its settings: site-wide values only.
my @secrets = demo_secrets();
ok(@secrets >= 4, 'the demo database holds secrets to leak');
my $all = '';
for my $file ('000000000000.cfg', '000000000000-settings.cfg') {
    $res = GET "/prov/$file", 'User-Agent' => UA_VVX;
    $all .= $res->content;
}
is(scalar(grep { index($all, $_) >= 0 } @secrets), 0,
   'no secret of any phone in 000000000000.cfg or its settings');
my $cfg = parse_xml(GET('/prov/000000000000-settings.cfg')->content);
my $attrs = $cfg ? config_attrs($cfg) : {};
is($attrs->{'tcpIpApp.sntp.address'}, 'pool.ntp.org',
   'the default settings carry the global settings');
ok(!exists $attrs->{'reg.1.address'} && !grep(/password/i, keys %$attrs),
   'and nothing of a phone, nor any password parameter');
