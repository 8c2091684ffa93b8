# The C unit tests: every t/unit/test_*.c, built by `make build` into
# t/unit/test_*, runs here as a subtest whose results are the binary's own
# TAP. A binary that is missing, bails out, dies, exits non-zero or ends
# without a plan that matches what it ran fails its subtest: nothing here
# is ever skipped. A new test_*.c needs no wrapper: the Makefile builds it
# and this file runs it.
use strict;
use warnings FATAL => 'all';
use File::Basename qw(basename);
use FindBin;
use TAP::Parser;
use Test::More;

# From the top of the tree: test_store reads sql/sqlite.sql.
chdir "$FindBin::Bin/.." or die "cannot chdir to the top of the tree: $!\n";

my @sources = sort glob 't/unit/test_*.c';
plan tests => 1 + @sources;
ok(@sources, 'there are C unit tests (t/unit/test_*.c)');

for my $source (@sources) {
    (my $bin = $source) =~ s/\.c\z//;
    subtest basename($bin) => sub {
        if (!-x $bin) {
            fail("$bin is built (make build)");
            done_testing();
            return;
        }
        my $parser = TAP::Parser->new({ exec => ["./$bin"] });
        my $ran = 0;
        while (my $result = $parser->next) {
            if ($result->is_test) {
                $ran++;
                (my $name = $result->description) =~ s/^-\s*//;
                ok($result->is_ok, $name);
            }
            elsif ($result->is_bailout) {
                fail("$bin bailed out: " . $result->explanation);
            }
            elsif ($result->is_comment) {
                diag($result->comment);
            }
            elsif ($result->is_unknown) {
                diag("$bin: " . $result->as_string);
            }
        }
        ok($ran && $parser->is_good_plan,
           "$bin ran $ran tests, as many as its plan says")
            or diag('plan: ' . ($parser->plan || 'none'));
        is($parser->wait, 0, "$bin exits 0");
        done_testing();
    };
}
