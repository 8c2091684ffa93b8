package PolycomTest;
# Helpers for the mod_polycom suite: the real SQLite database the server
# uses, read and changed with the sqlite3 CLI, and XML parsed by libxml2.
use strict;
use warnings FATAL => 'all';

use Apache::Test ();
use JSON::PP ();
use XML::LibXML ();
use Encode ();
use HTTP::Request ();
use LWP::UserAgent ();
use Exporter 'import';

our @EXPORT = qw(db_exec db_rows db_value db_set_param effective_params
                 clear_uploads last_checkin_id
                 with_device_flags config_attrs
                 parse_xml demo_secrets shared_dir backend settle
                 cache_counts metric
                 UA_VVX UA_SPIP UA_TRIO MAC_SPIP MAC_VVX MAC_TRIO);

use constant MAC_SPIP => '0004f2a1b330';
use constant MAC_VVX  => '0004f2e62aa4';
use constant MAC_TRIO => '64167f0a8800';
use constant UA_SPIP  => 'FileTransport PolycomSoundPointIP-SPIP_330-UA/3.2.7.0198';
use constant UA_VVX   => 'FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Application';
use constant UA_TRIO  => 'FileTransport PolycomRealPresenceTrio-Trio_8800-UA/7.2.2.1094 Type/Application';

sub db_file { Apache::Test::vars('dbd_file') }

# Run the CLI as the server's user when we are root, so that any -wal/-shm
# file it creates stays writable by the children.
sub sqlite_cmd {
    my @cmd = ('sqlite3', '-bail', '-cmd', '.timeout 5000', @_);
    if ($> == 0) {
        my $user = Apache::Test::vars('user') || 'nobody';
        my $group = Apache::Test::vars('group') || 'nogroup';
        unshift @cmd, 'runuser', '-u', $user, '-g', $group, '--';
    }
    return @cmd;
}

# The first value @a sql reads from SQLite file @a file (a vhost's own).
sub sqlite_value {
    my ($file, $sql) = @_;
    open my $fh, '-|', sqlite_cmd($file, $sql) or die "sqlite3: $!\n";
    local $/;
    my $out = <$fh>;
    close $fh or die "sqlite3 failed on: $sql\n";
    $out =~ s/\s+\z//;
    return $out;
}

sub pg_conninfo { Apache::Test::vars('pg_conninfo') }

sub my_conninfo { Apache::Test::vars('my_conninfo') }

sub backend { pg_conninfo() ? 'pgsql' : my_conninfo() ? 'mysql' : 'sqlite' }

# MariaDB through DBI (DBD::MariaDB): rows as hashes, text as characters,
# as the JSON of the other two clients gives them.
my $my_dbh;
sub my_dbh {
    return $my_dbh if $my_dbh && $my_dbh->ping;
    require DBI;
    my %c = map { split /=/, $_, 2 } split ' ', my_conninfo();
    $my_dbh = DBI->connect("DBI:MariaDB:database=$c{dbname};host=$c{host};"
                           . "port=$c{port}", $c{user}, $c{pass},
                           { RaiseError => 1, PrintError => 0,
                             AutoCommit => 1 });
    $my_dbh->do("SET NAMES utf8mb4 COLLATE utf8mb4_bin");
    return $my_dbh;
}

sub psql_cmd {
    my ($bin) = reverse sort glob '/usr/lib/postgresql/*/bin';
    return ("$bin/psql", '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
            '-d', pg_conninfo(), @_);
}

sub db_exec {
    my ($sql) = @_;
    if (backend() eq 'mysql') {
        # The CLIs take the SQL as UTF-8 bytes; DBI wants characters.
        my $text = utf8::is_utf8($sql) ? $sql : Encode::decode('UTF-8', $sql);
        eval { my_dbh()->do($text); 1 }
            or die "mysql failed on: $sql ($@)\n";
        return;
    }
    my @cmd = backend() eq 'pgsql' ? psql_cmd('-c', $sql)
                                   : sqlite_cmd(db_file(), $sql);
    system(@cmd) == 0 or die backend() . " failed on: $sql\n";
}

# Set one parameter at one scope, as an administrator would with SQL, in
# words every backend understands (no upsert: its syntax differs).
sub db_set_param {
    my ($scope, $key, $name, $value) = @_;
    (my $quoted = $value) =~ s/'/''/g;
    db_exec("DELETE FROM params WHERE scope = '$scope' AND scope_key = '$key'"
            . " AND name = '$name'");
    db_exec("INSERT INTO params (scope, scope_key, name, value)"
            . " VALUES ('$scope', '$key', '$name', '$quoted')");
}

# Take away what phone @a mac uploaded (files and logs), so that a test
# which stores or expects none starts from a phone that has none, whatever
# file of the run stored some before it.
sub clear_uploads {
    my ($mac) = @_;
    db_exec("DELETE FROM uploads WHERE mac = '$mac'");
    db_exec("DELETE FROM log_chunks WHERE mac = '$mac'");
}

# The id of the newest check-in so far (0 when there is none): a test
# that counts the check-ins its own requests made counts those above it,
# not the ones earlier files of the run left.
sub last_checkin_id {
    return db_value('SELECT coalesce(max(id), 0) AS n FROM checkins');
}

# Check-ins are written after the response has gone to the phone, so a
# test that reads what a request recorded waits until the check-in count
# holds still (batches take about 20 ms) and last_seen is up to date with
# them (100 looks, about 10 s at most): the check-in writer brings it up
# to date apart, 50 ms after its last batch or every second. A phone is behind
# while a check-in that names it (its own files, as the module's
# SEEN_FLUSH) is newer than its last_seen. Only this test file's
# check-ins count (made since it started, $^T), and of those only the ones
# since the last time it was up to date: an earlier file's phone that was
# deleted since, with its last_seen, would never be. Rows a test wrote
# itself with no writer to go over them are waited for 2 s, once.
my $settled_up_to = 0;

sub settled_sql {
    my ($after) = @_;
    my $since = $^T * 1000000;
    return "SELECT (SELECT count(*) FROM checkins) AS n,"
        . " (SELECT coalesce(max(id), 0) FROM checkins) AS top,"
        . " (SELECT count(*) FROM checkins c WHERE c.id > $after"
        . " AND c.time_us >= $since"
        . " AND length(c.mac) = 12 AND substr(c.file, 1, 12) = c.mac"
        . " AND substr(c.file, 13, 1) IN ('-', '.')"
        . " AND NOT EXISTS (SELECT 1 FROM last_seen s WHERE s.mac = c.mac"
        . " AND s.time_us >= c.time_us)) AS behind";
}

sub settle {
    my ($last, $still) = (-1, 0);
    for (1 .. 100) {
        # The database may be away on purpose (the outage test).
        my $now = eval { raw_rows(settled_sql($settled_up_to))->[0] };
        return if !defined $now;
        if ($now->{n} == $last && (!$now->{behind} || ++$still > 25)) {
            # POLYCOM_SETTLE_DEBUG=1: say where a test waited for nothing.
            print STDERR "# settle gave up on $now->{behind} check-ins"
                . " behind last_seen, at " . join(':', (caller(1))[1, 2]) . "\n"
                if $now->{behind} && $ENV{POLYCOM_SETTLE_DEBUG};
            $settled_up_to = $now->{top};
            return;
        }
        $still = 0 if $now->{n} != $last;
        $last = $now->{n};
        # Longer than the 20 ms in which a child writes its check-ins.
        select undef, undef, undef, 0.08;
    }
}

sub db_rows {
    my ($sql) = @_;
    settle();
    return raw_rows($sql);
}

sub raw_rows {
    my ($sql) = @_;
    if (backend() eq 'mysql') {
        my $rows = eval { my_dbh()->selectall_arrayref($sql, { Slice => {} }) };
        die "mysql failed on: $sql ($@)\n" unless $rows;
        return $rows;
    }
    my @cmd = backend() eq 'pgsql'
        ? psql_cmd('-c', "SELECT coalesce(json_agg(t), '[]') FROM ($sql) t")
        : sqlite_cmd('-json', db_file(), $sql);
    open my $fh, '-|', @cmd or die "database client: $!\n";
    # (the client's complaints go to stderr; a failure dies below)
    local $/;
    my $out = <$fh>;
    close $fh or die backend() . " failed on: $sql\n";
    return [] unless defined $out && $out =~ /\S/;
    return JSON::PP->new->utf8(1)->decode($out);
}

sub db_value {
    my ($sql) = @_;
    my $rows = db_rows($sql);
    return undef unless @$rows;
    my ($v) = values %{ $rows->[0] };
    return $v;
}

# Counters of /admin/metrics of the server at @a base (the test server or
# a node: children share them), each named, read in one response; -1 for
# one absent.
sub metric {
    my ($base, @names) = @_;
    my $req = HTTP::Request->new(GET => "$base/admin/metrics");
    $req->authorization_basic('admin', 'admin-secret');
    my $text = LWP::UserAgent->new(timeout => 10)->request($req)->content;
    my @values = map { $text =~ /^\Q$_\E (\d+)$/m ? $1 : -1 } @names;
    return wantarray ? @values : $values[0];
}

# The render cache's counters, as (hits, misses).
sub cache_counts {
    my ($base) = @_;
    return metric($base, 'polycom_cache_hits_total',
                  'polycom_cache_misses_total');
}

# The test server's error log, line by line (empty before it exists).
sub error_log_lines {
    open my $in, '<', Apache::Test::vars('t_logs') . '/error_log'
        or return ();
    return <$in>;
}

# The test server's parent process (for the signals of a restart).
sub server_pid {
    my $pid_file = Apache::Test::vars('t_pid_file');
    open my $pf, '<', $pid_file or die "$pid_file: $!";
    chomp(my $pid = <$pf>);
    return $pid;
}

# What the phone should end up with, computed here from the params table
# independently of the module: global < site < model < phone.
sub effective_params {
    my ($mac) = @_;
    my $phone = db_rows("SELECT model, site FROM phones WHERE mac = '$mac'")->[0]
        or die "no phone $mac\n";
    my %rank = (global => 0, site => 1, model => 2, phone => 3);
    my %key = (global => '', site => $phone->{site},
               model => $phone->{model}, phone => $mac);
    my (%value, %level);
    for my $row (@{ db_rows('SELECT scope, scope_key, name, value FROM params') }) {
        next unless $row->{scope_key} eq $key{ $row->{scope} };
        my $r = $rank{ $row->{scope} };
        next if exists $level{ $row->{name} } && $level{ $row->{name} } > $r;
        $level{ $row->{name} } = $r;
        $value{ $row->{name} } = $row->{value};
    }
    return \%value;
}

# What a settings file carries for those parameters (REFERENCE.md 3.3):
# each device.* value with its <name>.set="1" unless a layer set one, and
# device.set="1" once when there is any; a flag with no value is left out.
sub with_device_flags {
    my ($params) = @_;
    my %out = %$params;
    my @values = grep { /^device\./ && !/\.set$/ } keys %out;
    for my $name (grep { /^device\..*\.set$/ } keys %out) {
        (my $of = $name) =~ s/\.set$//;
        delete $out{$name} unless $name eq 'device.set' ? @values
                                  : grep { $_ eq $of } @values;
    }
    $out{"$_.set"} //= '1' for @values;
    $out{'device.set'} //= '1' if @values;
    return \%out;
}

sub parse_xml {
    my ($body) = @_;
    return eval { XML::LibXML->load_xml(string => $body) };
}

# Every attribute of every element under the root: the parameters of a
# configuration file, first occurrence wins (as on the phone).
sub config_attrs {
    my ($doc) = @_;
    my %attrs;
    for my $node ($doc->documentElement->findnodes('descendant-or-self::*')) {
        for my $a ($node->attributes) {
            next unless $a->isa('XML::LibXML::Attr');
            $attrs{ $a->nodeName } = $a->value unless exists $attrs{ $a->nodeName };
        }
    }
    return \%attrs;
}

sub demo_secrets {
    return map { $_->{value} }
        @{ db_rows("SELECT value FROM params WHERE name LIKE '%password%'") };
}

# ../shared, beside the checkout, holds the reference data CI provides.
sub shared_dir {
    my $top = Apache::Test::vars('top_dir');
    my $dir = "$top/../shared";
    return -d $dir ? $dir : undef;
}

1;
