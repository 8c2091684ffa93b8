# The C unit tests of src/store.c's per-connection settings (TAP), against
# a real SQLite file, run in the same harness from the top of the tree
# (the test loads sql/sqlite.sql).
use strict;
use FindBin;
my $bin = "$FindBin::Bin/unit/test_store";
-x $bin or die "$bin is not built: run 'make'\n";
chdir "$FindBin::Bin/.." or die "cannot chdir: $!\n";
exec $bin or die "cannot run $bin: $!\n";
