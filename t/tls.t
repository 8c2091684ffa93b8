# Factory client certificates: over HTTPS, a verified certificate whose CN
# is the phone's MAC opens that phone's files and no other; a certificate
# from no trusted CA is refused; Basic credentials work over HTTPS.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

plan tests => 20;

my $ssl = Apache::Test::vars('ssl_dir');
Apache::TestRequest::module('polycom_tls');
my $hostport = Apache::TestRequest::hostport();
Apache::TestRequest::module('default');
my $port = $hostport =~ s/.*://r;

sub curl {
    my ($path, @opts) = @_;
    my $out = `curl -s -o /dev/null -w '%{http_code}' --max-time 20 --cacert $ssl/ca.crt @opts 'https://localhost:$port$path' 2>/dev/null`;
    return $out;
}
my $vvx = MAC_VVX;
my @as_vvx = ("--cert $ssl/phone-vvx.crt", "--key $ssl/phone-vvx.key");
my @as_spip = ("--cert $ssl/phone-spip.crt", "--key $ssl/phone-spip.key");

is(curl("/tls/$vvx-settings.cfg"), '401', 'no certificate, no credentials: 401');
is(curl("/tls/$vvx-settings.cfg", @as_vvx), '200', 'its own certificate: 200');
is(curl('/tls/' . MAC_SPIP . '-settings.cfg', @as_spip), '200',
   'a CN written with colons names the same MAC');
is(curl("/tls/$vvx-settings.cfg", @as_spip), '403', "another phone's certificate: 403");
is(curl("/tls/$vvx-settings.cfg", "--cert $ssl/rogue.crt", "--key $ssl/rogue.key"),
   '000', 'a certificate from no trusted CA: the handshake is refused');

# A certificate of the trusted CA whose subject has two CNs, one MAC each:
# it speaks for neither phone (mod_ssl would give the first CN alone).
my @as_two = ("--cert $ssl/phone-twomacs.crt", "--key $ssl/phone-twomacs.key");
is(curl("/tls/$vvx-settings.cfg", @as_two), '401',
   'a certificate naming two MACs does not open the first one\'s files');
is(curl('/tls/' . MAC_SPIP . '-settings.cfg', @as_two), '401',
   'nor the second one\'s');

api(POST => "phones/$vvx/credentials", json => { username => 'vvx-tls', password => 'vvx-tls-pass' });
is(curl("/tls/$vvx-settings.cfg", '-u vvx-tls:vvx-tls-pass'), '200', 'Basic over HTTPS: 200');
is(curl("/tls/$vvx-settings.cfg", '-u vvx-tls:wrong-pass'), '401', 'with a wrong password: 401');
# Taken away again: the other files of the suite count the VVX's credentials.
my ($gone) = api(DELETE => "phones/$vvx/credentials/vvx-tls");
is($gone->code . ' ' . curl("/tls/$vvx-settings.cfg", '-u vvx-tls:vvx-tls-pass'), '204 401',
   'a credential deleted over the API opens nothing any more');

# PolycomDeviceCA: older phones' factory certificates, expired, from a
# pinned device CA. mod_ssl trusts the test CA and the device CA and, on
# this host, no longer checks dates; Require polycom-phone does.
Apache::TestRequest::module('polycom_devca');
my $devport = Apache::TestRequest::hostport() =~ s/.*://r;
Apache::TestRequest::module('default');
sub devca {
    my ($path, $cert) = @_;
    my @opts = $cert ? ("--cert $ssl/$cert.crt", "--key $ssl/$cert.key") : ();
    return scalar `curl -s -o /dev/null -w '%{http_code}' --max-time 20 --cacert $ssl/ca.crt @opts 'https://localhost:$devport$path' 2>/dev/null`;
}
my $spip = MAC_SPIP;
is(devca("/devca/$vvx-settings.cfg"), '401', 'pinned: no certificate, 401');
is(devca("/devca/$vvx-settings.cfg", 'expired-pinned'), '200',
   'an expired certificate from the pinned device CA: its own files');
is(devca("/devca/$spip-settings.cfg", 'expired-pinned'), '403',
   'and no other phone\'s');
t_start_error_log_watch();
is(devca("/devca/$vvx-settings.cfg", 'expired-other'), '401',
   'an expired certificate from another CA mod_ssl trusts: refused');
ok(scalar(grep { /PC00160:.*has expired.*does not accept it/ }
          t_finish_error_log_watch()),
   'logged, with why (PC00160)');
is(devca("/devca/$vvx-settings.cfg", 'phone-vvx'), '200',
   'a certificate of another trusted CA within its dates: still accepted');
is(devca("/devca/$vvx-settings.cfg", 'expired-twomacs') . ' '
   . devca("/devca/$spip-settings.cfg", 'expired-twomacs'), '401 401',
   'a pinned certificate whose subject has two MACs opens neither');
# The same host, a location without PolycomDeviceCA: mod_ssl's verdict no
# longer covers dates there either, and Require polycom-phone checks them.
is(devca("/devca-plain/$vvx-settings.cfg", 'expired-pinned'), '401',
   'without PolycomDeviceCA, the expired certificate is refused');
is(devca("/devca-plain/$vvx-settings.cfg", 'phone-vvx'), '200',
   'and one within its dates accepted');
# The host without PolycomDeviceCA keeps mod_ssl's own date check.
is(curl("/tls/$vvx-settings.cfg", "--cert $ssl/expired-other.crt",
        "--key $ssl/expired-other.key"), '000',
   'elsewhere an expired certificate ends the handshake');
