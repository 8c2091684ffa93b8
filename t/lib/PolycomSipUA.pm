package PolycomSipUA;
# The SIP side of a phone, for the resync tests: enough of a user agent to
# receive the module's NOTIFY check-sync and answer it the way a phone
# does. Three kinds, as the tests need them:
#   PolycomSipUA->listener(addr => '127.0.0.1')
#       a phone listening on UDP at its sip_address; the module sends to it
#       directly (t/resync.t);
#   PolycomSipUA->new(registrar => '127.0.0.1:5060', user => '2001',
#                     proto => 'udp' | 'tcp' | 'tls', [ca_file => ...])
#       a phone of a line that registers to the site's registrar (Kamailio)
#       and is reached only through it: over UDP from a port of its own,
#       or over the TCP or TLS connection it registered on. With ca_file
#       the TLS phone verifies the registrar's certificate; without it, it
#       trusts whatever answers.
use strict;
use warnings FATAL => 'all';

use IO::Select;
use IO::Socket::INET;
use Socket ();
use Time::HiRes qw(time);
use Exporter 'import';

our @EXPORT_OK = qw(sip_header);

# Numbers the REGISTERs of a test file, so each has its own branch, tag
# and Call-ID.
my $registrations = 0;

sub listener {
    my ($class, %a) = @_;
    my $sock = IO::Socket::INET->new(Proto => 'udp', LocalAddr => $a{addr},
                                     LocalPort => 0)
        or die "udp $a{addr}: $!";
    return bless { proto => 'udp', sock => $sock, buf => '' }, $class;
}

sub new {
    my ($class, %a) = @_;
    my ($host, $port) = split /:/, $a{registrar};
    my $proto = $a{proto} // 'udp';
    my $sock;
    if ($proto eq 'tls') {
        require IO::Socket::SSL;
        $sock = IO::Socket::SSL->new(
            PeerAddr => $a{registrar},
            $a{ca_file}
                ? (SSL_ca_file => $a{ca_file}, SSL_verifycn_name => $host,
                   SSL_verifycn_scheme => 'sip')
                : (SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_NONE()))
            or die "ua: $IO::Socket::SSL::SSL_ERROR";
    }
    elsif ($proto eq 'tcp') {
        $sock = IO::Socket::INET->new(PeerAddr => $a{registrar}, Proto => 'tcp')
            or die "ua: $!";
    }
    else {
        $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                      Proto => 'udp')
            or die "ua: $!";
    }
    return bless { user => $a{user}, proto => $proto, sock => $sock,
                   buf => '', host => $host, port => $port }, $class;
}

sub sock { $_[0]{sock} }

# host:port where the module reaches a listening phone (its sip_address).
sub address {
    my ($self) = @_;
    return $self->{sock}->sockhost . ':' . $self->{sock}->sockport;
}

# The value of the first header @a name in @a msg, or undef.
sub sip_header {
    my ($msg, $name) = @_;
    return $msg =~ /^\Q$name\E:\s*(.*?)\r$/mi ? $1 : undef;
}

# Over UDP, to whoever sent the last message, else to the registrar; over
# a stream, on the connection.
sub send_message {
    my ($self, $text) = @_;
    if ($self->{proto} ne 'udp') {
        $self->{sock}->syswrite($text);
        return;
    }
    my $to = $self->{peer}
        // Socket::pack_sockaddr_in($self->{port}, Socket::inet_aton($self->{host}));
    $self->{sock}->send($text, 0, $to);
}

# The next message within $timeout seconds, or nothing (undef in scalar
# context, an empty list in list context).
sub receive {
    my ($self, $timeout) = @_;
    my $until = time + $timeout;
    while (1) {
        if ($self->{proto} ne 'udp' && $self->{buf} =~ s/\A(.*?\r\n\r\n)//s) {
            return $1;
        }
        my $left = $until - time;
        return if $left <= 0;
        # Whole TLS records may already sit in the socket's buffer.
        next unless ($self->{proto} eq 'tls' && $self->{sock}->pending)
            || IO::Select->new($self->{sock})->can_read($left);
        if ($self->{proto} eq 'udp') {
            $self->{peer} = $self->{sock}->recv(my $buf, 65535);
            return $buf;
        }
        my $got = sysread($self->{sock}, my $chunk, 65535);
        next if !defined $got && $self->{proto} eq 'tls'
            && $IO::Socket::SSL::SSL_ERROR == IO::Socket::SSL::SSL_WANT_READ();
        return unless $got;
        $self->{buf} .= $chunk;
    }
}

# REGISTER the line; the registrar's status code, or 0 without an answer.
# Contact: where such a phone would be guessed to listen (5060, 5061 for
# TLS), not the port it really sends from: only the registrar's binding
# reaches it.
sub register {
    my ($self) = @_;
    my ($user, $proto) = @$self{qw(user proto)};
    my $local = $self->{sock}->sockport;
    my $registrar = "$self->{host}:$self->{port}";
    my $contact = $proto eq 'tls' ? '127.0.0.1:5061;transport=tls'
                : $proto eq 'tcp' ? '127.0.0.1:5060;transport=tcp'
                :                   '127.0.0.1:5060';
    my $n = ++$registrations;
    $self->send_message("REGISTER sip:$registrar SIP/2.0\r\n"
        . 'Via: SIP/2.0/' . uc($proto) . " 127.0.0.1:$local;branch=z9hG4bKreg$n;rport\r\n"
        . "Max-Forwards: 70\r\n"
        . "From: <sip:$user\@127.0.0.1>;tag=r$n\r\n"
        . "To: <sip:$user\@127.0.0.1>\r\n"
        . "Call-ID: reg$n-$user\@127.0.0.1\r\n"
        . "CSeq: 1 REGISTER\r\n"
        . "Contact: <sip:$user\@$contact>\r\n"
        . "Expires: 600\r\n"
        . "Content-Length: 0\r\n\r\n");
    my $answer = $self->receive(5) // '';
    return $answer =~ m{^SIP/2\.0 (\d+)} ? $1 : 0;
}

# Answer a request as a phone does: every Via back, From, To (with our tag
# when we are a line's phone), Call-ID and CSeq, then @a extra headers.
sub reply {
    my ($self, $req, $status, @extra) = @_;
    my @via = $req =~ /^(Via:.*?)\r$/mgi;
    my $tag = defined $self->{user} ? ";tag=ua$self->{user}" : '';
    $self->send_message("SIP/2.0 $status\r\n" . join('', map { "$_\r\n" } @via)
        . 'From: ' . sip_header($req, 'From') . "\r\n"
        . 'To: ' . sip_header($req, 'To') . "$tag\r\n"
        . join('', map { "$_: " . sip_header($req, $_) . "\r\n" } qw(Call-ID CSeq))
        . join('', map { "$_\r\n" } @extra) . "Content-Length: 0\r\n\r\n");
}

1;
