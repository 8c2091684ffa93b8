# Two httpd nodes, one database: what one node stores or changes, the other
# serves at once; their check-ins land in one history; a move applied at
# one node is seen by the other.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET PUT);
use LWP::UserAgent;
use HTTP::Request;
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;
use PolycomNode;

plan tests => 10;

my $node2 = PolycomNode->new;
$node2->start;
my $b = 'http://127.0.0.1:' . $node2->port;
my $ua = LWP::UserAgent->new(timeout => 30);
sub get_b {
    my ($path, @headers) = @_;
    return $ua->get("$b$path", 'User-Agent' => UA_VVX, @headers);
}
my $mac = MAC_VVX;

ok($node2->port != Apache::TestRequest::hostport() =~ s/.*://r, 'a second node runs');

# An override uploaded through node A is served by node B.
my $body = '<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="3"/></PHONE_CONFIG>';
my $trio = MAC_TRIO;
my $code = PUT("/prov/$trio-web.cfg", content => $body)->code;
ok($code == 201 || $code == 204, 'override uploaded through node A');
is(get_b("/prov/$trio-web.cfg")->content, $body, 'node B serves it byte for byte');

# An admin change through node A shows on node B's very next response.
my ($res) = api(PUT => 'params/site/hq', json => { 'up.oneNodeTest' => 'from-a' });
is($res->code, 200, 'admin change through node A');
my $cfg = parse_xml(get_b("/prov/$mac-settings.cfg")->content);
is($cfg && config_attrs($cfg)->{'up.oneNodeTest'}, 'from-a', 'node B serves it next');
api(DELETE => 'params/site/hq');

# Check-ins from both nodes land in one history.
settle();
db_exec("DELETE FROM checkins WHERE mac = '$mac' AND file = '$mac.cfg'");
GET "/prov/$mac.cfg", 'User-Agent' => UA_VVX;
get_b("/prov/$mac.cfg");
my $n = 0;
for (1 .. 20) {
    $n = db_value("SELECT count(*) FROM checkins WHERE mac = '$mac' AND file = '$mac.cfg'");
    last if $n >= 2;
    select undef, undef, undef, 0.1;
}
is($n, 2, 'one history with the check-ins of both nodes');

# A move to node B, delivered by node A, applied at node B, seen by A.
my $spip = MAC_SPIP;
($res) = api(POST => "phones/$spip/reprovision",
             json => { server => "http://127.0.0.1:" . $node2->port . '/prov' });
is($res->code, 201, 'target: node B');
is(GET("/prov/$spip-device.cfg")->code, 200, 'node A delivers the stanza');
get_b("/prov/$spip.cfg", 'User-Agent' => UA_SPIP);
my (undef, $data) = api(GET => "phones/$spip");
is($data->{reprovision}{state}, 'applied', 'the check-in at node B shows it applied');
is(GET("/prov/$spip-device.cfg")->code, 404, 'and node A no longer serves the stanza');
api(DELETE => "phones/$spip/reprovision");

$node2->stop;
