# mod_dbd runs DBDInitSQL as one of its post_connect steps and skips the
# steps after one that fails. A DBDInitSQL whose last statement returns a
# row (PRAGMA busy_timeout=N) fails that way without a word: the module's
# statements must still be prepared, and one tagged line must say what
# happened.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use lib 't/lib';
use PolycomTest;

plan tests => 5;

Apache::TestRequest::module('dbd_initsql');
t_start_error_log_watch();
my @codes;
for (1 .. 10) {
    my $res = GET '/prov/' . MAC_VVX . '-settings.cfg', 'User-Agent' => UA_VVX;
    push @codes, $res->code;
}
my $master = GET '/prov/' . MAC_VVX . '.cfg', 'User-Agent' => UA_VVX;
sleep 1;
my @log = t_finish_error_log_watch();
Apache::TestRequest::module('default');

is(scalar(grep { $_ == 200 } @codes), 10,
   'every request is served although DBDInitSQL "failed"')
    or diag("statuses: @codes");
is($master->code, 200, 'the master config too');
like($master->content, qr/APPLICATION/, 'with its body');
my @warned = grep { /PC00031:/ } @log;
ok(@warned >= 1, 'a tagged line says DBDInitSQL failed on the connection')
    or diag(join '', @log);
ok(@warned < 11, 'once per connection, not once per request')
    or diag(scalar(@warned) . ' lines for 11 requests');
