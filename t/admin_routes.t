# The admin API refuses what no route takes (404) and methods a resource
# does not take (405, with Allow) from the method and path alone: before
# it reads a body, and without a database. Shown on a virtual host whose
# database does not exist, with bodies too large or cut short.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use IO::Select;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use Time::HiRes qw(time);

plan tests => 23;

my $auth = 'Basic ' . encode_base64('admin:admin-secret', '');
my $mac = '0004f2abc0f1';

# One request over a socket of our own, so that the body can be declared
# and then not sent: the status line, the headers and how long the answer
# took (a server that waited for the body would wait for its Timeout).
sub raw {
    my ($hostport, $method, $path, $length, $sent) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 10)
        or die "connect $hostport: $!\n";
    my $start = time;
    print $sock "$method /admin/$path HTTP/1.1\r\nHost: $hostport\r\n"
        . "Authorization: $auth\r\nContent-Type: application/json\r\n"
        . "Content-Length: $length\r\n\r\n" . ('x' x $sent);
    my ($answer, $sel) = ('', IO::Select->new($sock));
    while ($sel->can_read(10)) {
        my $n = sysread($sock, $answer, 65536, length $answer);
        last unless $n;
        last if $answer =~ /\r\n\r\n/ && $answer =~ /\}\s*\z/;
    }
    close $sock;
    my ($status) = $answer =~ m{^HTTP/1\.\d (\d{3})};
    my ($allow) = $answer =~ m{^Allow: ([^\r\n]*)}mi;
    my ($type) = $answer =~ m{^Content-Type: ([^\r\n;]*)}mi;
    return { status => $status // 0, allow => $allow // '',
             type => $type // '', seconds => time - $start,
             body => $answer };
}

for my $vhost ('dbd_down', 'default') {
    Apache::TestRequest::module($vhost);
    my $hp = Apache::TestRequest::hostport();

    my $r = raw($hp, 'PATCH', "phones/$mac", 20, 20);
    is($r->{status}, 405, "$vhost: PATCH of a phone: 405");
    is($r->{allow}, 'GET, HEAD, PUT, DELETE', "$vhost: Allow lists its methods");
    is($r->{type}, 'application/problem+json', "$vhost: as problem+json");

    # Larger than any body the API reads (413 before the route was
    # checked first), and never sent.
    $r = raw($hp, 'POST', 'phones', 2_000_000_000, 0);
    is($r->{status}, 405, "$vhost: POST phones with a huge body: 405");
    is($r->{allow}, 'GET, HEAD', "$vhost: with Allow");

    # Cut short: 10 bytes of the 1000 declared, and the client waits.
    $r = raw($hp, 'PUT', "phones/$mac/lines", 1000, 10);
    is($r->{status}, 404, "$vhost: PUT to no resource, body cut short: 404");
    ok($r->{seconds} < 5, "$vhost: answered at once, not after a timeout")
        or diag("took $r->{seconds} s");
    $r = raw($hp, 'GET', 'reprovision/nothing', 0, 0);
    is($r->{status}, 404, "$vhost: an unknown path under a resource: 404");

    $r = raw($hp, 'DELETE', 'import', 5_000_000, 100);
    is($r->{status}, 405, "$vhost: DELETE import, body cut short: 405");
    is($r->{allow}, 'POST', "$vhost: Allow: POST");
}

# A request a route takes would need the database, which is down there
# (503: t/dbdown.t; not asked here, since the outage's one log line is
# t/dbdown.t's to see). Its body limit still comes first.
Apache::TestRequest::module('dbd_down');
my $r = raw(Apache::TestRequest::hostport(), 'PUT', "phones/$mac",
            2_000_000, 0);
is($r->{status}, 413, 'dbd_down: a body over the limit of a real route: 413');
Apache::TestRequest::module('default');

# A request whose Content-Length outgrows the limit on a route that takes
# the method still gets 413 (the body limit is unchanged).
$r = raw(Apache::TestRequest::hostport(), 'PUT', "phones/$mac", 2_000_000, 0);
is($r->{status}, 413, 'default: PUT of a phone over 1 MiB: 413');

$r = raw(Apache::TestRequest::hostport(), 'GET', 'metrics', 0, 0);
is($r->{status}, 200, 'metrics are still served by the glue');
