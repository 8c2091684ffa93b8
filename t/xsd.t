# The per-phone configuration of UCS phones validates against Polycom's
# schema, with every parameter in the element that checks its value.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use lib 't/lib';
use PolycomTest;

plan tests => 3;

my $shared = shared_dir();
my $xsd = $shared ? "$shared/polycom/polycomConfig-4.0.15.xsd" : undef;
SKIP: {
    skip "../shared/polycom/polycomConfig-4.0.15.xsd is not beside the "
         . "checkout: the schema check did NOT run", 3
        unless $xsd && -f $xsd;
    my $schema = XML::LibXML::Schema->new(location => $xsd);
    for my $file (MAC_VVX . '-settings.cfg', MAC_TRIO . '-settings.cfg',
                  '000000000000-settings.cfg') {
        my $doc = parse_xml(GET("/prov/$file")->content);
        my $ok = $doc && eval { $schema->validate($doc); 1 };
        ok($ok, "$file validates against polycomConfig.xsd")
            or diag($@ || 'not well-formed');
    }
}
