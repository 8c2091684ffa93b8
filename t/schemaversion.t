# The database records its schema version (table schema_version): a module
# given a database of a newer schema than it knows refuses to serve from
# it, with one tagged line that says to upgrade the module, and phones get
# 503 (the server is misconfigured, not the phone), never a config built
# on tables whose meaning this module cannot know.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use lib 't/lib';
use PolycomTest;

plan tests => 5;

Apache::TestRequest::module('dbd_newschema');
t_start_error_log_watch();
my $res = GET('/prov/' . MAC_VVX . '-settings.cfg', 'User-Agent' => UA_VVX);
my $again = GET('/prov/' . MAC_VVX . '.cfg', 'User-Agent' => UA_VVX);
my @log = t_finish_error_log_watch();
Apache::TestRequest::module('default');

is($res->code, 503, 'newer schema: the settings are not served (503)');
unlike($res->content, qr/polycomConfig|reg\./, 'no part of a config in the body');
is($again->code, 503, 'nor the master');
# Said once per process, maybe when a child opened its first connections.
open my $error_log, '<', Apache::Test::vars('t_logs') . '/error_log';
my @why = grep { /PC00110: the database's schema is version \d+, newer than this module's \d+: upgrade mod_polycom/ } <$error_log>;
ok(@why >= 1, 'a tagged line says the module must be upgraded')
    or diag(@log);
is(GET('/prov/' . MAC_VVX . '-settings.cfg', 'User-Agent' => UA_VVX)->code,
   200, 'the default server, whose schema is current, serves as before');
