# Markup characters, quotes and non-ASCII text in labels, names and
# passwords come out as well-formed XML with the exact values.
use strict;
use warnings FATAL => 'all';
use utf8;
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use Encode qw(decode encode);
use lib 't/lib';
use PolycomTest;

plan tests => 8;

my $mac = MAC_SPIP;
my %values = (
    'reg.1.label'         => q{R&D <lab> "east" 'wing'},
    'reg.1.displayName'   => 'Zoë Ørsted — 日本',
    'reg.1.auth.password' => q{p&<>"'%;--},
    'reg.2.label'         => "]]> <!-- --> &amp;",
);
for my $name (sort keys %values) {
    db_set_param('phone', $mac, $name, encode('UTF-8', $values{$name}));
}
my $res = GET "/prov/$mac-settings.cfg", 'User-Agent' => UA_SPIP;
is($res->code, 200, 'served');
my $doc = parse_xml($res->content);
ok($doc, 'well-formed XML');
my $attrs = $doc ? config_attrs($doc) : {};
for my $name (sort keys %values) {
    is($attrs->{$name}, $values{$name}, "$name comes back exact");
}

# Bytes that are not UTF-8 (SQLite stores them; PostgreSQL and MariaDB
# refuse them at the door, so there a control character, which XML cannot
# carry either)
# fail the document loudly, never half of it.
db_exec("INSERT INTO params (scope, scope_key, name, value) VALUES ('phone',"
        . " '$mac', 'reg.3.label', "
        . (backend() eq 'pgsql' ? "'A' || chr(1) || 'Z'"
           : backend() eq 'mysql' ? "CONCAT('A', CHAR(1), 'Z')"
           : "CAST(X'41C328' AS TEXT)")
        . ")");
t_start_error_log_watch();
$res = GET "/prov/$mac-settings.cfg";
# The request's own lines ([client ...]): the check-in writer's background
# lines (a retry for another test's server) are not its.
my @log = grep { /PC\d+:/ && /\[client / } t_finish_error_log_watch();
is_deeply([map { /(PC00005: .*reg\.3\.label)/ ? 'named' : $_ } @log], ['named'],
          'one tagged log line that names the parameter');
ok($res->code == 500 && $res->content !~ /polycomConfig/,
   'invalid UTF-8 in the database: 500, no partial config');
db_exec("DELETE FROM params WHERE scope = 'phone' AND scope_key = '$mac'"
        . " AND name IN ('reg.3.label', 'reg.2.label')");
db_exec("UPDATE params SET value = 'demo-secret-1001' WHERE scope = 'phone'"
        . " AND scope_key = '$mac' AND name = 'reg.1.auth.password'");
