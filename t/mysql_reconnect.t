# MariaDB: DBDParams without reconnect=0 would leave a child with
# connections whose prepared statements died with a restarted server, so
# the module says so at the first connection (PC00030), once per child,
# and still serves.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;
use PolycomNode;

plan tests => 3;

SKIP: {
    skip 'the mysql driver\'s reconnect parameter: this runs in the MariaDB '
         . 'pass of make test, NOT in this ' . backend() . ' pass', 3
        unless backend() eq 'mysql';
    (my $params = Apache::Test::vars('dbd_params')) =~ s/\s*reconnect=0//;
    my $logfile = Apache::Test::vars('t_logs') . '/node2_error_log';
    my $offset = -s $logfile || 0;         # earlier nodes' lines stay out
    my $node = PolycomNode->new;
    $node->start(extra => qq{DBDParams "$params"\n});
    my $ua = LWP::UserAgent->new(keep_alive => 1, agent => UA_VVX);
    my @codes = map {
        $ua->get('http://127.0.0.1:' . $node->port . '/prov/' . MAC_VVX
                 . '-settings.cfg')->code
    } 1 .. 3;
    $node->stop;
    is_deeply(\@codes, [200, 200, 200], 'served all the same');
    open my $log, '<', $logfile or die "node 2's error log: $!";
    seek $log, $offset, 0;
    my @warned = grep { /PC00030:.*reconnect=0/ } <$log>;
    ok(@warned >= 1, 'the missing reconnect=0 is logged');
    my %pids = map { /\[pid (\d+)/ ? ($1 => 1) : () } @warned;
    is(scalar(keys %pids), scalar(@warned), 'once per child');
}
