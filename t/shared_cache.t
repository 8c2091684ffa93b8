# The render cache all children of a node share (PolycomSharedCache), on a
# second node whose children keep no cache of their own (PolycomCacheSize
# Off), so that every hit is the shared cache's: a file rendered once is a
# hit on other connections, a change made with SQL is in the very next
# response, and a file too big for a slot is rendered every time, the
# same bytes.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use HTTP::Request;
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;
use PolycomNode;

plan tests => 12;

my @macs = map { sprintf '0004f2cb%04x', $_ } 0 .. 2;
db_exec('INSERT INTO phones (mac, model, site, label) VALUES '
        . join(', ', map { "('$_', 'VVX411', 'hq', 'Shared $_')" } @macs));

my $node = PolycomNode->new;
$node->start(extra => "PolycomCacheSize Off\nPolycomSharedCache 1M 1K\n");
my $base = 'http://127.0.0.1:' . $node->port;

# A new connection for every request: any child may answer.
sub get {
    my ($path) = @_;
    my $ua = LWP::UserAgent->new(keep_alive => 0, agent => UA_VVX,
                                 timeout => 10);
    my $res = $ua->get("$base$path");
    return $res->code == 200 ? $res->content : "status " . $res->code;
}
sub counts { cache_counts($base) }
sub delta {
    my ($code) = @_;
    my @before = counts();
    $code->();
    my @after = counts();
    return [$after[0] - $before[0], $after[1] - $before[1]];
}

my $mac = $macs[0];
my ($body, @again);
my $d = delta(sub { $body = get("/prov/$mac-settings.cfg") });
like($body, qr/polycomConfig/, 'a configuration');
is_deeply($d, [0, 1], 'rendered once (a miss)');
$d = delta(sub { @again = map { get("/prov/$mac-settings.cfg") } 1 .. 6 });
is_deeply($d, [6, 0],
          'six new connections, children without a cache of their own: '
          . 'six hits of the shared cache');
is_deeply([grep { $_ ne $body } @again], [], 'the same bytes each time');

db_set_param('phone', $mac, 'reg.1.label', 'Changed by SQL');
my $changed;
$d = delta(sub { $changed = get("/prov/$mac-settings.cfg") });
like($changed, qr/Changed by SQL/,
     'a change made with SQL is in the very next response');
is_deeply($d, [0, 1], 'rendered anew');
$d = delta(sub { @again = map { get("/prov/$mac-settings.cfg") } 1 .. 3 });
is_deeply([$d, [grep { $_ ne $changed } @again]], [[3, 0], []],
          'then shared again, the changed bytes');

my $master = get("/prov/$mac.cfg");
like($master, qr/$mac-settings\.cfg/, 'a master');
is(get("/prov/$mac.cfg"), $master, 'masters are shared too');

# Over 1 KB with its key and ETag: no slot holds it.
my $big = $macs[1];
db_set_param('phone', $big, 'reg.1.label', 'x' x 1500);
my $first;
$d = delta(sub { $first = get("/prov/$big-settings.cfg") });
like($first, qr/x{1500}/, 'a file bigger than a slot is served whole');
$d = delta(sub { @again = map { get("/prov/$big-settings.cfg") } 1 .. 2 });
is_deeply($d, [0, 2], 'and rendered every time (no cache holds it)');
is_deeply([grep { $_ ne $first } @again], [], 'the same bytes');

$node->stop;
db_exec("DELETE FROM params WHERE scope = 'phone' AND scope_key IN ("
        . join(', ', map { "'$_'" } @macs) . ')');
db_exec('DELETE FROM phones WHERE mac IN (' . join(', ', map { "'$_'" } @macs) . ')');
