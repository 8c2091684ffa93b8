# The C unit tests of the admin API's routing (src/admin.c) and CSV import
# parsing (TAP), run in the same harness.
use strict;
use FindBin;
my $bin = "$FindBin::Bin/unit/test_admin";
-x $bin or die "$bin is not built: run 'make'\n";
exec $bin or die "cannot run $bin: $!\n";
