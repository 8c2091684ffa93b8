# The JSON admin API: every resource, its validation, Apache's own auth in
# front of it, masked secrets, the audit trail and all-or-nothing imports.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);
use HTTP::Request;
use JSON::PP ();
use LWP::UserAgent;
use lib 't/lib';
use PolycomTest;

plan tests => 106;

my $base = 'http://' . Apache::TestRequest::hostport() . '/admin';
my $json = JSON::PP->new->canonical->utf8;
my $ua = LWP::UserAgent->new(timeout => 30);

sub call {
    my ($method, $path, %opt) = @_;
    settle() if $method eq 'GET';       # check-ins are written just after
    my $req = HTTP::Request->new($method => "$base/$path");
    my ($user, $pass) = @{ $opt{auth} // ['admin', 'admin-secret'] };
    $req->authorization_basic($user, $pass) if defined $user;
    if (exists $opt{json}) {
        $req->content_type('application/json');
        $req->content(ref $opt{json} ? $json->encode($opt{json}) : $opt{json});
    }
    elsif (exists $opt{body}) {
        $req->content_type($opt{type} // 'text/plain');
        $req->content($opt{body});
    }
    my $res = $ua->request($req);
    my $data = eval { $json->decode($res->content) };
    return ($res, $data);
}
sub problem_ok {
    my ($res, $data, $status, $name) = @_;
    ok($res->code == $status
       && ($res->header('Content-Type') // '') =~ m{^application/problem\+json}
       && $data && $data->{status} == $status && $data->{detail},
       "$name: $status problem+json") or diag($res->code . ' ' . $res->content);
}

# Check-ins lost before this file (the outage tests lose some on purpose):
# this file's own requests must lose none.
sub checkin_failures {
    my ($res) = call(GET => 'metrics');
    return $res->content =~ /^polycom_checkin_failures_total (\d+)$/m ? $1 : -1;
}
my $failures_before = checkin_failures();

my $mac = '0004f2abc001';
my $phone = {
    model => 'VVX_411', site => 'hq', label => 'Reception', enabled => JSON::PP::true,
    lines => [{ user => '1001', password => 'line-pw-1001', display_name => 'Reception',
                label => '1001', server => 'pbx.example.com' }],
    params => { 'up.backlight.idleIntensity' => '1' },
};

# --- authentication and authorisation are Apache's --------------------
my ($res, $data) = call(GET => 'phones', auth => [undef]);
is($res->code, 401, 'no credentials: 401');
like($res->header('WWW-Authenticate') // '', qr/^Basic/, 'with a challenge');
($res) = call(GET => 'phones', auth => ['admin', 'wrong']);
is($res->code, 401, 'wrong password: 401');
($res) = call(GET => 'phones', auth => ['viewer', 'viewer-secret']);
is($res->code, 403, 'authenticated but not allowed: 403');
($res) = call(PUT => "phones/$mac", auth => ['viewer', 'viewer-secret'], json => $phone);
is($res->code, 403, 'not allowed to write either');
is(db_value("SELECT count(*) FROM phones WHERE mac = '$mac'"), 0, 'nothing written');

# --- phones -------------------------------------------------------------
($res, $data) = call(PUT => "phones/$mac", json => $phone);
is($res->code, 201, 'PUT a new phone: 201');
like($res->header('Location') // '', qr{/admin/phones/$mac$}, 'with its Location');
is($data->{model}, 'VVX411', 'model token normalised');
is($data->{lines}[0]{password}, '********', 'line password masked in the answer');
unlike($res->content, qr/line-pw-1001/, 'the secret is nowhere in the answer');
is(db_value("SELECT value FROM params WHERE scope = 'phone' AND scope_key = '$mac'"
            . " AND name = 'reg.1.auth.password'"), 'line-pw-1001',
   'the secret is stored');
($res, $data) = call(GET => "phones/$mac");
is($res->code, 200, 'GET the phone');
is_deeply([$data->{lines}[0]{user}, $data->{lines}[0]{server}, $data->{params}],
          ['1001', 'pbx.example.com', { 'up.backlight.idleIntensity' => '1' }],
          'lines and params come back');
is($data->{last_checkin}, undef, 'never seen yet');
ok(!defined $data->{up_to_date}, 'up_to_date unknown before the first fetch');

# Write back what GET returned (masked): the stored secret is kept.
my %edit = %$data;          # read-only fields included: they are ignored
$edit{label} = 'Front desk';
($res, $data) = call(PUT => "phones/$mac", json => \%edit);
is($res->code, 200, 'PUT over an existing phone: 200');
is($data->{label}, 'Front desk', 'replaced');
is(db_value("SELECT value FROM params WHERE scope_key = '$mac'"
            . " AND name = 'reg.1.auth.password'"), 'line-pw-1001',
   'writing the mask back keeps the stored secret');

# The phone checks in and gets what the API stored.
my $cfg = parse_xml(GET("/prov/$mac-settings.cfg", 'User-Agent' => UA_VVX)->content);
is($cfg && config_attrs($cfg)->{'reg.1.auth.password'}, 'line-pw-1001',
   'the phone gets its line');
($res, $data) = call(GET => "phones/$mac");
ok($data->{up_to_date}, 'up_to_date after the fetch');
is($data->{last_checkin}{model}, 'VVX411', 'last check-in model');
is($data->{last_checkin}{firmware}, '5.9.5.0614', 'last check-in firmware');
is($data->{last_checkin}{ip}, '127.0.0.1', 'last check-in IP');
like($data->{last_checkin}{time} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'ISO time');

# A change made with SQL shows in the next GET and the next phone fetch.
db_exec("INSERT INTO params VALUES ('phone', '$mac', 'up.screenSaver.enabled', '1')");
($res, $data) = call(GET => "phones/$mac");
is($data->{params}{'up.screenSaver.enabled'}, '1', 'SQL change visible in the API')
    or diag($res->code . ' ' . $res->content);
ok(defined $data->{up_to_date} && !$data->{up_to_date}, 'and up_to_date went false')
    or diag(explain($data->{last_checkin}), 'revision now: ',
            db_value('SELECT value FROM revision WHERE id = 1'));
$cfg = parse_xml(GET("/prov/$mac-settings.cfg", 'User-Agent' => UA_VVX)->content);
is($cfg && config_attrs($cfg)->{'up.screenSaver.enabled'}, '1',
   'SQL change served to the phone');
($res, $data) = call(GET => "phones/$mac");
ok($data->{up_to_date}, 'up_to_date true again after the phone fetched');

# Validation.
problem_ok(call(PUT => "phones/$mac", json => '{"model": '), 400, 'broken JSON');
problem_ok(call(PUT => "phones/$mac", json => { %$phone, colour => 'red' }), 400, 'unknown field');
problem_ok(call(PUT => "phones/$mac", json => { %$phone, params => { 'bad name' => 'x' } }),
           400, 'bad parameter name');
problem_ok(call(PUT => "phones/$mac", json => { %$phone, params => { 'a.b' => 1 } }),
           400, 'non-string value');
problem_ok(call(PUT => "phones/$mac", json => { %$phone, params => { 'a.b' => 'x' x 5000 } }),
           400, 'over-long value');
problem_ok(call(PUT => "phones/$mac", json => { %$phone, model => 'VVX 411' }), 400, 'bad model');
problem_ok(call(PUT => "phones/$mac", json => { %$phone, mac => '0004f2abc002' }), 400,
           'mac in body differs from path');
problem_ok(call(PUT => "phones/$mac", json => { %$phone, lines => [{ password => 'x' }] }),
           400, 'line without user');
problem_ok(call(PUT => 'phones/0004f2abc00', json => $phone), 400, 'MAC of 11 digits');
problem_ok(call(PUT => "phones/$mac", body => 'x', type => 'text/plain'), 415, 'not JSON');
problem_ok(call(PUT => "phones/$mac", json => '{"a":1,"a":2}'), 400, 'duplicate keys');
problem_ok(call(PUT => "phones/$mac", json => "{\"label\": \"\xff\xfe\"}"), 400, 'bad UTF-8');
problem_ok(call(PUT => "phones/$mac", json => ('{"label":"' . ('x' x 1_100_000) . '"}')),
           413, 'body over 1 MiB');
problem_ok(call(PUT => 'phones/0004f2abc0ff', json => { %$phone,
           lines => [{ user => '1', password => '********' }] }), 400,
           'masked secret with nothing stored');
problem_ok(call(GET => 'phones/0004f2ffffff'), 404, 'unknown phone');
problem_ok(call(POST => "phones/$mac", json => $phone), 405, 'POST on a phone');
($res) = call(GET => 'nosuchthing');
is($res->code, 404, 'a path that is no resource is left to Apache (404)');
($res, $data) = call(GET => "phones/$mac");
is($data->{label}, 'Front desk', 'after all the refusals the phone is unchanged');

# List and filters.
($res, $data) = call(GET => 'phones?site=hq&model=VVX_411');
is_deeply([sort map { $_->{mac} } @{ $data->{phones} }], [$mac, MAC_VVX],
          'filter by site and model');
($res, $data) = call(GET => 'phones?limit=2&offset=1');
is(scalar @{ $data->{phones} }, 2, 'paging: limit');
# (The demo's three phones and this file's, and any other file's still
# in the database.)
is($data->{total}, db_value('SELECT count(*) AS n FROM phones'), 'paging: total');
problem_ok(call(GET => 'phones?limit=0'), 400, 'bad limit');
# A phone never seen (the demo's may all have checked in by now).
my $never = '0004f2abc0fe';
call(PUT => "phones/$never", json => { model => 'Trio8800', site => 'branch' });
($res, $data) = call(GET => 'phones?stale=3600');
ok(!grep({ $_->{mac} eq $mac } @{ $data->{phones} }), 'stale filter leaves out a phone seen now');
ok(grep({ $_->{mac} eq $never } @{ $data->{phones} }), 'and keeps one never seen');
call(DELETE => "phones/$never");

# --- layers ---------------------------------------------------------------
($res, $data) = call(PUT => 'params/site/hq', json => { 'tcpIpApp.sntp.gmtOffset' => '7200',
                                                       'device.prov.password' => 'prov-pw' });
is($res->code, 200, 'PUT a site layer');
is($data->{params}{'device.prov.password'}, '********', 'secret masked');
($res, $data) = call(GET => 'params/site/hq');
is($data->{params}{'tcpIpApp.sntp.gmtOffset'}, '7200', 'GET the site layer');
$cfg = parse_xml(GET('/prov/' . MAC_VVX . '-settings.cfg')->content);
is($cfg && config_attrs($cfg)->{'tcpIpApp.sntp.gmtOffset'}, '7200', 'the phone sees the site value');
($res) = call(PUT => 'params/model/VVX_411', json => { 'up.backlight.idleIntensity' => '3' });
is($res->code, 200, 'PUT a model layer (token normalised)');
is(db_value("SELECT value FROM params WHERE scope = 'model' AND scope_key = 'VVX411'"),
   '3', 'stored under the token');
($res, $data) = call(GET => 'params/global');
ok(exists $data->{params}{'tcpIpApp.sntp.address'}, 'GET the global layer');
($res) = call(DELETE => 'params/model/VVX411');
is($res->code, 204, 'DELETE a layer');
is(db_value("SELECT count(*) FROM params WHERE scope = 'model' AND scope_key = 'VVX411'"),
   0, 'layer emptied');
problem_ok(call(GET => 'params/planet/x'), 404, 'unknown layer');
problem_ok(call(PUT => 'params/global', json => ['x']), 400, 'layer must be an object');

# --- import -------------------------------------------------------------
my @batch = map { { mac => sprintf('0004f2ddd%03d', $_), model => 'VVX411', site => 'hq',
                    lines => [{ user => "2$_", password => "pw$_" }] } } 1 .. 3;
($res, $data) = call(POST => 'import', json => [@batch, { mac => 'zz', model => 'VVX411' },
                                               { %{ $batch[0] }, label => 'x', colour => 1 }]);
is($res->code, 400, 'import with bad rows: 400');
is_deeply([map { $_->{row} } @{ $data->{errors} }], [4, 5], 'each bad row reported');
is(db_value("SELECT count(*) FROM phones WHERE mac LIKE '0004f2ddd%'"), 0, 'nothing imported');
($res, $data) = call(POST => 'import', json => [@batch, $batch[1]]);
is($res->code, 409, 'duplicate MAC in one import: 409');
($res, $data) = call(POST => 'import', json => \@batch);
is($res->code . ' ' . ($data->{created} // ''), '200 3', 'JSON import: all created');
my $csv = "mac,model,site,label,user,password,display_name,server\n"
        . "0004f2eee001,SPIP330,branch,\"Desk, left\",3001,pw-3001,Desk,pbx\n"
        . "0004f2eee002,VVX411,branch,Desk right,3002,pw-3002,,\n";
($res, $data) = call(POST => 'import', body => $csv, type => 'text/csv');
is($res->code . ' ' . ($data->{created} // ''), '200 2', 'CSV import');
is(db_value("SELECT label FROM phones WHERE mac = '0004f2eee001'"), 'Desk, left',
   'quoted CSV field with a comma');
is(db_value("SELECT value FROM params WHERE scope_key = '0004f2eee001'"
            . " AND name = 'reg.1.auth.password'"), 'pw-3001', 'CSV line stored');
($res, $data) = call(POST => 'import', body => "0004f2eee003,VVX411\n", type => 'text/csv');
is($res->code, 400, 'CSV with missing columns: 400');
($res, $data) = call(POST => 'import', body => "\"unterminated,x\n", type => 'text/csv');
is($res->code, 400, 'broken CSV: 400');

# --- discovered, check-ins, uploads, preview ------------------------------
GET '/prov/0004f2abc999.cfg', 'User-Agent' => UA_TRIO;
($res, $data) = call(GET => 'discovered');
ok(grep({ $_->{mac} eq '0004f2abc999' && $_->{model} eq 'Trio8800' } @{ $data->{discovered} }),
   'discovered lists the unknown MAC');
($res, $data) = call(GET => "checkins?mac=$mac&limit=1");
is(scalar @{ $data->{checkins} }, 1, 'check-ins: limit');
is($data->{checkins}[0]{file}, "$mac-settings.cfg", 'newest first, for that MAC');
($res, $data) = call(GET => 'checkins?since=2099-01-01T00:00:00Z');
is(scalar @{ $data->{checkins} }, 0, 'check-ins since a future date: none');
problem_ok(call(GET => 'checkins?mac=xyz'), 400, 'bad mac filter');

Apache::TestRequest::user_agent(reset => 1);
my $put = Apache::TestRequest::PUT("/prov/$mac-phone.cfg", content => '<PHONE_CONFIG/>');
($res, $data) = call(GET => "uploads/$mac");
is_deeply([map { $_->{file} } @{ $data->{uploads} }], ["$mac-phone.cfg"], 'uploads listed');
($res) = call(GET => "uploads/$mac/$mac-phone.cfg");
is($res->content, '<PHONE_CONFIG/>', 'an upload read through the API');
($res) = call(DELETE => "uploads/$mac/$mac-phone.cfg");
is($res->code, 204, 'an upload deleted');
is(GET("/prov/$mac-phone.cfg")->code, 404, 'and gone for the phone');
problem_ok(call(GET => "uploads/$mac/$mac.cfg"), 404, 'a generated file is no upload');

my $before = db_value('SELECT count(*) FROM checkins');
($res) = call(GET => "preview/$mac/$mac-settings.cfg");
is($res->code, 200, 'preview');
is($res->content, GET("/prov/$mac-settings.cfg")->content,
   'the preview is exactly what the phone gets');
is(db_value('SELECT count(*) FROM checkins'), $before + 1,
   'the preview recorded no check-in (only the phone fetch did)');
problem_ok(call(GET => "preview/$mac/0004f2000000.cfg"), 404, 'preview of another phone');

# --- delete, audit, metrics -------------------------------------------------
($res) = call(DELETE => "phones/$mac");
is($res->code, 204, 'DELETE a phone');
is(GET("/prov/$mac.cfg")->code, 404, 'its master is gone');
problem_ok(call(DELETE => "phones/$mac"), 404, 'DELETE again');

($res, $data) = call(GET => 'audit?limit=1000');
my @actions = map { "$_->{user} $_->{action} $_->{target}" } reverse @{ $data->{audit} };
ok(grep({ $_ eq "admin phone.create $mac" } @actions), 'audit: create, with the user');
ok(grep({ $_ eq "admin phone.replace $mac" } @actions), 'audit: replace');
ok(grep({ $_ eq "admin phone.delete $mac" } @actions), 'audit: delete');
ok(grep({ $_ eq 'admin params.replace site/hq' } @actions), 'audit: layer change');
ok(grep({ $_ eq 'admin import ' } @actions), 'audit: import');
unlike($res->content, qr/line-pw-1001|prov-pw|pw-3001/, 'no secret in the audit');
my ($create) = grep { $_->{action} eq 'phone.create' && $_->{target} eq $mac } @{ $data->{audit} };
is($create && $create->{change}{label}, 'Reception', 'audit says what changed');

($res) = call(GET => 'metrics');
my $m = $res->content;
like($res->header('Content-Type') // '', qr{^text/plain; version=0\.0\.4}, 'metrics: Prometheus text');
like($m, qr/^polycom_requests_total\{kind="settings",status="200"\} \d+$/m, 'requests by kind and status');
like($m, qr/^polycom_unknown_mac_requests_total [1-9]\d*$/m, 'unknown MACs counted');
like($m, qr/^polycom_upload_bytes_total [1-9]\d*$/m, 'upload bytes counted');
like($m, qr/^polycom_generation_seconds_count [1-9]\d*$/m, 'generation latency histogram');
like($m, qr/^polycom_generation_seconds_bucket\{le="\+Inf"\} \d+$/m, 'with +Inf bucket');
like($m, qr/^polycom_checkin_failures_total $failures_before$/m, 'no lost check-ins');
like($m, qr/^polycom_database_errors_total \d+$/m, 'database errors');
