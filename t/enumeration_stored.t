# Personal data is guarded like the generated files: an address probing
# unknown MACs' stored directories and call lists gets 429 past the
# enumeration guard's limit (/guarded: 5 a minute, 20 s cool-down), and a
# disabled phone's files are not served. From 127.0.0.2, so that the
# block of t/enumeration.t (127.0.0.1) neither helps nor hinders.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use LWP::Protocol::http;
use lib 't/lib';
use PolycomTest;

plan tests => 4;

push @LWP::Protocol::http::EXTRA_SOCK_OPTS, LocalAddr => '127.0.0.2';

my @codes = map { GET(sprintf('/guarded/0004f2ed%04d-directory.xml', $_))->code }
            1 .. 6;
is_deeply(\@codes, [(404) x 6], "the first unknown MACs' directories: 404");
my $res = GET('/guarded/0004f2ed0099-calls.xml');
is($res->code, 429, 'past the limit, a call list: 429');
like($res->header('Retry-After') // '', qr/^\d+$/, 'with Retry-After');
is(GET('/guarded/' . MAC_SPIP . '-directory.xml')->code, 429,
   'a known phone last seen elsewhere: 429 too (no oracle)');
