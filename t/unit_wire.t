# The C unit tests of src/wire.c (TAP), run in the same harness.
use strict;
use FindBin;
my $bin = "$FindBin::Bin/unit/test_wire";
-x $bin or die "$bin is not built: run 'make'\n";
exec $bin or die "cannot run $bin: $!\n";
