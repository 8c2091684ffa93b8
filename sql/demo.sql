-- Demo fleet for `make run`: one phone of each generation.
--   0004f2a1b330  SoundPoint IP 330, SIP 3.x (pinned to sip_335.ld)
--   0004f2e62aa4  VVX 411, UCS 5.9
--   64167f0a8800  RealPresence Trio 8800
INSERT INTO phones (mac, model, site, label) VALUES
    ('0004f2a1b330', 'SPIP330',  'hq',     'Reception'),
    ('0004f2e62aa4', 'VVX411',   'hq',     'Sales desk'),
    ('64167f0a8800', 'Trio8800', 'branch', 'Board room');

INSERT INTO params (scope, scope_key, name, value) VALUES
    ('global', '', 'tcpIpApp.sntp.address', 'pool.ntp.org'),
    ('global', '', 'tcpIpApp.sntp.gmtOffset', '0'),
    ('global', '', 'voIpProt.server.1.address', 'pbx.example.net'),
    ('global', '', 'voIpProt.server.1.port', '5060'),
    ('global', '', 'prov.polling.enabled', '1'),
    ('global', '', 'prov.polling.time', '03:00'),
    ('global', '', 'device.auth.localAdminPassword', 'demo-admin-4567'),
    ('site', 'hq',     'tcpIpApp.sntp.gmtOffset', '3600'),
    ('site', 'branch', 'voIpProt.server.1.address', 'branch-pbx.example.net'),
    ('model', 'VVX411', 'up.backlight.idleIntensity', '1'),
    ('model', 'SPIP330', 'up.backlight.idleIntensity', '2'),
    ('phone', '0004f2a1b330', 'reg.1.address', '1001'),
    ('phone', '0004f2a1b330', 'reg.1.label', 'Reception'),
    ('phone', '0004f2a1b330', 'reg.1.auth.userId', '1001'),
    ('phone', '0004f2a1b330', 'reg.1.auth.password', 'demo-secret-1001'),
    ('phone', '0004f2e62aa4', 'reg.1.address', '1002'),
    ('phone', '0004f2e62aa4', 'reg.1.label', 'Sales & Support'),
    ('phone', '0004f2e62aa4', 'reg.1.displayName', 'Zoë "Sales" <Desk>'),
    ('phone', '0004f2e62aa4', 'reg.1.auth.userId', '1002'),
    ('phone', '0004f2e62aa4', 'reg.1.auth.password', 'demo-secret-1002'),
    ('phone', '64167f0a8800', 'reg.1.address', '1003'),
    ('phone', '64167f0a8800', 'reg.1.label', 'Board room'),
    ('phone', '64167f0a8800', 'reg.1.auth.userId', '1003'),
    ('phone', '64167f0a8800', 'reg.1.auth.password', 'demo-secret-1003');
