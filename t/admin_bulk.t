# Bulk actions of the admin API (POST phones/bulk): enable, disable,
# change site, move and resync on a list of MACs or on a fleet view, all
# or nothing, each phone audited, a dry run that counts; and what "not up
# to date" (GET phones?filter=outdated) means for imported phones, phones
# that never fetched their settings, and phones changed after their fetch.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use HTTP::Request;
use JSON::PP ();
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;

plan tests => 56;

my $base = 'http://' . Apache::TestRequest::hostport() . '/admin';
my $json = JSON::PP->new->canonical->utf8;
my $ua = LWP::UserAgent->new(timeout => 60);

sub call {
    my ($method, $path, $body, $type) = @_;
    settle();
    my $req = HTTP::Request->new($method => "$base/$path");
    $req->authorization_basic('admin', 'admin-secret');
    if (defined $body) {
        $req->content_type($type // 'application/json');
        $req->content(ref $body ? $json->encode($body) : $body);
    }
    my $res = $ua->request($req);
    return ($res, eval { $json->decode($res->content) });
}

# Six phones of their own (prefix 0004f2b1): 1-4 at site bk-a, 5-6 at bk-b.
my @mac = map { sprintf '0004f2b1%04x', $_ } 0 .. 6;
db_exec("DELETE FROM phones WHERE mac LIKE '0004f2b1%'");
db_exec('INSERT INTO phones (mac, model, site, label, enabled, created_us, sip_address) VALUES '
        . join(', ', map { "('$mac[$_]', 'VVX411', '" . ($_ <= 4 ? 'bk-a' : 'bk-b')
                           . "', 'Bulk desk $_', 1, 1, '127.0.0.1:9')" } 1 .. 6));
sub col { my ($col, $n) = @_; db_value("SELECT $col AS v FROM phones WHERE mac = '$mac[$n]'") }
sub audits { db_value("SELECT count(*) AS n FROM audit WHERE target LIKE '%0004f2b1%'"
                      . " OR action = 'phones.bulk'") }

# ---- a dry run counts, and writes nothing ----
my $audits = audits();
my ($res, $data) = call(POST => 'phones/bulk?dry_run=1',
                        { action => 'disable', macs => [@mac[1, 2, 3]] });
is($res->code, 200, 'dry run: 200');
ok($data->{dry_run} && $data->{phones} == 3 && $data->{changed} == 3,
   'dry run: it would touch and change three phones') or diag($res->content);
is(col('enabled', 1), 1, 'dry run: the phone is still enabled');
is(audits(), $audits, 'dry run: nothing audited');

# ---- disable, then enable: one transaction, a row per phone ----
($res, $data) = call(POST => 'phones/bulk', { action => 'disable', macs => [@mac[1, 2, 3]] });
ok($res->code == 200 && $data->{phones} == 3 && $data->{changed} == 3,
   'disable three phones: all three changed') or diag($res->content);
is(db_value("SELECT count(*) AS n FROM phones WHERE mac IN ('$mac[1]', '$mac[2]', '$mac[3]')"
            . ' AND enabled = 0'), 3, 'and the database has them disabled');
is(db_value("SELECT count(*) AS n FROM audit WHERE action = 'phone.disable' AND target IN"
            . " ('$mac[1]', '$mac[2]', '$mac[3]')"), 3, 'each phone has its audit row');
my $bulk_row = db_value("SELECT max(id) AS n FROM audit WHERE action = 'phones.bulk'");
ok($bulk_row, 'and the action its own');
is(db_value("SELECT count(*) AS n FROM history WHERE scope_key = '$mac[1]'"
            . " AND name = 'enabled' AND audit_id = $bulk_row"), 1,
   'the history row of the change names the bulk action');
($res, $data) = call(POST => 'phones/bulk', { action => 'enable', macs => [@mac[1, 2, 4, 1]] });
ok($res->code == 200 && $data->{phones} == 3 && $data->{changed} == 2,
   'enable three (one named twice, one already enabled): two changed') or diag($res->content);
is(col('enabled', 3), 0, 'a phone not selected stays as it was');

# ---- refusals leave everything as it was ----
$audits = audits();
($res, $data) = call(POST => 'phones/bulk', { action => 'site', site => 'no such site!',
                                              view => { q => '0004f2b1' } });
ok($res->code == 400 && ($data->{detail} // '') =~ /^site must be/, 'a bad site: 400, the field named')
    or diag($res->content);
is(db_value("SELECT count(*) AS n FROM phones WHERE mac LIKE '0004f2b1%' AND site = 'bk-a'"), 4,
   'and no phone moved');
($res, $data) = call(POST => 'phones/bulk', { action => 'site', site => 'bk-c',
                                              macs => [$mac[1], '0004f2b1ffff', $mac[2]] });
ok($res->code == 404 && ($data->{detail} // '') =~ /0004f2b1ffff.*nothing was changed/,
   'a MAC that is no phone, after one that is: 404') or diag($res->content);
is(col('site', 1), 'bk-a', 'the phone before it is rolled back');
is(audits(), $audits, 'nothing audited by either refusal');
for my $bad ([{ action => 'reboot', macs => [$mac[1]] }, 'an unknown action'],
             [{ action => 'enable' }, 'no selection'],
             [{ action => 'enable', macs => [$mac[1]], view => {} }, 'two selections'],
             [{ action => 'enable', macs => [$mac[1]], site => 'x' }, 'a site for another action'],
             [{ action => 'move', macs => [$mac[1]], target => { server => 'a b' } }, 'a bad target'],
             [{ action => 'enable', view => { filter => 'nonsense' } }, 'a bad filter'],
             [{ action => 'enable', macs => ['xyz'] }, 'a bad MAC']) {
    ($res) = call(POST => 'phones/bulk', $bad->[0]);
    is($res->code, 400, "$bad->[1]: 400");
}

# ---- the view: GET phones' arguments ----
($res, $data) = call(POST => 'phones/bulk?dry_run=1',
                     { action => 'site', site => 'bk-c', view => { site => 'bk-b' } });
ok($res->code == 200 && $data->{phones} == 2 && join(',', @{ $data->{macs} }) eq "$mac[5],$mac[6]",
   'a dry run on a view names its phones') or diag($res->content);
($res, $data) = call(POST => 'phones/bulk',
                     { action => 'site', site => 'bk-c', view => { site => 'bk-b' } });
ok($res->code == 200 && $data->{phones} == 2 && $data->{changed} == 2,
   'change site of a view: two phones') or diag($res->content);
is(db_value("SELECT count(*) AS n FROM phones WHERE site = 'bk-c' AND mac LIKE '0004f2b1%'"), 2,
   'the database has them at the new site');
like(db_value("SELECT detail AS d FROM audit WHERE action = 'phone.site' AND target = '$mac[5]'"),
     qr/"from":"bk-b".*"to":"bk-c"/, 'each audited with the site it left');
($res, $data) = call(POST => 'phones/bulk?dry_run=1',
                     { action => 'enable', view => { q => '0004f2b1', filter => 'disabled' } });
ok($res->code == 200 && $data->{phones} == 1 && $data->{macs}[0] eq $mac[3],
   'a view with a filter: the disabled phone alone') or diag($res->content);

# ---- move ----
($res, $data) = call(POST => 'phones/bulk', { action => 'move', macs => [@mac[5, 6]],
    target => { server => 'https://user:pw@new.example.com/prov' } });
ok($res->code == 200 && $data->{phones} == 2, 'move two phones') or diag($res->content);
(undef, $data) = call(GET => 'reprovision');
is(scalar(grep { $_->{scope} eq 'phone' && $_->{key} =~ /^0004f2b1000[56]$/
                 && $_->{server} =~ /new\.example\.com/ } @{ $data->{targets} // [] }), 2,
   'each has its own target');
my $moved = db_value("SELECT detail AS d FROM audit WHERE action = 'reprovision.set'"
                     . " AND target = 'phone/$mac[5]'");
ok($moved && $moved =~ /new\.example\.com/ && $moved !~ /user:pw/, 'audited without the credentials');
(undef, $data) = call(GET => "phones/$mac[5]");
is($data->{reprovision}{server} // '', 'https://user:pw@new.example.com/prov',
   'the phone resource shows its move');

# ---- resync ----
($res, $data) = call(POST => 'phones/bulk', { action => 'resync', macs => [@mac[1, 2]] });
ok($res->code == 200 && $data->{phones} == 2 && $data->{changed} == 2
   && !@{ $data->{skipped} }, 'resync two phones: both queued') or diag($res->content);
my $jobs = 0;
for my $m (@mac[1, 2]) {
    (undef, $data) = call(GET => "phones/$m/resync");
    $jobs += @{ $data->{resyncs} // [] };
}
is($jobs, 2, 'each has its resync job');
is(db_value("SELECT count(*) AS n FROM audit WHERE action = 'resync' AND target = '$mac[2]'"), 1,
   'and its audit row');

# ---- not up to date (filter=outdated) ----
# Imported phones have never fetched their settings: not up to date.
my @imp = ('0004f2b10101', '0004f2b10102');
db_exec("DELETE FROM phones WHERE mac IN ('$imp[0]', '$imp[1]')");
($res) = call(POST => 'import', "mac,model,site,label,user,password,display_name,server\n"
              . "$imp[0],VVX411,bk-i,Imported one,,,,\n$imp[1],VVX411,bk-i,Imported two,,,,\n",
              'text/csv');
is($res->code, 200, 'two phones imported');
sub outdated {
    my (undef, $list) = call(GET => 'phones?q=0004f2b101&filter=outdated');
    return join ',', map { $_->{mac} } @{ $list->{phones} // [] };
}
is(outdated(), "$imp[0],$imp[1]", 'imported phones that never fetched are not up to date');
my (undef, $list) = call(GET => 'phones?q=0004f2b101');
is($list->{counts}{outdated}, 2, 'and counted so');
my $fetched = GET "/prov/$imp[0]-settings.cfg", 'User-Agent' => UA_VVX;
is($fetched->code, 200, 'one phone fetches its settings');
is(outdated(), $imp[1], 'then it is up to date, the other is not');
(undef, $data) = call(GET => "phones/$imp[0]");
ok($data->{up_to_date}, 'as its own resource says');
# Changed after its fetch, by a bulk action, then by an import.
select undef, undef, undef, 0.05;
($res) = call(POST => 'phones/bulk', { action => 'site', site => 'bk-j', macs => [$imp[0]] });
is(outdated(), "$imp[0],$imp[1]", 'a bulk change of site after the fetch: not up to date');
GET "/prov/$imp[0]-settings.cfg", 'User-Agent' => UA_VVX;
is(outdated(), $imp[1], 'fetched again: up to date');
select undef, undef, undef, 0.05;
($res) = call(POST => 'import', "$imp[0],VVX411,bk-k,Imported one,,,,\n", 'text/csv');
is(outdated(), "$imp[0],$imp[1]", 'an import that changes it after the fetch: not up to date');
GET "/prov/$imp[0]-settings.cfg", 'User-Agent' => UA_VVX;
($res) = call(POST => 'phones/bulk', { action => 'disable', macs => [$imp[1]] });
is(outdated(), '', 'fetched, and the other disabled: none (a disabled phone is served nothing)');
# Changed with SQL by hand at the phone's own layer, its model's and the
# global one (each layer's newest change, kept by a trigger on history).
for my $layer (['phone', $imp[0]], ['model', 'VVX411'], ['global', '']) {
    my ($scope, $key) = @$layer;
    select undef, undef, undef, 0.05;
    db_set_param($scope, $key, 'up.backlight.idleIntensity', '1');
    is(outdated(), $imp[0], "a change with SQL at the $scope layer after the fetch: not up to date");
    db_exec("DELETE FROM params WHERE scope = '$scope' AND scope_key = '$key'"
            . " AND name = 'up.backlight.idleIntensity'");
    GET "/prov/$imp[0]-settings.cfg", 'User-Agent' => UA_VVX;
    settle();
    is(outdated(), '', "fetched again: up to date ($scope)");
}

# ---- the page and the counts apart (GET phones?counts=) ----
(undef, $list) = call(GET => 'phones?q=0004f2b101&limit=1&counts=0');
ok(@{ $list->{phones} } == 1 && $list->{more} && !defined $list->{total}
   && !defined $list->{counts},
   'counts=0: the page alone, "more" saying a next page exists');
(undef, $list) = call(GET => 'phones?q=0004f2b101&limit=1&offset=1&counts=0');
ok(@{ $list->{phones} } == 1 && !$list->{more}, 'and no more after the last page');
(undef, $list) = call(GET => 'phones?q=0004f2b101&counts=only');
ok(!@{ $list->{phones} } && $list->{counts}{all} == 2 && $list->{counts}{disabled} == 1
   && $list->{total} == 2, 'counts=only: the counts alone');
(undef, $list) = call(GET => 'phones?counts=only');
is($list->{counts}{all}, db_value('SELECT count(*) AS n FROM phones'),
   'the whole fleet\'s counts (a statement of their own) count every phone');
($res) = call(GET => 'phones?counts=some');
is($res->code, 400, 'counts= takes 1, 0 or only');

db_exec("DELETE FROM resync_queue WHERE mac LIKE '0004f2b1%'");
db_exec("DELETE FROM reprovision_state WHERE mac LIKE '0004f2b1%'");
db_exec("DELETE FROM reprovision WHERE scope = 'phone' AND scope_key LIKE '0004f2b1%'");
db_exec("DELETE FROM last_seen WHERE mac LIKE '0004f2b1%'");
db_exec("DELETE FROM params WHERE scope = 'phone' AND scope_key LIKE '0004f2b1%'");
db_exec("DELETE FROM phones WHERE mac LIKE '0004f2b1%'");
