# Every fuzz target over its committed corpus and every crash found so far:
# a crash once found must never come back.
use strict;
use warnings FATAL => 'all';
use FindBin;
use Test::More;

my @targets = qw(name useragent render sip admin_json upload wire import_csv);
plan tests => scalar @targets;
for my $t (@targets) {
    my $bin = "$FindBin::Bin/fuzz/run_$t";
    my @dirs = grep { -d } map { "$FindBin::Bin/fuzz/$_/$t" } qw(corpus crashes);
    my $out = -x $bin ? `$bin @dirs 2>&1` : "$bin is not built";
    my $runs = () = $out =~ /^ok /mg;
    ok($? == 0 && $runs > 0, "$t: $runs inputs, no crash") or diag($out);
}
