# Layering global < site < model < phone: each level overrides the one
# below, and removing it exposes the lower one again, on the very next
# request after a change made straight in the database.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use lib 't/lib';
use PolycomTest;

plan tests => 9;

my $mac = MAC_VVX;        # site hq, model VVX411
my $name = 'up.screenSaver.wait';

sub served {
    my $doc = parse_xml(GET("/prov/$mac-settings.cfg")->content);
    return $doc ? config_attrs($doc)->{$name} : 'unparsable';
}
sub set_at {
    my ($scope, $key, $value) = @_;
    db_set_param($scope, $key, $name, $value);
}
sub remove_at {
    my ($scope, $key) = @_;
    db_exec("DELETE FROM params WHERE scope = '$scope' AND scope_key = '$key'"
            . " AND name = '$name'");
}

is(served(), undef, 'not set anywhere: absent');
set_at('global', '', '60');
is(served(), '60', 'global value');
set_at('site', 'hq', '120');
is(served(), '120', 'site overrides global');
set_at('site', 'branch', '999');
is(served(), '120', 'another site does not apply');
set_at('model', 'VVX411', '180');
is(served(), '180', 'model overrides site');
set_at('phone', $mac, '240');
is(served(), '240', 'phone overrides model');
remove_at('phone', $mac);
is(served(), '180', 'phone value removed: model shows again');
remove_at('model', 'VVX411');
remove_at('site', 'hq');
is(served(), '60', 'model and site removed: global shows again');
remove_at('global', '');
remove_at('site', 'branch');
is(served(), undef, 'all removed: absent again');
