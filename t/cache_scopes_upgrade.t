# The module on a database of schema 3 (no scope_revisions: the package
# upgraded, the database not yet), then upgraded with polycom-dbupgrade
# while httpd runs, as an admin does. Before: every file is served for its
# very revision only, correct and without an error a request. After: the
# files outlive other phones' edits, and an edit made in between (before
# the triggers recorded scopes) is never missed. A node of its own on an
# SQLite file made from t/upgrade's schema 3, in every pass of make test.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use File::Basename qw(dirname);
use HTTP::Request;
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;
use PolycomNode;

plan tests => 12;

my $top = Apache::Test::vars('top_dir');
my $file = dirname(Apache::Test::vars('dbd_initsql_params'))
           . '/scopes_v3.db';
my ($a, $b) = ('0004f2cd0001', '0004f2cd0002');
unlink $file, "$file-wal", "$file-shm";

sub sql {
    my ($sql) = @_;
    open my $fh, '-|', PolycomTest::sqlite_cmd($file, $sql)
        or die "sqlite3: $!\n";
    local $/;
    my $out = <$fh>;
    close $fh or die "sqlite3 failed on: $sql\n";
    $out =~ s/\s+\z//;
    return $out;
}
sql(".read $top/t/upgrade/sqlite-3b8064e.sql");
sql("INSERT INTO phones (mac, model, site, label) VALUES"
    . " ('$a', 'VVX411', 'hq', 'Upgrade A'), ('$b', 'VVX411', 'hq', 'Upgrade B')");
sub set_param {
    my ($scope, $key, $value) = @_;
    sql("INSERT INTO params (scope, scope_key, name, value) VALUES"
        . " ('$scope', '$key', 'reg.1.label', '$value') ON CONFLICT"
        . " (scope, scope_key, name) DO UPDATE SET value = excluded.value");
}

my $node = PolycomNode->new;
$node->start(extra => "DBDriver sqlite3\nDBDParams $file\n"
                      . "DBDInitSQL \"PRAGMA busy_timeout=5000; PRAGMA synchronous=NORMAL\"\n"
                      . "PolycomCacheSize 1M\nPolycomSharedCache Off\n");
my $base = 'http://127.0.0.1:' . $node->port;
my $ua = LWP::UserAgent->new(keep_alive => 1, agent => UA_VVX, timeout => 10);
my $log = Apache::Test::vars('t_logs') . '/node2_error_log';

sub counts { cache_counts($base) }
# [hits, misses] and the body of phone A's settings asked once after @a edit.
sub after {
    my ($edit) = @_;
    $edit->();
    my @before = counts();
    my $res = $ua->get("$base/prov/$a-settings.cfg");
    my @after = counts();
    return ([$after[0] - $before[0], $after[1] - $before[1]],
            $res->code == 200 ? $res->content : 'status ' . $res->code);
}
sub log_size { -s $log || 0 }
sub log_since {
    my ($from) = @_;
    open my $fh, '<', $log or return ();
    seek $fh, $from, 0;
    return grep { /\[polycom:(warn|error|crit)\]/ } <$fh>;
}

# Schema 3.
my ($d, $body) = after(sub { });
like($body, qr/polycomConfig/, 'schema 3: served');
($d) = after(sub { });
is_deeply($d, [1, 0], 'schema 3: asked again, a hit');
my $mark = log_size();
($d, $body) = after(sub { set_param('phone', $b, 'B at schema 3') });
is_deeply($d, [0, 1],
          'schema 3: after another phone\'s edit, rendered anew (no record '
          . 'of what moved: its very revision only)');
($d, $body) = after(sub { set_param('phone', $a, 'A at schema 3') });
like($body, qr/A at schema 3/, 'schema 3: its own edit is in the next response');
($d) = after(sub { set_param('phone', $b, 'B again') });
is_deeply([log_since($mark)], [],
          'schema 3: no warning or error a request for the missing table');

# Upgraded while httpd runs.
my @upgrade = ('tools/polycom-dbupgrade', 'sqlite3', $file);
unshift @upgrade, 'runuser', '-u', Apache::Test::vars('user') || 'nobody',
    '-g', Apache::Test::vars('group') || 'nogroup', '--' if $> == 0;
is(system(@upgrade), 0, 'polycom-dbupgrade brings it to version 4');
is(sql('SELECT version FROM schema_version'), '4', 'the file says version 4');

# Made before the first request that reads the table: the record must not
# count on it being in any row.
set_param('phone', $a, 'A between');
($d, $body) = after(sub { });
like($body, qr/A between/,
     'an edit of A made between the upgrade and the next request is served');
# SQLite's schema changed under the pooled connections: they prepare
# again (PC00038) and, after the next change, read what moved.
($d) = after(sub { set_param('phone', $b, 'B after') });
($d) = after(sub { });
is($d->[0], 1, 'A asked again: a hit');
($d, $body) = after(sub { set_param('phone', $b, 'B after, again') });
is_deeply($d, [1, 0], 'upgraded: another phone\'s edit leaves A cached');
like($body, qr/A between/, 'with A\'s newest value');
($d, $body) = after(sub { set_param('phone', $a, 'A after') });
ok($d->[1] == 1 && $body =~ /A after/,
   'upgraded: A\'s own edit is rendered anew, in the next response');

$node->stop;
unlink $file, "$file-wal", "$file-shm";
