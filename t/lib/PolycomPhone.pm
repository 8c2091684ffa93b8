package PolycomPhone;
# A simulated Polycom phone booting against the test server, as REFERENCE.md
# 1-3 describes one: it asks for <mac>.cfg (on 404, 000000000000.cfg, as a
# phone the server does not know), then each file of CONFIG_FILES in order.
# A parameter's first file wins. A device.* value is applied only when the
# same file carries device.set="1" and the value's own <name>.set="1"
# (REFERENCE.md 3.3); otherwise the phone reads it and keeps its own, and
# a later file may still apply it.
#
#   my $phone = PolycomPhone->new(mac => MAC_VVX, ua => UA_VVX)->boot;
#   $phone->device->{'device.prov.serverName'}   # applied device settings
#   $phone->params->{'reg.1.address'}            # everything else
#   $phone->ignored                              # device.* values not applied
#   $phone->received('device.set')               # times served, all files
#
# With model => 'SPIP330' it reads its own APPLICATION_SPIP330 as a phone
# of that model does: CONFIG_FILES_SPIP330 and APP_FILE_PATH_SPIP330 where
# present, instead of the generic attributes (REFERENCE.md 2.1).
use strict;
use warnings FATAL => 'all';

use Apache::TestRequest ();
use LWP::UserAgent;
use XML::LibXML ();

sub new {
    my ($class, %opt) = @_;
    my $self = bless { mac => $opt{mac}, ua => $opt{ua},
                       model => $opt{model} }, $class;
    # One keep-alive connection: each boot reaches the same child, so a
    # body its cache kept is what this phone is served.
    $self->{http} = LWP::UserAgent->new(keep_alive => 1, agent => $opt{ua},
                                        timeout => 30);
    $self->{base} = $opt{base}
        // 'http://' . Apache::TestRequest::hostport() . '/prov';
    return $self;
}

sub get {
    my ($self, $file) = @_;
    my $res = $self->{http}->get("$self->{base}/$file");
    push @{ $self->{requests} }, [$file, $res->code];
    return $res;
}

# Every attribute of every element, first occurrence in the file winning.
sub file_params {
    my ($body) = @_;
    my $doc = eval { XML::LibXML->load_xml(string => $body) } or return undef;
    my %attrs;
    for my $node ($doc->documentElement->findnodes('descendant-or-self::*')) {
        for my $a ($node->attributes) {
            next unless $a->isa('XML::LibXML::Attr');
            $attrs{ $a->nodeName } //= $a->value;
        }
    }
    return \%attrs;
}

sub is_device_value { $_[0] =~ /^device\./ && $_[0] !~ /\.set$/ }

# Boot from scratch: what an earlier boot applied is forgotten (a factory
# reset between boots keeps tests independent of each other).
sub boot {
    my ($self) = @_;
    @$self{qw(params device ignored received files bodies requests error)}
        = ({}, {}, [], {}, [], {}, [], undef);
    my $res = $self->get("$self->{mac}.cfg");
    $res = $self->get('000000000000.cfg') if $res->code == 404;
    my $master = $res->code == 200
        ? eval { XML::LibXML->load_xml(string => $res->content) } : undef;
    unless ($master && $master->documentElement->nodeName eq 'APPLICATION') {
        $self->{error} = 'no master (' . $res->code . ')';
        return $self;
    }
    $self->{master} = $res->content;
    my $app = $master->documentElement;
    my ($own) = $self->{model}
        ? $app->getChildrenByTagName("APPLICATION_$self->{model}") : ();
    my $attr = sub {
        my ($name) = @_;
        my $v = $own ? $own->getAttribute("${name}_$self->{model}") : undef;
        return defined $v && length $v ? $v : $app->getAttribute($name);
    };
    $self->{app_file} = $attr->('APP_FILE_PATH');
    $self->{files} = [grep { length }
        split /\s*,\s*/, $attr->('CONFIG_FILES') // ''];
    for my $file (@{ $self->{files} }) {
        $res = $self->get($file);
        my $attrs = $res->code == 200 ? file_params($res->content) : undef;
        unless ($attrs) {
            $self->{error} //= "$file: " . $res->code;
            next;
        }
        $self->{bodies}{$file} = $res->content;
        $self->apply($attrs);
    }
    return $self;
}

sub apply {
    my ($self, $attrs) = @_;
    my $switch = ($attrs->{'device.set'} // '') eq '1';
    for my $name (sort keys %$attrs) {
        $self->{received}{$name}++;
        next if $name =~ /^device\..*\.set$/;     # flags, device.set too
        if (is_device_value($name)) {
            next if exists $self->{device}{$name};
            if ($switch && ($attrs->{"$name.set"} // '') eq '1') {
                $self->{device}{$name} = $attrs->{$name};
            }
            else {
                push @{ $self->{ignored} }, $name;
            }
            next;
        }
        $self->{params}{$name} //= $attrs->{$name};
    }
}

sub params   { $_[0]->{params} }
sub device   { $_[0]->{device} }
sub ignored  { [sort @{ $_[0]->{ignored} }] }
sub files    { $_[0]->{files} }
sub app_file { $_[0]->{app_file} }
sub master_body { $_[0]->{master} }
sub error    { $_[0]->{error} }
sub requests { $_[0]->{requests} }
sub body     { $_[0]->{bodies}{ $_[1] } }
sub all_bodies { join "\n", map { $_[0]->{bodies}{$_} } @{ $_[0]->{files} } }
sub received { $_[0]->{received}{ $_[1] } // 0 }

1;
