package PolycomNode;
# A second httpd node: the test server's own configuration on other ports
# and log files, sharing the same database.
use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use IO::Socket::INET;
use Time::HiRes qw(sleep);

# Appended to a node's configuration (start's extra): one child for as
# long as the node runs. The test server runs prefork with one spare
# child at least, so a request in flight at its once-a-second check
# starts a second child, and new connections then land in either. Each
# child keeps its own record of what moved, from its first request on,
# and renders again a file rendered before it started (it never serves
# one it cannot judge): a test that counts cache hits request by request
# needs the one child, and must not keep a connection open (the one
# child would wait on it while the test asks for /admin/metrics).
use constant ONE_CHILD => "<IfModule mpm_prefork_module>\n"
                          . "MaxRequestWorkers 1\n</IfModule>\n"
                          . "<IfModule mpm_event_module>\n"
                          . "MinSpareThreads 1\n</IfModule>\n";

sub new {
    my ($class) = @_;
    my $t = Apache::Test::vars('serverroot');
    my $self = bless { t => $t, offset => 100 }, $class;
    $self->{offset}++ while grep { !port_free($_ + $self->{offset}) }
        map { Apache::Test::vars('port') + $_ } 0 .. 5;
    $self->{port} = Apache::Test::vars('port') + $self->{offset};
    return $self;
}

sub port_free {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                                  Listen => 1, ReuseAddr => 1);
    return $s ? 1 : 0;
}

sub port { $_[0]->{port} }

sub rewrite {
    my ($self, $text) = @_;
    my $off = $self->{offset};
    $text =~ s/(127\.0\.0\.1:|localhost:|_default_:)(\d+)/$1 . ($2 + $off)/ge;
    $text =~ s{/logs/([\w.]+)}{/logs/node2_$1}g;
    $text =~ s{/conf/extra\.conf"}{/conf/node2_extra.conf"};
    return $text;
}

# start(extra => "directives\n"): appended to the node's main server.
sub start {
    my ($self, %opt) = @_;
    my $t = $self->{t};
    for my $name ('httpd.conf', 'extra.conf') {
        open my $in, '<', "$t/conf/$name" or die "$t/conf/$name: $!";
        my $text = do { local $/; <$in> };
        open my $out, '>', "$t/conf/node2_$name" or die $!;
        print $out $self->rewrite($text);
        print $out "\n$opt{extra}" if $name eq 'extra.conf' && $opt{extra};
    }
    $self->{conf} = "$t/conf/node2_httpd.conf";
    system(Apache::Test::vars('httpd'), '-d', $t, '-f', $self->{conf},
           '-D', 'APACHE2', '-D', 'APACHE2_4', '-k', 'start') == 0
        or die "node 2 did not start";
    for (1 .. 100) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}");
        sleep 0.1;
    }
    die "node 2 is not listening on $self->{port}";
}

# A graceful restart, as Debian's logrotate makes one every day: the
# parent reads its configuration again while the old children finish.
sub graceful {
    my ($self) = @_;
    system(Apache::Test::vars('httpd'), '-d', $self->{t}, '-f', $self->{conf},
           '-D', 'APACHE2', '-D', 'APACHE2_4', '-k', 'graceful') == 0
        or die "node 2 did not restart";
}

sub stop {
    my ($self) = @_;
    return unless $self->{conf};
    system(Apache::Test::vars('httpd'), '-d', $self->{t}, '-f', $self->{conf},
           '-D', 'APACHE2', '-D', 'APACHE2_4', '-k', 'stop');
    for (1 .. 100) {
        last unless -e "$self->{t}/logs/node2_httpd.pid";
        sleep 0.1;
    }
    delete $self->{conf};
}

sub DESTROY { $_[0]->stop }

1;
