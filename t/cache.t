# Rendered masters and configurations are kept per child while nothing
# changes (PolycomCacheSize), on a second node with a 16 KB cache: a file
# asked for again is a hit, a change made with SQL is served at once, and
# a file pushed out by others is rendered anew, the same bytes.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use HTTP::Request;
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;
use PolycomNode;

plan tests => 10;

my @macs = map { sprintf '0004f2ca%04x', $_ } 0 .. 59;
db_exec('INSERT INTO phones (mac, model, site, label) VALUES '
        . join(', ', map { "('$_', 'VVX411', 'hq', 'Cache $_')" } @macs));

my $node = PolycomNode->new;
$node->start(extra => "PolycomCacheSize 16K\n");
# One keep-alive connection: every request reaches the same child.
my $ua = LWP::UserAgent->new(keep_alive => 1, agent => UA_VVX, timeout => 10);
my $base = 'http://127.0.0.1:' . $node->port;

sub settings {
    my ($mac) = @_;
    my $res = $ua->get("$base/prov/$mac-settings.cfg");
    return $res->code == 200 ? $res->content : "status " . $res->code;
}
sub counts { cache_counts($base) }
sub delta {
    my ($before, $code) = @_;
    $code->();
    my @after = counts();
    return [$after[0] - $before->[0], $after[1] - $before->[1]];
}

my $first = $macs[0];
my $body;
my $d = delta([counts()], sub { $body = settings($first) });
like($body, qr/polycomConfig/, 'a configuration');
is_deeply($d, [0, 1], 'first request after a change: rendered (a miss)');
my $again;
$d = delta([counts()], sub { $again = settings($first) });
is_deeply($d, [1, 0], 'asked for again: from the cache (a hit)');
is($again, $body, 'the same bytes');

db_set_param('phone', $first, 'reg.1.label', 'Changed by SQL');
$d = delta([counts()], sub { $again = settings($first) });
like($again, qr/Changed by SQL/, 'a change made with SQL is in the very next response');
is_deeply($d, [0, 1], 'rendered anew');
$body = $again;

# Sixty phones' files do not fit in 16 KB: the first is pushed out.
my @filled = map { settings($_) } @macs[1 .. $#macs];
$d = delta([counts()], sub { $again = settings($first) });
is_deeply($d, [0, 1], 'pushed out by the others: rendered anew');
is($again, $body, 'the same bytes as before');
$d = delta([counts()], sub { my $last = settings($macs[-1]) });
is_deeply($d, [1, 0], 'a recent one is still there');
my ($res) = $ua->get("$base/prov/$first.cfg");
like($res->content, qr/$first-settings\.cfg/, 'masters are served too');

$node->stop;
db_exec("DELETE FROM params WHERE scope = 'phone' AND scope_key = '$first'");
db_exec('DELETE FROM phones WHERE mac IN (' . join(', ', map { "'$_'" } @macs) . ')');
