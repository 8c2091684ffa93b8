package PolycomOwnServer;
# A server of its own beside the test server, for what only a start of
# its own shows: its own directory, port, error log and database, the
# module and the few modules it needs, the prefork MPM (or the event MPM's
# one child of a few threads).
use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use IO::Socket::INET;
use Time::HiRes qw(sleep);

# new(dir => ..., db => ..., offset => n from the test server's port,
#     run => runtime directory (dir), start_servers => (1),
#     initsql => DBDInitSQL ("PRAGMA busy_timeout=5000"),
#     event => threads of the event MPM's one child (prefork if not given),
#     location => more directives in <Location /p>, extra => more config)
sub new {
    my ($class, %o) = @_;
    my $vars = Apache::Test::config()->{vars};
    my $port = $vars->{port} + $o{offset};
    $port++ while !IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                         LocalPort => $port, Listen => 1,
                                         ReuseAddr => 1);
    my $self = bless { %o, port => $port, httpd => $vars->{httpd},
                       conf => "$o{dir}/httpd.conf" }, $class;
    my $mods = '/usr/lib/apache2/modules';
    my $user = $vars->{user} || 'nobody';
    my $group = $vars->{group} || 'nogroup';
    my $run = $o{run} // $o{dir};
    my $servers = $o{start_servers} // 1;
    my $initsql = $o{initsql} // 'PRAGMA busy_timeout=5000';
    my $mpm = $o{event}
        ? "LoadModule mpm_event_module $mods/mod_mpm_event.so\n"
          . "ServerLimit 1\nThreadsPerChild $o{event}\n"
          . "MaxRequestWorkers $o{event}\nMinSpareThreads 1\n"
          . "MaxSpareThreads $o{event}"
        : "LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so";
    my $location = $o{location} // '';
    my $extra = $o{extra} // '';
    open my $fh, '>', $self->{conf} or die "$self->{conf}: $!";
    print $fh <<"CONF";
ServerRoot "$o{dir}"
ServerName localhost
Listen 127.0.0.1:$port
PidFile "$o{dir}/httpd.pid"
ErrorLog "$o{dir}/error_log"
LogLevel info
DefaultRuntimeDir "$run"
@{[ $> == 0 ? "User $user\nGroup $group" : '' ]}
$mpm
LoadModule authz_core_module $mods/mod_authz_core.so
LoadModule dbd_module $mods/mod_dbd.so
LoadModule polycom_module "$vars->{top_dir}/.libs/mod_polycom.so"
StartServers $servers
DBDriver sqlite3
DBDParams "$o{db}"
DBDInitSQL "$initsql"
<Location /p>
    PolycomProvisioning On
$location
</Location>
$extra
CONF
    close $fh;
    return $self;
}

sub port { $_[0]->{port} }
sub error_log { "$_[0]->{dir}/error_log" }

# httpd -k start; true when it said it started.
sub start {
    my ($self) = @_;
    return system($self->{httpd}, '-d', $self->{dir}, '-f', $self->{conf},
                  '-k', 'start') == 0;
}

# True once it accepts a connection (up to 10 s).
sub listening {
    my ($self) = @_;
    for (1 .. 100) {
        return 1 if IO::Socket::INET->new(PeerAddr => "127.0.0.1:$self->{port}");
        sleep 0.1;
    }
    return 0;
}

sub stop {
    my ($self) = @_;
    system($self->{httpd}, '-d', $self->{dir}, '-f', $self->{conf},
           '-k', 'stop');
    for (1 .. 100) {
        last unless -e "$self->{dir}/httpd.pid";
        sleep 0.1;
    }
}

1;
