# Reprovisioning: the device.* stanza that moves phones to a new server,
# per phone, per site and fleet-wide, tracked pending -> delivered ->
# applied (or done, marked by hand), and the bundle for an old server that
# cannot run the module.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;
use HTTP::Request;
use JSON::PP ();
use LWP::UserAgent;

plan tests => 82;

my $spip = MAC_SPIP;          # SIP 3.x
my $vvx = MAC_VVX;            # UCS
my $port = Apache::TestRequest::hostport() =~ s/.*://r;

sub master_files {
    my ($mac, @headers) = @_;
    my $doc = parse_xml(GET("/prov/$mac.cfg", @headers)->content) or return [];
    return [split /\s*,\s*/, $doc->documentElement->getAttribute('CONFIG_FILES')];
}
sub device_attrs {
    my ($mac) = @_;
    my $res = GET "/prov/$mac-device.cfg";
    return ($res->code, $res->code == 200 ? config_attrs(parse_xml($res->content)) : {},
            $res->content);
}

# No move: no stanza.
is_deeply(master_files($spip), ["$spip-settings.cfg"], 'no move: the settings only');
is((device_attrs($spip))[0], 404, 'no move: no device file');

# A move of one phone: the stanza is listed first, with every .set flag.
my ($res, $data) = api(POST => "phones/$spip/reprovision", json => {
    server => 'https://prov.example.com/polycom', type => 'HTTPS',
    user => 'prov-user', password => 'prov-pass-1' });
is($res->code, 201, 'set a phone target');
is($data->{password}, '********', 'the password is masked in the answer');
is_deeply(master_files($spip), ["$spip-device.cfg", "$spip-settings.cfg"],
          'the stanza file comes first in CONFIG_FILES (first wins)');
my ($code, $a) = device_attrs($spip);
is($code, 200, 'device file served');
is_deeply([@$a{qw(device.set device.prov.serverName device.prov.serverType
                  device.dhcp.bootSrvUseOpt device.prov.user device.prov.password)}],
          [1, 'https://prov.example.com/polycom', 3, 2, 'prov-user', 'prov-pass-1'],
          'server, type HTTPS=3, boot server Static=2 by default, credentials');
is(scalar(grep { /^device\..*\.set$/ && $a->{$_} eq '1' } keys %$a), 5,
   'each device.* value has its .set="1"');
($res, $data) = api(GET => "phones/$spip");
is($data->{reprovision}{state}, 'delivered', 'the phone fetched it: delivered');
ok($data->{reprovision}{delivered}, 'with the time');
is($data->{reprovision}{password}, undef, 'the API never shows the password');

# Each server type and boot-server option, on a SIP 3.x and a UCS phone.
my %types = (FTP => 0, TFTP => 1, HTTP => 2, HTTPS => 3, FTPS => 4);
my %boots = (Default => 0, Custom => 1, Static => 2, CustomAndDefault => 3);
my $shared = shared_dir();
my $schema = $shared && -f "$shared/polycom/polycomConfig-4.0.15.xsd"
    ? XML::LibXML::Schema->new(location => "$shared/polycom/polycomConfig-4.0.15.xsd")
    : undef;
for my $mac ($spip, $vvx) {
    my ($all_types, $all_boots, $valid) = (1, 1, 1);
    for my $type (sort keys %types) {
        for my $boot (sort keys %boots) {
            api(POST => "phones/$mac/reprovision", json => {
                server => 'prov.example.com/polycom', type => $type,
                boot_server => $boot });
            my ($c, $attrs, $body) = device_attrs($mac);
            $all_types &&= $c == 200 && $attrs->{'device.prov.serverType'} eq $types{$type};
            $all_boots &&= $attrs->{'device.dhcp.bootSrvUseOpt'} eq $boots{$boot};
            $valid &&= !$schema || eval { $schema->validate(parse_xml($body)); 1 };
        }
    }
    ok($all_types, "$mac: every server type as its number");
    ok($all_boots, "$mac: every boot-server option as its number");
    ok($valid, "$mac: every stanza validates against polycomConfig.xsd"
       . ($schema ? '' : ' (schema NOT checked: ../shared missing)'));
}
($res) = api(DELETE => "phones/$vvx/reprovision");
is($res->code, 204, 'DELETE a phone target');
is_deeply(master_files($vvx), ["$vvx-settings.cfg"], 'no stanza after the delete');

# Validation.
for my $bad ({ type => 'HTTP' }, { server => 'a b' }, { server => 'x', type => 'SCP' },
             { server => 'x', boot_server => 'DHCP' }, { server => 'x', colour => 'red' },
             { server => 'x', deadline => 'tomorrow' }) {
    ($res) = api(POST => "phones/$spip/reprovision", json => $bad);
    is($res->code, 400, 'refused: ' . join(',', %$bad));
}
($res) = api(POST => 'phones/0004f2ffff00/reprovision', json => { server => 'x' });
is($res->code, 404, 'unknown phone: 404');

# Applied: the phone checks in at the target, then is never served the
# stanza again, so it cannot loop. The target here is this server reached
# as 127.0.0.1; the "old" server is the same one reached as localhost.
($res) = api(POST => "phones/$spip/reprovision", json => {
    server => "http://127.0.0.1:$port/prov", type => 'HTTP' });
is($res->code, 201, 'target: this server under another name');
is((device_attrs($spip))[0], 200, 'the old address delivers the stanza');
($res, $data) = api(GET => "phones/$spip");
is($data->{reprovision}{state}, 'delivered', 'delivered');
is(GET("/prov/$spip.cfg", Host => "127.0.0.1:$port")->code, 200,
   'the phone checks in at the target');
($res, $data) = api(GET => "phones/$spip");
is($data->{reprovision}{state}, 'applied',
   'applied: it asked for its files at the new address (its Host header)');
ok($data->{reprovision}{applied}, 'with the time');
is_deeply(master_files($spip), ["$spip-settings.cfg"],
          'an applied phone is no longer listed the stanza');
is((device_attrs($spip))[0], 404, 'nor served it');

# Done by hand: a move to a server that shares no database with this one
# never shows here; the admin says it is over.
($res) = api(POST => "phones/$vvx/reprovision", json => {
    server => 'https://elsewhere.example.net/prov', type => 'HTTPS' });
is((device_attrs($vvx))[0], 200, 'a move to another server: delivered');
($res, $data) = api(GET => "phones/$vvx");
is($data->{reprovision}{state}, 'delivered', 'and it stays delivered');
($res, $data) = api(POST => "phones/$vvx/reprovision/done");
is($res->code, 200, 'POST phones/{mac}/reprovision/done: 200');
is_deeply([@$data{qw(state was)}], ['done', 'delivered'], 'done, was delivered');
($res, $data) = api(GET => "phones/$vvx");
is($data->{reprovision}{state}, 'done', 'the phone reads done');
is($data->{reprovision}{applied}, undef, 'with no applied time: no proof from the phone');
is_deeply(master_files($vvx), ["$vvx-settings.cfg"], 'no longer served the stanza');
($res, $data) = api(GET => 'audit?limit=1');
is_deeply([@{ $data->{audit}[0] // {} }{qw(action target)}],
          ['reprovision.done', "phone/$vvx"], 'audited as reprovision.done');
($res, $data) = api(GET => 'reprovision');
my ($pt) = grep { $_->{scope} eq 'phone' && $_->{key} eq $vvx } @{ $data->{targets} };
is_deeply([@{ $pt // {} }{qw(delivered applied done)}], [0, 0, 1],
          'the target counts it as done, not applied');
($res) = api(POST => "phones/$spip/reprovision/done");
is($res->code, 200, 'an applied phone: 200, nothing to do');
($res) = api(POST => "phones/0004f2ffff00/reprovision/done");
is($res->code, 404, 'an unknown phone: 404');
api(DELETE => "phones/$vvx/reprovision");
($res) = api(POST => "phones/$vvx/reprovision/done");
is($res->code, 404, 'no move under way: 404');

# A deadline in the past: the move is over.
($res) = api(POST => "phones/$spip/reprovision", json => {
    server => 'prov.example.com', deadline => '2020-01-01T00:00:00Z' });
is($res->code, 201, 'target with a past deadline');
is_deeply(master_files($spip), ["$spip-settings.cfg"], 'expired: no stanza');
api(DELETE => "phones/$spip/reprovision");

# A site: every phone of the site, and none elsewhere.
($res) = api(POST => 'sites/hq/reprovision', json => { server => 'hq-prov.example.com' });
is($res->code, 201, 'set a site target');
is((device_attrs($vvx))[1]{'device.prov.serverName'}, 'hq-prov.example.com',
   'a phone of the site gets it');
is((device_attrs(MAC_TRIO))[0], 404, 'a phone of another site does not');
($res) = api(POST => "phones/$vvx/reprovision", json => { server => 'own.example.com' });
is((device_attrs($vvx))[1]{'device.prov.serverName'}, 'own.example.com',
   'a phone target beats the site target');
api(DELETE => "phones/$vvx/reprovision");
($res) = api(DELETE => 'sites/hq/reprovision');
is($res->code, 204, 'DELETE the site target');

# The fleet, including phones the database does not know.
($res) = api(POST => 'reprovision', json => {
    server => 'https://new-prov.example.com/p', type => 'HTTPS',
    user => 'fleet-user', password => 'fleet-pass' });
is($res->code, 201, 'set a fleet target');
is_deeply(master_files('000000000000'),
          ['000000000000-device.cfg', '000000000000-settings.cfg'],
          '000000000000.cfg lists the stanza first');
($code, $a, my $body) = device_attrs('000000000000');
is($a->{'device.prov.serverName'}, 'https://new-prov.example.com/p',
   'unknown phones get the new server');
ok(!exists $a->{'device.prov.password'} && $body !~ /fleet-pass|fleet-user/,
   'but never the credentials');
is((device_attrs(MAC_TRIO))[1]{'device.prov.password'}, 'fleet-pass',
   'a known phone gets them');
($res, $data) = api(GET => 'reprovision');
is($data->{targets}[0]{scope}, 'fleet', 'targets listed');
is($data->{targets}[0]{password}, '********', 'masked');

# The bundle for an old server that cannot run this module.
($res, $data) = api(GET => 'reprovision/bundle');
is($res->code, 200, 'bundle');
my $m = parse_xml($data->{files}{'000000000000.cfg'} // '');
is($m && $m->documentElement->getAttribute('CONFIG_FILES'), '000000000000-device.cfg',
   'its master names the stanza file');
is($m && $m->documentElement->getAttribute('APP_FILE_PATH'), '',
   'and leaves firmware alone');
sub bundle_device {
    my ($data) = @_;
    my $d = parse_xml($data->{files}{'000000000000-device.cfg'} // '');
    return $d ? config_attrs($d) : {};
}
my $da = bundle_device($data);
is_deeply([@$da{qw(device.set device.prov.serverName device.prov.serverType
                   device.prov.user device.prov.password)}],
          [1, 'https://new-prov.example.com/p', 3, undef, undef],
          'the stanza moves phones to this server, without credentials');
ok(!$data->{credentials} && !exists $data->{warning},
   'the answer says so, and warns of nothing');
unlike($res->content, qr/fleet-user|fleet-pass/, 'no credential anywhere in it');
($res, $data) = api(GET => 'reprovision/bundle?with_credentials=1');
is($res->code, 403, 'credentials asked for where the location does not allow them');
like($data->{detail} // '', qr/PolycomBundleCredentials On/, 'the answer names the directive');
($res) = api(GET => 'reprovision/bundle?with_credentials=yes');
is($res->code, 400, 'with_credentials is 0 or 1');

# Two keys: PolycomBundleCredentials On in the location, and the query.
sub open_bundle {
    my ($query) = @_;
    my $req = HTTP::Request->new(GET => 'http://' . Apache::TestRequest::hostport()
                                 . "/admin-open/reprovision/bundle$query");
    $req->authorization_basic('admin', 'admin-secret');
    my $res = LWP::UserAgent->new(timeout => 30)->request($req);
    return ($res, eval { JSON::PP->new->utf8->decode($res->content) } || {});
}
($res, $data) = open_bundle('');
is_deeply([@{ bundle_device($data) }{qw(device.prov.user device.prov.password)}],
          [undef, undef], 'an allowing location still leaves them out unasked');
($res, $data) = open_bundle('?with_credentials=1');
is($res->code, 200, 'asked for where allowed');
$da = bundle_device($data);
is_deeply([@$da{qw(device.prov.user device.prov.user.set device.prov.password
                   device.prov.password.set)}],
          ['fleet-user', 1, 'fleet-pass', 1], 'credentials included, with their flags');
ok($data->{credentials} && ($data->{warning} // '') =~ /every phone/,
   'the answer says so and names the risk');
my $log = do { local (@ARGV, $/) = (Apache::Test::vars('t_logs') . '/error_log'); <> };
like($log, qr/PC00140: admin admin took the reprovisioning bundle with/,
     'and the server logs who took it (PC00140)');

# Credentials in the server's URL are credentials too.
($res) = api(POST => 'reprovision', json => {
    server => 'https://url-user:url-pass@new-prov.example.com/p', type => 'HTTPS' });
is($res->code, 201, 'a fleet target with user:password@ in its URL');
($res, $data) = api(GET => 'reprovision/bundle');
is(bundle_device($data)->{'device.prov.serverName'}, 'https://new-prov.example.com/p',
   'the bundle drops them from the server unasked');
unlike($res->content, qr/url-pass/, 'nowhere in it');
($res, $data) = open_bundle('?with_credentials=1');
is(bundle_device($data)->{'device.prov.serverName'},
   'https://url-user:url-pass@new-prov.example.com/p', 'and keeps them when asked');
($res) = api(DELETE => 'reprovision');
is($res->code, 204, 'DELETE the fleet target');
($res) = api(GET => 'reprovision/bundle');
is($res->code, 404, 'no bundle without a fleet target');

($res, $data) = api(GET => 'audit?limit=200');
ok(grep({ $_->{action} eq 'reprovision.set' } @{ $data->{audit} }), 'moves are audited');
unlike($res->content, qr/prov-pass-1|fleet-pass|url-pass/, 'without passwords');
