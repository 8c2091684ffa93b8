# How a config's body goes on the wire: with its length, a byte range when
# one is asked for, and compressed by mod_deflate with its length still
# there. The module writes a config out in its handler (as httpd writes a
# static file); the filters that need the whole body must still get it.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use IO::Uncompress::Gunzip qw(gunzip $GunzipError);
use lib 't/lib';
use PolycomTest;

plan tests => 11;

my $url = '/prov/' . MAC_VVX . '-settings.cfg';
my $res = GET $url, 'User-Agent' => UA_VVX;
my $body = $res->content;
is($res->code, 200, 'a phone gets its settings');
is($res->header('Content-Length'), length($body),
   'with a Content-Length that is the body\'s');
ok(!$res->header('Client-Transfer-Encoding'), 'not chunked');

# A client that resumes: the byte range asked for, as for a static file.
$res = GET $url, 'User-Agent' => UA_VVX, 'Range' => 'bytes=0-4';
is($res->code, 206, 'a Range: 206 Partial Content');
is($res->content, substr($body, 0, 5), 'with the bytes asked for');
is($res->header('Content-Range'), 'bytes 0-4/' . length($body),
   'and their place in the whole');

# Compressed for a client that accepts gzip (Debian's deflate.conf sets
# DEFLATE on application/xml): still with its length, never chunked.
my $deflated = '/prov/deflated/' . MAC_VVX . '-settings.cfg';
$res = GET $deflated, 'User-Agent' => UA_VVX, 'Accept-Encoding' => 'gzip';
is($res->header('Content-Encoding'), 'gzip', 'deflated: gzip');
is($res->header('Content-Length'), length($res->content),
   'deflated: with its Content-Length');
ok(!$res->header('Client-Transfer-Encoding'), 'deflated: not chunked');
my $plain;
gunzip(\$res->content => \$plain) or diag("gunzip: $GunzipError");
is($plain, $body, 'deflated: the same config once uncompressed');

# The same location to a client that accepts no encoding: plain.
$res = GET $deflated, 'User-Agent' => UA_VVX;
is($res->content, $body, 'no Accept-Encoding: the config as it is');
