# A database that is missing or unreadable: 503 with one tagged log line,
# never a partial body; Apache still serves firmware from disk.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use lib 't/lib';
use PolycomTest;

plan tests => 4 * 6;

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
