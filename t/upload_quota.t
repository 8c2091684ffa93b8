# Uploads come only from phones that belong, and no phone stores more than
# PolycomUploadQuota: a MAC the database does not know, or a disabled
# phone, stores nothing (404, one line, a counter); past the quota an
# upload is refused (507), its logs counted at most at their retention.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET PUT);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use lib 't/lib';
use PolycomTest;
use PolycomAdmin;

plan tests => 22;

my $stranger = '0004f2ffff01';
my $disabled = '0004f2ffff02';
my $mac = MAC_SPIP;

sub put_body {
    my ($url, $body) = @_;
    return PUT $url, content => $body, 'User-Agent' => UA_VVX;
}
sub refused {
    my ($reason) = @_;
    my ($res) = api(GET => 'metrics');
    my ($n) = $res->content
        =~ /^polycom_upload_refused_total\{reason="\Q$reason\E"\} (\d+)$/m;
    return $n // -1;
}
# A directory of exactly @a size bytes (padded in a comment).
sub directory {
    my ($size) = @_;
    my $head = '<directory><item_list><item><ln>A</ln><ct>1</ct></item>'
             . '</item_list></directory><!--';
    return $head . ('x' x ($size - length($head) - 3)) . '-->';
}

db_exec("DELETE FROM phones WHERE mac IN ('$stranger', '$disabled')");
db_exec("DELETE FROM uploads WHERE mac IN ('$stranger', '$disabled', '$mac')");
db_exec("DELETE FROM log_chunks WHERE mac IN ('$stranger', '$disabled', '$mac')");
db_exec("INSERT INTO phones (mac, model, site, label, enabled)"
        . " VALUES ('$disabled', 'VVX411', 'hq', 'Switched off', 0)");

# --- only phones that belong ------------------------------------------------
my %before = map { $_ => refused($_) } qw(unknown disabled quota);
t_start_error_log_watch();
is(put_body("/prov/$stranger-directory.xml", directory(200))->code, 404,
   'PUT for a MAC the database does not know: 404');
is(put_body("/prov/$disabled-calls.xml", '<calls/>')->code, 404,
   'PUT for a disabled phone: 404');
is(put_body("/prov/$stranger-app.log", "hello\n")->code, 404,
   'a log of an unknown MAC: 404 too');
my @lines = grep { /PC00120:/ } t_finish_error_log_watch();
is(scalar @lines, 3, 'one tagged line per refused upload');
like($lines[0] // '', qr/no such phone/, 'saying why');
is(db_value("SELECT count(*) FROM uploads WHERE mac IN ('$stranger', '$disabled')")
   + db_value("SELECT count(*) FROM log_chunks WHERE mac = '$stranger'"),
   0, 'nothing stored for them');
is(refused('unknown') - $before{unknown}, 2, 'counted: reason="unknown"');
is(refused('disabled') - $before{disabled}, 1, 'counted: reason="disabled"');
is(GET("/prov/$stranger-directory.xml")->code, 404,
   'and nothing is served back for the unknown MAC');

# A file stored while the phone was enabled is not served once disabled.
db_exec("INSERT INTO uploads (mac, kind, content, size, time_us)"
        . " VALUES ('$disabled', 'directory', '<directory/>', 12, 1)");
is(GET("/prov/$disabled-directory.xml")->code, 404,
   "a disabled phone's stored directory: 404");

# --- the quota: 2K per phone under /prov/quota, logs kept to 1K -----------
t_start_error_log_watch();
is(put_body("/prov/quota/$mac-directory.xml", directory(1500))->code, 201,
   'a directory within the quota: 201');
my $res = put_body("/prov/quota/$mac-calls.xml", '<calls>' . (' ' x 600) . '</calls>');
is($res->code, 507, 'a call list that would pass the quota: 507');
is(db_value("SELECT count(*) FROM uploads WHERE mac = '$mac' AND kind = 'calls'"),
   0, 'not stored');
is(put_body("/prov/quota/$mac-directory.xml", directory(1900))->code, 204,
   'replacing a file counts its new size only: 204');
is(put_body("/prov/quota/$mac-directory.xml", directory(2100))->code, 507,
   'a replacement over the quota by itself: 507');
is(length(GET("/prov/quota/$mac-directory.xml")->content), 1900,
   'the stored version stays');
is(put_body("/prov/quota/$mac-directory.xml", directory(1000))->code, 204,
   'a smaller directory: 204');
my @codes = map { put_body("/prov/quota/$mac-boot.log", ('x' x 599) . "\n")->code }
            1 .. 4;
is_deeply(\@codes, [201, 204, 204, 204],
          'a log counts at most its retention (1K): appends go on');
is(put_body("/prov/quota/$mac-app.log", ('y' x 599) . "\n")->code, 507,
   'a second log past the quota: 507');
@lines = grep { /PC00121:/ } t_finish_error_log_watch();
is(scalar @lines, 3, 'one tagged line per upload over the quota');
like($lines[0] // '', qr/PolycomUploadQuota 2048/, 'naming the quota');
is(refused('quota') - $before{quota}, 3, 'counted: reason="quota"');

db_exec("DELETE FROM phones WHERE mac = '$disabled'");
db_exec("DELETE FROM uploads WHERE mac IN ('$disabled', '$mac')");
db_exec("DELETE FROM log_chunks WHERE mac = '$mac'");
