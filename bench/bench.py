#!/usr/bin/env python3
"""make bench: the module against static files of the same bytes, in one
httpd, driven by wrk in interleaved rounds; ratios to the static file.

Environment: BENCH_PHONES ("1000 100000"), BENCH_SECONDS (5), BENCH_ROUNDS
(3), BENCH_MPM (event), BENCH_STORM (2000 phones), BENCH_PORT (8090),
BENCH_MEMORY (1000000 requests for the memory check, on each fleet;
0: none), BENCH_PRAGMAS (SQL run first on each SQLite connection, for
experiments: "PRAGMA wal_autocheckpoint=0; ", say).
"""
import http.client
import os
import random
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from statistics import median

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = int(os.environ.get('BENCH_PORT', '8090'))
SECONDS = int(os.environ.get('BENCH_SECONDS', '5'))
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
MPM = os.environ.get('BENCH_MPM', 'event')
STORM = int(os.environ.get('BENCH_STORM', '2000'))
MEMORY = int(os.environ.get('BENCH_MEMORY', '1000000'))
FLEETS = [int(n) for n in os.environ.get('BENCH_PHONES', '1000 100000').split()]
SAMPLE = 10000          # phones whose files are written as static files
STATUSES = {}
UA = 'FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Application'

TARGETS = [
    # name, path (%s = MAC), method, which MACs
    ('static file (reference)', '/%s-settings.cfg', 'GET', 'known'),
    ('config, check-ins on', '/prov/%s-settings.cfg', 'GET', 'known'),
    ('config, check-ins off', '/prov/nocheckin/%s-settings.cfg', 'GET', 'known'),
    ('master <mac>.cfg, check-ins on', '/prov/%s.cfg', 'GET', 'known'),
    ('404 unknown MAC', '/prov/%s.cfg', 'GET', 'unknown'),
    ('PUT -app.log', '/prov/%s-app.log', 'PUT', 'known'),
]


def mac(n, oui='0004f2'):
    return '%s%06x' % (oui, n)


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def seed(directory, phones):
    db = os.path.join(directory, 'polycom.db')
    sh('sqlite3', db, '.read %s/sql/sqlite.sql' % TOP,
       stdout=subprocess.DEVNULL)
    sql = """
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
    INSERT INTO phones (mac, model, site, label)
      SELECT printf('0004f2%%06x', i), 'VVX411', 'site' || (i %% 20),
             'Phone ' || i FROM n;
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
    INSERT INTO params (scope, scope_key, name, value)
      SELECT 'phone', printf('0004f2%%06x', i), p.name, p.value || i
      FROM n, (SELECT 'reg.1.address' AS name, '1' AS value
               UNION ALL SELECT 'reg.1.auth.userId', 'u'
               UNION ALL SELECT 'reg.1.auth.password', 'secret-'
               UNION ALL SELECT 'reg.1.label', 'Line ') p;
    INSERT INTO params VALUES
      ('global', '', 'tcpIpApp.sntp.address', 'pool.ntp.org'),
      ('global', '', 'voIpProt.server.1.address', 'pbx.example.net'),
      ('global', '', 'prov.polling.enabled', '1'),
      ('model', 'VVX411', 'up.backlight.idleIntensity', '1');
    """ % (phones - 1, phones - 1)
    for site in range(20):
        sql += ("INSERT INTO params VALUES ('site', 'site%d', "
                "'tcpIpApp.sntp.gmtOffset', '%d');\n" % (site, site * 60))
    sh('sqlite3', db, input=sql.encode())
    return db


def write_conf(directory, mpm):
    text = open(os.path.join(TOP, 'bench', 'httpd.conf.in')).read()
    text = (text.replace('@DIR@', directory).replace('@PORT@', str(PORT))
            .replace('@MPM@', mpm)
            .replace('PRAGMA busy_timeout',
                     os.environ.get('BENCH_PRAGMAS', '') + 'PRAGMA busy_timeout')
            .replace('@MODULE@', os.path.join(TOP, '.libs', 'mod_polycom.so')))
    conf = os.path.join(directory, 'httpd.conf')
    open(conf, 'w').write(text)
    return conf


def httpd(conf, action):
    sh('/usr/sbin/apache2', '-f', conf, '-k', action)


def wait_port(up=True):
    for _ in range(200):
        try:
            socket.create_connection(('127.0.0.1', PORT), 0.2).close()
            if up:
                return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise SystemExit('bench: httpd did not %s' % ('start' if up else 'stop'))


def httpd_pids(directory):
    master = int(open(os.path.join(directory, 'httpd.pid')).read())
    pids = [master]
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                stat = open('/proc/%s/stat' % entry).read().split()
                if int(stat[3]) == master:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def writer_pid(directory):
    """The check-in writer's pid, from its PC00037 line; None if none."""
    pid = None
    for line in open(os.path.join(directory, 'error_log')):
        if 'PC00037' in line:
            pid = int(line.split('(pid ')[1].split(')')[0])
    return pid


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            stat = open('/proc/%d/stat' % pid).read().split()
            total += int(stat[13]) + int(stat[14])
        except OSError:
            pass
    return total / os.sysconf('SC_CLK_TCK')


def rss_kib(pids):
    sizes = []
    for pid in pids[1:]:
        try:
            for line in open('/proc/%d/status' % pid):
                if line.startswith('VmRSS:'):
                    sizes.append(int(line.split()[1]))
        except OSError:
            pass
    return max(sizes) if sizes else 0


def child_rss(pids):
    """{pid: resident KiB} of each child."""
    sizes = {}
    for pid in pids[1:]:
        try:
            for line in open('/proc/%d/status' % pid):
                if line.startswith('VmRSS:'):
                    sizes[pid] = int(line.split()[1])
        except OSError:
            pass
    return sizes


def memory_check(directory, requests):
    """A million requests (config, check-ins on, keep-alive) after every
    round has warmed the children up, in runs of 5 s with each child's
    resident size read after each. A child's size moves a few MB up and
    down between two readings (malloc arenas, the check-in queue), so
    growth compares the largest size of the second half of the readings
    with the largest of the first half: a leak raises it, noise does not.
    The first and last readings are printed too."""
    samples = [child_rss(httpd_pids(directory))]
    made = 0
    while made < requests:
        made += run_wrk(directory, '/prov/%s-settings.cfg', 'GET',
                        os.path.join(directory, 'known'), False)['requests']
        samples.append(child_rss(httpd_pids(directory)))
    writer = writer_pid(directory)
    half = len(samples) // 2
    report, growth = [], []
    for pid in sorted(samples[0]):
        sizes = [s[pid] for s in samples if pid in s]
        if len(sizes) != len(samples):
            continue                    # a child that exited meanwhile
        first, second = max(sizes[:half]), max(sizes[half:])
        growth.append(100.0 * (second - first) / first)
        report.append('%s%d -> %d (peaks %d, %d)'
                      % ('writer ' if pid == writer else '', sizes[0],
                         sizes[-1], first, second))
    print('memory: %d requests (config, check-ins on, keep-alive) after the '
          'rounds, %d readings; each child\'s RSS first -> last (largest in '
          'the first half, in the second half): %s KiB; largest growth of '
          'the peak %+.1f %% (target: under 5 %%)'
          % (made, len(samples), ', '.join(report),
             max(growth) if growth else float('nan')))


def fetch_static(directory, macs):
    static = os.path.join(directory, 'static')
    os.makedirs(static, exist_ok=True)
    conn = http.client.HTTPConnection('127.0.0.1', PORT, timeout=30)
    for m in macs:
        conn.request('GET', '/prov/nocheckin/%s-settings.cfg' % m,
                     headers={'User-Agent': UA})
        res = conn.getresponse()
        body = res.read()
        if res.status != 200:
            raise SystemExit('bench: %s: %d' % (m, res.status))
        open(os.path.join(static, '%s-settings.cfg' % m), 'wb').write(body)


def run_wrk(directory, path, method, macs_file, close):
    env = dict(os.environ, BENCH_MACS=macs_file, BENCH_PATH=path,
               BENCH_METHOD=method, BENCH_CLOSE='1' if close else '0')
    pids = httpd_pids(directory)
    before = cpu_seconds(pids)
    out = subprocess.run(
        ['wrk', '-t2', '-c32', '-d%ds' % SECONDS, '--latency', '-s',
         os.path.join(TOP, 'bench', 'request.lua'),
         'http://127.0.0.1:%d' % PORT],
        env=env, check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(httpd_pids(directory)) - before
    line = [l for l in out.splitlines() if l.startswith('RESULT')][0].split()
    requests, duration_us = int(line[1]), int(line[2])
    return {'rps': requests / (duration_us / 1e6), 'p50': int(line[3]),
            'p99': int(line[4]), 'errors': int(line[5]) if '404' not in path
            and 'unknown' not in macs_file else 0,
            'cpu_us': cpu * 1e6 / max(requests, 1), 'requests': requests}


def count_checkins(db):
    out = subprocess.run(['sqlite3', '-cmd', '.timeout 5000', db,
                          'SELECT count(*) FROM checkins'],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def boot_storm(db, macs, phones):
    """Every phone boots at once and runs REFERENCE.md 1.3's sequence."""
    def one(m):
        conn = http.client.HTTPConnection('127.0.0.1', PORT, timeout=60)
        seq = [('PUT', '/prov/%s-boot.log' % m, b'boot log\n'),
               ('GET', '/prov/%s.cfg' % m, None),
               ('GET', '/prov/%s-settings.cfg' % m, None),
               ('GET', '/prov/%s-phone.cfg' % m, None),
               ('GET', '/prov/%s-web.cfg' % m, None),
               ('GET', '/prov/%s-license.cfg' % m, None),
               ('GET', '/prov/%s-calls.xml' % m, None),
               ('GET', '/prov/%s-directory.xml' % m, None),
               ('GET', '/prov/000000000000-directory.xml', None),
               ('PUT', '/prov/%s-app.log' % m, b'app log\n')]
        errors = 0
        for method, path, body in seq:
            # A keep-alive connection the server closed while idle is
            # retried once on a new one, as any HTTP client (and phone) does.
            for attempt in (1, 2):
                try:
                    conn.request(method, path, body=body,
                                 headers={'User-Agent': UA})
                    res = conn.getresponse()
                    res.read()
                    if res.status >= 500:
                        errors += 1
                        STATUSES[res.status] = STATUSES.get(res.status, 0) + 1
                    break
                except (OSError, http.client.HTTPException) as e:
                    conn.close()
                    conn = http.client.HTTPConnection('127.0.0.1', PORT,
                                                      timeout=60)
                    if attempt == 2:
                        errors += 1
                        name = type(e).__name__
                        STATUSES[name] = STATUSES.get(name, 0) + 1
        conn.close()
        return len(seq), errors

    time.sleep(1)               # let the last batches of the runs land
    before = count_checkins(db)
    start = time.time()
    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(one, macs[:phones]))
    elapsed = time.time() - start
    requests = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    time.sleep(1)
    rows = count_checkins(db) - before
    return elapsed, requests, errors, rows


def bench_fleet(phones):
    directory = '/tmp/mod_polycom-bench-%d' % phones
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(os.path.join(directory, 'static'))
    t0 = time.time()
    db = seed(directory, phones)
    conf = write_conf(directory, MPM)
    if os.geteuid() == 0:
        shutil.chown(directory, 'www-data', 'www-data')
        for f in os.listdir(directory):
            shutil.chown(os.path.join(directory, f), 'www-data', 'www-data')
    httpd(conf, 'start')
    wait_port()
    known = random.sample(range(phones), min(phones, SAMPLE))
    macs = [mac(n) for n in known]
    fetch_static(directory, macs)
    open(os.path.join(directory, 'known'), 'w').write('\n'.join(macs) + '\n')
    open(os.path.join(directory, 'unknown'), 'w').write(
        '\n'.join(mac(n, '0004f3') for n in range(SAMPLE)) + '\n')
    print('\n== %d phones (seeded and static files written in %.0f s; '
          '%s MPM; wrk -t2 -c32, %d s per run, %d interleaved rounds) =='
          % (phones, time.time() - t0, MPM, SECONDS, ROUNDS))
    rss_start = None
    summary = {}
    for close in (False, True):
        model = 'new connection per request' if close else 'keep-alive'
        results = {t[0]: [] for t in TARGETS}
        for _ in range(ROUNDS):
            for name, path, method, which in TARGETS:
                results[name].append(run_wrk(
                    directory, path, method,
                    os.path.join(directory, which), close))
            if rss_start is None:       # after one warm-up round
                rss_start = rss_kib(httpd_pids(directory))
        ref = results[TARGETS[0][0]]
        print('\n%s' % model)
        print('%-32s %9s %7s %8s %8s %9s %9s %7s' % (
            'target', 'req/s', 'ratio', 'p50 us', 'p99 us', 'p99 ratio',
            'cpu us/req', 'errors'))
        for name, _, _, _ in TARGETS:
            runs = results[name]
            rps = sum(r['rps'] for r in runs) / len(runs)
            ratio = sum(r['rps'] / f['rps'] for r, f in zip(runs, ref)) / len(runs)
            cpu = sum(r['cpu_us'] for r in runs) / len(runs)
            summary[(name, close)] = (ratio, cpu)
            # Latencies: the median of the rounds, as one scheduling
            # hiccup on a small VM moves a single run's p99 by 2-3x; the
            # p99 ratio is to the static file's median p99.
            p99 = median([r['p99'] for r in runs])
            print('%-32s %9.0f %7.2f %8.0f %8.0f %9.2f %9.0f %7d' % (
                name, rps, ratio, median([r['p50'] for r in runs]), p99,
                p99 / median([f['p99'] for f in ref]), cpu,
                sum(r['errors'] for r in runs)))
    rss_end = rss_kib(httpd_pids(directory))
    wal = db + '-wal'
    print('\nSQLite WAL file: %.1f MB (its high-water mark: the check-in '
          'writer checkpoints it four times a second)'
          % (os.path.getsize(wal) / 1e6 if os.path.exists(wal) else 0))

    total = sum(sum(r['requests'] for r in runs) for runs in results.values())
    print('\nchild RSS (largest child): %d KiB after the first round, %d KiB '
          'at the end (%+.1f %%; the last model alone made %d requests)'
          % (rss_start, rss_end, 100.0 * (rss_end - rss_start) / rss_start,
             total))
    if MEMORY:
        memory_check(directory, MEMORY)
    if STORM and phones >= STORM:
        elapsed, requests, errors, rows = boot_storm(db, macs, STORM)
        print('boot storm: %d phones, %d requests in %.1f s, %d errors, '
              '%d check-in rows for %d requests (%s)'
              % (STORM, requests, elapsed, errors, rows, requests,
                 'none lost' if rows == requests else 'LOST %d' % (requests - rows)))
        if STATUSES:
            print('boot storm errors: %s' % STATUSES)
    httpd(conf, 'stop')
    wait_port(up=False)
    if not os.environ.get('BENCH_KEEP'):
        shutil.rmtree(directory, ignore_errors=True)
    return summary


def print_growth(summaries):
    """Each target's cost at every fleet size, side by side."""
    print('\n== growth: ratio to static / httpd CPU us per request, by fleet '
          'size ==')
    for close in (False, True):
        print('\n%s' % ('new connection per request' if close
                        else 'keep-alive'))
        print('%-32s' % 'target' + ''.join(
            '%18s' % ('%d phones' % phones) for phones, _ in summaries))
        for name, _, _, _ in TARGETS:
            print('%-32s' % name + ''.join(
                '%18s' % ('%.2f / %.0f' % summary[(name, close)])
                for _, summary in summaries))


def main():
    if not shutil.which('wrk'):
        raise SystemExit('bench: wrk is missing (tools/deps.sh bench)')
    summaries = [(phones, bench_fleet(phones)) for phones in FLEETS]
    if len(summaries) > 1:
        print_growth(summaries)


if __name__ == '__main__':
    main()
