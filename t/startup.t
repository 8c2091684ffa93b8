# What the module says once at start-up about a configuration that works
# but is not what a site wants: a <Location> that serves phones' own files
# without Require polycom-phone (PC00151), and a check-in writer whose
# socket the children's user cannot reach (PC00150; the children write
# their check-ins themselves, and no child complains of it).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempdir);
use LWP::UserAgent;
use Time::HiRes qw(sleep);
use lib 't/lib';
use PolycomTest;
use PolycomOwnServer;

plan tests => 15;

my $vars = Apache::Test::config()->{vars};

sub lines_of {
    my ($file, $re) = @_;
    open my $log, '<', $file or return ();
    return grep { /$re/ } <$log>;
}

# The test server: its generations, and what each said.
my $log = "$vars->{t_logs}/error_log";
my $generations = () = lines_of($log, qr/AH00163:|resuming normal operations/);
ok($generations >= 1, 'the test server started') or diag("no start in $log");
my @open = lines_of($log, qr/PC00151/);
is(scalar(grep { /<Location \/prov> / } @open), $generations,
   'the open /prov is named once per start (PC00151)');
is(scalar(grep { /<Location \/guarded> / } @open), $generations,
   'so is the open /guarded');
is(scalar(grep { /<Location \/(secure|secure-basic|tls)> / } @open), 0,
   'locations with Require polycom-phone are not named');
is(scalar(grep { /<Location \/prov\/\w/ } @open), 0,
   'nor the locations below /prov that only inherit its settings');
is(scalar(lines_of($log, qr/PC00150|Permission denied: PC00032/)), 0,
   "the test server's children reach the writer's socket, wherever the "
   . 'checkout lies');

# A server of its own whose runtime directory the children's user cannot
# search (mode 0700, root's): only meaningful when started as root, as
# only then do the children run as another user.
my $dir = tempdir('mod_polycom-startup-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my $run = "$dir/run";
mkdir $run, 0700;
my $db = $vars->{dbd_file};
my $user = $vars->{user} || 'nobody';
my $mac = MAC_VVX;
my $server = PolycomOwnServer->new(dir => $dir, db => $db, offset => 150,
                                   run => $run);
my $port = $server->port;
my $mine = "SELECT count(*) FROM checkins WHERE file = '$mac.cfg'";
my $before = PolycomTest::sqlite_value($db, $mine);
ok($server->start, 'a server with an unreachable runtime directory starts');
my $up = $server->listening;
my $ua = LWP::UserAgent->new(timeout => 10);
my @codes = map {
    $ua->get("http://127.0.0.1:$port/p/$mac.cfg", 'User-Agent' => UA_VVX)->code
} 1 .. 3;
is("@codes", '200 200 200', "the phone gets its master from it");
sleep 1;
$server->stop;
my $errors = $server->error_log;
is(scalar(lines_of($errors, qr/PC00151.*<Location \/p> /)), 1,
   'its open location is named once, not also in the first reading of '
   . 'the configuration');
if ($> == 0) {
    my @said = lines_of($errors, qr/PC00150/);
    is(scalar @said, 1, 'the unreachable socket is said once, at start-up');
    like($said[0] // '', qr/\Q$run\E.*children's user \Q$user\E .*search \Q$run\E/,
         'naming the socket, the user and the directory it cannot search');
    is(scalar(lines_of($errors, qr/PC00037/)), 0,
       'no writer is started for children that could not reach it');
}
else {
    is(scalar(lines_of($errors, qr/PC00150/)), 0,
       'not root: the children are the parent\'s user and reach the socket');
    is(scalar(lines_of($errors, qr/PC00037/)), 1,
       'so the writer starts');
    is(scalar(lines_of($errors, qr/PC00048/)), 0,
       'and listens where it was told to');
}
is(scalar(lines_of($errors, qr/PC00032/)), 0,
   'no child finds out at its first check-in');
is(PolycomTest::sqlite_value($db, $mine) - $before, 3,
   'and no check-in is lost: the children wrote them');
ok($up, 'it listened') or diag(join '', lines_of($errors, qr/./));
