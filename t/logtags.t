# Every log line's tag names one event: a PCLOGNO number appears once in
# the sources, and the log-tag table in docs/directives.md lists each one
# (and no number the sources no longer use), so an admin who greps the
# error log for a tag finds the one place that wrote it and what it means.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use FindBin;
use File::Find;

my $top = "$FindBin::Bin/..";
my %where;
sub scan {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    while (my $line = <$fh>) {
        push @{ $where{$1} }, "$file:$." while $line =~ /PCLOGNO\((\d+)\)/g;
    }
}
scan($_) for glob "$top/mod_polycom*.c";
find({ no_chdir => 1, wanted => sub { scan($_) if /\.[ch]$/ && -f $_ } },
     grep { -d } "$top/src", "$top/include");

open my $doc, '<', "$top/docs/directives.md" or die "docs/directives.md: $!";
my %documented;
while (my $line = <$doc>) {
    $documented{$1}++ if $line =~ /^\|\s*PC(\d{5})\s*\|/;
}

plan tests => 4;

ok(scalar(keys %where) >= 40, 'the sources tag their log lines ('
   . scalar(keys %where) . ' tags found)');
my @twice = grep { @{ $where{$_} } > 1 } sort keys %where;
is_deeply(\@twice, [], 'no tag is used for two events')
    or diag(map { "PC$_: @{ $where{$_} }\n" } @twice);
my @undocumented = grep { !$documented{$_} } sort keys %where;
is_deeply(\@undocumented, [], 'every tag is in the log-tag table of '
          . 'docs/directives.md')
    or diag(map { "PC$_ at @{ $where{$_} }\n" } @undocumented);
my @stale = grep { !$where{$_} || $documented{$_} > 1 } sort keys %documented;
is_deeply(\@stale, [], 'the table lists each tag once, and only tags the '
          . 'sources use');
