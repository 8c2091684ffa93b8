# A phone's cached files outlive the edits of other phones, sites and
# models (table scope_revisions), and only theirs: in a real fleet someone
# edits some phone every few minutes, and every such edit used to send the
# whole fleet's next polls to the cold path. Each edit here is made with
# SQL, as a portal would; after it, phone A's settings and master are
# either hits with the same bytes, or misses with the change in the very
# next response. Run on two nodes: children with a cache of their own (one
# keep-alive connection, one child), and children sharing one
# (PolycomSharedCache, a new connection each time).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use HTTP::Request;
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;
use PolycomNode;

my %nodes = (
    'own cache'    => "PolycomCacheSize 1M\nPolycomSharedCache Off\n",
    'shared cache' => "PolycomCacheSize Off\nPolycomSharedCache 1M 2K\n"
                      . PolycomNode::ONE_CHILD,
);
plan tests => 33 * keys %nodes;

my ($a, $b) = ('0004f2cc0001', '0004f2cc0002');
my $ua;
my $base;

sub get {
    my ($path) = @_;
    my $res = $ua->get("$base$path");
    return $res->code == 200 ? $res->content : 'status ' . $res->code;
}
sub counts { cache_counts($base) }
# [hits, misses] of phone A's settings (or @a file) asked once after
# @a edit.
sub after {
    my ($edit, $body, $file) = @_;
    $edit->();
    my @before = counts();
    $$body = get("/prov/" . ($file // "$a-settings.cfg"));
    my @after = counts();
    return [$after[0] - $before[0], $after[1] - $before[1]];
}
# The same for phone A's master, asked right after its settings.
sub master_after {
    my ($body) = @_;
    return after(sub { }, $body, "$a.cfg");
}
sub cleanup {
    db_exec("DELETE FROM params WHERE scope_key IN ('$a', '$b',"
            . " 'scopes-hq', 'scopes-branch', 'scopes-other')"
            . " OR (scope = 'model' AND name = 'reg.4.label')"
            . " OR (scope = 'global' AND name = 'reg.4.label')");
    db_exec("DELETE FROM reprovision WHERE scope_key IN ('$a', '$b',"
            . " 'scopes-branch')");
    db_exec("DELETE FROM phones WHERE mac IN ('$a', '$b')");
}

for my $kind (sort keys %nodes) {
    cleanup();
    db_exec("INSERT INTO phones (mac, model, site, label) VALUES"
            . " ('$a', 'VVX411', 'scopes-hq', 'Scopes A'),"
            . " ('$b', 'VVX411', 'scopes-hq', 'Scopes B')");
    db_set_param('site', 'scopes-branch', 'reg.2.label', 'Branch site');
    my $node = PolycomNode->new;
    $node->start(extra => $nodes{$kind});
    $base = 'http://127.0.0.1:' . $node->port;
    $ua = LWP::UserAgent->new(keep_alive => $kind eq 'own cache' ? 1 : 0,
                              agent => UA_VVX, timeout => 10);

    my $warm = get("/prov/$a-settings.cfg");
    my $master = get("/prov/$a.cfg");
    like($warm, qr/polycomConfig/, "$kind: phone A's settings");
    my $body;
    is_deeply(after(sub { }, \$body), [1, 0], "$kind: asked again, a hit");

    # Edits of what A's files are not made of.
    is_deeply(after(sub { db_set_param('phone', $b, 'reg.1.label', 'B by SQL') },
                    \$body),
              [1, 0], "$kind: another phone's parameter edited: still a hit");
    is($body, $warm, "$kind: the same bytes");
    like(get("/prov/$b-settings.cfg"), qr/B by SQL/,
         "$kind: and that phone has its change at once");
    is(get("/prov/$a.cfg"), $master, "$kind: A's master, the same bytes");
    is_deeply(after(sub { db_set_param('site', 'scopes-other', 'reg.3.label', 'x') },
                    \$body),
              [1, 0], "$kind: another site's layer edited: a hit");
    is_deeply(after(sub { db_set_param('model', 'VVX311', 'reg.4.label', 'y') },
                    \$body),
              [1, 0], "$kind: another model's layer edited: a hit");
    is_deeply(after(sub { db_exec("UPDATE phones SET label = 'B again'"
                                  . " WHERE mac = '$b'") }, \$body),
              [1, 0], "$kind: another phone's row changed: a hit");
    is($body, $warm, "$kind: still the very bytes first rendered");

    # Edits of what they are made of: the change is in the very next
    # response.
    is_deeply(after(sub { db_set_param('phone', $a, 'reg.1.label', 'A by SQL') },
                    \$body),
              [0, 1], "$kind: its own parameter: rendered anew");
    like($body, qr/A by SQL/, "$kind: with the change");
    is_deeply(master_after(\$body), [0, 1],
              "$kind: its master too (made of its own row)");
    is($body, $master, "$kind: the same bytes as before");
    is_deeply(after(sub { db_set_param('site', 'scopes-hq', 'reg.3.label', 'HQ site') },
                    \$body),
              [0, 1], "$kind: its site's layer: rendered anew");
    like($body, qr/HQ site/, "$kind: with the change");
    is_deeply(master_after(\$body), [1, 0],
              "$kind: its master, made of no layer: a hit");
    is_deeply(after(sub { db_set_param('model', 'VVX411', 'reg.4.label', 'Model 411') },
                    \$body),
              [0, 1], "$kind: its model's layer: rendered anew");
    like($body, qr/Model 411/, "$kind: with the change");
    is_deeply(after(sub { db_exec("UPDATE phones SET site = 'scopes-branch'"
                                  . " WHERE mac = '$a'") }, \$body),
              [0, 1], "$kind: moved to another site: rendered anew");
    ok($body =~ /Branch site/ && $body !~ /HQ site/,
       "$kind: with the other site's layer, not the old one's");
    like(get("/prov/$a.cfg"), qr/$a-settings\.cfg/, "$kind: its master too");
    is_deeply(after(sub { db_set_param('global', '', 'reg.4.label', 'Everyone') },
                    \$body),
              [0, 1], "$kind: the global layer: rendered anew");
    # Model scope outranks global: the global edit is there, below it.
    like($body, qr/Model 411/, "$kind: the model's value still wins");
    # Every phone's first poll after a change of the global layer asks
    # for its master, then its settings: the master has not changed.
    my $master_now = get("/prov/$a.cfg");
    db_set_param('global', '', 'reg.4.label', 'Everyone again');
    is_deeply(master_after(\$body), [1, 0],
              "$kind: after the global layer's edit, its master is a hit");
    is($body, $master_now, "$kind: the same bytes");
    # A move for the phone puts the stanza's file first in its master, in
    # the very next response, and taking it back takes it out.
    db_exec("INSERT INTO reprovision (scope, scope_key, server,"
            . " server_address, server_type, boot_server, created_us)"
            . " VALUES ('phone', '$a', 'https://new.example/prov',"
            . " 'new.example/prov', 'HTTPS', 'Static', 1)");
    like(get("/prov/$a.cfg"), qr/CONFIG_FILES="$a-device\.cfg,$a-settings/,
         "$kind: a move set up with SQL: the stanza's file in its master");
    db_exec("DELETE FROM reprovision WHERE scope_key = '$a'");
    is(get("/prov/$a.cfg"), $master_now,
       "$kind: the move taken back: its master as before");
    # A move of its whole site: not keyed by its MAC.
    db_exec("INSERT INTO reprovision (scope, scope_key, server,"
            . " server_address, server_type, boot_server, created_us)"
            . " VALUES ('site', 'scopes-branch', 'https://new.example/prov',"
            . " 'new.example/prov', 'HTTPS', 'Static', 1)");
    like(get("/prov/$a.cfg"), qr/CONFIG_FILES="$a-device\.cfg,/,
         "$kind: a move of its site: the stanza's file in its master");
    db_exec("DELETE FROM reprovision WHERE scope_key = 'scopes-branch'");
    is(get("/prov/$a.cfg"), $master_now, "$kind: taken back: as before");
    db_exec("UPDATE phones SET enabled = 0 WHERE mac = '$a'");
    is(get("/prov/$a.cfg"), 'status 404',
       "$kind: the phone disabled with SQL: its master is 404 at once");
    db_exec("UPDATE phones SET enabled = 1 WHERE mac = '$a'");
    is(get("/prov/$a.cfg"), $master_now,
       "$kind: enabled again: its master at once");
    is_deeply(after(sub { db_exec("DELETE FROM phones WHERE mac = '$a'") },
                    \$body),
              [0, 0], "$kind: deleted: neither hit nor rendered") ;

    $node->stop;
}
cleanup();
