-- A demo fleet for `make run` (SQLite), beside sql/demo.sql's three
-- phones, so that the console's pictures mean something: 360 phones at
-- five sites, five models each half-way through a firmware upgrade, most
-- seen within the hour, some stale for days, some never seen, a few
-- disabled; a week of check-ins with a working day's shape; a dozen
-- discovered MACs waiting to be adopted. Times are relative to now.
-- Not for the tests (t/TEST loads sql/demo.sql only).

CREATE TEMP TABLE demo_now AS
    SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000000 AS us;
CREATE TEMP TABLE demo_models (n INTEGER PRIMARY KEY, model TEXT,
                               old_fw TEXT, new_fw TEXT);
INSERT INTO demo_models VALUES
    (0, 'VVX411',   '6.4.3.1234', '6.4.6.2201'),
    (1, 'VVX601',   '6.4.3.1234', '6.4.6.2201'),
    (2, 'VVX250',   '6.3.1.8427', '6.4.6.2201'),
    (3, 'Trio8800', '7.2.2.1094', '7.2.4.0271'),
    (4, 'SPIP330',  '3.2.7.0198', '3.3.5.0247');

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 359)
INSERT OR IGNORE INTO phones (mac, model, site, label, enabled, created_us)
SELECT printf('0004f2d%05x', i), m.model,
       CASE i % 5 WHEN 0 THEN 'hq' WHEN 1 THEN 'branch' WHEN 2 THEN 'warehouse'
                  WHEN 3 THEN 'lab' ELSE 'remote' END,
       printf('%s %d', CASE i % 4 WHEN 0 THEN 'Desk' WHEN 1 THEN 'Office'
                                  WHEN 2 THEN 'Meeting room' ELSE 'Lobby' END, i),
       CASE WHEN i % 41 = 7 THEN 0 ELSE 1 END, (SELECT us FROM demo_now)
FROM n JOIN demo_models m ON m.n = (i * 7 / 3) % 5;

-- Every 19th never seen; every 11th stale (2 to 10 days); the rest within
-- the hour. Two thirds run the new firmware.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 359)
INSERT OR IGNORE INTO last_seen (mac, time_us, ip, file, status, model,
                                 firmware, settings_etag, settings_us)
SELECT printf('0004f2d%05x', i),
       (SELECT us FROM demo_now) - CASE WHEN i % 11 = 3
           THEN (2 + i % 9) * 86400000000 ELSE (i % 50) * 60000000 END,
       printf('10.%d.%d.%d', i % 5, i / 200, 10 + i % 200),
       printf('0004f2d%05x.cfg', i), 200, m.model,
       CASE WHEN i % 3 = 0 THEN m.old_fw ELSE m.new_fw END, '', 0
FROM n JOIN demo_models m ON m.n = (i * 7 / 3) % 5
WHERE i % 19 <> 5;

-- A week of check-ins, more during the working day (UTC 8-18).
WITH RECURSIVE h(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM h WHERE k < 167),
     p(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM p WHERE j < 39)
INSERT INTO checkins (time_us, mac, ip, method, file, status, bytes, model,
                      firmware)
SELECT (SELECT us FROM demo_now) - (167 - k) * 3600000000 + j * 60000000,
       printf('0004f2d%05x', (k * 13 + j * 7) % 360), '10.0.0.1', 'GET',
       printf('0004f2d%05x-settings.cfg', (k * 13 + j * 7) % 360), 200, 900,
       'VVX411', '6.4.6.2201'
FROM h JOIN p
WHERE j < CASE WHEN ((SELECT us FROM demo_now) / 3600000000 - (167 - k)) % 24
                    BETWEEN 8 AND 18 THEN 40 ELSE 12 END
ORDER BY 1;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 11)
INSERT OR IGNORE INTO discovered (mac, first_seen_us, last_seen_us, last_ip,
                                  model, firmware, requests)
SELECT printf('0004f2e%05x', i), (SELECT us FROM demo_now) - 86400000000,
       (SELECT us FROM demo_now) - i * 600000000, printf('10.9.0.%d', 20 + i),
       CASE i % 3 WHEN 0 THEN 'VVX411' WHEN 1 THEN 'VVX250' ELSE 'Trio8800' END,
       '6.4.6.2201', 3 + i
FROM n;

DROP TABLE demo_models;
DROP TABLE demo_now;
