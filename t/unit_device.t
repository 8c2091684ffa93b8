# The C unit tests of src/device.c (TAP), run in the same harness.
use strict;
use FindBin;
my $bin = "$FindBin::Bin/unit/test_device";
-x $bin or die "$bin is not built: run 'make'\n";
exec $bin or die "cannot run $bin: $!\n";
