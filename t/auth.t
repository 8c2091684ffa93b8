# A phone gets only its own files: Digest credentials from the database
# (mod_auth_digest + mod_authn_dbd), bound to the MAC in the URL by
# Require polycom-phone, for GET and PUT; several credentials during a
# rotation; the default files stay open for bootstrapping.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use LWP::UserAgent;
use HTTP::Request;
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

plan tests => 27;

my $hostport = Apache::TestRequest::hostport();
my $vvx = MAC_VVX;
my $spip = MAC_SPIP;

sub as {
    my ($user, $pass, $method, $path, $body) = @_;
    my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
    $ua->credentials($hostport, 'polycom', $user, $pass) if defined $user;
    my $req = HTTP::Request->new($method => "http://$hostport$path");
    $req->header('User-Agent' => UA_VVX);
    $req->content($body) if defined $body;
    return $ua->request($req);
}

# Credentials through the admin API: write-only.
my ($res, $data) = api(POST => "phones/$vvx/credentials",
                       json => { password => 'vvx-prov-pass-1' });
is($res->code, 201, 'a credential for the VVX (username = its MAC)');
($res) = api(POST => "phones/$spip/credentials",
             json => { username => 'spip-a', password => 'spip-prov-pass' });
is($res->code, 201, 'a credential for the SoundPoint');
($res) = api(POST => "phones/$spip/credentials",
             json => { username => 'spip-a', password => 'another-pass' });
is($res->code, 409, 'a username belongs to one phone');
($res) = api(POST => "phones/$spip/credentials", json => { password => 'short' });
is($res->code, 400, 'short passwords refused');
($res, $data) = api(GET => "phones/$vvx/credentials");
is_deeply([map { $_->{username} } @{ $data->{credentials} }], [$vvx], 'listed');
unlike($res->content, qr/vvx-prov-pass|\$2y\$/, 'without password or hash');
is(db_value("SELECT count(*) FROM phone_credentials WHERE password_hash LIKE '%vvx-prov%'"
            . " OR digest_ha1 LIKE '%vvx-prov%'"), 0, 'the clear password is not stored');

# No credentials: a Digest challenge.
$res = as(undef, undef, GET => "/secure/$vvx-settings.cfg");
is($res->code, 401, 'no credentials: 401');
like($res->header('WWW-Authenticate') // '', qr/^Digest realm="polycom"/, 'Digest challenge');
unlike($res->content, qr/polycomConfig/, 'and no config');

# The right phone: its config, with its secret.
$res = as($vvx, 'vvx-prov-pass-1', GET => "/secure/$vvx-settings.cfg");
is($res->code, 200, 'own credentials: 200');
like($res->content, qr/demo-secret-1002/, 'with its own SIP password');

# Another phone's credentials: refused, GET and PUT alike.
t_start_error_log_watch();
$res = as('spip-a', 'spip-prov-pass', GET => "/secure/$vvx-settings.cfg");
is($res->code, 403, "another phone's credentials: 403");
unlike($res->content, qr/demo-secret/, 'no secret');
ok(scalar(grep { /PC00025:/ } t_finish_error_log_watch()), 'logged (PC00025)');
is(as('spip-a', 'spip-prov-pass', PUT => "/secure/$vvx-phone.cfg", '<PHONE_CONFIG/>')->code,
   403, "PUT with another phone's credentials: 403");
# Other spellings of the same file (the handler serves upper-case MACs and
# files under a sub-folder as the phone's own): Require polycom-phone binds
# the MAC the handler serves, so another phone's credentials get none.
for my $path ("/secure/" . uc($vvx) . "-settings.cfg", "/secure/sub/$vvx-settings.cfg") {
    $res = as('spip-a', 'spip-prov-pass', GET => $path);
    ok($res->code == 403 && $res->content !~ /demo-secret/,
       "another phone's credentials, $path: 403 without a secret")
        or diag($res->code);
}
$res = as($vvx, 'vvx-prov-pass-1', GET => "/secure/" . uc($vvx) . "-settings.cfg");
ok($res->code == 200 && $res->content =~ /demo-secret-1002/,
   'its own credentials, the MAC in capitals: its own settings')
    or diag($res->code);
my $code = as($vvx, 'vvx-prov-pass-1', PUT => "/secure/$vvx-phone.cfg", '<PHONE_CONFIG/>')->code;
ok($code == 201 || $code == 204, "PUT with its own: $code");
is(as($vvx, 'wrong-password', GET => "/secure/$vvx.cfg")->code, 401, 'wrong password: 401');

# Bootstrap: the default files carry no secret and need no credentials.
is(as(undef, undef, GET => '/secure/000000000000.cfg')->code, 200,
   '000000000000.cfg needs no credentials');

# Rotation: old and new both work until the old one is removed.
($res) = api(POST => "phones/$vvx/credentials",
             json => { username => 'vvx-2026', password => 'vvx-prov-pass-2' });
ok(as($vvx, 'vvx-prov-pass-1', GET => "/secure/$vvx.cfg")->code == 200
   && as('vvx-2026', 'vvx-prov-pass-2', GET => "/secure/$vvx.cfg")->code == 200,
   'during a rotation both credentials work');
($res) = api(DELETE => "phones/$vvx/credentials/$vvx");
is($res->code, 204, 'the old credential removed');
is(as($vvx, 'vvx-prov-pass-1', GET => "/secure/$vvx.cfg")->code, 401, 'the old one no longer works');
is(as('vvx-2026', 'vvx-prov-pass-2', GET => "/secure/$vvx.cfg")->code, 200, 'the new one does');

# Basic over plain HTTP is refused even with the right password.
my $ua = LWP::UserAgent->new(timeout => 30);
my $req = HTTP::Request->new(GET => "http://$hostport/secure-basic/$spip.cfg");
$req->authorization_basic('spip-a', 'spip-prov-pass');
is($ua->request($req)->code, 403, 'Basic over plain HTTP: 403');

# Leave the phone as the other tests expect it.
db_exec("DELETE FROM uploads WHERE mac = '$vvx'");
db_exec("DELETE FROM checkins WHERE mac IN ('$vvx', '$spip')");
