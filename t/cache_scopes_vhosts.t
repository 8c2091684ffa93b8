# Virtual hosts with databases of their own, served by one child: each
# database counts its revisions, and what moved in one says nothing of
# the other. Here the main server's database is ahead of the virtual
# host's, so that the virtual host's revisions fall within what the child
# has read of the main one: a phone edited in the virtual host's database
# must still get its change in the very next response. A node of one
# prefork child (every request meets the same caches), with each child's
# own render cache.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request;
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;
use PolycomNode;

plan tests => 6;

my $other = Apache::Test::vars('dbd_schemachange');
my $bump_mac = '0004f2ccff01';
# Phones of its own in each database: other tests count the check-ins
# of the demo's phones (t/schemachange.t in the other one).
my $main_mac = '0004f2ccff03';
my $other_mac = '0004f2ccff02';

sub main_revision { db_value('SELECT value FROM revision WHERE id = 1') }
sub other_revision {
    PolycomTest::sqlite_value($other, 'SELECT value FROM revision WHERE id = 1');
}
# Moves a database's revision by @a n: one parameter row each (phone-scope
# rows of a MAC no test serves).
my $bumped = 0;
sub bump_sql {
    my ($n) = @_;
    my @rows = map { "('phone', '$bump_mac', 'bump.vhosts." . ($bumped + $_)
                     . "', 'x')" } 1 .. $n;
    $bumped += $n;
    return 'INSERT INTO params (scope, scope_key, name, value) VALUES '
           . join(', ', @rows);
}
sub bump_main { db_exec(bump_sql($_[0])) if $_[0] > 0 }
sub bump_other {
    PolycomTest::sqlite_value($other, bump_sql($_[0])) if $_[0] > 0;
}

my $node = PolycomNode->new;
$node->start(extra => "PolycomCacheSize 1M\nPolycomSharedCache Off\n"
                      . PolycomNode::ONE_CHILD);
Apache::TestRequest::module('dbd_schemachange');
my ($other_port) = Apache::TestRequest::hostport() =~ /:(\d+)$/;
Apache::TestRequest::module('default');
my $main = 'http://127.0.0.1:' . $node->port;
my $vhost = 'http://127.0.0.1:' . ($other_port + $node->{offset});
my $ua = LWP::UserAgent->new(keep_alive => 0, agent => UA_VVX, timeout => 10);
sub settings {
    my ($base, $mac) = @_;
    my $res = $ua->get("$base/prov/$mac-settings.cfg");
    return $res->code == 200 ? $res->content : 'status ' . $res->code;
}
sub hits { (cache_counts($main))[0] }

db_exec("INSERT INTO phones (mac, model, site, label)"
        . " VALUES ('$main_mac', 'VVX411', 'hq', 'Main')");
PolycomTest::sqlite_value($other, "INSERT INTO phones (mac, model, site, label)"
                          . " VALUES ('$other_mac', 'VVX411', 'hq', 'Vhost')");
# The main database ahead of the other; the child's record of it starts.
bump_main(other_revision() - main_revision() + 1);
like(settings($main, $main_mac), qr/polycomConfig/, 'the main server serves');
my $start = main_revision();
# The other database within what the child will have read of the main one.
bump_other($start + 20 - other_revision());
bump_main(60);
settings($main, $main_mac);
is(other_revision() + 0, $start + 20,
   'the virtual host\'s database is at a revision the child has read past '
   . 'in the main one');

my $before = settings($vhost, $other_mac);
like($before, qr/polycomConfig/, 'the virtual host serves its own database');
my $hits = hits();
is(settings($vhost, $other_mac), $before, 'asked again: the same bytes');
PolycomTest::sqlite_value($other,
    "INSERT INTO params (scope, scope_key, name, value) VALUES"
    . " ('phone', '$other_mac', 'reg.1.label', 'Edited in its own database')"
    . " ON CONFLICT (scope, scope_key, name) DO UPDATE SET value = excluded.value");
like(settings($vhost, $other_mac), qr/Edited in its own database/,
     'an edit in the virtual host\'s database is in the very next response');
ok(hits() > $hits, 'the cache served the virtual host before the edit')
    or diag('no hit: the test did not exercise the cache');

$node->stop;
db_exec("DELETE FROM params WHERE scope_key = '$bump_mac'");
db_exec("DELETE FROM phones WHERE mac = '$main_mac'");
for my $table ('params WHERE scope_key', 'phones WHERE mac',
               'checkins WHERE mac', 'last_seen WHERE mac') {
    PolycomTest::sqlite_value($other, "DELETE FROM $table IN"
                              . " ('$bump_mac', '$other_mac')");
}
