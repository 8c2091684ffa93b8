package PolycomKamailio;
# Debian's Kamailio as the site's SIP registrar, for the tests: started on
# 127.0.0.1 at the port t/TEST chose (the httpd configuration names it in
# PolycomResyncProxy), writing its registrations to the SQLite file that
# PolycomResyncRegistrar reads, and stopped when the test ends.
use strict;
use warnings FATAL => 'all';
use File::Basename qw(dirname);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

sub binary { return (grep { -x } '/usr/sbin/kamailio', '/usr/local/sbin/kamailio')[0] }

# The location table, as Kamailio's own schema files make it.
sub create_db {
    my ($db) = @_;
    my $dir = '/usr/share/kamailio/db_sqlite';
    unlink $db;
    system("cat '$dir/standard-create.sql' '$dir/usrloc-create.sql'"
           . " | sqlite3 '$db'") == 0 or die "cannot create $db\n";
    chmod 0644, $db;
}

sub start {
    my ($class, %a) = @_;
    my $self = bless { port => $a{port}, db => $a{db} }, $class;
    my $bin = binary() or die "kamailio is not installed (tools/deps.sh test)\n";
    my $dir = dirname($a{db});
    create_db($a{db});
    open my $in, '<', "$a{top}/t/setup/kamailio.cfg" or die "$!\n";
    my $cfg = do { local $/; <$in> };
    $cfg =~ s/\@PORT\@/$a{port}/g;
    $cfg =~ s/\@ADDR\@/127.0.0.1/g;
    $cfg =~ s/\@DB\@/$a{db}/g;
    my @define;
    if ($a{tls_port}) {
        # TLS on its own port, presenting $a{cert} (with $a{key}); it asks
        # no certificate of its clients.
        my $tls = "$dir/kamailio-tls.cfg";
        open my $t, '>', $tls or die "$!\n";
        print $t "[server:default]\nmethod = TLSv1.2+\n"
            . "verify_certificate = no\nrequire_certificate = no\n"
            . "private_key = $a{key}\ncertificate = $a{cert}\n\n"
            . "[client:default]\nmethod = TLSv1.2+\n"
            . "verify_certificate = no\nrequire_certificate = no\n";
        close $t;
        $cfg =~ s/\@TLS_PORT\@/$a{tls_port}/g;
        $cfg =~ s/\@TLS_CFG\@/$tls/g;
        @define = ('-A', 'WITH_TLS');
        $self->{tls_port} = $a{tls_port};
    }
    $self->{cfg} = "$dir/kamailio.cfg";
    open my $out, '>', $self->{cfg} or die "$!\n";
    print $out $cfg;
    close $out;
    $self->{log} = "$dir/kamailio.log";
    my $pid = fork // die "fork: $!\n";
    if (!$pid) {
        open STDOUT, '>', $self->{log};
        open STDERR, '>&', \*STDOUT;
        exec $bin, '-DD', '-E', @define, '-f', $self->{cfg}, '-w', $dir,
             '-Y', $dir, '-m', '64', '-M', '8';
        exit 127;
    }
    $self->{pid} = $pid;
    # Ready when it answers on its TCP port (and its TLS port).
    my $until = time + 10;
    while (time < $until) {
        die "kamailio exited at start: see $self->{log}\n"
            if waitpid($pid, WNOHANG) == $pid;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$a{port}",
                                      Proto => 'tcp');
        my $t = !$a{tls_port} || IO::Socket::INET->new(
            PeerAddr => "127.0.0.1:$a{tls_port}", Proto => 'tcp');
        return $self if $s && $t;
        sleep 0.1;
    }
    $self->stop;
    die "kamailio did not start on 127.0.0.1:$a{port}: see $self->{log}\n";
}

sub log_text {
    my ($self) = @_;
    open my $in, '<', $self->{log} or return '';
    local $/;
    return <$in>;
}

sub stop {
    my ($self) = @_;
    my $pid = delete $self->{pid} or return;
    kill 'TERM', $pid;
    my $until = time + 5;
    sleep 0.05 while waitpid($pid, WNOHANG) != $pid && time < $until;
    if (kill 0, $pid) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
}

sub DESTROY { $_[0]->stop }

1;
