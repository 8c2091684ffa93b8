package PolycomOwnServer;
# A server of its own beside the test server, for what only a start of
# its own shows: its own directory, port, error log and database, the
# module and the few modules it needs, the prefork MPM (or the event MPM's
# one child of a few threads).
use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use File::Temp ();
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

# Such a server, started and listening, with the event MPM (one child of
# four threads) and a gate for SQLite writers (polycom-sqlite-write) that
# is a flock(2) file in its directory (gate_file), so that a test can hold
# it as another of the node's processes would.
sub gated {
    my ($class, %o) = @_;
    my $self = $class->new(
        %o, event => 4,
        initsql => 'PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL',
        extra => "Mutex flock:$o{dir} polycom-sqlite-write");
    $self->start or die "httpd did not start\n";
    $self->listening;
    return $self;
}

# The gate's file of a gated server, or undef.
sub gate_file {
    my ($self) = @_;
    my ($file) = glob("$self->{dir}/polycom-sqlite-write.*");
    return $file;
}

# A directory of its own for such a server, and in it an SQLite database
# of the schema with one phone of one line (reg.1.address 1001), owned by
# the children's user: (directory, database).
sub fresh_db {
    my ($class, $name, $mac) = @_;
    my $vars = Apache::Test::config()->{vars};
    my $dir = File::Temp::tempdir("mod_polycom-$name-XXXXXX", TMPDIR => 1,
                                  CLEANUP => 1);
    chmod 0777, $dir;
    my $db = "$dir/polycom.db";
    system("sqlite3 '$db' '.read $vars->{top_dir}/sql/sqlite.sql' "
           . "\"INSERT INTO phones (mac, model) VALUES ('$mac', 'VVX411')\" "
           . "\"INSERT INTO params VALUES ('phone', '$mac', "
           . "'reg.1.address', '1001')\" >/dev/null") == 0
        or die "sqlite3: cannot create $db\n";
    if ($> == 0) {
        my ($uid, $gid) = (getpwnam($vars->{user} || 'nobody'))[2, 3];
        chown $uid, $gid, $db;
    }
    return ($dir, $db);
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

# httpd -k graceful; true once the new generation said it runs (up to
# 10 s): httpd's "resuming normal operations" line once more.
sub graceful {
    my ($self) = @_;
    my $resumed = sub {
        open my $log, '<', $self->error_log or return 0;
        return scalar grep { /resuming normal operations/ } <$log>;
    };
    my $before = $resumed->();
    system($self->{httpd}, '-d', $self->{dir}, '-f', $self->{conf},
           '-k', 'graceful') == 0 or return 0;
    for (1 .. 100) {
        return 1 if $resumed->() > $before;
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
