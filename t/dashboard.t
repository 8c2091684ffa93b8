# The dashboard in a real browser: Debian's headless Chromium, driven by
# playwright-core, against the running test server.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use JSON::PP ();
use lib 't/lib';
use PolycomTest;

plan tests => 9;

my $top = Apache::Test::vars('top_dir');
my $shot = Apache::Test::vars('t_logs') . '/dashboard.png';

# One phone seen just now, one last seen ten days ago, and an unknown MAC.
GET '/prov/' . MAC_VVX . '-settings.cfg', 'User-Agent' => UA_VVX;
my $old = (time() - 10 * 86400) * 1_000_000;
settle();
db_exec("DELETE FROM last_seen WHERE mac = '" . MAC_SPIP . "'");
db_exec("INSERT INTO last_seen (time_us, mac, ip, file, status, firmware)"
        . " VALUES ($old, '" . MAC_SPIP . "', '192.0.2.9', '" . MAC_SPIP
        . ".cfg', 200, '3.2.7.0198')");
GET '/prov/0004f2beef01.cfg', 'User-Agent' => UA_TRIO;

my $url = 'http://' . Apache::TestRequest::hostport() . '/admin/';
my $out = `node $top/t/browser/dashboard.mjs '$url' admin admin-secret '$shot' 2>&1`;
my $page = eval { JSON::PP->new->decode((grep { /^\{/ } split /\n/, $out)[-1] // '') };
ok($page, 'Chromium loaded the dashboard') or diag($out);
$page ||= { rows => [], discovered => [], errors => ['no page'] };

is($page->{loaded}, 'true', 'the page loaded the fleet through the API');
is_deeply($page->{errors}, [], 'no JavaScript errors');
my %row = map { $_->{mac} => $_ } @{ $page->{rows} };
ok(exists $row{+MAC_VVX} && exists $row{+MAC_SPIP} && exists $row{+MAC_TRIO},
   'the table shows the demo phones');
ok($row{+MAC_SPIP} && $row{+MAC_SPIP}{stale}
   && $row{+MAC_SPIP}{background} ne $row{+MAC_VVX}{background},
   'the phone not seen for ten days is highlighted as stale');
ok($row{+MAC_VVX} && !$row{+MAC_VVX}{stale}, 'the phone seen now is not');
ok(grep({ $_ eq '0004f2beef01' } @{ $page->{discovered} }),
   'the unknown MAC is listed as discovered');
like($page->{preview} // '', qr/<polycomConfig>/,
     'a phone opens with a preview of its config');
ok(-s $shot, "a screenshot was saved ($shot)");
