# Directive merging: a child location and a virtual host override what
# they set and inherit the rest; Off below On switches the namespace off.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use lib 't/lib';
use PolycomTest;

plan tests => 12;

sub master {
    my ($url) = @_;
    my $res = GET $url;
    my $doc = parse_xml($res->content) or return {};
    my %a = (code => $res->code);
    my $app = $doc->documentElement;
    $a{app} = $app->getAttribute('APP_FILE_PATH');
    for my $child ($app->childNodes) {
        next unless $child->nodeType == 1;
        (my $model = $child->nodeName) =~ s/^APPLICATION_//;
        $a{$model} = $child->getAttribute("APP_FILE_PATH_$model");
    }
    return \%a;
}
my $mac = MAC_SPIP;

my $m = master("/prov/$mac.cfg");
is($m->{code}, 200, 'parent location serves');
is($m->{app}, 'sip.ld', 'parent: default APP_FILE_PATH');
is($m->{SPIP330}, 'sip_335.ld', 'parent: SPIP330 pinned to sip_335.ld');
is($m->{SSIP4000}, 'sip_318.ld', 'parent: SSIP4000 pinned to sip_318.ld');

my $before = db_value('SELECT count(*) FROM checkins');
$m = master("/prov/legacy/$mac.cfg");
is($m->{app}, '3.2.7/sip.ld', 'child overrides the default image');
is($m->{SPIP330}, '3.3.5/sip_335.ld', 'child overrides one model pin');
is($m->{SSIP4000}, 'sip_318.ld', 'child inherits the other pin');
is(db_value('SELECT count(*) FROM checkins'), $before,
   'child with PolycomCheckins Off records nothing');

is(GET("/prov/static/$mac.cfg")->code, 404,
   'PolycomProvisioning Off below On: not served');

Apache::TestRequest::module('vhost_firmware');
$m = master("/prov/$mac.cfg");
is($m->{code}, 200, 'virtual host serves through the inherited location');
is($m->{app}, 'vhost/sip.ld', 'virtual host overrides the default image');
is($m->{SPIP330}, 'sip_335.ld', 'and inherits the main server pins');
Apache::TestRequest::module('default');
