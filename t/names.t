# The namespace: which names the module answers, which it leaves to Apache,
# and which methods it accepts.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET HEAD PUT POST);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use lib 't/lib';
use PolycomTest;

plan tests => 28;

my $vvx = MAC_VVX;
my $upper = uc $vvx;

my $res = GET "/prov/$upper.CFG", 'User-Agent' => UA_VVX;
is($res->code, 200, 'upper-case MAC and extension: served');
like($res->content, qr/CONFIG_FILES="$vvx-settings\.cfg"/,
     'the MAC is normalised to lower case in the master');
is(GET("/prov/$upper-SETTINGS.cfg")->code, 200, 'upper-case settings name');

# Names that are not ours reach Apache (404 from the file system) and never
# the database: no check-in row is written for them.
my $before = db_value('SELECT count(*) FROM checkins');
# "../" and "%2e%2e/" leave the provisioning location, so the name lands
# outside it; an encoded slash or NUL is refused by Apache's URL decoding; a
# 4 KB name is refused by the file system walk (403: name too long).
my @bad = ('sub/0004f2e62aa.cfg', 'sub/0004f2e62aa44.cfg',
           'sub/0004f2e62ag4.cfg', 'sub/0004f2e62aa4.cfg.bak',
           "../$vvx.cfg", "..%2f$vvx.cfg", "%2e%2e/$vvx.cfg",
           "$vvx.cfg%00", "$vvx%00.cfg", ('a' x 4096) . '.cfg',
           '000000000000-phone.cfg');
for my $name (@bad) {
    my $res = GET("/prov/$name");
    ok(($res->code == 404 || ($res->code == 403 && length $name > 255))
       && $res->content !~ /APPLICATION|polycomConfig/,
       "bad name '" . substr($name, 0, 40) . "': " . $res->code
       . ', nothing served');
}
is(db_value('SELECT count(*) FROM checkins'), $before,
   'bad names never reached the database');

# Firmware is a file in the document root, served by Apache itself.
$res = GET '/prov/sip.ld';
is($res->code, 200, 'firmware image served from disk');
is($res->content, "FIRMWARE-IMAGE-BYTES\n", 'with its bytes');

# Per-phone files with no content yet: 404, and the phone carries on.
# (Nothing uploaded for it or site-wide, whatever other files stored.)
clear_uploads($vvx);
clear_uploads('000000000000');
for my $suffix ('-phone.cfg', '-web.cfg', '-directory.xml', '-calls.xml',
                '-license.cfg') {
    is(GET("/prov/$vvx$suffix")->code, 404, "$suffix: 404 while empty");
}
is(GET('/prov/000000000000-directory.xml')->code, 404,
   'default directory: 404 while empty');

# Methods.
$res = PUT "/prov/readonly/$vvx-phone.cfg", content => '<PHONE_CONFIG/>';
is($res->code, 405, 'PUT is refused where uploads are off');
like($res->header('Allow') || '', qr/\bGET\b.*\bHEAD\b|\bHEAD\b.*\bGET\b/,
     'Allow names GET and HEAD');
is((POST "/prov/$vvx.cfg", content => 'x')->code, 405, 'POST is refused');
$res = HEAD "/prov/$vvx.cfg";
ok($res->code == 200 && $res->content eq '' && $res->header('Content-Length') > 0,
   'HEAD: headers with a length, no body');

# Below a location that switches provisioning off, the name is a file.
is(GET("/prov/static/$vvx.cfg")->code, 404,
   'provisioning Off: the name is left to the file system');
