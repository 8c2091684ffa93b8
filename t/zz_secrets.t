# Runs last: after every other test of the run, no secret (SIP and
# provisioning passwords the suite stored, the admin's credentials, in clear
# or as the Basic header carries them) appears anywhere in the logs.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use MIME::Base64 qw(encode_base64);
use lib 't/lib';
use PolycomTest;

my @secrets = (
    # stored now by the demo data and the tests
    (map { $_->{value} } @{ db_rows("SELECT value FROM params WHERE name LIKE '%assword%'") }),
    (map { $_->{prov_password} } @{ db_rows("SELECT prov_password FROM reprovision WHERE prov_password <> ''") }),
    # sent by the tests at some point, some deleted since
    qw(demo-secret-1001 demo-secret-1002 demo-secret-1003 demo-admin-4567
       line-pw-1001 prov-pass-1 prov-pass fleet-pass line-secret pw-3001
       pw-3002 admin-secret viewer-secret vvx-prov-pass-1 vvx-prov-pass-2
       spip-prov-pass vvx-tls-pass xpl41n-line-pw h1st-line-pw-one
       h1st-line-pw-two xpl41n-prov-pw),
);
my %seen;
@secrets = grep { length($_) >= 6 && !$seen{$_}++ } @secrets;
push @secrets, map { encode_base64($_, '') } 'admin:admin-secret', 'viewer:viewer-secret';

my $logs = Apache::Test::vars('t_logs');
my @files = grep { -f $_ && !/\.png$/ } glob "$logs/*";
plan tests => 2;

ok(@files >= 3 && @secrets >= 10, scalar(@files) . ' log files and '
   . scalar(@secrets) . ' secrets to look for');
my @leaks;
for my $file (@files) {
    open my $fh, '<', $file or die "$file: $!";
    my $text = do { local $/; <$fh> };
    for my $s (@secrets) {
        push @leaks, "$file: " . substr($s, 0, 3) . '...' if index($text, $s) >= 0;
    }
}
is_deeply(\@leaks, [], 'no secret in any log line');
