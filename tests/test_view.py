#!/usr/bin/env python3
"""test_view.py - `weft view` in a real headless Chromium.

Records programs whose answers are known (tests/programs/known_costs.c,
lock_orders.c), writes their pages, loads each from file:// with the
address fragment #selftest (the page then clicks a slice, sorts a table,
follows a row, and writes what it saw into <pre id="selftest">), reads
that back from --dump-dom and checks it; takes a screenshot.  Requests
are looked for in Chromium's network log (--log-net-log) and console
messages in its log on stderr, besides what the page itself reports
(errors, policy violations, resource entries); host names resolve
nowhere.

Skips (exit 77, saying why) only when Chromium is not installed;
scripts/setup installs it.  Environment: as the Criterion suites
(WEFT_TEST_WEFT, WEFT_TEST_PROGRAMS, WEFT_TEST_PRELOAD).
"""
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import traceback

WEFT = os.environ['WEFT_TEST_WEFT']
PROGRAMS = os.environ['WEFT_TEST_PROGRAMS']
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')


def weft(*args, check=True):
    r = subprocess.run([WEFT, *args], capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError('weft %s: exit %d: %s' % (' '.join(args), r.returncode, r.stderr))
    return r


def record(tmp, name, program, *args, stacks=True):
    path = os.path.join(tmp, name)
    opts = ['--stacks'] if stacks else []
    weft('record', *opts, '-o', path, '--', os.path.join(PROGRAMS, program), *args)
    return path


def chromium(tmp, *args):
    profile = tempfile.mkdtemp(dir=tmp, prefix='profile-')
    cmd = [CHROMIUM, '--headless=new', '--disable-gpu', '--no-first-run',
           '--disable-extensions', '--disable-background-networking',
           '--host-resolver-rules=MAP * ~NOTFOUND', '--user-data-dir=' + profile,
           *args]
    if os.geteuid() == 0:
        cmd.insert(1, '--no-sandbox')
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp)


def page_loads(netlog):
    """The requests a page made, from Chromium's network log: those whose
    initiator is an origin (the browser's own, such as its update checks,
    have none)."""
    text = open(netlog).read()
    try:
        log = json.loads(text)
    except ValueError:   # a log cut short ends without its closing brackets
        log = json.loads(text.rstrip().rstrip(',') + ']}')
    start = log['constants']['logEventTypes']['URL_REQUEST_START_JOB']
    return [e['params'].get('url', '?') for e in log['events']
            if e['type'] == start and 'initiator' in e.get('params', {})
            and e['params']['initiator'] != 'not an origin']


def console_messages(stderr):
    """What pages wrote to the console, as Chromium logs it."""
    return [l for l in stderr.splitlines() if ':CONSOLE' in l and 'file://' in l]


def load(tmp, url, *args):
    """Loads url and returns Chromium's result, the page's requests and
    its console messages."""
    netlog = tempfile.mktemp(dir=tmp, suffix='.netlog.json')
    r = chromium(tmp, '--enable-logging=stderr', '--v=0', '--log-net-log=' + netlog,
                 *args, url)
    return r, page_loads(netlog), console_messages(r.stderr)


def selftest(tmp, page, kind=None):
    url = 'file://' + page + '#selftest' + ('=' + kind if kind else '')
    r, loads, console = load(tmp, url, '--dump-dom')
    assert loads == [], 'network requests: %s' % loads
    assert console == [], 'console messages: %s' % console
    # (The page's own script names the element too; in the result, a text,
    # every "<" is escaped.)
    m = list(re.finditer(r'<pre id="selftest">([^<]*)</pre>', r.stdout))
    if not m:
        raise AssertionError('no self-test result in the page (exit %d): %s'
                             % (r.returncode, r.stderr[-2000:]))
    out = json.loads(html.unescape(m[-1].group(1)))
    assert out['errors'] == [], out['errors']
    assert out['csp'] == [], 'policy violations (loads): %s' % out['csp']
    assert out['resources'] == [], 'network requests: %s' % out['resources']
    return out


def view(tmp, name, *traces, extra=()):
    page = os.path.join(tmp, name)
    weft('view', '-o', page, *extra, *traces)
    return page


def duration_ms(details):
    m = re.search(r'duration\s+([\d.]+) (ms|s)\b', details)
    assert m, details
    return float(m.group(1)) * (1000 if m.group(2) == 's' else 1)


def test_known_costs(tmp):
    """A lane per thread, the slices the program makes, the mutex wait's
    details with both sides' sites, the tables and their links."""
    trace = record(tmp, 'known.trace', 'known_costs')
    out = selftest(tmp, view(tmp, 'known.html', trace), 'mutex')
    lanes = out['lanes']
    assert len(lanes) == 5, lanes
    for name in ('holder', 'waiter', 'sleeper', 'writer'):
        assert sum(('(%s)' % name) in l for l in lanes) == 1, (name, lanes)
    kinds = out['kinds']
    assert kinds.get('mutex') == 1, kinds   # the one contended acquisition
    assert kinds.get('sleep') == 2, kinds   # holder's 50 ms, sleeper's 100 ms
    assert kinds.get('join') == 4, kinds    # main joins the four threads
    writes = sum(n for name, n in out['names'].items() if name.startswith('write '))
    assert writes == 20, out['names']       # writer's 20 writes, on one fd
    assert out['slices'] == out['slices_total'], out
    c = out['clicked']
    assert c['chosen'] == c['slice'], c
    assert c['name'] == 'mutex lock', c
    d = c['details']
    assert 'T3 (waiter)' in d or '(waiter)' in d, d
    assert duration_ms(d) >= 50, d
    assert re.search(r'released by\s+T\d+ \(holder\): unlock lock', d), d
    # Both sides' stacks: the waiter's lock call and the holder's.
    assert re.search(r'stack\s+waiter \(known_costs\.c:\d+\)', d), d
    assert re.search(r'took it at\s+holder \(known_costs\.c:\d+\)', d), d
    tables = {t['title'].split(',')[0].split(' (')[0]: t for t in out['tables']}
    assert tables['Threads']['rows'] == 5, tables
    assert tables['Locks']['rows'] == 1, tables
    assert tables['System calls']['rows'] >= 2, tables
    assert 'contended' in tables['Locks']['columns'], tables
    assert out['lock_row_marked'] == 1, out   # the lock's row leads to its wait
    assert out['flows'] >= 1, out
    rows = {t.split(',')[0].split(' (')[0]: r for t, r in out['rows'].items()}
    # The lock's row holds weft stats' numbers: 2 acquisitions, 1 contended.
    assert rows['Locks'][0]['cells'][1:4] == ['mutex', '2', '1'], rows['Locks']
    # A thread's row leads to its lane; the writer's holds its 20 writes.
    writer = [r for r in rows['Threads'] if r['cells'][0].endswith('(writer)')]
    assert len(writer) == 1 and writer[0]['marked'] >= 20, rows['Threads']
    assert out['lanes'][writer[0]['lane']].endswith('(writer)'), (writer, out['lanes'])
    # write, in all and on its descriptor, leads to the 20 writes.
    writes = [r for r in rows['System calls'] if r['cells'][0] == 'write']
    assert len(writes) == 2 and all(r['marked'] == 20 for r in writes), rows['System calls']
    # Sorted by time alive as weft stats measures it, both ways.
    stats = json.loads(weft('stats', '--json', trace).stdout)
    by_alive = [t['serial'] for t in sorted(stats['threads'], key=lambda t: -t['alive_ns'])]
    serial = lambda label: int(label.split(' ')[0][1:])
    assert [serial(l) for l in out['alive_down']] == by_alive, (out['alive_down'], by_alive)
    assert [serial(l) for l in out['alive_up']] == by_alive[::-1], out['alive_up']


def test_zoom_and_pan(tmp):
    """+ halves the range around its middle, - doubles it, an arrow key
    pans a fifth, the wheel zooms in, a drag of 100 pixels to the right
    moves the range left by 100 pixels' worth, 0 shows everything."""
    out = selftest(tmp, view(tmp, 'moves.html', record(tmp, 'moves.trace', 'known_costs',
                                                       stacks=False)))
    m = out['moves']
    width = lambda r: r[1] - r[0]
    close = lambda a, b: abs(a - b) <= 1e-6 * max(abs(a), abs(b), 1)
    assert close(width(m['plus']), width(m['fit']) / 2), m
    assert close(m['plus'][0] + m['plus'][1], m['fit'][0] + m['fit'][1]), m
    assert close(m['right'][0], m['plus'][0] + width(m['plus']) / 5), m
    assert close(width(m['minus']), 2 * width(m['right'])), m
    assert width(m['wheel']) < width(m['minus']), m
    assert close(m['drag'][0], m['wheel'][0] - 100 * width(m['wheel']) / m['plot_width']), m
    assert close(width(m['drag']), width(m['wheel'])), m
    assert m['zero'] == m['fit'], m


def test_lock_order_cycle(tmp):
    """The AB/BA program's graph: two locks, the cycle drawn and listed."""
    out = selftest(tmp, view(tmp, 'abba.html', record(tmp, 'abba.trace', 'lock_orders', 'abba')))
    assert len(out['graph']) == 1, out['graph']
    g = out['graph'][0]
    assert g['nodes'] == 2 and g['edges'] == 2 and g['cycle_edges'] == 2, g
    assert sorted(g['cycle_nodes']) == ['ma', 'mb'], g
    assert len(out['cycles']) == 1 and out['cycles'][0].startswith('potential deadlock'), out['cycles']
    assert 'ma' in out['cycles'][0] and 'mb' in out['cycles'][0], out['cycles']


def test_lock_order_without_cycle(tmp):
    """Locks always taken in one order: edges, but nothing on a cycle."""
    out = selftest(tmp, view(tmp, 'ordered.html',
                             record(tmp, 'ordered.trace', 'lock_orders', 'ordered')))
    g = out['graph'][0]
    assert g['edges'] >= 2 and g['cycle_edges'] == 0 and g['cycle_nodes'] == [], g
    assert out['cycles'] == [], out['cycles']


def test_hostile_name(tmp):
    """A name holding </script> stays data: the page still runs."""
    os.mkdir(os.path.join(tmp, 'x<'))
    trace = record(tmp, 'x</script><b>y.trace', 'lock_orders', 'abba', stacks=False)
    out = selftest(tmp, view(tmp, 'hostile.html', trace))
    assert '</script><b>y.trace' in out['title'], out['title']


def test_several_traces(tmp):
    """Two processes share one time line: a lane per thread of each."""
    a = record(tmp, 'two-a.trace', 'lock_orders', 'abba', stacks=False)
    b = record(tmp, 'two-b.trace', 'lock_orders', 'ordered', stacks=False)
    out = selftest(tmp, view(tmp, 'two.html', a, b))
    assert len(out['lanes']) == 6, out['lanes']
    assert len({l.split(' ')[0] for l in out['lanes']}) == 2, out['lanes']   # by pid
    assert len(out['graph']) == 2, out['graph']


def test_cap_keeps_longest(tmp):
    """Over the cap, the longest slices stay in detail; the summaries
    still cover the rest, and the page says how many it left out."""
    trace = record(tmp, 'cap.trace', 'known_costs', stacks=False)
    out = selftest(tmp, view(tmp, 'cap.html', trace, extra=('--max-slices', '4')), 'mutex')
    assert out['slices'] == 4 and out['slices_total'] > 20, out
    # The four longest: waits of 50 ms and more (the mutex's among them);
    # the writes, a few microseconds each, are left to the summaries.
    assert out['shortest_shown'] >= 49e6, out
    assert out['kinds'].get('mutex') == 1 and 'syscall' not in out['kinds'], out['kinds']
    assert 'in the summaries only' in out['summary'], out['summary']


def test_truncated(tmp):
    """A trace cut short: exit status 3, and a page of what was written."""
    trace = record(tmp, 'whole.trace', 'known_costs', stacks=False)
    data = open(trace, 'rb').read()
    cut = os.path.join(tmp, 'cut.trace')
    open(cut, 'wb').write(data[:len(data) // 2])
    page = os.path.join(tmp, 'cut.html')
    r = weft('view', '-o', page, cut, check=False)
    assert r.returncode == 3, (r.returncode, r.stderr)
    assert 'truncated' in r.stderr, r.stderr
    out = selftest(tmp, page)
    assert out['lanes'] and out['slices'] > 0, out
    assert 'truncated' in out['summary'], out['summary']


def test_checks_see_loads(tmp):
    """The checks above are not blind: a page that loads an image, fetches
    and writes an error is caught by both."""
    page = os.path.join(tmp, 'loads.html')
    open(page, 'w').write('<img src="http://example.invalid/x.png"><script>'
                          'console.error("boom"); fetch("https://example.invalid/y")'
                          '.catch(() => {});</script>')
    r, loads, console = load(tmp, 'file://' + page, '--dump-dom')
    assert 'http://example.invalid/x.png' in loads, loads
    assert 'https://example.invalid/y' in loads, loads
    assert any('boom' in m for m in console), r.stderr[-2000:]


def test_screenshot(tmp):
    page = view(tmp, 'shot.html', record(tmp, 'shot.trace', 'known_costs', stacks=False))
    png = os.path.join(tmp, 'shot.png')
    r = chromium(tmp, '--hide-scrollbars', '--window-size=1200,900', '--screenshot=' + png,
                 'file://' + page)
    assert os.path.exists(png), r.stderr[-2000:]
    data = open(png, 'rb').read()
    assert data[:8] == b'\x89PNG\r\n\x1a\n', data[:8]
    width, height = struct.unpack('>II', data[16:24])
    assert (width, height) == (1200, 900), (width, height)
    assert len(data) > 20000, len(data)   # a blank page compresses to far less


def test_bad_input(tmp):
    """A missing trace, a bad option, a full disk: one line, exit 2."""
    r = weft('view', '-o', os.path.join(tmp, 'none.html'), os.path.join(tmp, 'missing.trace'),
             check=False)
    assert r.returncode == 2, r
    assert 'missing.trace' in r.stderr, r.stderr
    r = weft('view', '--max-slices', '0', 'x.trace', check=False)
    assert r.returncode == 2 and r.stderr.count('\n') == 1, r.stderr
    trace = record(tmp, 'full.trace', 'lock_orders', 'abba', stacks=False)
    r = weft('view', '-o', '/dev/full', trace, check=False)
    assert r.returncode == 2 and r.stderr.count('\n') == 1, r.stderr
    assert '/dev/full' in r.stderr, r.stderr


def test_temporary_page(tmp):
    """Without -o and no terminal: the page goes to $TMPDIR, and weft says
    where."""
    trace = record(tmp, 'temp.trace', 'lock_orders', 'abba', stacks=False)
    pages = os.path.join(tmp, 'pages')
    os.mkdir(pages)
    r = subprocess.run([WEFT, 'view', trace], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, TMPDIR=pages))
    assert r.returncode == 0, r.stderr
    made = os.listdir(pages)
    assert len(made) == 1 and made[0].endswith('.html'), made
    assert os.path.join(pages, made[0]) in r.stdout, r.stdout


def main():
    if not CHROMIUM:
        print('SKIP: chromium is not installed (scripts/setup installs it); '
              'weft view is tested in a headless Chromium')
        return 77
    tests = [v for k, v in globals().items() if k.startswith('test_')]
    failed = 0
    for t in tests:
        tmp = tempfile.mkdtemp(prefix='weft-view-test-')
        try:
            t(tmp)
            print('ok   %s' % t.__name__)
            shutil.rmtree(tmp)
        except Exception:
            failed += 1
            print('FAIL %s (files kept in %s)' % (t.__name__, tmp))
            traceback.print_exc(file=sys.stdout)
    print('%d of %d passed' % (len(tests) - failed, len(tests)))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
