# Every write of the admin API commits together with its audit row, or not
# at all. The vhost dbd_auditfail has a SQLite file of its own whose audit
# table refuses every row (a trigger made by t/TEST before httpd starts):
# each write must fail whole, leaving the change undone. (Upload delete
# and credential add/delete used to write their audit row outside the
# change's transaction, so the change stayed.) Its SQLite file is used in
# every pass of make test.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request;
use JSON::PP ();
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;

plan tests => 24;

my $file = Apache::Test::vars('dbd_auditfail');
my $mac = '0004f2abc0a1';
my $other = '0004f2abc0a2';

sub auditfail_db { PolycomTest::sqlite_value($file, $_[0]) }

Apache::TestRequest::module('dbd_auditfail');
my $base = 'http://' . Apache::TestRequest::hostport() . '/admin';
Apache::TestRequest::module('default');
my $ua = LWP::UserAgent->new(timeout => 30);
my $json = JSON::PP->new->canonical->utf8;

sub call {
    my ($method, $path, $body) = @_;
    my $req = HTTP::Request->new($method => "$base/$path");
    $req->authorization_basic('admin', 'admin-secret');
    if (defined $body) {
        $req->content_type('application/json');
        $req->content(ref $body ? $json->encode($body) : $body);
    }
    return $ua->request($req);
}

# What is there before: a phone with a SIP address, a credential of it,
# an upload of it (data only: the schema stays as httpd found it).
auditfail_db("INSERT INTO phones (mac, model, site, label, enabled, created_us,"
             . " sip_address) VALUES ('$mac', 'VVX411', 'hq', 'kept', 1, 1,"
             . " '192.0.2.10:5060')");
auditfail_db("INSERT INTO phone_credentials (username, mac, realm, password_hash,"
             . " digest_ha1, created_us) VALUES ('kept-user', '$mac', 'polycom',"
             . " 'x', 'y', 1)");
auditfail_db("INSERT INTO uploads (mac, kind, content, size, time_us)"
             . " VALUES ('$mac', 'directory', '<directory/>', 12, 1)");
auditfail_db("INSERT INTO params (scope, scope_key, name, value)"
             . " VALUES ('global', '', 'kept.param', 'kept')");
is(auditfail_db("SELECT count(*) FROM audit"), '0', 'no audit row to begin with');

my $res = call(POST => "phones/$mac/credentials",
               { username => 'new-user', password => 'a-long-password' });
is($res->code, 500, 'credential add whose audit row fails: 500');
is(auditfail_db("SELECT count(*) FROM phone_credentials WHERE username = 'new-user'"),
   '0', 'and the credential is not added');

$res = call(DELETE => "phones/$mac/credentials/kept-user");
is($res->code, 500, 'credential delete whose audit row fails: 500');
is(auditfail_db("SELECT count(*) FROM phone_credentials WHERE username = 'kept-user'"),
   '1', 'and the credential is still there');

$res = call(DELETE => "uploads/$mac/$mac-directory.xml");
is($res->code, 500, 'upload delete whose audit row fails: 500');
is(auditfail_db("SELECT count(*) FROM uploads WHERE mac = '$mac'"), '1',
   'and the upload is still there');

$res = call(PUT => "phones/$other", { model => 'VVX411', site => 'hq' });
is($res->code, 500, 'phone create whose audit row fails: 500');
is(auditfail_db("SELECT count(*) FROM phones WHERE mac = '$other'"), '0',
   'and the phone is not created');

$res = call(PUT => "phones/$mac", { model => 'VVX411', label => 'changed' });
is($res->code, 500, 'phone replace whose audit row fails: 500');
is(auditfail_db("SELECT label FROM phones WHERE mac = '$mac'"), 'kept',
   'and the phone is unchanged');

$res = call(DELETE => "phones/$mac");
is($res->code, 500, 'phone delete whose audit row fails: 500');
is(auditfail_db("SELECT count(*) FROM phones WHERE mac = '$mac'"), '1',
   'and the phone is still there');

$res = call(PUT => 'params/global', { 'other.param' => '1' });
is($res->code, 500, 'layer replace whose audit row fails: 500');
is(auditfail_db("SELECT group_concat(name) FROM params WHERE scope = 'global'"),
   'kept.param', 'and the layer is unchanged');

$res = call(POST => 'reprovision', { server => 'https://new.example.com/prov' });
is($res->code, 500, 'reprovisioning target whose audit row fails: 500');
is(auditfail_db("SELECT count(*) FROM reprovision"), '0',
   'and no target is set');

$res = call(POST => 'import', [{ mac => $other, model => 'VVX411' }]);
is($res->code, 500, 'import whose audit row fails: 500');
is(auditfail_db("SELECT count(*) FROM phones WHERE mac = '$other'"), '0',
   'and nothing is imported');

$res = call(POST => "phones/$mac/resync");
is($res->code, 500, 'resync whose audit row fails: 500');
is(auditfail_db("SELECT count(*) FROM resync_queue"), '0',
   'and nothing is queued');

# A bulk action writes the phone, then the phone's audit row fails.
$res = call(POST => 'phones/bulk', { action => 'site', site => 'moved', macs => [$mac] });
is($res->code, 500, 'bulk change of site whose audit row fails: 500');
is(auditfail_db("SELECT site FROM phones WHERE mac = '$mac'"), 'hq',
   'and the phone stays at its site');

is(auditfail_db("SELECT count(*) FROM audit"), '0',
   'and still no audit row: every change failed whole');
