# Findings of the adversarial review (issue 21, point 7), each with the
# behaviour a user would see if it came back.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET PUT);
use lib 't/lib';
use PolycomTest;

plan tests => 8;

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
