# "Why doesn't my change reach this phone?": GET phones/{mac}/explain says
# where each parameter a phone gets comes from (global, site, model, phone)
# and what it overrides; GET phones/{mac}/diff says what changed since the
# phone's last fetch, each change with its layer, and which parameters the
# phone's own override file shadows. Layers are changed with SQL by hand,
# as an administrator may; secrets never appear in clear.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET PUT);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

my $mac = '0004f2e0e001';
my $name = 'up.backlight.onIntensity';
my $secret = 'xpl41n-line-pw';

my ($res, $doc) = api(PUT => "phones/$mac", json => {
    model => 'VVX1500', site => 'xsite', label => 'explain.t',
    lines => [{ user => '4001', password => $secret }] });
is($res->code, 201, 'a phone of its own: site xsite, model VVX1500');

sub explained {
    my ($r, $d) = api(GET => "phones/$mac/explain");
    unlike($r->content, qr/\Q$secret\E/, 'explain: no secret in clear')
        if $_[0];
    return $d;
}
sub entry {
    my ($list, $n) = @_;
    my ($e) = grep { $_->{name} eq $n } @{ $list || [] };
    return $e;
}
sub fetch {
    my $r = GET("/prov/$mac-settings.cfg", 'User-Agent' => UA_VVX);
    PolycomTest::settle();
    return $r;
}
sub diff {
    my ($query) = @_;
    my ($r, $d) = api(GET => "phones/$mac/diff" . ($query // ''));
    unlike($r->content, qr/\Q$secret\E/, 'diff: no secret in clear');
    return $d;
}

$doc = explained(1);
is($doc->{mac}, $mac, 'explain names the phone');
my $line = entry($doc->{params}, 'reg.1.address');
is_deeply([@$line{qw(layer key value)}], ['phone', $mac, '4001'],
          'a line comes from the phone layer');
is(entry($doc->{params}, 'reg.1.auth.password')->{value}, '********',
   'its password is masked');
my $sntp = entry($doc->{params}, 'tcpIpApp.sntp.address');
is_deeply([@$sntp{qw(layer key)}], ['global', ''], 'the demo NTP server is global');
is($doc->{up_to_date}, JSON::PP::false, 'never fetched: not up to date');

# The first fetch records what the phone got.
my $r = fetch();
is($r->code, 200, 'the phone fetches its settings');
my $etag = $r->header('ETag');
$doc = explained();
is($doc->{etag}, $etag, 'explain renders the very file the phone got (same ETag)');
is($doc->{up_to_date}, JSON::PP::true, 'and says the phone is up to date');
$doc = diff();
is_deeply([map { scalar @{ $doc->{$_} } } qw(added removed changed)], [0, 0, 0],
          'nothing to diff right after the fetch');

# A change at each layer, bottom up: explain names the layer and what it
# overrides, and the diff against the last fetch names the same layer.
my @layers = (['global', ''], ['site', 'xsite'], ['model', 'VVX1500'],
              ['phone', $mac]);
my @below;
for my $i (0 .. $#layers) {
    my ($scope, $key) = @{ $layers[$i] };
    my $value = 10 + $i;
    db_set_param($scope, $key, $name, $value);
    my $e = entry(explained()->{params}, $name);
    is_deeply([@$e{qw(layer key value)}], [$scope, $key, $value],
              "explain: set at $scope, it comes from $scope");
    is_deeply([map { "$_->{layer}=$_->{value}" } @{ $e->{overrides} }],
              [reverse @below], "explain: it overrides the layers below");
    my $d = diff();
    my $c = $i == 0 ? entry($d->{added}, $name) : entry($d->{changed}, $name);
    is_deeply($c && [@$c{qw(layer key value)}], [$scope, $key, $value],
              "diff: " . ($i ? 'changed' : 'added') . " at $scope");
    fetch();
    push @below, "$scope=$value";
}
$r = fetch();
my $last = $r->header('ETag');

# The phone's own override file sets the same parameter: it wins on the
# phone, and both resources say so.
$r = PUT("/prov/$mac-phone.cfg", 'User-Agent' => UA_VVX,
         content => qq{<?xml version="1.0" encoding="UTF-8"?>\n}
                    . qq{<PHONE_CONFIG><OVERRIDES $name="3"/></PHONE_CONFIG>});
ok($r->code == 201 || $r->code == 204, 'the phone uploads an override file');
my $e = entry(explained()->{params}, $name);
is_deeply($e->{shadowed_by}, [{ file => "$mac-phone.cfg", value => '3' }],
          'explain: the override file shadows it');
$doc = diff();
is_deeply([map { $_->{name} } @{ $doc->{shadowed} }], [$name],
          'diff: the only shadowed parameter');
is($doc->{shadowed}[0]{layer}, 'phone', 'with the layer it comes from');

# ?from= an ETag or a time: against that earlier fetch.
$doc = diff("?from=$etag");
$e = entry($doc->{added}, $name);
is($e && $e->{value}, '13', 'from=ETag: since the first fetch, it was added');
is($doc->{from}{snapshot}, JSON::PP::true, 'that fetch has a snapshot');
$doc = diff('?from=' . (time() + 3600));
is($doc->{from}{etag}, $last, 'from=time: the fetch at or before it');
is($doc->{up_to_date}, JSON::PP::true, 'which is what the phone gets now');
($res) = api(GET => "phones/$mac/diff?from=yesterday");
is($res->code, 400, 'from= that is neither an ETag nor a time: 400');
($res) = api(GET => 'phones/0004f2e0e0ff/explain');
is($res->code, 404, 'explain of an unknown phone: 404');

# A move under way: the target's stanza comes first in CONFIG_FILES and
# wins over any layer's value of the same name.
db_set_param('site', 'xsite', 'device.prov.serverName', 'old.example.com');
($res) = api(POST => "phones/$mac/reprovision", json => {
    server => 'https://new.example.com/prov', user => 'mover',
    password => 'xpl41n-prov-pw' });
is($res->code, 201, 'a move is set for the phone');
($res, $doc) = api(GET => "phones/$mac/explain");
unlike($res->content, qr/xpl41n-prov-pw/, 'explain: no move password in clear');
is($doc->{moving}, JSON::PP::true, 'explain: a move is under way');
$e = entry($doc->{params}, 'device.prov.serverName');
is_deeply($e && [@$e{qw(layer key value)}], ['reprovision', 'phone', 'https://new.example.com/prov'],
          'the server comes from the reprovisioning target');
is_deeply($e && [map { "$_->{layer}=$_->{value}" } @{ $e->{overrides} }],
          ['site=old.example.com'], 'over the site layer\'s');
is(entry($doc->{params}, 'device.prov.password')->{value}, '********',
   'the move\'s password is masked');
($res) = api(DELETE => "phones/$mac/reprovision");
db_exec("DELETE FROM params WHERE name = 'device.prov.serverName'");

# Clean up what other tests could see.
db_exec("DELETE FROM params WHERE name = '$name'");
($res) = api(DELETE => "phones/$mac");
is($res->code, 204, 'the phone goes');
db_exec("DELETE FROM uploads WHERE mac = '$mac'");

done_testing();
