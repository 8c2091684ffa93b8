# make bench's judgement of its own figures (bench/bench.py), on made-up
# results: no wrk and no server run here, so that a wrong verdict is caught
# by the suite instead of by someone reading a 27-minute bench. p99 is
# judged on the runs paced at about half the static file's rate, not on
# those as fast as the server answers; the pause asks at that rate over
# the bench's connections; the module's errors in the paced runs fail the
# no-errors check; with BENCH_PACED=0 p99 is judged unpaced.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use FindBin;

my $top = "$FindBin::Bin/..";
plan skip_all => 'python3 is not installed'
    unless grep { -x "$_/python3" } split /:/, $ENV{PATH};

# The verdict lines print_targets gives for the results a Python snippet
# builds, with environment %env.
sub judged {
    my ($results, %env) = @_;
    local @ENV{keys %env} = values %env;
    my $program = <<"EOF";
import io, contextlib, sys
sys.path.insert(0, '$top/bench')
import bench as B
def side(rps, p99, errors=0):
    return {'rps': rps, 'cpu': 50, 'p50': 500, 'p99': p99, 'errors': errors}
def target(p99_ratio, paced_p99_ratio=None, paced_errors=0):
    s = {'static': side(10000, 10000), 'module': side(10000, 10000 * p99_ratio),
         'ratio': 1.0, 'p99_ratio': p99_ratio, 'repeated': 0.0}
    if paced_p99_ratio is not None:
        s['paced'] = {'static': side(5000, 3000),
                      'module': side(5000, 3000 * paced_p99_ratio, paced_errors),
                      'ratio': 1.0, 'p99_ratio': paced_p99_ratio,
                      'repeated': 0.0, 'pace': 2.0}
    return s
def fleet(**kw):
    out = {close: {t[0]: target(**kw) for t in B.TARGETS} for close in (False, True)}
    out['crashes'] = []
    return out
out = io.StringIO()
with contextlib.redirect_stdout(out):
    B.print_targets({1000: $results})
lines = out.getvalue().splitlines()
for i, line in enumerate(lines):
    if line.startswith(('p99', 'no errors')):
        print(line)
        print(lines[i + 2])   # the master's row
print(lines[-1])
print('pace %.3f' % B.pace_for(20000, False))
EOF
    open my $fh, '-|', 'python3', '-c', $program or die "python3: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    return $out;
}

my $out = judged('fleet(p99_ratio=5.0, paced_p99_ratio=1.2)');
like($out, qr/^p99 <= 1\.5x the static file's, paced/m,
     'p99 is judged on the paced runs');
like($out, qr/^  master <mac>\.cfg\s+1\.20x met/m,
     'a paced p99 of 1.2x is met although the unpaced one is 5x');
like($out, qr/^\d+ met, 0 not met$/m, 'and nothing is not met');

$out = judged('fleet(p99_ratio=1.0, paced_p99_ratio=2.0)');
like($out, qr/^  master <mac>\.cfg\s+2\.00x NOT MET/m,
     'a paced p99 of 2x is not met although the unpaced one is 1x');

$out = judged('fleet(p99_ratio=1.0, paced_p99_ratio=1.0, paced_errors=3)');
like($out, qr/^no errors \(module, paced runs included\)/m,
     'the no-errors check counts the paced runs');
like($out, qr/^  master <mac>\.cfg\s+3 NOT MET/m,
     'errors of the module in the paced runs fail it');

# 32 connections asking at half of 20,000 a second: a turn of 3.2 ms, of
# which about 1 ms is the answer and wrk's timer slack.
like($out, qr/^pace 2\.200$/m, 'the pause asks at half the static file\'s rate');

$out = judged('fleet(p99_ratio=2.0)', BENCH_PACED => '0');
like($out, qr/^p99 <= 1\.5x the static file's$/m,
     'with BENCH_PACED=0 there are no paced runs');
like($out, qr/^  master <mac>\.cfg\s+2\.00x NOT MET/m,
     'and p99 is judged on the runs as fast as the server answers');

done_testing();
