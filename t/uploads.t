# Phone uploads: logs, overrides, directories and call lists are stored in
# the database whole or not at all, and served back byte for byte.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET HEAD PUT);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use IO::Socket::INET;
use Time::HiRes qw(sleep);
use lib 't/lib';
use PolycomTest;

plan tests => 58;

my $mac = MAC_VVX;
my $hostport = Apache::TestRequest::hostport();

sub put_body {
    my ($url, $body, @headers) = @_;
    return PUT $url, content => $body, 'User-Agent' => UA_VVX, @headers;
}

# Speak HTTP by hand, for chunked bodies and bodies cut short.
sub raw_request {
    my ($text, $close_early) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 10)
        or die "connect $hostport: $!";
    print $sock $text;
    if ($close_early) {
        close $sock;
        return '';
    }
    local $/;
    my $answer = <$sock>;
    close $sock;
    return $answer // '';
}

# The phone starts with nothing uploaded (another file of the run may have
# left it some): the first PUT of each file creates it, and its log holds
# only what this file sends.
clear_uploads($mac);
my $checkins_before = last_checkin_id();

my %bodies = (
    '-phone.cfg' => qq{<?xml version="1.0"?>\n<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="2" reg.1.label="Ann &amp; Bob"/></PHONE_CONFIG>\n},
    '-web.cfg' => qq{<PHONE_CONFIG><OVERRIDES lcl.ml.lang="Deutsch_Deutschland"/></PHONE_CONFIG>},
    '-directory.xml' => qq{<directory><item_list><item><ln>M\x{c3}\x{bc}ller</ln><fn>J</fn><ct>1001</ct></item></item_list></directory>\r\n},
    '-calls.xml' => qq{<calls><call dir="in" n="1002"/></calls>},
);
for my $suffix (sort keys %bodies) {
    my $url = "/prov/$mac$suffix";
    my $res = put_body($url, $bodies{$suffix});
    is($res->code, 201, "$suffix: first PUT creates (201)");
    $res = GET $url;
    is($res->content, $bodies{$suffix}, "$suffix: GET returns it byte for byte");
    like($res->header('Content-Type'), qr{^application/xml}, "$suffix: XML type");
    ok($res->header('ETag'), "$suffix: with an ETag");
    my $second = $bodies{$suffix} . "<!-- version 2 -->\n";
    is(put_body($url, $second)->code, 204, "$suffix: second PUT replaces (204)");
    is(GET($url)->content, $second, "$suffix: GET returns the new version");
}

my $row = db_rows("SELECT * FROM checkins WHERE method = 'PUT'"
                  . " AND file = '$mac-calls.xml' AND id > $checkins_before"
                  . " ORDER BY id LIMIT 1")->[0] || {};
is_deeply([@$row{qw(status bytes model)}],
          [201, length $bodies{'-calls.xml'}, 'VVX411'],
          'every upload is a check-in: status, bytes received, model');

# Logs: appended in order.
my $log = "/prov/$mac-app.log";
is(put_body($log, "line one\n")->code, 201, 'first log upload: 201');
is(put_body($log, "line two\n")->code, 204, 'appended log upload: 204');
my $res = GET $log;
is($res->content, "line one\nline two\n", 'log read back in upload order');
like($res->header('Content-Type'), qr{^text/plain}, 'as text');
is(put_body("/prov/$mac-boot.log", "boot\n")->code, 201, 'boot log stored');

# Retention: at most 4K per phone log under /prov/small, oldest pruned.
my $small_log = "/prov/small/$mac-boot.log";
db_exec("DELETE FROM log_chunks WHERE mac = '$mac' AND kind = 'boot-log'");
my @chunks = map { sprintf("%04d", $_) . ('x' x 1019) . "\n" } 1 .. 10;
put_body($small_log, $_) for @chunks;
my $kept = GET($small_log)->content;
ok(length($kept) <= 4096, 'retention: the stored log stays within 4K');
is($kept, join('', @chunks[6 .. 9]), 'the newest content is kept, in order');

# Limits: 413 before reading with Content-Length, and mid-body when chunked.
my $override = "/prov/small/$mac-phone.cfg";
put_body($override, $bodies{'-phone.cfg'});
my $big = '<PHONE_CONFIG><OVERRIDES a="' . ('y' x 2000) . '"/></PHONE_CONFIG>';
t_start_error_log_watch();
is(put_body($override, $big)->code, 413, 'over the limit with Content-Length: 413');
my @lines = grep { /PC000\d\d/ } t_finish_error_log_watch();
ok(@lines == 1 && $lines[0] =~ /PC00010/, 'one tagged log line');
my $chunk = 'z' x 512;
my $answer = raw_request(
    "PUT $override HTTP/1.1\r\nHost: $hostport\r\nTransfer-Encoding: chunked\r\n"
    . "Connection: close\r\n\r\n"
    . join('', map { sprintf("%x\r\n%s\r\n", length $chunk, $chunk) } 1 .. 4)
    . "0\r\n\r\n");
like($answer, qr{^HTTP/1\.1 413}, 'over the limit chunked: 413');
is(GET($override)->content, $bodies{'-phone.cfg'}, 'the previous version is intact');

# A body cut short: nothing stored.
t_start_error_log_watch();
raw_request("PUT $override HTTP/1.1\r\nHost: $hostport\r\nContent-Length: 900\r\n"
            . "Connection: close\r\n\r\n<PHONE_CONFIG><OVERRIDES a=\"", 1);
my $cut_logged = 0;
for (1 .. 50) {
    sleep 0.1;
    last if $cut_logged = grep { /PC00012/ } t_finish_error_log_watch();
    t_start_error_log_watch();
}
ok($cut_logged, 'a dropped connection is logged (PC00012)');
is(GET($override)->content, $bodies{'-phone.cfg'}, 'and the previous version is intact');

# Malformed XML: 400, one tagged line, nothing stored.
t_start_error_log_watch();
is(put_body($override, '<PHONE_CONFIG><OVERRIDES a="1"></PHONE_CONFIG>')->code,
   400, 'malformed XML: 400');
@lines = grep { /PC000\d\d/ } t_finish_error_log_watch();
ok(@lines == 1 && $lines[0] =~ /PC00013.*not well-formed/, 'one tagged log line');
is(put_body($override, "<a>\0</a>")->code, 400, 'a NUL byte: 400');
is(GET($override)->content, $bodies{'-phone.cfg'}, 'nothing stored');

# Names that can never be written.
for my $name ("$mac.cfg", "$mac-settings.cfg", '000000000000.cfg',
              "$mac-license.cfg") {
    $res = put_body("/prov/$name", '<x/>');
    ok($res->code == 405 && ($res->header('Allow') // '') !~ /PUT/,
       "PUT $name: 405 without PUT in Allow");
}
is(put_body("/prov/readonly/$mac-app.log", "x\n")->code, 405,
   'PolycomUploads Off: 405');
for my $path ("/prov/..%2f$mac-phone.cfg", "/prov/x/..%2F$mac-phone.cfg",
              "/prov/../$mac-phone.cfg") {
    my $code = put_body($path, '<PHONE_CONFIG/>')->code;
    ok($code >= 400 && $code < 500 && GET("/prov/$mac-phone.cfg")->content
       ne '<PHONE_CONFIG/>', "PUT $path: $code, nothing stored");
}

# Concurrent PUTs of the same file end with one whole body.
my @versions = map { '<PHONE_CONFIG><OVERRIDES v="' . ($_ x 60000) . '"/></PHONE_CONFIG>' } qw(a b);
my @pids;
for my $v (@versions) {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        put_body("/prov/$mac-web.cfg", $v) for 1 .. 10;
        exit 0;
    }
    push @pids, $pid;
}
waitpid $_, 0 for @pids;
my $final = GET("/prov/$mac-web.cfg")->content;
ok($final eq $versions[0] || $final eq $versions[1],
   'after concurrent PUTs the stored file is one of the bodies, whole');

# The site-wide default directory, once an admin has stored one.
db_exec("DELETE FROM uploads WHERE mac = '000000000000'");
is(GET('/prov/000000000000-directory.xml')->code, 404, 'no default directory yet');
db_exec("INSERT INTO uploads (mac, kind, content, size, time_us) VALUES"
        . " ('000000000000', 'directory', '<directory/>', 12, 0)");
is(GET('/prov/000000000000-directory.xml')->content, '<directory/>',
   'the default directory is served when stored');
db_exec("DELETE FROM uploads WHERE mac = '000000000000'");

# Everything stored survives a restart of httpd: it lives in the database.
ok(kill('HUP', PolycomTest::server_pid()), 'httpd restarted (SIGHUP)');
my $up = 0;
for (1 .. 100) {
    sleep 0.1;
    my $r = eval { GET "/prov/$mac-phone.cfg" };
    last if $up = ($r && $r->code == 200);
}
ok($up, 'and answers again');
# (/prov/small shares the database: its last good PUT is the current one)
is(GET("/prov/$mac-phone.cfg")->content, $bodies{'-phone.cfg'},
   'override served after the restart');
is(GET("/prov/$mac-directory.xml")->content,
   $bodies{'-directory.xml'} . "<!-- version 2 -->\n", 'directory too');
is(GET($log)->content, "line one\nline two\n", 'and the log');

# Leave the phone with nothing uploaded, as the other files expect it.
clear_uploads($mac);
