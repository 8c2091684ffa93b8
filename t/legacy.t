# A SoundPoint IP 330 on SIP 3.2 booting through both of its stages
# (REFERENCE.md 1.1) against a site that keeps the release's shipped
# phone1.cfg and sip.cfg (PolycomConfigFiles in /prov/sp3x, t/conf): every
# file it asks for is answered as that firmware expects, the generated
# settings come first in CONFIG_FILES and so win over the shipped defaults,
# and what only the shipped files set still reaches the phone.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET PUT);
use File::Temp qw(tempfile);
use lib 't/lib';
use PolycomTest;
use PolycomPhone;

plan tests => 38;

# A phone of its own, so that its check-ins and uploads are this test's
# alone (t/boot.t counts the demo SPIP330's).
my $mac = '0004f2a1b3a0';
db_exec("DELETE FROM params WHERE scope = 'phone' AND scope_key = '$mac'");
db_exec("DELETE FROM phones WHERE mac = '$mac'");
db_exec("INSERT INTO phones (mac, model, site, label)"
        . " VALUES ('$mac', 'SPIP330', 'hq', 'Lobby')");
db_set_param('phone', $mac, 'reg.1.address', '1010');
db_set_param('phone', $mac, 'reg.1.label', 'Lobby');
db_set_param('phone', $mac, 'reg.1.auth.userId', '1010');
db_set_param('phone', $mac, 'reg.1.auth.password', 'legacy-secret-1010');
my $dir = '/prov/sp3x';
# SIP 2.x/3.x send no Type/: the BootROM's version first, then the
# application's (REFERENCE.md 1.1, 4).
my $ua_bootrom = 'FileTransport PolycomSoundPointIP-SPIP_330-UA/4.2.2.0710';
my $ua_app = UA_SPIP;           # .../SPIP_330-UA/3.2.7.0198
my @generated = ("$mac-settings.cfg");
my @shipped = ('phone1.cfg', 'sip.cfg');

sub master_of {
    my ($res) = @_;
    my $doc = $res->code == 200 ? parse_xml($res->content) : undef;
    return $doc ? $doc->documentElement : undef;
}

sub model_attr {
    my ($app, $model, $name) = @_;
    my ($el) = $app ? $app->getChildrenByTagName("APPLICATION_$model") : ();
    return $el ? $el->getAttribute("${name}_$model") : undef;
}

# ---- BootROM stage: bootrom.ld, the master, the application, boot log.
my $res = GET "$dir/bootrom.ld", 'User-Agent' => $ua_bootrom;
is($res->code, 200, 'bootrom.ld: served by Apache from disk');
is($res->content, "BOOTROM-IMAGE\n", 'bootrom.ld: the file itself');

$res = GET "$dir/$mac.cfg", 'User-Agent' => $ua_bootrom;
my $first_master = $res->content;
my $app = master_of($res);
ok($app && $app->nodeName eq 'APPLICATION', 'BootROM: master served');
is($app && $app->getAttribute('CONFIG_FILES'),
   join(',', @generated, @shipped),
   'CONFIG_FILES: the generated file first, then the shipped sip.cfg/phone1.cfg');
is(model_attr($app, 'SPIP330', 'APP_FILE_PATH'), 'sip_335.ld',
   'APP_FILE_PATH_SPIP330: the pin inherited from /prov');
ok(!defined model_attr($app, 'SPIP330', 'CONFIG_FILES'),
   'no CONFIG_FILES_SPIP330: the SPIP330 reads CONFIG_FILES');
is(model_attr($app, 'SSIP4000', 'CONFIG_FILES'),
   join(',', @generated, 'phone1_318.cfg', 'sip_318.cfg'),
   'CONFIG_FILES_SSIP4000: generated first, then its own old defaults');
is(model_attr($app, 'SSIP4000', 'APP_FILE_PATH'), 'sip_318.ld',
   'the SSIP4000 pin and list share one element');

$res = GET "$dir/sip_335.ld", 'User-Agent' => $ua_bootrom;
is($res->code, 200, 'sip_335.ld: the pinned image, from disk');
is($res->content, "SIP-3.3.5-IMAGE-FOR-SPIP330\n", 'sip_335.ld: its bytes');

$res = PUT "$dir/$mac-boot.log", 'User-Agent' => $ua_bootrom,
    content => "bootrom: booting application\n";
ok($res->code == 201 || $res->code == 204, 'BootROM: boot log stored')
    or diag $res->code;

# ---- Application stage: the master again, then CONFIG_FILES in order.
my $phone = PolycomPhone->new(mac => $mac, ua => $ua_app, model => 'SPIP330',
    base => 'http://' . Apache::TestRequest::hostport() . $dir)->boot;
ok(!$phone->error, 'application: every file answered')
    or diag $phone->error;
is_deeply($phone->files, [@generated, @shipped],
          'application: CONFIG_FILES as the SPIP330 reads it');
is($phone->app_file, 'sip_335.ld', 'application: its image is the pinned one');
is_deeply($phone->requests,
          [["$mac.cfg", 200], map { [$_, 200] } @generated, @shipped],
          'application: the master, then each file, each 200');
is($phone->master_body, $first_master,
   'the master is the same in both stages');
for my $file (@shipped) {
    like($phone->body($file), qr/^<\?xml/, "$file: the shipped file as it is on disk");
}

# First file wins: the database's values over the shipped defaults, and
# what only the shipped files set still applies.
my %want = ('reg.1.address' => '', 'reg.1.label' => 'shipped-label',
            'reg.1.auth.password' => '', 'up.backlight.idleIntensity' => '1',
            'up.headsetMode' => '0', 'voIpProt.server.1.address' => '',
            'voIpProt.SIP.specialEvent.checkSync.alwaysReboot' => '0',
            'tcpIpApp.sntp.address' => 'shipped.ntp.example',
            'tcpIpApp.sntp.resyncPeriod' => '86400');
my $db = with_device_flags(effective_params($mac));
$want{$_} = $db->{$_} for grep { !PolycomPhone::is_device_value($_)
                                 && !/^device\..*\.set$/ } keys %$db;
is_deeply($phone->params, \%want,
          'effective parameters: the database first, then the shipped defaults');
is($phone->params->{'reg.1.label'}, 'Lobby',
   'a shipped default does not override the generated value');
is($phone->params->{'up.backlight.idleIntensity'}, '2',
   'nor a model layer');
is($phone->params->{'tcpIpApp.sntp.resyncPeriod'}, '86400',
   'a value only sip.cfg sets reaches the phone');
is($phone->device->{'device.auth.localAdminPassword'},
   $db->{'device.auth.localAdminPassword'},
   'device.* values still apply from the generated file');

# The files a SIP 3.x application asks for after CONFIG_FILES: optional
# ones are a quick 404, uploads are stored.
for my $file ("$mac-phone.cfg", "$mac-directory.xml",
              '000000000000-directory.xml', "$mac-license.cfg") {
    is(GET("$dir/$file", 'User-Agent' => $ua_app)->code, 404,
       "$file: 404, which the phone skips");
}
$res = PUT "$dir/$mac-app.log", 'User-Agent' => $ua_app,
    content => "app: registered line 1\n";
ok($res->code == 201 || $res->code == 204, 'application: app log stored');

my $rows = db_rows("SELECT firmware FROM checkins WHERE mac = '$mac'"
                   . " AND file = '$mac.cfg' AND status = 200"
                   . " AND model = 'SPIP330' ORDER BY time_us");
is_deeply([map { $_->{firmware} } @$rows[-2, -1]], ['4.2.2.0710', '3.2.7.0198'],
          'the master was fetched twice: by the BootROM, then the application');

# A phone this server does not know reads the default master, which
# carries the same static files.
$app = master_of(GET "$dir/000000000000.cfg", 'User-Agent' => $ua_app);
is($app && $app->getAttribute('CONFIG_FILES'),
   '000000000000-settings.cfg,phone1.cfg,sip.cfg',
   'the default master: global settings, then the shipped files');

# Without PolycomConfigFiles nothing changes.
$app = master_of(GET "/prov/$mac.cfg", 'User-Agent' => $ua_app);
is($app && $app->getAttribute('CONFIG_FILES'), "$mac-settings.cfg",
   '/prov: the generated file only');

# The directive is checked when the configuration is read.
my $so = Apache::Test::vars('top_dir') . '/.libs/mod_polycom.so';
my $httpd = Apache::Test::vars('httpd');
my $mods = '/usr/lib/apache2/modules';
my $logs = Apache::Test::vars('t_logs');
my @cases = (
    ["PolycomConfigFiles phone1.cfg sip.cfg\nPolycomConfigFiles SSIP4000 "
     . "phone1_318.cfg sip_318.cfg\nPolycomConfigFiles VVX411 none",
     qr/Syntax OK/, 'good lists pass'],
    ["PolycomConfigFiles SPIP330", qr/"SPIP330" is no file name \(a model token comes first/,
     'a model needs files'],
    ["PolycomConfigFiles SPIP-330 sip.cfg", qr/"SPIP-330" is no file name/,
     'a bad model token is no file name either'],
    ["PolycomConfigFiles sip.cfg,phone1.cfg", qr/may not contain spaces, commas/,
     'no commas in a name'],
    ["PolycomConfigFiles " . ('x' x 300) . '.cfg', qr/at most 255 characters/,
     'a name of at most 255 characters'],
    ["PolycomConfigFiles " . join(' ', map { ('x' x 200) . "$_.cfg" } 1 .. 10),
     qr/phones read at most 2047 of CONFIG_FILES/, 'the list fits CONFIG_FILES'],
    ["PolycomConfigFiles 0004f2a1b330-settings.cfg",
     qr/is a name mod_polycom generates/, 'generated names are refused'],
);
for my $case (@cases) {
    my ($body, $want, $name) = @$case;
    my ($fh, $file) = tempfile(SUFFIX => '.conf', UNLINK => 1);
    print $fh "ServerName localhost\nErrorLog $logs/configtest_log\n",
        "LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so\n",
        "LoadModule dbd_module $mods/mod_dbd.so\n",
        qq{LoadModule polycom_module "$so"\n},
        "<Location /p>\nPolycomProvisioning On\n$body\n</Location>\n";
    close $fh;
    like(scalar `$httpd -t -f $file 2>&1`, $want, "PolycomConfigFiles: $name");
}
