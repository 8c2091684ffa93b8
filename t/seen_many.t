# last_seen for many phones at once, as a site's phones ask after a
# power cut: the check-in writer upserts what it gathered a hundred
# phones a statement, then ten, then one (statements generated for each
# database's dialect). In every pass of make test, so that PostgreSQL
# and MariaDB run those statements too, not only SQLite: each phone of
# 150 is last seen with its own file, and a second round moves every row
# forward without losing the settings fetch the first round recorded.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Time::HiRes qw(sleep time);
use lib 't/lib';
use PolycomTest;

plan tests => 8;

my $prefix = '0004f2d7';
my @macs = map { sprintf '%s%04x', $prefix, $_ } 0 .. 149;
sub cleanup {
    for my $table ('last_seen', 'checkins') {
        db_exec("DELETE FROM $table WHERE mac LIKE '$prefix%'");
    }
    db_exec("DELETE FROM phones WHERE mac LIKE '$prefix%'");
}
cleanup();
db_exec('INSERT INTO phones (mac, model) VALUES '
        . join(', ', map { "('$_', 'VVX411')" } @macs));

# Every phone once, without a pause: the writer gathers them all before
# it is idle, and flushes them together.
sub round {
    my ($file) = @_;
    my $from = int(time * 1e6);
    my @codes = map {
        GET("/prov/$_$file", 'User-Agent' => UA_VVX)->code
    } @macs;
    return ($from, scalar grep { $_ == 200 } @codes);
}
sub seen {
    my ($from) = @_;
    my $rows;
    for (1 .. 100) {
        $rows = PolycomTest::raw_rows('SELECT mac, time_us, file, status, settings_etag,'
                         . ' settings_us FROM last_seen'
                         . " WHERE mac LIKE '$prefix%' AND time_us >= $from");
        last if @$rows >= @macs;
        sleep 0.1;
    }
    return { map { $_->{mac} => $_ } @$rows };
}

my ($first, $served) = round('-settings.cfg');
is($served, 150, 'each of 150 phones gets its settings');
my $seen = seen($first);
is(scalar(keys %$seen), 150, 'each is last seen since')
    or diag(scalar(keys %$seen) . ' of 150');
is(scalar(grep { ($seen->{$_}{file} // '') eq "$_-settings.cfg"
                 && ($seen->{$_}{status} // 0) == 200 } @macs), 150,
   'as asking for its own settings file, answered 200');
is(scalar(grep { ($seen->{$_}{settings_us} // 0) >= $first
                 && ($seen->{$_}{settings_etag} // '') ne '' } @macs), 150,
   'with that fetch recorded as its newest settings (time and ETag)');

my ($second, $again) = round('.cfg');
is($again, 150, 'then each gets its master config');
my $moved = seen($second);
is(scalar(keys %$moved), 150, 'and every row moves forward')
    or diag(scalar(keys %$moved) . ' of 150');
is(scalar(grep { ($moved->{$_}{file} // '') eq "$_.cfg" } @macs), 150,
   'to the master config');
is(scalar(grep { $moved->{$_} && $seen->{$_}
                 && $moved->{$_}{settings_us} == $seen->{$_}{settings_us}
                 && $moved->{$_}{settings_etag}
                    eq $seen->{$_}{settings_etag} } @macs), 150,
   'keeping the settings fetch of the first round');

cleanup();
