# Injection: quotes and SQL through MACs, parameter names and values, site
# and model keys reach the database only as bound values; XML and JSON come
# out of their libraries; nothing from the database reaches a header.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

plan tests => 12;

my $phones = db_value('SELECT count(*) FROM phones');
my $evil = q{x'); DROP TABLE phones; --};
my $mac = '0004f2bad001';

my ($res, $data) = api(PUT => "phones/$mac", json => {
    model => 'VVX411', label => $evil, site => 'hq',
    lines => [{ user => q{1001' OR '1'='1}, password => q{p'"; DELETE FROM params; --} }],
    params => { 'up.screenSaver.text' => q{</polycomConfig><x y="1">} . $evil } });
is($res->code, 201, 'a phone whose fields hold SQL and markup is stored');
is($data->{label}, $evil, 'the label comes back exactly');
is(db_value('SELECT count(*) FROM phones'), $phones + 1, 'no table was dropped');
ok(db_value('SELECT count(*) FROM params') > 10, 'no parameter was deleted');

my $cfg = parse_xml(GET("/prov/$mac-settings.cfg")->content);
ok($cfg, 'the config is well-formed XML');
my $attrs = $cfg ? config_attrs($cfg) : {};
is($attrs->{'up.screenSaver.text'}, q{</polycomConfig><x y="1">} . $evil,
   'markup in a value is text, not XML');
is($attrs->{'reg.1.auth.password'}, q{p'"; DELETE FROM params; --}, 'exact password');

($res) = api(PUT => "phones/$mac", json => { params => { q{a' OR 1=1 --} => 'x' } });
is($res->code, 400, 'a parameter name with quotes is refused');
($res) = api(GET => q{phones/0004f2'OR'1});
is($res->code, 400, 'SQL in the MAC of a path: 400');
($res) = api(GET => q{params/site/hq'--});
is($res->code, 400, 'SQL in a site key: 400');
is(GET(q{/prov/0004f2e62aa4'--.cfg})->code, 404, 'SQL in a file name: not ours, 404');

# Nothing stored reaches a response header.
$res = GET("/prov/$mac.cfg");
my @headers = map { $res->header($_) // '' } $res->headers->header_field_names;
ok(!grep({ /DROP|DELETE|\n/ } @headers), 'no stored text in any header');
api(DELETE => "phones/$mac");
