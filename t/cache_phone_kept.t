# After a change of the global layer every phone's settings are rendered
# anew at its next poll. With PolycomSharedCache the phone's own row, its
# own parameters and whether a move is set up are kept beside its cached
# settings, and taken from there instead of the database while the phone
# did not change. Here the global layer moves before every poll, and with
# it (in the same breath, as an admin's script would) one thing of the
# phone's own: each must show in the very next response, whichever way the
# phone's part was found. Run on a node sharing a cache and on one whose
# children keep their own (no such kept part), for the same answers; and
# polycom_cache_phone_kept_total says, for each poll, whether the phone's
# part came from the shared cache: only when nothing of the phone moved.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;
use PolycomNode;

my %nodes = (
    'own cache'    => "PolycomCacheSize 1M\nPolycomSharedCache Off\n"
                      . PolycomNode::ONE_CHILD,
    'shared cache' => "PolycomCacheSize Off\nPolycomSharedCache 1M 2K\n"
                      . PolycomNode::ONE_CHILD,
);
plan tests => 17 * keys %nodes;

my ($a, $b) = ('0004f2cd0001', '0004f2cd0002');
my ($ua, $base);
my $round = 0;
my @kept;       # for each poll, 1 when the phone's part came from the cache

sub kept_total { metric($base, 'polycom_cache_phone_kept_total') }

# Phone @a mac's settings as its parameters, or "status N".
sub poll {
    my ($mac) = @_;
    my $before = kept_total();
    my $res = $ua->get("$base/prov/$mac-settings.cfg");
    push @kept, kept_total() - $before;
    return 'status ' . $res->code unless $res->code == 200;
    my $doc = parse_xml($res->content) or return 'not XML';
    return config_attrs($doc);
}
sub value { my ($attrs, $name) = @_; ref $attrs ? $attrs->{$name} : $attrs }
# The global layer moves, then @a also runs.
sub global_then {
    my ($also) = @_;
    $round++;
    db_set_param('global', '', 'reg.2.label', "Global $round");
    $also->() if $also;
}
sub cleanup {
    db_exec("DELETE FROM params WHERE scope_key IN ('$a', '$b',"
            . " 'kept-hq', 'kept-branch')"
            . " OR (scope = 'global' AND name = 'reg.2.label')");
    db_exec("DELETE FROM reprovision WHERE scope_key = 'kept-branch'");
    db_exec("DELETE FROM phones WHERE mac IN ('$a', '$b')");
}

for my $kind (sort keys %nodes) {
    cleanup();
    db_exec("INSERT INTO phones (mac, model, site, label) VALUES"
            . " ('$a', 'VVX411', 'kept-hq', 'Kept A'),"
            . " ('$b', 'VVX411', 'kept-hq', 'Kept B')");
    db_set_param('phone', $a, 'reg.1.label', 'A own');
    db_set_param('site', 'kept-hq', 'reg.3.label', 'HQ');
    db_set_param('site', 'kept-branch', 'reg.3.label', 'Branch');
    global_then();
    my $node = PolycomNode->new;
    $node->start(extra => $nodes{$kind});
    $base = 'http://127.0.0.1:' . $node->port;
    $ua = LWP::UserAgent->new(keep_alive => 0, agent => UA_VVX,
                              timeout => 10);
    @kept = ();

    my $s = poll($a);
    is_deeply([map { value($s, $_) } qw(reg.1.label reg.2.label reg.3.label)],
              ['A own', "Global $round", 'HQ'],
              "$kind: phone A's settings: its own, global and site values");
    poll($b);

    global_then();
    my @before = cache_counts($base);
    $s = poll($a);
    my @after = cache_counts($base);
    is_deeply([$after[0] - $before[0], $after[1] - $before[1]], [0, 1],
              "$kind: the global layer moved: rendered anew");
    is_deeply([map { value($s, $_) } qw(reg.1.label reg.2.label reg.3.label)],
              ['A own', "Global $round", 'HQ'],
              "$kind: the new global value beside the phone's own");
    is(value(poll($b), 'reg.2.label'), "Global $round",
       "$kind: a phone without parameters of its own: the new value");

    global_then(sub { db_set_param('phone', $a, 'reg.1.label', 'A edited') });
    $s = poll($a);
    is_deeply([map { value($s, $_) } qw(reg.1.label reg.2.label)],
              ['A edited', "Global $round"],
              "$kind: its own parameter edited too: both changes");

    global_then(sub { db_exec("DELETE FROM params WHERE scope = 'phone'"
                              . " AND scope_key = '$a'") });
    $s = poll($a);
    ok(ref $s && !exists $s->{'reg.1.label'}
       && $s->{'reg.2.label'} eq "Global $round",
       "$kind: its own parameter deleted too: gone from the file");

    global_then(sub { db_exec("UPDATE phones SET site = 'kept-branch'"
                              . " WHERE mac = '$a'") });
    $s = poll($a);
    is_deeply([map { value($s, $_) } qw(reg.2.label reg.3.label)],
              ["Global $round", 'Branch'],
              "$kind: moved to another site too: that site's layer");

    global_then(sub { db_exec("UPDATE phones SET enabled = 0"
                              . " WHERE mac = '$a'") });
    is(poll($a), 'status 404', "$kind: disabled too: 404 at once");
    db_exec("UPDATE phones SET enabled = 1 WHERE mac = '$a'");
    is(value(poll($a), 'reg.3.label'), 'Branch',
       "$kind: enabled again: its settings at once");

    # A layer's stanza parameter is left out while a move of the phone's
    # site is set up (the move's own file carries the new server).
    global_then(sub { db_set_param('site', 'kept-branch',
                                   'device.prov.serverName',
                                   'old.example') });
    is(value(poll($a), 'device.prov.serverName'), 'old.example',
       "$kind: a site's device.prov.serverName is served");
    global_then(sub {
        db_exec("INSERT INTO reprovision (scope, scope_key, server,"
                . " server_address, server_type, boot_server, created_us)"
                . " VALUES ('site', 'kept-branch', 'https://new.example/p',"
                . " 'new.example/p', 'HTTPS', 'Static', 1)") });
    $s = poll($a);
    ok(ref $s && !exists $s->{'device.prov.serverName'}
       && $s->{'reg.2.label'} eq "Global $round",
       "$kind: a move of its site set up too: the layer's server left out");
    global_then(sub { db_exec("DELETE FROM reprovision"
                              . " WHERE scope_key = 'kept-branch'") });
    is(value(poll($a), 'device.prov.serverName'), 'old.example',
       "$kind: the move taken back too: the layer's server again");

    global_then(sub { db_exec("UPDATE phones SET model = 'VVX311'"
                              . " WHERE mac = '$a'");
                      db_set_param('model', 'VVX311', 'reg.4.label',
                                   'Model 311') });
    is(value(poll($a), 'reg.4.label'), 'Model 311',
       "$kind: another model too: that model's layer");

    global_then(sub { db_exec("DELETE FROM phones WHERE mac = '$a'") });
    is(poll($a), 'status 404', "$kind: deleted too: 404 at once");
    global_then(sub {
        db_exec("INSERT INTO phones (mac, model, site, label) VALUES"
                . " ('$a', 'VVX411', 'kept-hq', 'Kept A again')");
        db_set_param('phone', $a, 'reg.1.label', 'A is back') });
    $s = poll($a);
    is_deeply([map { value($s, $_) } qw(reg.1.label reg.2.label reg.3.label)],
              ['A is back', "Global $round", 'HQ'],
              "$kind: added again with other values: those, at once");

    # Nothing but the global layer, many times over: always the phone's
    # own value and the newest global one.
    my $right = 0;
    for (1 .. 5) {
        global_then();
        my $s = poll($a);
        $right++ if ref $s && $s->{'reg.1.label'} eq 'A is back'
                    && $s->{'reg.2.label'} eq "Global $round";
    }
    is($right, 5, "$kind: five global moves: five right files");
    # In poll order: A and B warm; both after the global move alone; A
    # after its own parameter edited, deleted, its site, disabled, enabled;
    # after its site's layer; a move set up, taken back; its model; deleted;
    # added again; the five global moves alone.
    my @want = (0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1);
    @want = map { 0 } @want if $kind eq 'own cache';
    is(join('', @kept), join('', @want),
       $kind eq 'own cache'
       ? "$kind: no phone's part is ever kept"
       : "$kind: the phone's part taken from the shared cache exactly when "
         . "nothing of the phone (nor a move) changed");
    db_exec("DELETE FROM params WHERE scope = 'model'"
            . " AND scope_key = 'VVX311' AND name = 'reg.4.label'");
    $node->stop;
}
cleanup();
