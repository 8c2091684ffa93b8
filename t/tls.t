# Factory client certificates: over HTTPS, a verified certificate whose CN
# is the phone's MAC opens that phone's files and no other; a certificate
# from no trusted CA is refused; Basic credentials work over HTTPS.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

plan tests => 9;

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
