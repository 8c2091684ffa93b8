# An upload larger than the mysql driver reads of a column by default
# (DBDParams fldsz, 1 MB) is stored whole, and is either served back whole
# or refused with one tagged line that names the cure: never cut short.
# SQLite and PostgreSQL read any size; MariaDB runs with the default fldsz.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET PUT);
use Apache::TestUtil qw(t_start_error_log_watch t_finish_error_log_watch);
use lib 't/lib';
use PolycomTest;

plan tests => 2 * 4;

my $mac = MAC_VVX;
my $entry = '<item><fn>Ann</fn><ln>Example</ln><ct>1001</ct></item>';
my %bodies = (
    'directory.xml' => '<?xml version="1.0"?><directory><item_list>'
                       . ($entry x 30000) . '</item_list></directory>',
    'app.log'       => join('', map { sprintf "0101000000|sip  |3|00|line %07d\n", $_ }
                                    1 .. 40000),
);
# Nothing uploaded before: the log holds this body alone, not appended to
# what another file of the run sent.
clear_uploads($mac);
for my $file (sort keys %bodies) {
    my $body = $bodies{$file};
    cmp_ok(length $body, '>', 1024 * 1024, "$file: a body over 1 MB");
    my $res = PUT "/prov/large/$mac-$file", content => $body,
        'User-Agent' => UA_VVX;
    ok($res->code == 201 || $res->code == 204, "$file: stored (" . $res->code . ')');
    t_start_error_log_watch();
    $res = GET "/prov/large/$mac-$file", 'User-Agent' => UA_VVX;
    my @log = grep { /PC\d+:/ } t_finish_error_log_watch();
    if (backend() eq 'mysql') {
        is($res->code, 500, "$file: mysql with the default fldsz: 500");
        ok((grep { /raise fldsz/ } @log) == 1 && $res->content !~ /item_list|line 0000001/,
           "$file: one line naming fldsz, no part of the body")
            or diag(@log);
    }
    else {
        is($res->code, 200, "$file: served");
        ok($res->content eq $body, "$file: byte for byte");
    }
}

# Leave the phone's uploads as the other files expect to find them.
db_exec("DELETE FROM uploads WHERE mac = '$mac' AND kind = 'directory'");
db_exec("DELETE FROM log_chunks WHERE mac = '$mac' AND kind = 'app-log'");
