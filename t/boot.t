# The boot sequence of each demo generation, as the phone performs it:
# the master, then every CONFIG_FILES entry, with the effective parameters
# (first file wins) checked against the database.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET HEAD);
use lib 't/lib';
use PolycomTest;

plan tests => 3 * 9;

for my $phone ([MAC_SPIP, UA_SPIP, 'SPIP330'], [MAC_VVX, UA_VVX, 'VVX411'],
               [MAC_TRIO, UA_TRIO, 'Trio8800']) {
    my ($mac, $ua, $model) = @$phone;
    # (Earlier files of the run may have left check-ins of this phone.)
    my $checkins_before = last_checkin_id();
    my $res = GET "/prov/$mac.cfg", 'User-Agent' => $ua;
    is($res->code, 200, "$model: master served");
    like($res->header('Content-Type'), qr{^application/xml}, "$model: XML");
    my $doc = parse_xml($res->content);
    ok($doc, "$model: master is well-formed");
    my $app = $doc ? $doc->documentElement : undef;
    is($app && $app->nodeName, 'APPLICATION', "$model: APPLICATION root");
    my @files = split /\s*,\s*/, ($app ? $app->getAttribute('CONFIG_FILES') : '');
    is_deeply(\@files, ["$mac-settings.cfg"], "$model: CONFIG_FILES names its config");

    # Follow CONFIG_FILES left to right; the first file to set a name wins.
    my (%got, $all_ok);
    $all_ok = 1;
    for my $file (@files) {
        my $r = GET "/prov/$file", 'User-Agent' => $ua;
        $all_ok &&= $r->code == 200;
        my $cfg = parse_xml($r->content) or do { $all_ok = 0; next };
        my $attrs = config_attrs($cfg);
        exists $got{$_} or $got{$_} = $attrs->{$_} for keys %$attrs;
    }
    ok($all_ok, "$model: every CONFIG_FILES entry served as XML");
    is_deeply(\%got, with_device_flags(effective_params($mac)),
              "$model: effective parameters equal the database's layering"
              . " (device.* values with their .set flags)");
    ok(defined $got{'reg.1.address'} && defined $got{'reg.1.auth.password'},
       "$model: the phone gets its registration and its password");

    my $rows = db_value("SELECT count(*) FROM checkins WHERE mac = '$mac'"
                        . " AND file IN ('$mac.cfg', '$mac-settings.cfg')"
                        . " AND status = 200 AND model = '$model'"
                        . " AND id > $checkins_before");
    is($rows, 1 + @files, "$model: one check-in per request, model parsed");
}
