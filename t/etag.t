# Conditional requests and caching headers.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use lib 't/lib';
use PolycomTest;

plan tests => 9;

my $url = '/prov/' . MAC_VVX . '-settings.cfg';
my $res = GET $url;
my $etag = $res->header('ETag');
like($etag || '', qr/^"[0-9a-f]{32}"$/, 'a strong ETag');
like($res->header('Cache-Control') || '', qr/\bprivate\b/,
     'shared caches may not store a per-phone file');
like($res->header('Cache-Control') || '', qr/\bno-cache\b/,
     'and every use is revalidated');
is(GET($url)->header('ETag'), $etag, 'the same content, the same ETag');

$res = GET $url, 'If-None-Match' => $etag;
is($res->code, 304, 'If-None-Match with the current ETag: 304');
is($res->content, '', 'no body with the 304');
is(GET($url, 'If-None-Match' => '"0000"')->code, 200,
   'another ETag: the full body');

db_exec("INSERT INTO params (scope, scope_key, name, value)"
        . " VALUES ('global', '', 'up.oneMoreThing', '1')");
$res = GET $url, 'If-None-Match' => $etag;
is($res->code, 200, 'after a change in the database: 200, not 304');
isnt($res->header('ETag'), $etag, 'with a new ETag');
db_exec("DELETE FROM params WHERE name = 'up.oneMoreThing'");
