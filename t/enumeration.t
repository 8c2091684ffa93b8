# Enumeration defence: an address that asks for too many unknown MACs gets
# 429 with Retry-After for a cool-down, for every phone except those last
# seen at that address, so it learns nothing; an office behind one NAT keeps
# its own phones working.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

plan tests => 10;

# Where each phone last checked in from: its row in last_seen, which the
# module writes with each check-in (here as if it had been elsewhere).
my $now = int(time() * 1_000_000);
settle();
for ([MAC_VVX, '127.0.0.1'], [MAC_SPIP, '192.0.2.9']) {
    my ($mac, $ip) = @$_;
    db_exec("DELETE FROM last_seen WHERE mac = '$mac'");
    db_exec("INSERT INTO last_seen (time_us, mac, ip, file, status)"
            . " VALUES ($now, '$mac', '$ip', '$mac.cfg', 200)");
}

t_start_error_log_watch();
my @codes = map { GET(sprintf('/guarded/0004f2ee%04d.cfg', $_))->code } 1 .. 6;
is_deeply(\@codes, [(404) x 6], 'the first unknown MACs: 404');
my $res = GET('/guarded/0004f2ee0099.cfg');
is($res->code, 429, 'past the limit: 429');
like($res->header('Retry-After') // '', qr/^\d+$/, 'with Retry-After');
ok($res->header('Retry-After') <= 21, 'for the cool-down (20 s)');
is(GET('/guarded/' . MAC_VVX . '.cfg')->code, 200,
   'a phone last seen at this address still gets its master');
is(GET('/guarded/' . MAC_VVX . '-settings.cfg')->code, 200, 'and its settings');
is(GET('/guarded/' . MAC_SPIP . '.cfg')->code, 429,
   'a known phone last seen elsewhere: 429 too (no oracle)');
is(GET('/guarded/0004f2ee0100.cfg')->code, 429, 'still blocked');
my @log = grep { /PC00026:/ } t_finish_error_log_watch();
is(scalar @log, 1, 'one tagged line when the block starts');
is(db_value("SELECT count(*) FROM discovered WHERE mac IN ('0004f2ee0099', '0004f2ee0100')"),
   0, 'blocked requests are not recorded as discovered');
