# Findings of the adversarial review (issue 21, point 7), each with the
# behaviour a user would see if it came back.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET PUT);
use IO::Socket::INET;
use lib 't/lib';
use PolycomTest;

plan tests => 10;

my $vvx = MAC_VVX;
my @secrets = grep { length } demo_secrets();

# 1. A subrequest is not the admin's preview: an SSI page anyone may fetch
#    includes the VVX's settings from /secure (Require polycom-phone).
my $page = GET('/ssi/include.shtml');
is($page->code, 200, 'the SSI page itself is served');
like($page->content, qr/before.*after/s, 'with its own text');
ok(@secrets && !grep({ index($page->content, $_) >= 0 } @secrets),
   'but none of the phone\'s secrets comes through its include')
    or diag($page->content);
my $own = GET("/secure/$vvx-settings.cfg");
is($own->code, 401, 'the same file asked for directly wants credentials');

# 2. A default file's check-in takes its MAC from the User-Agent's (SN:),
#    which anyone may write: it must not speak for that phone.
GET("/prov/$vvx.cfg", 'User-Agent' => UA_VVX);
settle();
is(db_value("SELECT file FROM last_seen WHERE mac = '$vvx'"), "$vvx.cfg",
   'the phone\'s own request sets its last_seen');
(my $forged = UA_SPIP) =~ s{$}{ (SN:$vvx)};
GET('/secure/000000000000.cfg', 'User-Agent' => $forged);
settle();
is(db_value("SELECT count(*) FROM checkins WHERE file = '000000000000.cfg'"
            . " AND mac = '$vvx'") > 0 ? 'kept' : 'lost', 'kept',
   'an anonymous default request claiming the VVX is kept in the history');
is(join(' ', map { db_value("SELECT $_ FROM last_seen WHERE mac = '$vvx'") }
          qw(file model)),
   "$vvx.cfg VVX411", 'but does not become the VVX\'s last_seen');

# 3. The Location of a created upload is the path as a URL, escaped: a
#    "?" in the decoded path would otherwise start a query string.
db_exec("DELETE FROM uploads WHERE mac = '$vvx' AND kind = 'directory'");
my $xml = qq{<?xml version="1.0" encoding="UTF-8"?>\n<directory><item_list/></directory>\n};
my $r = PUT("/prov/a%3Fb/$vvx-directory.xml", 'User-Agent' => UA_VVX,
         content => $xml);
is($r->code . ' ' . ($r->header('Location') // ''),
   "201 /prov/a%3fb/$vvx-directory.xml",
   'created, and the Location names the same file');
db_exec("DELETE FROM uploads WHERE mac = '$vvx' AND kind = 'directory'");

# 4. A body is read into a buffer of its Content-Length, or, chunked, one
#    that doubles from 8K up to the limit (it used to be the location's
#    whole limit for any body): a chunked body of 100K through many
#    doublings comes back byte for byte.
my $items = join '', map { "<item><fn>Name $_</fn><ct>$_</ct></item>" } 1 .. 2500;
my $large = qq{<?xml version="1.0" encoding="UTF-8"?>\n<directory><item_list>$items</item_list></directory>\n};
my $hostport = Apache::TestRequest::hostport();
my $sock = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 20)
    or die "connect $hostport: $!";
my $chunks = '';
for (my $at = 0; $at < length $large; $at += 3000) {
    my $piece = substr($large, $at, 3000);
    $chunks .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
}
print $sock "PUT /prov/large/$vvx-directory.xml HTTP/1.1\r\nHost: $hostport\r\n"
    . 'User-Agent: ' . UA_VVX . "\r\nTransfer-Encoding: chunked\r\n"
    . "Connection: close\r\n\r\n$chunks" . "0\r\n\r\n";
my $answer = do { local $/; <$sock> } // '';
like($answer, qr{^HTTP/1\.1 201}, 'a chunked body of ' . length($large)
     . ' bytes is stored');
ok(GET("/prov/large/$vvx-directory.xml")->content eq $large,
   'and served back byte for byte');
db_exec("DELETE FROM uploads WHERE mac = '$vvx' AND kind = 'directory'");
