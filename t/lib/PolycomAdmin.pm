package PolycomAdmin;
# A small client for the admin API in tests.
use strict;
use warnings FATAL => 'all';

use Apache::TestRequest ();
use HTTP::Request;
use JSON::PP ();
use LWP::UserAgent;
use Exporter 'import';
use PolycomTest ();

our @EXPORT = qw(api);

my $json = JSON::PP->new->canonical->utf8;
my $ua = LWP::UserAgent->new(timeout => 30);

# api(METHOD, path, [json => $data]) -> ($response, $decoded_json)
sub api {
    my ($method, $path, %opt) = @_;
    PolycomTest::settle() if $method eq 'GET';
    my $base = 'http://' . Apache::TestRequest::hostport() . '/admin';
    my $req = HTTP::Request->new($method => "$base/$path");
    $req->authorization_basic('admin', 'admin-secret');
    if (exists $opt{json}) {
        $req->content_type('application/json');
        $req->content($json->encode($opt{json}));
    }
    my $res = $ua->request($req);
    return ($res, eval { $json->decode($res->content) });
}

1;
