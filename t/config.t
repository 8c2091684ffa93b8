# Directives are validated when the configuration is read: a bad value
# stops `apachectl configtest` with a message that names the problem.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use File::Temp qw(tempfile);

my $so = Apache::Test::vars('top_dir') . '/.libs/mod_polycom.so';
my $httpd = Apache::Test::vars('httpd');
my $mods = '/usr/lib/apache2/modules';
my $logs = Apache::Test::vars('t_logs');
my $ssl = Apache::Test::vars('ssl_dir');
my $mpm = "ServerName localhost\nErrorLog $logs/configtest_log\n"
        . "LoadModule mpm_prefork_module $mods/mod_mpm_prefork.so\n";
my $base = $mpm . "LoadModule dbd_module $mods/mod_dbd.so\n";

my @cases = (
    ["<Location /p>\nPolycomProvisioning On\nPolycomFirmware SPIP330 sip_335.ld\n</Location>",
     qr/Syntax OK/, 'a good configuration passes'],
    ["<Directory /tmp>\nPolycomProvisioning On\n</Directory>",
     qr/cannot occur within <Directory> section/, 'refused in <Directory>'],
    ["<Location /p>\nPolycomFirmware VVX-411 x.ld\n</Location>",
     qr/model "VVX-411" must be a master token/, 'bad model token'],
    ["<Location /p>\nPolycomFirmware \"a b.ld\"\n</Location>",
     qr/may not contain spaces, commas/, 'bad firmware path'],
    ["<Location /p>\nPolycomFirmware " . ('x' x 300) . "\n</Location>",
     qr/at most 255 characters/, 'over-long firmware path'],
    ["<Location /p>\nPolycomCheckins maybe\n</Location>",
     qr/PolycomCheckins must be On or Off/, 'flag needs On or Off'],
    ["<Location /p>\nPolycomEnumerationGuard 0 60\n</Location>",
     qr/PolycomEnumerationGuard: Off, or <count>/, 'guard count must be positive'],
    ["<Location /p>\nPolycomUploadLimit 100G\n</Location>",
     qr/is not a size from 1 byte to 64M/, 'upload limit out of range'],
    ["<Location /p>\nPolycomResyncRate fast\n</Location>",
     qr/is not a whole number from 1 to 100000/, 'resync rate must be a number'],
    ["<Directory /tmp>\nPolycomAdmin On\n</Directory>",
     qr/cannot occur within <Directory> section/, 'admin refused in <Directory>'],
    ["PolycomCacheSize 64M\n<Location /p>\nPolycomProvisioning On\n</Location>",
     qr/Syntax OK/, 'a cache size passes'],
    ["PolycomCacheSize 5T",
     qr/PolycomCacheSize: "5T" is not Off or a size up to 4G/, 'cache size out of range'],
    ["<VirtualHost *:80>\nPolycomCacheSize 1M\n</VirtualHost>",
     qr/cannot occur within <VirtualHost> section/, 'cache size: main server only'],
    ["PolycomSharedCache 256M 2K\n<Location /p>\nPolycomProvisioning On\n</Location>",
     qr/Syntax OK/, 'a shared cache passes'],
    ["PolycomSharedCache 5T",
     qr/PolycomSharedCache: "5T" is not Off or a size from 64K to 4G/,
     'shared cache size out of range'],
    ["PolycomSharedCache 64M 100",
     qr/the slot size "100" is not a multiple of 8 from 512 to 64K/,
     'shared cache slot out of range'],
    ["<VirtualHost *:80>\nPolycomSharedCache 1M\n</VirtualHost>",
     qr/cannot occur within <VirtualHost> section/, 'shared cache: main server only'],
    ["PolycomCheckinWriter Off\n<Location /p>\nPolycomProvisioning On\n</Location>",
     qr/Syntax OK/, 'the check-in writer can be switched off'],
    ["<VirtualHost *:80>\nPolycomCheckinWriter Off\n</VirtualHost>",
     qr/cannot occur within <VirtualHost> section/, 'check-in writer: main server only'],
    ["PolycomCheckinQueue 100000\n<Location /p>\nPolycomProvisioning On\n</Location>",
     qr/Syntax OK/, 'a larger check-in queue'],
    ["PolycomCheckinQueue 8\n",
     qr/PolycomCheckinQueue: "8" is not a whole number from 16 to 1000000/,
     'check-in queue too small'],
    ["PolycomCheckinQueue lots\n",
     qr/PolycomCheckinQueue: "lots" is not a whole number/, 'check-in queue not a number'],
    ["<VirtualHost *:80>\nPolycomCheckinQueue 64\n</VirtualHost>",
     qr/cannot occur within <VirtualHost> section/, 'check-in queue: main server only'],
    ["PolycomCheckinRetention 400d\nPolycomCheckinRetention 12h\n"
     . "PolycomCheckinRetention 90\nPolycomCheckinRetention Off\n",
     qr/Syntax OK/, 'check-in retention: days, hours, plain days, Off'],
    (map { ["PolycomCheckinRetention $_\n",
            qr/PolycomCheckinRetention: "\Q$_\E" is not Off or an age of at most 3650 days/,
            "check-in retention refuses $_"] }
         '-5', 'lots', '5w', '3m', '10dd', '3651', '87601h',
         '99999999999999999999'),
    ["<VirtualHost *:80>\nPolycomCheckinRetention 30\n</VirtualHost>",
     qr/cannot occur within <VirtualHost> section/, 'check-in retention: main server only'],
    ["<Location /p>\nPolycomSipTimerT1 100\n</Location>",
     qr/PolycomSipTimerT1 not allowed in <Location> context/,
     'SIP T1 is per server (the resync worker is): refused in <Location>'],
    ["<VirtualHost *:80>\nPolycomSipTimerT1 100\n</VirtualHost>",
     qr/Syntax OK/, 'SIP T1 in a virtual host passes'],
    ["PolycomSipTimerT1 0\n",
     qr/is not a whole number from 1 to 100000/, 'SIP T1 must be positive'],
    ["PolycomResyncProxy sip.example.com:5070 tcp example.com\n",
     qr/Syntax OK/, 'a registrar proxy over TCP with a domain'],
    ["PolycomResyncProxy sip.example.com sctp\n",
     qr/PolycomResyncProxy: transport "sctp" is not udp, tcp or tls/, 'proxy transport checked'],
    ["PolycomResyncProxy sip.example.com tls\nPolycomResyncTLSCA $ssl/ca.crt\n",
     qr/Syntax OK/, 'a registrar proxy over TLS with its CA'],
    ["PolycomResyncTLSCA $ssl/no-such-ca.crt\n",
     qr/PolycomResyncTLSCA: cannot read \S*no-such-ca\.crt/, 'TLS CA: a missing file refused'],
    ["PolycomResyncTLSCA $ssl/ca.key\n",
     qr/PolycomResyncTLSCA: \S*ca\.key holds no PEM certificate/,
     'TLS CA: a file without a certificate refused'],
    ["<Location /p>\nPolycomResyncTLSCA $ssl/ca.crt\n</Location>",
     qr/PolycomResyncTLSCA not allowed in <Location> context/, 'TLS CA: server config only'],
    ["PolycomResyncProxy sip.example.com:99999\n",
     qr/PolycomResyncProxy: "sip.example.com:99999" is not host or host:port/, 'proxy port checked'],
    ["<Location /p>\nPolycomResyncProxy 127.0.0.1\n</Location>",
     qr/PolycomResyncProxy not allowed in <Location> context/, 'proxy: server config only'],
    ["PolycomResyncRegistrar sqlite3 /tmp/x.db \"SELECT contact FROM location WHERE username = %s\"\n",
     qr/Syntax OK/, 'a registrar query'],
    ["PolycomResyncRegistrar sqlite3 /tmp/x.db \"DELETE FROM location\"\n",
     qr/PolycomResyncRegistrar: the query must be a SELECT with %s/, 'the query must be a SELECT with %s'],
    ["<Location /p>\nPolycomUploads perhaps\n</Location>",
     qr/PolycomUploads must be On or Off/, 'uploads flag needs On or Off'],
    ["NO_DBD<Location /p>\nPolycomProvisioning On\n</Location>",
     qr/mod_dbd must be loaded first/, 'mod_dbd missing'],
);
plan tests => scalar @cases;

for my $case (@cases) {
    my ($body, $want, $name) = @$case;
    my $pre = $base;
    $pre = $mpm if $body =~ s/^NO_DBD//;
    my ($fh, $file) = tempfile(SUFFIX => '.conf', UNLINK => 1);
    print $fh $pre, qq{LoadModule polycom_module "$so"\n}, $body, "\n";
    close $fh;
    my $out = `$httpd -t -f $file 2>&1`;
    like($out, $want, $name);
}
