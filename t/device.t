# device.* parameters set in a layer reach the phone applied: a phone takes
# a device.* value only with device.set="1" and the value's own
# <name>.set="1" in the same file (REFERENCE.md 3.3), as the simulated
# phones of t/lib/PolycomPhone.pm do, booting as the real ones: a VVX on
# UCS and a SoundPoint IP 330 on SIP 3.2. An admin's .set="0" stops one; a
# move's target beats a layer's server; the default files carry no device
# secret and no flag without its value.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use POSIX qw(strftime);
use Time::HiRes qw(sleep time);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;
use PolycomPhone;

plan tests => 48;

my $vvx = PolycomPhone->new(mac => MAC_VVX, ua => UA_VVX);      # site hq
my $spip = PolycomPhone->new(mac => MAC_SPIP, ua => UA_SPIP);   # site hq
my %set;            # [scope, key, name] set by SQL here, removed at the end

sub set_param {
    my ($scope, $key, $name, $value) = @_;
    db_set_param($scope, $key, $name, $value);
    $set{"$scope\0$key\0$name"} = [$scope, $key, $name];
}
sub unset_param {
    my ($scope, $key, $name) = @_;
    db_exec("DELETE FROM params WHERE scope = '$scope' AND scope_key = '$key'"
            . " AND name = '$name'");
    delete $set{"$scope\0$key\0$name"};
}
sub settings_attrs {
    my ($mac) = @_;
    return PolycomPhone::file_params(GET("/prov/$mac-settings.cfg")->content) || {};
}
# Every <name>.set in a file has its <name> beside it.
sub dangling {
    my ($attrs) = @_;
    return [grep { /^(device\..+)\.set$/ && !exists $attrs->{$1} } sort keys %$attrs];
}

my $admin_pw = db_value("SELECT value FROM params WHERE scope = 'global'"
                        . " AND name = 'device.auth.localAdminPassword'");
ok(defined $admin_pw && length $admin_pw, 'the demo sets a global admin password');

# --- the global device.auth.localAdminPassword is applied --------------------
for my $phone ([$vvx, 'VVX'], [$spip, 'SPIP330']) {
    my ($p, $name) = @$phone;
    $p->boot;
    ok(!$p->error, "$name: boots") or diag($p->error);
    is($p->device->{'device.auth.localAdminPassword'}, $admin_pw,
       "$name: applies the global admin password");
    is_deeply($p->ignored, [], "$name: no device.* value is ignored");
    is($p->received('device.set'), 1, "$name: device.set served once");
}
my $body = $vvx->body(MAC_VVX . '-settings.cfg') // '';
like($body, qr/<device device\.set="1"/, 'device.set sits in <device>');
like($body, qr/<device\.auth\.localAdminPassword device\.auth\.localAdminPassword\.set="1"\/>/,
     'the flag sits in the element polycomConfig.xsd declares for it');

# --- values set at a site, a model and a phone ------------------------------
set_param('site', 'hq', 'device.prov.tagSerialNo', '1');
my (undef, $model) = api(GET => 'params/model/VVX411');
my %model_layer = %{ $model->{params} // {} };
my ($res) = api(PUT => 'params/model/VVX411',
                json => { %model_layer, 'device.syslog.transport' => '2' });
is($res->code, 200, 'a model layer with a device.* value, through the API');
set_param('phone', MAC_VVX, 'device.net.cdpEnabled', '0');
$vvx->boot;
$spip->boot;
is_deeply([@{ $vvx->device }{qw(device.prov.tagSerialNo device.syslog.transport
                                 device.net.cdpEnabled)}],
          ['1', '2', '0'], 'VVX: site, model and phone values are applied');
is_deeply($vvx->ignored, [], 'VVX: none ignored');
is($vvx->received('device.set'), 1, 'VVX: still one device.set');
is($spip->device->{'device.prov.tagSerialNo'}, '1', 'SPIP330: the site value is applied');
ok(!exists $spip->device->{'device.syslog.transport'}
   && !exists $spip->device->{'device.net.cdpEnabled'},
   "SPIP330: nothing of another model's or phone's layer");
my $shared = shared_dir();
SKIP: {
    my $xsd = $shared ? "$shared/polycom/polycomConfig-4.0.15.xsd" : '';
    skip '../shared/polycom/polycomConfig-4.0.15.xsd missing: the schema '
         . 'check did NOT run', 1 unless -f $xsd;
    my $doc = XML::LibXML->load_xml(string => $vvx->body(MAC_VVX . '-settings.cfg'));
    ok(eval { XML::LibXML::Schema->new(location => $xsd)->validate($doc); 1 },
       'VVX: the flagged settings validate against polycomConfig.xsd') or diag($@);
}

# --- an explicit .set="0" stops one value, device.set="0" all of them --------
set_param('phone', MAC_VVX, 'device.auth.localAdminPassword.set', '0');
$vvx->boot;
$spip->boot;
ok(!exists $vvx->device->{'device.auth.localAdminPassword'},
   'VVX: .set="0" at the phone layer: the admin password is not applied');
is($vvx->received('device.auth.localAdminPassword.set'), 1, 'VVX: the flag once, not duplicated');
is($vvx->device->{'device.net.cdpEnabled'}, '0', 'VVX: the other values still are');
is($spip->device->{'device.auth.localAdminPassword'}, $admin_pw,
   'SPIP330: another phone still applies it');
unset_param('phone', MAC_VVX, 'device.auth.localAdminPassword.set');
set_param('site', 'hq', 'device.set', '0');
$vvx->boot;
is_deeply($vvx->device, {}, 'device.set="0" at the site: VVX applies no device.* value');
is($vvx->received('device.set'), 1, 'and is not given a second device.set');
unset_param('site', 'hq', 'device.set');

# --- a move: the target's server wins over a layer's --------------------------
set_param('global', '', 'device.prov.serverName', 'old-prov.example.com');
set_param('global', '', 'device.prov.serverType', '2');
$vvx->boot;
is($vvx->device->{'device.prov.serverName'}, 'old-prov.example.com',
   'no move: the layer\'s server is applied');
($res) = api(POST => 'phones/' . MAC_VVX . '/reprovision',
             json => { server => 'https://new-prov.example.com/p', type => 'HTTPS' });
is($res->code, 201, 'a move of the VVX');
$vvx->boot;
$spip->boot;
is_deeply($vvx->files, [MAC_VVX . '-device.cfg', MAC_VVX . '-settings.cfg'],
          'the stanza file comes first');
is($vvx->device->{'device.prov.serverName'}, 'https://new-prov.example.com/p',
   "the target's server is applied");
is($vvx->received('device.prov.serverName'), 1, 'and served once: only the target\'s');
is_deeply([$vvx->device->{'device.prov.serverType'}, $vvx->received('device.prov.serverType')],
          ['3', 1], 'the same for the server type');
my $attrs = settings_attrs(MAC_VVX);
is_deeply([grep { /^device\.(prov\.(serverName|serverType|user|password)|dhcp\.bootSrvUseOpt)/ }
           sort keys %$attrs], [],
          'the settings leave the stanza parameters and their flags out');
is($vvx->device->{'device.auth.localAdminPassword'}, $admin_pw,
   'the other device.* values are still applied');
is($spip->device->{'device.prov.serverName'}, 'old-prov.example.com',
   'a phone not moving still gets the layer\'s server');
api(DELETE => 'phones/' . MAC_VVX . '/reprovision');

# A move that ends at its deadline ends without a change to the database:
# the settings rendered during it must not be served from the cache after.
my $deadline = int(time) + 6;
($res) = api(POST => 'phones/' . MAC_VVX . '/reprovision', json => {
    server => 'deadline-prov.example.com',
    deadline => strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $deadline) });
is($res->code, 201, 'a move with a deadline seconds away');
$vvx->boot;
is($vvx->device->{'device.prov.serverName'}, 'deadline-prov.example.com',
   'before the deadline: the target');
# Once the delivery is recorded (it moves the revision), the settings are
# asked for again on the same connection: a cache would keep this body.
settle();
$vvx->get(MAC_VVX . '-settings.cfg') for 1 .. 2;
sleep($deadline + 1.5 - time) if $deadline + 1.5 > time;
$vvx->boot;
is_deeply($vvx->files, [MAC_VVX . '-settings.cfg'], 'after it: no stanza');
is($vvx->device->{'device.prov.serverName'}, 'old-prov.example.com',
   'and the layer\'s server again, not a stale cached body');
api(DELETE => 'phones/' . MAC_VVX . '/reprovision');

# --- phones the database does not know ----------------------------------------
set_param('global', '', 'device.prov.user', 'global-prov-user');
set_param('global', '', 'device.prov.user.set', '1');
set_param('global', '', 'device.prov.password', 'global-prov-pass');
set_param('global', '', 'device.auth.localAdminPassword.set', '1');
my $unknown = PolycomPhone->new(mac => '0004f2de71ce', ua => UA_VVX)->boot;
is_deeply($unknown->files, ['000000000000-settings.cfg'],
          'an unknown phone boots from 000000000000.cfg');
my $all = $unknown->all_bodies;
is(scalar(grep { index($all, $_) >= 0 }
          $admin_pw, 'global-prov-user', 'global-prov-pass'), 0,
   'no device secret in the default files');
$attrs = settings_attrs('000000000000');
is_deeply(dangling($attrs), [], 'no .set flag without its value there');
ok(!exists $attrs->{'device.prov.user.set'}
   && !exists $attrs->{'device.auth.localAdminPassword.set'},
   'not even a flag an admin set explicitly for a withheld secret');
is($unknown->device->{'device.prov.serverName'}, 'old-prov.example.com',
   'the non-secret device.* values are applied');
ok(!grep({ /user|password/i } keys %{ $unknown->device }),
   'no credential is applied');
$vvx->boot;
is($vvx->device->{'device.prov.user'}, 'global-prov-user',
   'a known phone gets and applies the credentials');

# A fleet-wide move: unknown phones too get the target's server only.
($res) = api(POST => 'reprovision', json => { server => 'fleet-prov.example.com' });
is($res->code, 201, 'a fleet-wide move');
$unknown->boot;
is_deeply([$unknown->device->{'device.prov.serverName'},
           $unknown->received('device.prov.serverName')],
          ['fleet-prov.example.com', 1], "unknown phones apply the target's server, served once");
is_deeply(dangling(settings_attrs('000000000000')), [],
          'and their settings have no flag without its value');
api(DELETE => 'reprovision');

# --- leave the database as it was ---------------------------------------------
unset_param(@$_) for values %set;
if (%model_layer) {
    api(PUT => 'params/model/VVX411', json => \%model_layer);
}
else {
    api(DELETE => 'params/model/VVX411');
}
is(db_value("SELECT count(*) FROM params WHERE name LIKE 'device.%'"
            . " AND name <> 'device.auth.localAdminPassword'"
            . " AND NOT (scope = 'site' AND name = 'device.prov.password')"),
   0, 'the device.* parameters of this test are gone');
