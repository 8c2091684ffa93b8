# The fleet console in a real browser (Debian's headless Chromium, driven
# by playwright-core) over a generated fleet: search and paging, the
# pictures' counts against the database, adding and editing a phone and
# its next -settings.cfg, adopting a discovered MAC, a bulk resync, a CSV
# import with one bad row refused whole, a phone-sized screen, and another
# origin that cannot change anything. Screenshots: t/logs/console-*.png.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use HTTP::Request;
use JSON::PP ();
use LWP::UserAgent;
use Time::HiRes ();
use lib 't/lib';
use PolycomTest;

binmode(Test::More->builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);
plan tests => 71;

my $top = Apache::Test::vars('top_dir');
my $logs = Apache::Test::vars('t_logs');
my $hostport = Apache::TestRequest::hostport();
my $api = "http://$hostport/admin/";
my $json = JSON::PP->new->canonical->utf8;
my $ua = LWP::UserAgent->new(timeout => 30);

sub call {
    my ($method, $path, $body) = @_;
    my $req = HTTP::Request->new($method => "$api$path");
    $req->authorization_basic('admin', 'admin-secret');
    if (defined $body) {
        $req->content_type('application/json');
        $req->content($json->encode($body));
    }
    my $res = $ua->request($req);
    return ($res, eval { $json->decode($res->content) });
}

# ---- A generated fleet: 1,200 phones (prefix 0004f2c), four sites, three
# models, three firmware versions; every 7th never seen, every 5th seen
# three days ago (stale), the rest within the hour; check-ins at known
# hours; resync addresses on the loopback discard port.
my $n = 1200;
my $now = int(Time::HiRes::time() * 1_000_000);
my $hour = 3_600_000_000;
my @models = qw(VVX411 VVX601 Trio8800);
my @firmware = qw(6.4.3.1234 6.4.5.0001 7.2.2.1094);
my (@phones, @seen);
for my $i (0 .. $n - 1) {
    my $mac = sprintf '0004f2c%05x', $i;
    my $model = $models[$i % 3];
    push @phones, "('$mac', '$model', 'site" . ($i % 4) . "', 'Desk $i', "
        . ($i % 50 == 0 ? 0 : 1) . ", 0, '127.0.0.1:9')";
    next if $i % 7 == 0;
    my $t = $i % 5 == 0 ? $now - 72 * $hour : $now - 60_000_000;
    push @seen, "('$mac', $t, '10.9." . ($i % 200) . ".1', 'x', 200, '$model', '"
        . $firmware[$i % 3] . "', '', 0)";
}
while (my @batch = splice @phones, 0, 400) {
    db_exec('INSERT INTO phones (mac, model, site, label, enabled, created_us,'
            . ' sip_address) VALUES ' . join(', ', @batch));
}
while (my @batch = splice @seen, 0, 400) {
    db_exec('INSERT INTO last_seen (mac, time_us, ip, file, status, model,'
            . ' firmware, settings_etag, settings_us) VALUES ' . join(', ', @batch));
}
# Check-ins: 7 five hours ago, 4 thirty hours ago, 9 five days ago.
my @checkins;
for ([5, 7], [30, 4], [120, 9]) {
    my ($ago, $count) = @$_;
    push @checkins, map { "(" . ($now - $ago * $hour) . ", '0004f2c00001', 'GET', 'x.cfg', 200)" } 1 .. $count;
}
db_exec('INSERT INTO checkins (time_us, mac, method, file, status) VALUES ' . join(', ', @checkins));
# Written past the check-in writer, so counted into the hourly rollup the
# charts read (checkin_hours) as the schema's fill does: anew, from the
# history, which the checks below compare the charts with.
my $div = backend() eq 'mysql' ? 'DIV' : '/';
db_exec('DELETE FROM checkin_hours');
db_exec("INSERT INTO checkin_hours (hour, n) SELECT time_us $div 3600000000, count(*)"
        . " FROM checkins GROUP BY time_us $div 3600000000");
# A discovered MAC to adopt.
GET '/prov/0004f2dd0001.cfg', 'User-Agent' => UA_TRIO;
settle();

# A phone's uploaded log, for its page to show and download.
my $upload_mac = '0004f2c00002';
my $log_text = "0102 12:00:00 console test log line\n0102 12:00:01 second line\n";
my $put = Apache::TestRequest::PUT("/prov/$upload_mac-app.log", content => $log_text,
                                   'User-Agent' => UA_VVX);
settle();

my $plan = {
    search => 'desk 11', newMac => '0004f2c99901', discovered => '0004f2dd0001',
    bulkSearch => 'desk 101', bulk => [map { sprintf '0004f2c%05x', $_ } 101, 1011, 1012],
    # "desk 101" finds Desk 101 and Desk 1010-1019.
    bulkSite => 'site-moved', bulkSiteCount => 11,
    moved => [map { sprintf '0004f2c%05x', $_ } 1013, 1014],
    moveServer => 'https://new.example.com/prov',
    uploadMac => $upload_mac, uploadFile => "$upload_mac-app.log",
    csv => "mac,model,site,label,user,password,display_name,server\n"
         . "0004f2c99a01,VVX411,hq,Good one,,,,\n"
         . "0004f2c99a02,VVX 411!,hq,Bad model,,,,\n"
         . "0004f2c99a03,VVX601,hq,Good two,,,,\n",
    api => $api, victim => '0004f2c00003', evilMac => '0004f2c99e01',
    # The same server by its other name is another origin.
    evilOrigin => ($hostport =~ /^localhost:/ ? 'http://127.0.0.1:' : 'http://localhost:')
                  . (split /:/, $hostport)[1],
};
my $planfile = "$logs/console-plan.json";
open my $fh, '>', $planfile or die "$planfile: $!";
print $fh $json->encode($plan);
close $fh;

# What the pictures must say, from the database itself.
my %expect;
for my $r (@{ db_rows("SELECT p.model, coalesce(c.firmware, '') AS firmware, count(*) AS n"
                      . ' FROM phones p LEFT JOIN last_seen c ON c.mac = p.mac'
                      . " GROUP BY p.model, coalesce(c.firmware, '')") }) {
    $expect{firmware}{"$r->{model} " . ($r->{firmware} eq '' ? 'never seen' : $r->{firmware})} = $r->{n};
}
my $week_start = (int($now / $hour) - 167) * $hour;
$expect{week_total} = db_value("SELECT count(*) AS n FROM checkins WHERE time_us >= $week_start");
$expect{never} = db_value('SELECT count(*) AS n FROM phones p WHERE NOT EXISTS'
                          . ' (SELECT 1 FROM last_seen c WHERE c.mac = p.mac)');
$expect{stale} = db_value('SELECT count(*) AS n FROM phones p JOIN last_seen c ON c.mac = p.mac'
                          . ' WHERE c.time_us < ' . ($now - 86400 * 1_000_000));
$expect{five_hours} = db_value('SELECT count(*) AS n FROM checkins WHERE time_us >= '
    . (int($now / $hour) - 5) * $hour . ' AND time_us < ' . (int($now / $hour) - 4) * $hour);

$expect{discovered} = db_value('SELECT count(*) AS n FROM discovered'
                               . ' WHERE mac NOT IN (SELECT mac FROM phones)');

my $errlog = "$logs/error_log";
my $refusals_before = () = do { local @ARGV = ($errlog); grep { /PC00230/ } <> };

my $out = `node $top/t/browser/console.mjs '$api' admin admin-secret '$logs' '$planfile' 2>&1`;
my $page = eval { $json->decode((grep { /^\{/ } split /\n/, $out)[-1] // '') };
ok($page, 'Chromium drove the console') or diag($out);
$page ||= { errors => ['no page'], steps => {} };
is_deeply($page->{errors}, [], 'no JavaScript errors');
my %s = %{ $page->{steps} };
for my $name (sort keys %s) {
    diag("step $name failed: $s{$name}{failed}") if ref $s{$name} && $s{$name}{failed};
}

# ---- search and paging ----
my $search = $s{search} // {};
diag(sprintf 'first page of the fleet (%d phones): %.1f ms in the page (request and drawing), '
     . '%d ms from navigation; search: %.1f ms', $search->{counts}{all} // 0,
     $search->{pageMs} // -1, $search->{firstLoadMs} // -1, $search->{searchMs} // -1);
ok(($search->{counts}{all} // 0) >= $n && ($search->{range} // '') =~ /^1–50 of \d+$/,
   'the first page shows 50 phones of the whole fleet') or diag($search->{range});
is($search->{counts}{never}, $expect{never}, 'the never-seen filter counts what the database says');
is($search->{counts}{stale}, $expect{stale}, 'so does the stale one');
# "desk 11" finds Desk 11, Desk 110-119 and Desk 1100-1199: 111 phones.
is($search->{foundRange}, '1–25 of 111', 'a search is answered by the server, 25 to a page');
is(scalar(grep { /^0004f2c/ } @{ $search->{found} // [] }), 25, 'the page holds the phones found');
is($search->{nextRange}, '26–50 of 111', 'Next shows the second page');
ok(!grep({ my $m = $_; grep { $_ eq $m } @{ $search->{found} } } @{ $search->{next} // [] }),
   'the second page shares no phone with the first');
ok(@{ $search->{staleRows} // [] } && !grep({ !$_->{stale} } @{ $search->{staleRows} }),
   'the stale filter keeps only stale phones, highlighted');
ok(-s "$logs/console-search.png", 'a screenshot of the search was saved');

# ---- the pictures ----
my %bars = %{ $s{charts}{bars} // {} };
my %fw = map { $_->{label} => $_->{count} } @{ $bars{'chart-firmware'} // [] };
is_deeply(\%fw, $expect{firmware}, 'firmware by model: a segment per model and firmware, with its count');
my %recency = map { $_->{label} => $_->{count} } @{ $bars{'chart-recency'} // [] };
ok(($recency{'never seen'} // -1) == $expect{never} && ($recency{stale} // -1) == $expect{stale},
   'last check-in: the never-seen and stale bars');
my $week = 0;
$week += $_->{count} for @{ $bars{'chart-week'} // [] };
is($week, $expect{week_total}, 'check-ins over 7 days add up to the database\'s');
my @day = @{ $bars{'chart-day'} // [] };
is(scalar @day, 24, 'check-ins over 24 hours: one bar an hour');
is(($day[-6] // {})->{count}, $expect{five_hours}, 'the hour five hours ago has its check-ins');
my %disc = map { $_->{label} => $_->{count} } @{ $bars{'chart-discovered'} // [] };
is($disc{all}, $expect{discovered},
   'discovered MACs: the count the database has');

# ---- adding and editing a phone ----
my $edit = $s{edit} // {};
like($edit->{modelError} // '', qr/^model must be/, 'the API\'s message is shown next to the model field');
is($edit->{invalid}, 'true', 'and the field is marked invalid');
like($edit->{firstPreview} // '', qr/up\.backlight\.idleIntensity="2"/, 'the new phone\'s settings have its parameter');
like($edit->{secondPreview} // '', qr/up\.backlight\.idleIntensity="1"/, 'after the edit, the preview shows the new value');
my $settings = GET "/prov/$plan->{newMac}-settings.cfg", 'User-Agent' => UA_VVX;
like($settings->content, qr/up\.backlight\.idleIntensity="1"/, 'and so does the -settings.cfg the phone fetches next');

unlike(($edit->{firstPreview} // '') . ($edit->{secondPreview} // ''), qr/line-secret-2001|demo-admin-4567/,
       'the preview shows no secret before a reveal');
is($edit->{passwordField}, '********', 'nor does the edit form, once the secret is stored');
ok(($edit->{revealed} // '') =~ /line-secret-2001/ && ($edit->{revealedPreview} // '') =~ /line-secret-2001/,
   'Reveal secrets shows them');
ok(db_value("SELECT count(*) AS n FROM audit WHERE action = 'secret.reveal' AND target = '$plan->{newMac}'"),
   'and the reveal is in the audit log');

ok(($edit->{afterAdd}{field} // 'x') eq '' && !$edit->{afterAdd}{shown},
   'a credential once stored is not shown again');
my ($rotated) = ($edit->{once} // '') =~ /credential (\S+), password/;
ok($rotated && $rotated ne 'c99901' && $edit->{once} =~ /password \S{12,}/,
   'Rotate gives a new credential whose password is shown once');
my (undef, $creds) = call(GET => "phones/$plan->{newMac}/credentials");
is_deeply([map { $_->{username} } @{ $creds->{credentials} // [] }], [$rotated // ''],
          'and the old credential is gone');

# ---- adopting ----
my (undef, $adopted) = call(GET => "phones/$plan->{discovered}");
ok($adopted && $adopted->{site} eq 'branch' && $adopted->{model} eq 'Trio8800',
   'the discovered MAC was adopted into its site and model');

# ---- bulk resync ----
my $bulk = $s{bulk} // {};
is($bulk->{question}, 'Resync: this touches 3 phones.', 'the confirmation says how many phones');
is($bulk->{done}, 3, 'the console reports three resyncs queued');
my $queued = 0;
for my $mac (@{ $plan->{bulk} }) {
    my (undef, $jobs) = call(GET => "phones/$mac/resync");
    $queued++ if $jobs && @{ $jobs->{resyncs} // [] };
}
is($queued, 3, 'each selected phone has a resync job');

# ---- parameters at every layer ----
my $layers = $s{layers} // {};
for my $scope (qw(global site model phone)) {
    like($layers->{$scope}{error} // '', qr/^"console test $scope" is not a valid parameter name/,
         "$scope layer: the API's message is shown beside the parameter");
    is($layers->{$scope}{invalid}, 'true', "$scope layer: and its name is marked invalid");
}
ok(!grep({ $layers->{$_}{cleared} } qw(global site model)), 'the messages go once the layer is saved');
unlike($edit->{secondPreview} // '', qr/console\.test/, 'before: the phone\'s settings have none of them');
my $next = GET "/prov/$plan->{newMac}-settings.cfg", 'User-Agent' => UA_VVX;
my $cfg = $next->content;
ok($cfg =~ /console\.test\.global="global-value"/ && $cfg =~ /console\.test\.site="site-value"/
   && $cfg =~ /console\.test\.model="model-value"/ && $cfg =~ /console\.test\.phone="phone-value"/,
   'the next -settings.cfg has the global, site, model and phone parameters') or diag($cfg);
like($layers->{preview} // '', qr/console\.test\.site="site-value"/, 'and the phone\'s preview shows them');

# ---- bulk change of site, bulk move ----
my $bsite = $s{bulk_site} // {};
is($bsite->{selection}, "11 phones selected (the whole view)", 'the whole view is selected');
is($bsite->{question}, "Change site to $plan->{bulkSite}: this touches 11 phones.",
   'the confirmation says how many phones the change of site touches');
is($bsite->{done}, 11, 'the console reports eleven phones changed');
is(db_value("SELECT count(*) AS n FROM phones WHERE site = '$plan->{bulkSite}'"), 11,
   'the database has the eleven phones at the new site');
is(db_value("SELECT count(*) AS n FROM audit WHERE action = 'phone.site'"
            . " AND detail LIKE '%$plan->{bulkSite}%'"), 11, 'each audited');
my $bmove = $s{bulk_move} // {};
is($bmove->{question}, "Move to $plan->{moveServer}: this touches 2 phones.",
   'the confirmation of a move says how many phones');
is($bmove->{done}, 2, 'the console reports two phones moved');
my (undef, $targets) = call(GET => 'reprovision');
my %moved = map { $_ => 1 } @{ $plan->{moved} };
is(scalar(grep { $_->{scope} eq 'phone' && $_->{server} eq $plan->{moveServer} && $moved{$_->{key}} }
          @{ $targets->{targets} // [] }), 2,
   'each of the two has its move to the new server');

# ---- uploads ----
is($put->code, 201, 'the phone uploaded its log');
my $up = $s{uploads} // {};
is($up->{viewed}, $log_text, 'its page shows the log');
is($up->{downloaded}, $log_text, 'and downloads it whole');
is($up->{name}, $plan->{uploadFile}, 'under its own name');

# ---- the keyboard ----
my $kb = $s{keyboard} // {};
ok(($kb->{tabs} // 99) < 40 && ($kb->{searchLabel} // '') =~ /^Search/, 'Tab reaches the labelled search box')
    or diag("tabs $kb->{tabs}");
like($kb->{range} // '', qr/ of 111$/, 'typing and Enter search the fleet');
like($kb->{control} // '', qr/^Select 0004f2c/, 'Tab reaches a phone\'s labelled checkbox');
is($kb->{selection}, '1 phone selected', 'and Space selects the phone');
isnt($kb->{outline} // 'none', 'none', 'the focused control shows where the focus is');

# ---- import ----
my $import = $s{import} // {};
is($import->{outcome}, 'refused', 'the import with one bad row is refused');
ok(grep({ $_->[0] eq '2' && $_->[3] =~ /model/ } @{ $import->{rows} // [] }),
   'the bad row is listed with its problem');
ok($import->{applyDisabled}, 'and cannot be applied');
my ($none) = call(GET => 'phones/0004f2c99a01');
is($none->code, 404, 'nothing of the import was written, not even the good rows');

# ---- a phone-sized screen ----
ok(($s{phone_size}{scrollWidth} // 9999) <= 400, 'the fleet view fits a phone-sized screen')
    or diag("scroll width $s{phone_size}{scrollWidth}");

# ---- another origin ----
my $cross = $s{cross_origin} // {};
diag('cross-origin attempts: ' . $json->encode($cross->{results} // {}));
my ($evil) = call(GET => "phones/$plan->{evilMac}");
is($evil->code, 404, 'a page on another origin created no phone');
my (undef, $victim_jobs) = call(GET => "phones/$plan->{victim}/resync");
ok($victim_jobs && !@{ $victim_jobs->{resyncs} // [] }, 'nor queued a resync with a form');
my ($victim) = call(GET => "phones/$plan->{victim}");
is($victim->code, 200, 'nor deleted a phone');
my $refusals = () = do { local @ARGV = ($errlog); grep { /PC00230/ } <> };
ok($refusals > $refusals_before && ($cross->{formAnswer} // '') =~ /another origin/,
   'the server itself refused what the browser sent (403, PC00230)');

# The generated fleet goes, so that later tests see the database they expect.
db_exec("DELETE FROM resync_queue WHERE mac LIKE '0004f2c%'");
db_exec("DELETE FROM params WHERE name LIKE 'console.test.%'");
db_exec("DELETE FROM reprovision_state WHERE mac LIKE '0004f2c%'");
db_exec("DELETE FROM reprovision WHERE scope = 'phone' AND scope_key LIKE '0004f2c%'");
db_exec("DELETE FROM uploads WHERE mac LIKE '0004f2c%'");
db_exec("DELETE FROM log_chunks WHERE mac LIKE '0004f2c%'");
db_exec("DELETE FROM last_seen WHERE mac LIKE '0004f2c%'");
db_exec("DELETE FROM checkins WHERE mac = '0004f2c00001'");
db_exec("DELETE FROM params WHERE scope = 'phone' AND scope_key LIKE '0004f2c%'");
db_exec("DELETE FROM phone_credentials WHERE mac LIKE '0004f2c%'");
db_exec("DELETE FROM phones WHERE mac LIKE '0004f2c%' OR mac = '0004f2dd0001'");
