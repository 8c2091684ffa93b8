# The database goes away in the middle of a run (the PostgreSQL or MariaDB
# server of the pass stopped) and
# comes back: 503 with Retry-After and never a partial config, problem+json
# from the admin API, one log line for the outage, lost check-ins counted,
# and service back without restarting httpd.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use Time::HiRes qw(sleep);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

plan tests => 14;

SKIP: {
    my ($server, $dir) = backend() eq 'pgsql' ? ('pg-server.sh', $ENV{POLYCOM_PG_DIR})
                       : backend() eq 'mysql' ? ('my-server.sh', $ENV{POLYCOM_MY_DIR})
                       : ();
    skip 'the outage test stops the database server: it runs in the '
         . 'PostgreSQL and MariaDB passes of make test, NOT in this SQLite '
         . 'pass', 14
        unless $dir;
    my $top = Apache::Test::vars('top_dir');
    my $mac = MAC_VVX;
    my $metric = sub {
        my ($res) = api(GET => 'metrics');
        return $res->content =~ /^polycom_checkin_failures_total (\d+)$/m ? $1 : -1;
    };

    is(GET("/prov/$mac.cfg")->code, 200, 'served while the database is up');
    my $lost_before = $metric->();
    t_start_error_log_watch();
    system('sh', "$top/tools/$server", 'pause', $dir) == 0
        or die 'cannot stop the database server';

    my @res = map { GET("/prov/$mac" . ($_ % 2 ? '.cfg' : '-settings.cfg')) } 1 .. 10;
    is(scalar(grep { $_->code == 503 } @res), 10, 'every request: 503');
    ok(!grep({ !$_->header('Retry-After') } @res), 'with Retry-After');
    ok(!grep({ $_->content =~ /APPLICATION|polycomConfig/ } @res),
       'never a part of a config');
    my ($res, $data) = api(GET => "phones/$mac");
    is($res->code, 503, 'admin API: 503');
    like($res->header('Content-Type') // '', qr{^application/problem\+json},
         'as problem+json');
    is(GET('/prov/sip.ld')->code, 200, 'firmware still served from disk');
    cmp_ok($metric->(), '>=', $lost_before + 10, 'check-ins of the outage counted as lost');

    system('sh', "$top/tools/$server", 'resume', $dir) == 0
        or die 'cannot start the database server';
    my $back = 0;
    for (1 .. 50) {
        last if ($back = GET("/prov/$mac.cfg")->code == 200);
        sleep 0.2;
    }
    ok($back, 'service resumes without restarting httpd');
    my $cfg = parse_xml(GET("/prov/$mac-settings.cfg")->content);
    ok($cfg && config_attrs($cfg)->{'reg.1.address'}, 'with complete configs');
    # The check-in writer's own connection outlived the server too: it
    # must write again (its statements prepared anew), not leave every
    # batch to the children from now on.
    my $written = sub {
        my ($res) = api(GET => 'metrics');
        return $res->content =~ /^polycom_checkin_writer_rows_total (\d+)$/m ? $1 : -1;
    };
    my ($writes, $before) = (0, $written->());
    for (1 .. 25) {
        GET("/prov/$mac.cfg");
        last if ($writes = $written->() > $before);
        sleep 0.2;
    }
    ok($writes, 'the check-in writer writes again after the restart');
    my @log = t_finish_error_log_watch();
    is(scalar(grep { /PC000(01|40):/ } @log), 1, 'one tagged line for the outage, not one per request')
        or diag(grep { /PC000(01|22|40)/ } @log);
    # apr_dbd_pgsql wrote through a NULL record when BEGIN failed on a
    # connection the restart had cut: the writer died of it.
    is(scalar(grep { /PC000(34|45):/ } @log), 0, 'the check-in writer survived the outage')
        or diag(grep { /PC000(34|45)/ } @log);
    is(scalar(grep { /PC00022:/ } @log), 1, 'one line when it is back')
        or diag(grep { /PC000(01|22|40)/ } @log);
}
