#!/usr/bin/env python3
"""make bench: the module against static files of the same bytes, in one
httpd, driven by wrk in interleaved rounds, at several fleet sizes.

Every request is for a phone drawn uniformly at random from the whole fleet,
as a server of a real fleet sees them: every phone polls, and the next
request is from any of them. The static reference serves every phone of the
fleet its own master and settings as files (and takes the logs phones PUT
through mod_dav), byte for byte what the module renders.

Environment:
  BENCH_PHONES   fleet sizes ("1000 100000"; add 1000000 for a million)
  BENCH_SECONDS  seconds per wrk run (5)
  BENCH_ROUNDS   interleaved rounds (3)
  BENCH_MPM      event or prefork (event)
  BENCH_STORM    phones of one site booting at once, on each fleet of at
                 least ten times as many phones (10000; 0: none)
  BENCH_STORM_CONNECTIONS  phones of the storm talking at once (256)
  BENCH_MEMORY   requests of the memory check on each fleet (1000000; 0: none)
  BENCH_SAMPLE   0: requests drawn from the whole fleet; N: from a sample of
                 N phones spread over it, the cold walk's too (labelled as a
                 sample: a per-child cache holds a sample more easily than a
                 fleet)
  BENCH_EXTRA    1: also a config without check-ins, a 404 for an unknown
                 MAC and a PUT of a log (each against its static counterpart)
  BENCH_PORT     (8090)
  BENCH_KEEP     1: keep /tmp/mod_polycom-bench-<phones> afterwards
  BENCH_SHARED_CACHE  0: no PolycomSharedCache (the children's own caches
                 only); default: one sized for the whole fleet
  BENCH_PRAGMAS  SQL run first on each SQLite connection, for experiments
  BENCH_PACED    share of the static file's rate at which latency is judged
                 (0.5: every target is run again, each connection pausing
                 between requests so that the server is asked at half the
                 rate the static file was served at, and p99 is judged on
                 those runs; 0: no paced runs, p99 judged as fast as it
                 answers)
"""
import asyncio
import contextlib
import os
import random
import resource
import shutil
import socket
import subprocess
import threading
import time
from statistics import median

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT = int(os.environ.get('BENCH_PORT', '8090'))
SECONDS = int(os.environ.get('BENCH_SECONDS', '5'))
ROUNDS = int(os.environ.get('BENCH_ROUNDS', '3'))
MPM = os.environ.get('BENCH_MPM', 'event')
STORM = int(os.environ.get('BENCH_STORM', '10000'))
STORM_CONNECTIONS = int(os.environ.get('BENCH_STORM_CONNECTIONS', '256'))
MEMORY = int(os.environ.get('BENCH_MEMORY', '1000000'))
SAMPLE = int(os.environ.get('BENCH_SAMPLE', '0'))
EXTRA = os.environ.get('BENCH_EXTRA', '') not in ('', '0')
FLEETS = [int(n) for n in os.environ.get('BENCH_PHONES', '1000 100000').split()]
# A fleet asks at its own rate, below what the server can serve: the
# latency a phone meets is the one at such a rate. As fast as the server
# answers, on a small machine whose load generator shares its two cores,
# p99 is the scheduler's: a static file's ranged from 8 to 91 ms over eight
# runs of the same work there, with stalls of 100 ms seen by an unrelated
# process. So latency is judged at a set share of the static file's rate.
PACED = float(os.environ.get('BENCH_PACED', '0.5'))
CONNECTIONS = 32
# A paced run keeps the CONNECTIONS of the others, so that no child of
# the bench's two is ever asked for more than its 32 threads at once (with
# 55-59 connections bursts did, and the event MPM then closed idle
# keep-alive connections: wrk's read errors, static and module alike). Its
# rate is set by the pause after each answer, which wrk counts in whole ms:
# request.lua dithers it (a pause of 1.8 ms is 1 ms one time in five, 2
# the others), since 32 connections pausing a whole 1 or 2 ms asked at
# 50-76 % of the rate instead of 50 %. A connection's turn is its pause,
# the answer and wrk's timer slack: PACE_SLACK_MS more than the pause
# (0.9-1.2 ms with keep-alive, about 2 with a new connection, in trials).
PACE_SLACK_MS = {False: 1.0, True: 2.0}
OUI = '0004f2'
UNKNOWN_OUI = '0004f3'
UA = 'FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Application'
UA_UPDATER = 'FileTransport PolycomVVX-VVX_411-UA/5.9.5.0614 Type/Updater'
SITES = 20
# wrk's threads: request.lua's walk is shared out among them by number.
THREADS = 2
# A walk's figure is a first poll's only while few of its requests asked a
# phone again; past this share it is printed but not judged.
REPEATS_JUDGED = 0.1

# The files a VVX asks for at boot, in order (docs: REFERENCE.md 1.3, the
# master's CONFIG_FILES, here <mac>-settings.cfg, right after the master):
# method, path ({p} the prefix, %s the MAC), the statuses it may get.
# The firmware image is left out: it is a static file in both setups.
BOOT = [
    ('PUT', '{p}/%s-boot.log', (201, 204)),
    ('GET', '{p}/%s.cfg', (200,)),
    ('GET', '{p}/%s-settings.cfg', (200,)),
    ('GET', '{p}/%s-phone.cfg', (404,)),
    ('GET', '{p}/%s-web.cfg', (404,)),
    ('GET', '{p}/000000000000-license.cfg', (404,)),
    ('GET', '{p}/%s-license.cfg', (404,)),
    ('GET', '{p}/%s-calls.xml', (404,)),
    ('GET', '{p}/%s-directory.xml', (404,)),
    ('GET', '{p}/000000000000-directory.xml', (404,)),
    ('HEAD', '{p}/%s-app.log', (200, 404)),
    ('PUT', '{p}/%s-app.log', (201, 204)),
]
# wrk cannot read the answer to a HEAD (it waits for a body it never gets).
BOOT_WRK = ';'.join('%s %s' % (m, p) for m, p, _ in BOOT if m != 'HEAD')

# name, static steps, module steps (for request.lua), MAC prefix, 404s
# expected, checked against the targets.
#
# The first target is the fleet right after a change (an admin edits a
# global setting: every phone's settings the module has rendered are out of
# date, its master not): every phone's next poll, its master then its
# settings, each phone once, walked over the whole fleet (request.lua's
# BENCH_ORDER=walk), after every phone asked once (the fleet has been
# polling), with a change before each of the module's runs. The others are
# the fleet in between changes, each request for a phone drawn at random,
# measured after every phone has asked once since the last change (as a
# polling fleet has, minutes after a change): the steady state.
COLD = 'first poll after a change'
MASTER = ('master <mac>.cfg', 'GET {p}/%s.cfg', None, OUI, False, True)
SETTINGS = ('settings <mac>-settings.cfg', 'GET {p}/%s-settings.cfg', None,
            OUI, False, True)
# The fleet as it is in the field: the settings asked as in the steady
# state while one phone is edited each second with SQL (as a portal or an
# admin does). A fleet that polls each phone every few hours meets such a
# change before nearly every poll; each makes stale the files of the
# edited phone only (scope_revisions), and every child reads what moved
# once. Run after the steady state's rounds, since its edits leave some
# of the module's cache cold (before scope_revisions: all of it).
EDITED = 'settings, one edit a second'
EDIT_EVERY = 1.0
TARGETS = [
    (COLD, MASTER[1] + ';' + SETTINGS[1], None, OUI, False, True),
    MASTER,
    SETTINGS,
    ('boot sequence (11 requests)', BOOT_WRK, None, OUI, False, True),
    (EDITED, SETTINGS[1], None, OUI, False, True),
]
if EXTRA:
    TARGETS += [
        ('settings, check-ins off', 'GET {p}/%s-settings.cfg',
         'GET /prov/nocheckin/%s-settings.cfg', OUI, False, False),
        ('404 unknown MAC', 'GET {p}/%s.cfg', None, UNKNOWN_OUI, True, False),
        ('PUT <mac>-app.log', 'PUT {p}/%s-app.log', None, OUI, False, False),
    ]


def steps(target, module):
    _, static, mod, _, _, _ = target
    if module and mod:
        return mod
    return static.replace('{p}', '/prov' if module else '')


def mac(n, oui=OUI):
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
      SELECT printf('0004f2%%06x', i), 'VVX411', 'site' || (i %% %d),
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
    """ % (phones - 1, SITES, phones - 1)
    for site in range(SITES):
        sql += ("INSERT INTO params VALUES ('site', 'site%d', "
                "'tcpIpApp.sntp.gmtOffset', '%d');\n" % (site, site * 60))
    sh('sqlite3', db, input=sql.encode())
    return db


# The values seed() gives phone i, as attributes of its settings: the
# attribute, its placeholder, the value.
def phone_values(i):
    return [('reg.1.address', 'address', '1%d' % i),
            ('reg.1.auth.userId', 'user', 'u%d' % i),
            ('reg.1.auth.password', 'password', 'secret-%d' % i),
            ('reg.1.label', 'label', 'Line %d' % i)]


def shared_cache(phones):
    """PolycomSharedCache sized for the whole fleet: two files a phone in
    1 KB slots, at most half of the slots used (about 1 % of the files
    then find no slot: docs/directives.md)."""
    if os.environ.get('BENCH_SHARED_CACHE', '1') == '0':
        return 'PolycomSharedCache Off'
    megabytes = max(64, min(4095, phones * 4 // 1024))
    return 'PolycomSharedCache %dM 1K' % megabytes


def write_conf(directory, mpm, phones):
    text = open(os.path.join(TOP, 'bench', 'httpd.conf.in')).read()
    text = (text.replace('@DIR@', directory).replace('@PORT@', str(PORT))
            .replace('@SHARED_CACHE@', shared_cache(phones))
            .replace('@MPM@', mpm)
            .replace('PRAGMA busy_timeout',
                     os.environ.get('BENCH_PRAGMAS', '') + 'PRAGMA busy_timeout')
            .replace('@MODULE@', os.path.join(TOP, '.libs', 'mod_polycom.so')))
    conf = os.path.join(directory, 'httpd.conf')
    open(conf, 'w').write(text)
    return conf


# BENCH_HTTPD=tools/asan-httpd.sh runs a module built with
# SANITIZE=address,undefined under the sanitizers' runtimes (reports in
# /tmp/asan.* and /tmp/ubsan.*): races that a test's load never meets.
HTTPD = os.path.abspath(os.environ.get('BENCH_HTTPD', '/usr/sbin/apache2'))


def httpd(conf, action):
    sh(HTTPD, '-f', conf, '-k', action)


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
    """User and system time of httpd's processes (the check-in writer is
    one of them), and of those that exited: the parent (pids[0]) reaps
    them, and their time moves into its children's time (cutime, cstime).
    Without it a child that exits during a run takes its time with it,
    and a run's figure can even come out below zero."""
    total = 0
    for pid in pids:
        try:
            stat = open('/proc/%d/stat' % pid).read().split()
            total += int(stat[13]) + int(stat[14])
            if pid == pids[0]:
                total += int(stat[15]) + int(stat[16])
        except OSError:
            pass
    return total / os.sysconf('SC_CLK_TCK')


def crashes(directory):
    """httpd's lines about a process that ended by a signal (a crash: the
    bench never signals a child itself)."""
    return [line.rstrip() for line in
            open(os.path.join(directory, 'error_log'), errors='replace')
            if 'exit signal' in line]


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


# -- A small HTTP/1.1 client on asyncio: for the static files' check, the
# -- boot storm, and fetching every phone's files when they cannot be
# -- rendered here.

class Client:
    def __init__(self):
        self.reader = self.writer = None

    async def close(self):
        if self.writer:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def request(self, method, path, body=None, ua=UA):
        """(status, body); one retry on a new connection when a kept-alive
        one turns out closed, as any HTTP client (and phone) does."""
        for attempt in (1, 2):
            fresh = self.writer is None
            try:
                if fresh:
                    self.reader, self.writer = await asyncio.wait_for(
                        asyncio.open_connection('127.0.0.1', PORT), 60)
                return await asyncio.wait_for(
                    self._exchange(method, path, body, ua), 60)
            except (OSError, asyncio.IncompleteReadError, ValueError) as e:
                await self.close()
                if fresh or attempt == 2:
                    raise ConnectionError('%s %s: %s' % (
                        method, path, type(e).__name__)) from e

    async def _exchange(self, method, path, body, ua):
        head = '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: %s\r\n' % (
            method, path, ua)
        if body is not None:
            head += 'Content-Length: %d\r\n' % len(body)
        self.writer.write(head.encode() + b'\r\n' + (body or b''))
        await self.writer.drain()
        lines = (await self.reader.readuntil(b'\r\n\r\n')).decode(
            'latin-1').split('\r\n')
        status = int(lines[0].split()[1])
        fields = {}
        for line in lines[1:]:
            if ':' in line:
                name, value = line.split(':', 1)
                fields[name.strip().lower()] = value.strip()
        data = b''
        if method == 'HEAD' or status in (204, 304):
            pass
        elif 'content-length' in fields:
            data = await self.reader.readexactly(int(fields['content-length']))
        elif fields.get('transfer-encoding', '').lower() == 'chunked':
            while True:
                size = int((await self.reader.readline()).split(b';')[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if not size:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.read()
            fields['connection'] = 'close'
        if fields.get('connection', '').lower() == 'close':
            await self.close()
        return status, data


async def fetch_all(paths, connections=16, keep=True):
    """{path: body} of GETs, over a few kept-alive connections (keep=False:
    the statuses are checked, the bodies dropped)."""
    out = {}
    queue = list(paths)

    async def worker():
        client = Client()
        while queue:
            path = queue.pop()
            status, body = await client.request('GET', path)
            if status != 200:
                raise SystemExit('bench: GET %s: %d' % (path, status))
            if keep:
                out[path] = body
        await client.close()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return out


def templates():
    """For each site, the master and settings of its first phone with the
    phone's own values made placeholders; None when the module's output is
    not made of them (then the files are fetched instead)."""
    paths = {}
    for k in range(SITES):
        paths[k] = ('/prov/nocheckin/%s.cfg' % mac(k),
                    '/prov/nocheckin/%s-settings.cfg' % mac(k))
    bodies = asyncio.run(fetch_all([p for pair in paths.values()
                                    for p in pair]))
    out = []
    for k in range(SITES):
        made = []
        for path in paths[k]:
            text = bodies[path].decode('utf-8').replace('%', '%%')
            text = text.replace(mac(k), '%(mac)s')
            if path.endswith('-settings.cfg'):
                for name, key, value in phone_values(k):
                    whole = '%s="%s"' % (name, value)
                    if text.count(whole) != 1:
                        return None
                    text = text.replace(whole, '%s="%%(%s)s"' % (name, key))
            made.append(text)
        out.append(made)
    return out


def render(template, i):
    values = {key: value for _, key, value in phone_values(i)}
    values['mac'] = mac(i)
    return (template % values).encode('utf-8')


def write_static(directory, phones):
    """Every phone's master and settings as files, the bytes the module
    renders: from templates when its output is made of the seeded values
    (checked byte for byte on a sample of phones), else fetched one by one.
    Returns a sentence for the output."""
    static = os.path.join(directory, 'static')
    made = templates()
    t0 = time.time()
    if made:
        # os.open and os.write: a million phones are two million files, and
        # file objects would double the time of writing them.
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        for i in range(phones):
            master, settings = made[i % SITES]
            m = mac(i)
            for name, template in ((m + '.cfg', master),
                                   (m + '-settings.cfg', settings)):
                fd = os.open(os.path.join(static, name), flags, 0o644)
                os.write(fd, render(template, i))
                os.close(fd)
        check = random.sample(range(phones), min(phones, 1000))
        got = asyncio.run(fetch_all(
            ['/prov/nocheckin/%s%s' % (mac(i), suffix) for i in check
             for suffix in ('.cfg', '-settings.cfg')]))
        for path, body in got.items():
            name = os.path.join(static, path.rsplit('/', 1)[1])
            if open(name, 'rb').read() != body:
                raise SystemExit('bench: %s differs from the module\'s '
                                 'output' % name)
        how = ('rendered from the module\'s output for one phone of each '
               'site, %d phones checked byte for byte against the module'
               % len(check))
    else:
        for start in range(0, phones, 10000):
            batch = range(start, min(phones, start + 10000))
            got = asyncio.run(fetch_all(
                ['/prov/nocheckin/%s%s' % (mac(i), suffix) for i in batch
                 for suffix in ('.cfg', '-settings.cfg')]))
            for path, body in got.items():
                with open(os.path.join(static, path.rsplit('/', 1)[1]),
                          'wb') as f:
                    f.write(body)
        how = 'fetched from the module one by one'
    return ('static files: every phone\'s <mac>.cfg and <mac>-settings.cfg '
            '(%d files, %s, in %.0f s); the logs PUT to / are taken by '
            'mod_dav' % (2 * phones, how, time.time() - t0))


def run_wrk(directory, target, module, phones, close, pace=0):
    """pace: 0, as fast as the server answers; or ms, each connection
    pausing that long after each answer."""
    walk = target[0] == COLD
    env = dict(os.environ, BENCH_FLEET=str(phones), BENCH_OUI=target[3],
               BENCH_PACE_MS='%.2f' % pace,
               BENCH_SAMPLE=str(SAMPLE), BENCH_STEPS=steps(target, module),
               BENCH_CLOSE='1' if close else '0', BENCH_THREADS=str(THREADS),
               BENCH_ORDER='walk' if walk else 'random',
               BENCH_WALK_START=str(random.randrange(phones)))
    pids = httpd_pids(directory)
    before = cpu_seconds(pids)
    out = subprocess.run(
        ['wrk', '-t%d' % THREADS, '-c%d' % CONNECTIONS, '-d%ds' % SECONDS,
         '--latency', '-s',
         os.path.join(TOP, 'bench', 'request.lua'),
         'http://127.0.0.1:%d' % PORT],
        env=env, check=True, capture_output=True, text=True).stdout
    cpu = cpu_seconds(httpd_pids(directory)) - before
    line = [l for l in out.splitlines() if l.startswith('RESULT')][0].split()
    requests, duration_us = int(line[1]), int(line[2])
    # wrk's own words for errors (socket errors by kind, non-2xx counts):
    # a count alone does not say whether the server refused, stalled past
    # wrk's 2 s timeout or answered wrong
    said = [l.strip() for l in out.splitlines()
            if l.strip().startswith(('Socket errors', 'Non-2xx'))]
    errors = (0 if target[4] else int(line[5])) + int(line[6])
    if said and errors:
        print('  %s, %s: %s' % (target[0], 'module' if module else 'static',
                                '; '.join(said)))
    return {'rps': requests / (duration_us / 1e6), 'p50': int(line[3]),
            'p99': int(line[4]),
            'errors': errors,
            'cpu_us': cpu * 1e6 / max(requests, 1), 'requests': requests,
            # requests for a phone the walk had already asked (a fleet
            # smaller than a run): those were not the first after a change
            'repeated': int(line[7]) * len(target[1].split(';'))
                        / max(requests, 1) if walk else 0.0}


def change(db):
    """What an admin's change to a global setting does to the module's
    caches (the revision moves; every rendered file is out of date), made
    with SQL as an admin may: the value written is the one it had."""
    sh('sqlite3', '-cmd', '.timeout 10000', db,
       "UPDATE params SET value = value WHERE scope = 'global' "
       "AND name = 'prov.polling.enabled'")


@contextlib.contextmanager
def editing(db, phones):
    """One phone's parameter changed with SQL every EDIT_EVERY seconds, a
    phone drawn at random each time, while the block runs."""
    stop = threading.Event()

    def edit():
        n = 0
        while True:
            n += 1
            sh('sqlite3', '-cmd', '.timeout 10000', db,
               "INSERT INTO params (scope, scope_key, name, value) "
               "VALUES ('phone', '%s', 'bench.edited', '%d') "
               "ON CONFLICT (scope, scope_key, name) "
               "DO UPDATE SET value = excluded.value"
               % (mac(random.randrange(phones)), n))
            if stop.wait(EDIT_EVERY):
                return

    editor = threading.Thread(target=edit)
    editor.start()
    try:
        yield
    finally:
        stop.set()
        editor.join()


def ask_every_phone(phones):
    """Every phone's master and settings once (the paths the module's
    runs of those targets ask), as a polling fleet asks in the minutes
    after a change: the steady state the other targets are measured in.
    Returns the seconds it took."""
    paths = [steps(target, True).split(None, 1)[1]
             for target in (MASTER, SETTINGS)]
    t0 = time.time()
    for start in range(0, phones, 20000):
        asyncio.run(fetch_all(
            [path % mac(i) for i in range(start, min(phones, start + 20000))
             for path in paths], 32, keep=False))
    return time.time() - t0


def judged(summary):
    """Whether a target's figures count: a walk that mostly asked phones
    again measured no first polls."""
    return summary['repeated'] <= REPEATS_JUDGED


def memory_check(directory, phones, requests):
    """A million requests (settings, check-ins on, keep-alive, uniform over
    the fleet) after every round has warmed the children up, in runs of
    wrk with each child's resident size read after each. A child's size
    moves a few MB up and down between two readings (malloc arenas, the
    check-in queue), so growth compares the largest size of the second half
    of the readings with the largest of the first half: a leak raises it,
    noise does not. The first and last readings are printed too."""
    samples = [child_rss(httpd_pids(directory))]
    made = 0
    while made < requests:
        made += run_wrk(directory, SETTINGS, True, phones,
                        False)['requests']
        samples.append(child_rss(httpd_pids(directory)))
    writer = writer_pid(directory)
    half = max(1, len(samples) // 2)
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
    worst = max(growth) if growth else float('nan')
    print('memory: %d requests (settings, check-ins on, keep-alive, %s) '
          'after the rounds, %d readings; each child\'s RSS first -> last '
          '(largest in the first half, in the second half): %s KiB; largest '
          'growth of the peak %+.1f %% (target: under 5 %%)'
          % (made, draw_label(phones), len(samples), ', '.join(report),
             worst))
    return worst


def count_checkins(db, since_us=0):
    out = subprocess.run(['sqlite3', '-cmd', '.timeout 5000', db,
                          'SELECT count(*) FROM checkins WHERE time_us >= %d'
                          % since_us],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def settled_checkins(db, expected, since_us=0):
    """The row count once the check-in writer has written what it was
    handed (it commits every 20 ms; give it up to 30 s)."""
    last, steady = count_checkins(db, since_us), 0
    for _ in range(120):
        if last >= expected:
            break
        time.sleep(0.25)
        now = count_checkins(db, since_us)
        steady = steady + 1 if now == last else 0
        last = now
        if steady >= 8:
            break
    return last


def boot_storm(db, phones):
    """STORM phones of the fleet (a site) boot at once, each running the
    VVX boot sequence on its own keep-alive connection; at most
    STORM_CONNECTIONS talk at a time, the rest wait their turn as phones
    whose connection the server has not yet accepted."""
    chosen = random.sample(range(phones), STORM)
    errors = {}
    configured = []
    requests = [0]

    def error(kind):
        errors[kind] = errors.get(kind, 0) + 1

    async def one(n, gate, start):
        m = mac(n)
        async with gate:
            client = Client()
            for method, path, expect in BOOT:
                path = path.replace('{p}', '/prov') % m \
                    if '%s' in path else path.replace('{p}', '/prov')
                body = (b'0101 00:00:00 boot| log line\n' * 20
                        if method == 'PUT' else None)
                requests[0] += 1
                try:
                    status, _ = await client.request(
                        method, path, body,
                        UA_UPDATER if path.endswith('-boot.log') else UA)
                except ConnectionError as e:
                    error(str(e).rsplit(': ', 1)[1])
                    continue
                if status not in expect:
                    error('%d for %s' % (status, path.replace(m, '<mac>')))
                elif path.endswith('-settings.cfg'):
                    configured.append(time.monotonic() - start)
            await client.close()

    async def storm():
        gate = asyncio.Semaphore(STORM_CONNECTIONS)
        start = time.monotonic()
        await asyncio.gather(*(one(n, gate, start) for n in chosen))
        return time.monotonic() - start

    limit = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit[1], limit[1]))
    # The storm's rows are those of requests made after it began: rows of
    # the runs before it that land late (the writer may be seconds behind
    # after the memory check) no longer count for it, nor against it.
    time.sleep(1)
    since_us = int(time.time() * 1000000)
    elapsed = asyncio.run(storm())
    rows = settled_checkins(db, requests[0], since_us)
    return {'elapsed': elapsed, 'requests': requests[0],
            'errors': sum(errors.values()), 'kinds': errors, 'rows': rows,
            'configured': len(configured),
            'last_config': max(configured) if configured else float('nan')}


def sampled(phones):
    """Whether requests come from BENCH_SAMPLE's phones rather than from the
    whole fleet (a sample at least as large as the fleet is the fleet)."""
    return bool(SAMPLE) and SAMPLE < phones


def sample_heading(fleets, uniform):
    """A heading's words for how the fleets' requests were drawn: a sample
    only where it is smaller than the fleet (sampled())."""
    small = [n for n in fleets if sampled(n)]
    if not small:
        return uniform
    return 'SAMPLE of %d phones at %s phones: not a fleet\'s figures there' \
        % (SAMPLE, ', '.join('%d' % n for n in small))


def draw_label(phones):
    if sampled(phones):
        return 'SAMPLE: drawn from %d phones spread over the fleet, not ' \
               'from the whole fleet' % SAMPLE
    return 'drawn uniformly from all %d phones' % phones


def pace_for(static_rps, close):
    """The pause (ms) after each answer that asks, over CONNECTIONS
    connections, about PACED of the rate the static file was served at."""
    per_ms = PACED * max(static_rps, 1) / 1000
    return max(0.1, CONNECTIONS / per_ms - PACE_SLACK_MS[close])


def rounds_of(directory, db, phones, close, paces=None):
    """Every target in interleaved rounds, static file and module, as fast
    as the server answers or, with paces (target name: ms), paced by
    pace_for."""
    def run(target, module):
        return run_wrk(directory, target, module, phones, close,
                       paces[target[0]] if paces else 0)
    how = 'paced' if paces else 'as fast as the server answers'
    runs = {(t[0], module): [] for t in TARGETS for module in (0, 1)}
    # A change finds a fleet that has been polling: every phone's files
    # rendered once (on a server just started, nothing is, and every
    # master would be rendered too, which no change makes stale).
    took = ask_every_phone(phones)
    print('\n%s, %s: every phone asked for its master and settings once '
          '(%.0f s), then a change before each of the module\'s runs: the '
          'first target' % (model_name(close), how, took))
    # Who goes first alternates from round to round, so a drift of the
    # machine's speed favours neither.
    for round_ in range(ROUNDS):
        for module in ((0, 1) if round_ % 2 == 0 else (1, 0)):
            if module:
                change(db)
            runs[(COLD, module)].append(run(TARGETS[0], module))
    took = ask_every_phone(phones)
    print('%s, %s: every phone asked for its master and settings once '
          '(%.0f s): the steady state of the targets below the first'
          % (model_name(close), how, took))
    steady = [t for t in TARGETS[1:] if t[0] != EDITED]
    for round_ in range(ROUNDS):
        for target in steady:
            for module in ((0, 1) if round_ % 2 == 0 else (1, 0)):
                runs[(target[0], module)].append(run(target, module))
    edited = [t for t in TARGETS if t[0] == EDITED][0]
    for round_ in range(ROUNDS):
        for module in ((0, 1) if round_ % 2 == 0 else (1, 0)):
            with (editing(db, phones) if module
                  else contextlib.nullcontext()):
                runs[(EDITED, module)].append(run(edited, module))
    return runs


def bench_fleet(phones):
    directory = '/tmp/mod_polycom-bench-%d' % phones
    shutil.rmtree(directory, ignore_errors=True)
    for sub in ('static', 'prov', 'cores'):
        os.makedirs(os.path.join(directory, sub))
    t0 = time.time()
    db = seed(directory, phones)
    conf = write_conf(directory, MPM, phones)
    if os.geteuid() == 0:
        for path in [directory] + [os.path.join(directory, f)
                                   for f in os.listdir(directory)]:
            shutil.chown(path, 'www-data', 'www-data')
    httpd(conf, 'start')
    wait_port()
    how = write_static(directory, phones)
    print('\n== %d phones (%s; seeded and static files written in %.0f s; '
          '%s MPM; wrk -t%d -c%d, %d s per run, %d interleaved rounds%s) =='
          % (phones, draw_label(phones), time.time() - t0, MPM, THREADS,
             CONNECTIONS, SECONDS, ROUNDS,
             ', then again paced at %.0f %% of the static file\'s rate'
             % (100 * PACED) if PACED else ''))
    print(how)
    result = {}
    for close in (False, True):
        result[close] = summarise(rounds_of(directory, db, phones, close))
        print_fleet(result[close], close, phones)
        if PACED:
            paces = {name: pace_for(s['static']['rps'], close)
                     for name, s in result[close].items()}
            paced = summarise(rounds_of(directory, db, phones, close, paces))
            for name, s in result[close].items():
                s['paced'] = dict(paced[name], pace=paces[name])
            print_paced(result[close], close)
    if MEMORY:
        result['memory'] = memory_check(directory, phones, MEMORY)
    if STORM and phones >= 10 * STORM:
        storm = boot_storm(db, phones)
        result['storm'] = storm
        print('boot storm: %d of the %d phones each ran the boot sequence '
              '(%d requests, HEAD of the app log included) at once, at most '
              '%d at a time: %d requests in %.1f s, the last phone had its '
              'config after %.1f s (%d of %d did); %d errors%s; %d check-in '
              'rows for %d requests (%s)'
              % (STORM, phones, len(BOOT), STORM_CONNECTIONS,
                 storm['requests'], storm['elapsed'], storm['last_config'],
                 storm['configured'], STORM, storm['errors'],
                 ' (%s)' % storm['kinds'] if storm['kinds'] else '',
                 storm['rows'], storm['requests'],
                 'none lost' if storm['rows'] == storm['requests']
                 else 'LOST %d' % (storm['requests'] - storm['rows'])))
    result['crashes'] = crashes(directory)
    print('children that crashed: %d%s' % (
        len(result['crashes']),
        ''.join('\n  ' + line for line in result['crashes'][:10])))
    wal = db + '-wal'
    print('SQLite WAL file: %.1f MB (its high-water mark: the check-in '
          'writer checkpoints it four times a second)'
          % (os.path.getsize(wal) / 1e6 if os.path.exists(wal) else 0))
    httpd(conf, 'stop')
    wait_port(up=False)
    cores = os.path.join(directory, 'cores')
    if os.listdir(cores):
        kept = '/tmp/mod_polycom-bench-cores-%d-%d' % (phones, time.time())
        shutil.copytree(cores, kept)
        shutil.copy(os.path.join(directory, 'error_log'), kept)
        print('the crashed children\'s cores (with the error log), for gdb '
              'and %s: %s' % (os.path.join(TOP, '.libs', 'mod_polycom.so'),
                             kept))
    elif result['crashes']:
        print('no core was written: see /proc/sys/kernel/core_pattern (%s)'
              % open('/proc/sys/kernel/core_pattern').read().strip())
    if not os.environ.get('BENCH_KEEP'):
        shutil.rmtree(directory, ignore_errors=True)
    return result


def summarise(runs):
    """Per target: the module's and the static files' figures, means of the
    rounds for rates and CPU, medians of the rounds for latencies (one
    scheduling hiccup on a small VM moves a single run's p99 2-3x)."""
    out = {}
    for target in TARGETS:
        static, module = runs[(target[0], 0)], runs[(target[0], 1)]
        s = {}
        for who, rs in (('static', static), ('module', module)):
            s[who] = {'rps': sum(r['rps'] for r in rs) / len(rs),
                      'cpu': sum(r['cpu_us'] for r in rs) / len(rs),
                      'p50': median(r['p50'] for r in rs),
                      'p99': median(r['p99'] for r in rs),
                      'errors': sum(r['errors'] for r in rs)}
        s['ratio'] = sum(m['rps'] / f['rps']
                         for m, f in zip(module, static)) / len(module)
        s['p99_ratio'] = s['module']['p99'] / max(s['static']['p99'], 1)
        s['repeated'] = max(r['repeated'] for r in module)
        out[target[0]] = s
    return out


def model_name(close):
    return 'new connection per request' if close else 'keep-alive'


def print_fleet(summary, close, phones):
    print('\n%s' % model_name(close))
    print('%-30s %9s %9s %6s %11s %11s %8s %8s %6s %7s' % (
        'target', 'req/s', 'static', 'ratio', 'cpu us/req', 'static',
        'p99 ms', 'static', 'p99 x', 'errors'))
    for target in TARGETS:
        s = summary[target[0]]
        print('%-30s %9.0f %9.0f %6.2f %11.0f %11.0f %8.1f %8.1f %6.2f %7s'
              % (target[0], s['module']['rps'], s['static']['rps'],
                 s['ratio'], s['module']['cpu'], s['static']['cpu'],
                 s['module']['p99'] / 1000, s['static']['p99'] / 1000,
                 s['p99_ratio'], '%d/%d' % (s['module']['errors'],
                                            s['static']['errors'])))
    if PACED:
        print('(p99 here: as fast as the server answers, shown but not '
              'judged; latency is judged on the paced runs below)')
    if summary[COLD]['repeated']:
        print('(%s: %.0f %% of the module\'s requests asked a phone the walk '
              'had asked already in that run: the %s is smaller than a '
              'run, so those were no longer first polls)'
              % (COLD, 100 * summary[COLD]['repeated'],
                 'sample' if sampled(phones) else 'fleet'))


def print_paced(summary, close):
    """The paced runs: the latency a phone meets when the server is asked
    at about PACED of the rate it served the static file at."""
    print('\n%s, paced: each of the %d connections pausing after each '
          'answer as long as asks about %.0f %% of the rate the static file '
          'was served at (share: what it came to); latency judged here'
          % (model_name(close), CONNECTIONS, 100 * PACED))
    print('%-30s %7s %5s %9s %9s %8s %8s %8s %8s %6s %7s' % (
        'target', 'pause', 'share', 'req/s', 'static', 'p50 ms',
        'static', 'p99 ms', 'static', 'p99 x', 'errors'))
    for target in TARGETS:
        s = summary[target[0]]['paced']
        print('%-30s %4.1f ms %4.0f%% %9.0f %9.0f %8.2f %8.2f %8.1f %8.1f'
              ' %6.2f %7s'
              % (target[0], s['pace'],
                 100 * paced_share(summary[target[0]]),
                 s['module']['rps'],
                 s['static']['rps'], s['module']['p50'] / 1000,
                 s['static']['p50'] / 1000, s['module']['p99'] / 1000,
                 s['static']['p99'] / 1000, s['p99_ratio'],
                 '%d/%d' % (s['module']['errors'], s['static']['errors'])))
    if not judged(summary[COLD]['paced']):
        print('(%s, paced: %.0f %% of the module\'s requests asked a phone '
              'the walk had asked already in that run: not judged)'
              % (COLD, 100 * summary[COLD]['paced']['repeated']))


def paced_share(s):
    """The paced static runs' rate as a share of the unpaced ones'."""
    return s['paced']['static']['rps'] / max(s['static']['rps'], 1)


def module_errors(s):
    """The module's errors in a target's runs, paced ones included."""
    return s['module']['errors'] + (s['paced']['module']['errors']
                                    if 'paced' in s else 0)


def latency_judged(s):
    """The figures p99 is judged on: the paced runs' where there are."""
    return s.get('paced', s)


def print_growth(results):
    """Each target at every fleet size side by side, and how its cost per
    request grew from the smallest fleet to each larger one."""
    fleets = sorted(results)
    print('\n== by fleet size: req/s module/static and their ratio; httpd '
          'CPU us per request module/static; p99 module/static ms; %s ==' %
          sample_heading(fleets,
                         'requests drawn uniformly from the whole fleet'))
    for close in (False, True):
        print('\n%-30s' % model_name(close) + ''.join(
            '%18s' % ('%d phones' % n) for n in fleets))
        for target in TARGETS:
            print(target[0])
            for label, cell in (
                    ('  req/s', lambda s: '%.0f / %.0f' % (
                        s['module']['rps'], s['static']['rps'])),
                    ('  ratio', lambda s: '%.2f' % s['ratio']),
                    ('  cpu us/req', lambda s: '%.0f / %.0f' % (
                        s['module']['cpu'], s['static']['cpu'])),
                    ('  p99 ms', lambda s: '%.1f / %.1f' % (
                        s['module']['p99'] / 1000,
                        s['static']['p99'] / 1000)),
                    ('  p99 ms, paced', lambda s: '%.1f / %.1f' % (
                        s['paced']['module']['p99'] / 1000,
                        s['paced']['static']['p99'] / 1000)
                     if 'paced' in s else '-')):
                print('%-30s' % label + ''.join(
                    '%18s' % cell(results[n][close][target[0]])
                    for n in fleets))
            small = results[fleets[0]][close][target[0]]
            for n in fleets[1:]:
                big = results[n][close][target[0]]
                print('  cost growth %d -> %d phones: module %.2fx, '
                      'static %.2fx' % (
                          fleets[0], n,
                          big['module']['cpu'] / small['module']['cpu'],
                          big['static']['cpu'] / small['static']['cpu']))


def print_targets(results):
    """Each target of the issue, met or not, from this run's figures: one
    row per target and check, one column per connection model and fleet."""
    fleets = sorted(results)
    checked = [t[0] for t in TARGETS if t[5]]
    tally = [0, 0]

    def cell(value, ok, form='%.2f', summary=None):
        if summary is not None and not judged(summary):
            # a walk over a fleet smaller than a run: mostly repeats, so
            # not the figure of a first poll; shown, not judged
            return '%-20s' % ((form % value) + ' (repeats)')
        tally[0 if ok else 1] += 1
        return '%-20s' % ((form % value) + (' met' if ok else ' NOT MET'))

    columns = [(close, n) for close in (False, True) for n in fleets]
    print('\n== targets (%s) ==' % sample_heading(
        fleets, 'requests uniform over the whole fleet'))
    print('%-32s' % '' + ''.join('%-20s' % ('%s %d' % (
        'keep-alive' if not close else 'new conn.', n)) for close, n in columns))
    print('req/s ratio to static >= 0.9 (>= 0.8 at 1,000,000 phones)')
    for name in checked:
        print('%-32s' % ('  ' + name) + ''.join(cell(
            results[n][close][name]['ratio'],
            results[n][close][name]['ratio'] >= (0.8 if n >= 1000000
                                                 else 0.9),
            summary=results[n][close][name])
            for close, n in columns))
    shares = [100 * paced_share(results[n][close][name])
              for close, n in columns for name in checked
              if 'paced' in results[n][close][name]]
    print('p99 <= 1.5x the static file\'s%s' % (
        ', paced (asked at %.0f-%.0f %% of the rate the static file was '
        'served at)' % (min(shares), max(shares)) if shares else ''))
    for name in checked:
        print('%-32s' % ('  ' + name) + ''.join(cell(
            latency_judged(results[n][close][name])['p99_ratio'],
            latency_judged(results[n][close][name])['p99_ratio'] <= 1.5,
            '%.2fx', latency_judged(results[n][close][name]))
            for close, n in columns))
    print('no errors (module%s)' % (', paced runs included' if PACED else ''))
    for name in checked:
        print('%-32s' % ('  ' + name) + ''.join(cell(
            module_errors(results[n][close][name]),
            module_errors(results[n][close][name]) == 0, '%d')
            for close, n in columns))
    small = [n for n in fleets if n < 1000000]
    for n in fleets[1:]:
        goal = n in small
        print('cost per request (httpd CPU), growth from %d to %d phones%s: '
              'module (static)' % (fleets[0], n, ' <= 1.3x' if goal
                                   else ', no target'))
        for name in checked:
            row = '%-32s' % ('  ' + name)
            for close in (False, True):
                a = results[fleets[0]][close][name]
                b = results[n][close][name]
                growth = b['module']['cpu'] / a['module']['cpu']
                static = b['static']['cpu'] / a['static']['cpu']
                text = '%s %.2fx (%.2fx)' % (
                    'keep-alive' if not close else 'new conn.', growth, static)
                if not (judged(a) and judged(b)):
                    text += ' (repeats)'
                elif goal:
                    tally[0 if growth <= 1.3 else 1] += 1
                    text += ' met' if growth <= 1.3 else ' NOT MET'
                row += '%-34s' % text
            print(row)
    for n in fleets:
        ok = not results[n]['crashes']
        tally[0 if ok else 1] += 1
        print('no child crashed, %d phones: %d %s' % (
            n, len(results[n]['crashes']), 'met' if ok else 'NOT MET'))
        if 'memory' in results[n]:
            ok = results[n]['memory'] < 5
            tally[0 if ok else 1] += 1
            print('memory per child flat over %d requests, %d phones (peak '
                  'growth under 5 %%): %+.1f %% %s' % (
                      MEMORY, n, results[n]['memory'],
                      'met' if ok else 'NOT MET'))
        if 'storm' in results[n]:
            st = results[n]['storm']
            for ok, text in (
                    (st['errors'] == 0, 'no errors: %d' % st['errors']),
                    (st['rows'] == st['requests'],
                     'no check-in lost: %d rows for %d requests'
                     % (st['rows'], st['requests']))):
                tally[0 if ok else 1] += 1
                print('boot storm of %d phones, %d phones in the database, '
                      '%s %s' % (STORM, n, text, 'met' if ok else 'NOT MET'))
            print('boot storm of %d phones, %d phones in the database, the '
                  'last phone had its config after %.1f s (no target)'
                  % (STORM, n, st['last_config']))
    print('%d met, %d not met' % tuple(tally))


def main():
    # A crashed child's core is kept (CoreDumpDirectory in httpd.conf.in).
    try:
        core = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (core[1], core[1]))
    except (ValueError, OSError):
        pass
    if not shutil.which('wrk'):
        raise SystemExit('bench: wrk is missing (tools/deps.sh bench)')
    if any(n > 0xffffff for n in FLEETS):
        raise SystemExit('bench: at most 16,777,215 phones (one OUI)')
    results = {}
    for phones in FLEETS:
        results[phones] = bench_fleet(phones)
    print_growth(results)
    print_targets(results)


if __name__ == '__main__':
    main()
