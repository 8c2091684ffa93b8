# History and going back: every change to a layer or a phone, made through
# the admin API or with SQL by hand, is a version GET history lists as a
# parameter diff (who, when, what); POST history/restore brings a layer or
# a phone back to a version in one audited write, and the phone then gets
# the very same bytes as before (same ETag); GET diff?since= says which
# phones changes reach and whether they fetched since; ?dry_run=1 on a
# write answers the diff it would cause and changes nothing (the revision
# stands still). Secrets stay masked throughout.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

my $mac = '0004f2e0e002';
my $site = 'hsite';
my $name = 'up.backlight.onIntensity';
my @secrets = ('h1st-line-pw-one', 'h1st-line-pw-two');

sub fetch_etag {
    my $r = GET("/prov/$mac-settings.cfg", 'User-Agent' => UA_VVX);
    PolycomTest::settle();
    return $r->code == 200 ? $r->header('ETag') : "status " . $r->code;
}
sub revision { db_value('SELECT value FROM revision WHERE id = 1') }
sub history {
    my ($query) = @_;
    my ($r, $d) = api(GET => "history$query");
    unlike($r->content, qr/\Q$_\E/, "history$query: no secret in clear") for @secrets;
    return $d;
}
sub top_version { history('?limit=1')->{versions}[0]{version} }
sub changes_of {
    my ($version) = @_;
    return [map { "$_->{layer}/$_->{key} $_->{name}: "
                  . ($_->{was} // '-') . ' > ' . ($_->{value} // '-') }
            @{ $version->{changes} }];
}

my $start = top_version();
ok($start, "the demo data is history already (version $start)");
my $since = time();

my ($res, $doc) = api(PUT => "phones/$mac", json => {
    model => 'VVX1500', site => $site, label => 'history.t',
    lines => [{ user => '4002', password => $secrets[0] }] });
is($res->code, 201, 'a phone of its own');
my $v_phone = top_version();
my $etag0 = fetch_etag();
like($etag0, qr/^"/, 'it fetches its settings');

# A change through the API: one version, by the admin, as a diff.
($res) = api(PUT => "params/site/$site", json => { $name => '5' });
is($res->code, 200, 'PUT a site layer');
$doc = history("?scope=site&key=$site");
my $v1 = $doc->{versions}[0];
is($v1->{admin}, 'admin', 'history: who');
is($v1->{action}, 'params.replace', 'history: which write');
ok($v1->{time} && $v1->{time_us} >= $since * 1e6 - 1e6, 'history: when');
is_deeply(changes_of($v1), ["site/$site $name: - > 5"], 'history: what, as a diff');
my $etag1 = fetch_etag();
isnt($etag1, $etag0, 'the phone gets another file');

# A change by hand with SQL: a version too, by nobody in particular.
db_exec("UPDATE params SET value = '7' WHERE scope = 'site'"
        . " AND scope_key = '$site' AND name = '$name'");
$doc = history("?scope=site&key=$site");
is($doc->{versions}[0]{action}, 'sql', 'a change by hand is listed as sql');
is_deeply(changes_of($doc->{versions}[0]), ["site/$site $name: 5 > 7"],
          'with its diff');

# The fleet: which phones changes since then reach, which fetched since.
($res, $doc) = api(GET => "diff?since=$since");
is($res->code, 200, 'diff?since=');
my ($mine) = grep { $_->{mac} eq $mac } @{ $doc->{phones} };
ok($mine, 'the phone is reached by the changes');
is($mine && $mine->{fetched}, JSON::PP::false, 'and has not fetched the last one yet');
fetch_etag();
($res, $doc) = api(GET => "diff?since=$since");
($mine) = grep { $_->{mac} eq $mac } @{ $doc->{phones} };
is($mine && $mine->{fetched}, JSON::PP::true, 'after its fetch it has');
ok($doc->{fetched} >= 1 && $doc->{affected} >= $doc->{fetched}, 'counted too');

# Restore the site as it was before the API's change: one audited write,
# and the phone gets the same bytes as before.
($res, $doc) = api(POST => 'history/restore',
                   json => { scope => 'site', key => $site, version => $v_phone });
is($res->code, 200, 'restore the site to a version');
is(fetch_etag(), $etag0, 'the phone gets the same ETag as before the changes');
($res, $doc) = api(GET => 'audit?limit=1');
is($doc->{audit}[0]{action}, 'history.restore', 'the restore is audited');
is(history("?scope=site&key=$site")->{versions}[0]{admin}, 'admin',
   'and is in the history itself');

# A phone's line password changes; restoring the phone brings it back,
# byte for byte, and the history never shows it.
($res) = api(PUT => "phones/$mac", json => {
    model => 'VVX1500', site => $site, label => 'history.t',
    lines => [{ user => '4002', password => $secrets[1] }] });
is($res->code, 200, 'a new line password');
$doc = history("?scope=phone&key=$mac");
is_deeply(changes_of($doc->{versions}[0]),
          ["phone/$mac reg.1.auth.password: ******** > ********"],
          'history: the password changed, masked');
isnt(fetch_etag(), $etag0, 'the phone gets another file');
($res) = api(POST => 'history/restore',
             json => { scope => 'phone', key => $mac, version => "$v_phone" });
is($res->code, 200, 'restore the phone to its first version');
is(fetch_etag(), $etag0, 'the same bytes as then: same ETag');

($res) = api(POST => 'history/restore', json => { scope => 'fleet', version => 1 });
is($res->code, 400, 'restore of no layer: 400');

# Dry run: the diff a write would cause, and nothing changed.
my $rev = revision();
my $audits = db_value('SELECT count(*) FROM audit');
($res, $doc) = api(PUT => "params/site/$site?dry_run=1", json => { $name => '9' });
is($res->code, 200, 'a dry run answers 200');
is($doc->{dry_run}, JSON::PP::true, 'and says it is one');
($mine) = grep { $_->{mac} eq $mac } @{ $doc->{phones} || [] };
my ($added) = grep { $_->{name} eq $name } @{ $mine->{added} || [] };
is_deeply($added && [@$added{qw(layer key value)}], ['site', $site, '9'],
          'the phone would get the parameter from the site');
is($mine && $mine->{etag_before}, $etag0, 'from the file it gets now');
is(revision(), $rev, 'the revision is unchanged');
is($doc->{revision}, $rev, 'as the answer says');
is(db_value("SELECT count(*) FROM params WHERE scope = 'site' AND scope_key = '$site'"),
   0, 'the layer is unchanged');
is(db_value('SELECT count(*) FROM audit'), $audits, 'no audit row');
is(fetch_etag(), $etag0, 'the phone still gets the same file');
($res, $doc) = api(DELETE => "phones/$mac?dry_run=1");
($mine) = grep { $_->{mac} eq $mac } @{ $doc->{phones} || [] };
ok($mine && !defined $mine->{etag_after}, 'a dry-run delete: the phone would get nothing');
ok($mine && grep({ $_->{name} eq 'reg.1.auth.password' && $_->{value} eq '********' }
                 @{ $mine->{removed} }), 'its password would go, masked');
unlike($res->content, qr/\Q$_\E/, 'dry run: no secret in clear') for @secrets;
is(db_value("SELECT count(*) FROM phones WHERE mac = '$mac'"), 1, 'and it is still there');

($res) = api(DELETE => "phones/$mac");
is($res->code, 204, 'the phone goes');
db_exec("DELETE FROM params WHERE scope = 'site' AND scope_key = '$site'");

# ---- a change by hand beside an API write to the same layer ----
# The API locks the revision first, then writes; a change made with SQL
# by hand fires history's trigger before revision's, and each layer's
# newest change (layer_changes) is a row both write: on PostgreSQL that
# row was locked before the revision and the two deadlocked.
if (backend() eq 'pgsql') {
    # Each session in a psql of its own, its words kept in a file.
    my $session = sub {
        my ($name, $sql) = @_;
        my $out = Apache::Test::vars('t_logs') . "/lock-$name.txt";
        my $pid = fork // die "fork: $!";
        if (!$pid) {
            open STDOUT, '>', $out or die "$out: $!";
            open STDERR, '>&', \*STDOUT or die "stderr: $!";
            exec PolycomTest::psql_cmd('-c', $sql) or die "psql: $!";
        }
        return [$pid, $out];
    };
    my $api = $session->('api', 'BEGIN; UPDATE revision SET value = value + 1 WHERE id = 1;'
        . " SELECT pg_sleep(1); INSERT INTO params VALUES ('site', 'lock-hq', 'a.one', '1'); COMMIT;");
    select undef, undef, undef, 0.3;
    my $hand = $session->('hand', "INSERT INTO params VALUES ('site', 'lock-hq', 'a.two', '1')");
    my ($ok, $said) = (0, '');
    for my $s ($api, $hand) {
        waitpid $s->[0], 0;
        $ok++ if $? == 0;
        if (open my $fh, '<', $s->[1]) {
            local $/;
            $said .= <$fh> // '';
        }
    }
    is($ok, 2, 'PostgreSQL: a change by hand and an API write to the same layer both finish')
        or diag($said);
    unlike($said, qr/deadlock/, 'neither was ended as a deadlock');
    db_exec("DELETE FROM params WHERE scope = 'site' AND scope_key = 'lock-hq'");
}

done_testing();
