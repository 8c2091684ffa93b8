# A database that is missing or unreadable: 503 with one tagged log line,
# never a partial body; Apache still serves firmware from disk.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use lib 't/lib';
use PolycomTest;

plan tests => 4 * 6 + 9;

# Where this file's lines start in the error log (earlier files' are
# above them).
my $log_start = -s Apache::Test::vars('t_logs') . '/error_log';

for my $vhost ('dbd_down', 'dbd_unreadable', 'dbd_pg_down', 'dbd_my_down') {
    Apache::TestRequest::module($vhost);
    t_start_error_log_watch();
    my $res = GET '/prov/' . MAC_VVX . '.cfg', 'User-Agent' => UA_VVX;
    my @log = t_finish_error_log_watch();
    is($res->code, 503, "$vhost: 503 Service Unavailable");
    ok($res->header('Retry-After'), "$vhost: with Retry-After");
    unlike($res->content, qr/APPLICATION|polycomConfig/,
           "$vhost: no part of a config in the body");
    is(scalar(grep { /PC00001:/ } @log), 1,
       "$vhost: one tagged log line for the request");
    is(GET('/prov/' . MAC_VVX . '-settings.cfg')->code, 503,
       "$vhost: settings also 503");
    is(GET('/prov/sip.ld')->code, 200, "$vhost: firmware still served");
}
Apache::TestRequest::module('default');

# A database of an older schema (the module upgraded, the database not):
# the module's statements cannot be prepared, and a request that needs
# the missing table is refused, never half done.
Apache::TestRequest::module('dbd_oldschema');
t_start_error_log_watch();
my $res = Apache::TestRequest::PUT('/prov/' . MAC_VVX . '-app.log',
                                   'User-Agent' => UA_VVX,
                                   content => "0101 00:00:00 app| line\n");
my @log = t_finish_error_log_watch();
Apache::TestRequest::module('default');
# Not 503: waiting will not bring the table; the server needs its
# schema upgraded (sql/sqlite.sql creates what is missing).
is($res->code, 500, 'older schema: a log upload gets 500');
# The request's own lines ([client ...]), not the check-in writer's.
my @tagged = grep { /PC\d{5}:/ && /\[client / } @log;
is(scalar(@tagged), 1, 'older schema: one tagged log line for the request')
    or diag(@log);
# The first statement the upload needs that reads log_chunks: the phone's
# usage against PolycomUploadQuota.
like($tagged[0] // '', qr/PC00002: .*mod_polycom_usage was not prepared/,
     'older schema: it names the statement');
open my $error_log, '<', Apache::Test::vars('t_logs') . '/error_log';
my @why = grep { /PC00029: cannot prepare the statements .*no such table: log_chunks/ }
    <$error_log>;
ok(@why, 'a tagged line says why the statements cannot be prepared')
    or diag('no PC00029 line naming the missing table');

# A database whose schema lacks a table only the admin API uses (audit):
# connections open and serve phones, since those statements are prepared
# at their first use; the check-in writer, which prepares all of them when
# it starts, says which one does not (PC00052).
Apache::TestRequest::module('dbd_noaudit');
my $phone = GET('/prov/' . MAC_VVX . '-settings.cfg', 'User-Agent' => UA_VVX);
Apache::TestRequest::module('default');
is($phone->code, 200, 'without the audit table: a phone gets its settings');
# (said when the writer first reaches the database: at its start, or at
# the phone's check-in at the latest)
my @noaudit;
for (1 .. 100) {
    seek $error_log, 0, 0;
    @noaudit = grep { /PC00052: .*mod_polycom_audit\w*: no such table: audit/ }
        <$error_log>;
    last if @noaudit;
    select undef, undef, undef, 0.1;
}
ok(@noaudit, 'the check-in writer says an admin statement does not '
   . 'prepare there (PC00052), naming it and why')
    or diag('no PC00052 line naming the audit table');
# More check-ins on that server, a phone at a time, each batch on a
# connection of its own (DBDPersist Off there): the writer said it once
# for that database, not on each connection.
for my $mac ('0004f2a0a001', '0004f2a0a002', '0004f2a0a003') {
    Apache::TestRequest::module('dbd_noaudit');
    GET("/prov/$mac.cfg", 'User-Agent' => UA_VVX);
    Apache::TestRequest::module('default');
    select undef, undef, undef, 1.2;
}
# Once per writer process: a graceful restart in an earlier file (t/writer.t)
# starts another writer, which says it again once.
seek $error_log, 0, 0;
my %said;
$said{$_}++ for map { /\[pid (\d+)/ ? $1 : () }
    grep { /PC00052: .*mod_polycom_audit/ } <$error_log>;
is_deeply([map { "$_ x$said{$_}" } grep { $said{$_} != 1 } sort keys %said], [],
          'the writer says it once (' . scalar(keys %said) . ' writer(s) in this log)');
seek $error_log, 0, 0;
is(scalar(grep { /PC00029: .*no such table: audit/ } <$error_log>), 0,
   'and no connection failed to open for it');

# The writer's flush of last_seen cannot run on the older schema's
# database (its statements do not prepare there): each try waits twice as
# long as the one before (PC00049), not a second every time for as long as
# httpd runs.
my @tries;
for (1 .. 150) {
    seek $error_log, $log_start, 0;
    @tries = map { /^\[\w+ \w+ \d+ (\d+):(\d+):([\d.]+) /
                   ? $1 * 3600 + $2 * 60 + $3 : () }
             grep { /PC00049: .*mod_polycom_seen_flush was not prepared/ }
             <$error_log>;
    last if @tries >= 3;
    select undef, undef, undef, 0.1;
}
# (seconds of the day: a run across midnight adds a day)
my $gap = @tries >= 3 ? $tries[2] - $tries[1] : 0;
$gap += 86400 if $gap < 0;
ok($gap >= 1.5,
   'a flush that keeps failing is tried again less and less often')
    or diag('tries at ' . join(', ', @tries));
