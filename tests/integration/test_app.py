#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The GTK app under Xvfb against the real helper on the sandbox's private system bus.

The app runs in the client namespace with DBUS_SYSTEM_BUS_ADDRESS set (and a private session
bus from dbus-run-session). The test drives it through its test hook: with
PORTCULLIS_TEST_SOCKET set, the app answers one command per connection on that unix socket
(app/pc-test-hook.c lists them: activate an action, change a setting through its row, dump what
the window shows as JSON, save a PNG screenshot, force light or dark style).

Screenshots of every page, light and dark, go to BUILD_DIR/meson-logs/screenshots/.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

import pctest
import test_dns
from pctest import BUILD_DIR, SOURCE_DIR, pcsandbox, require_root

POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
SIGN = ['/usr/bin/python3', os.path.join(SOURCE_DIR, 'build-aux', 'pc-sign-index')]
LISTS_RATE = 256 * 1024  # bytes/s the peer serves list files at: an update takes seconds
CTL = os.path.join(BUILD_DIR, 'app', 'cli', 'portcullisctl')
APP = os.path.join(BUILD_DIR, 'app', 'portcullis')
NAME = 'org.portcullis.Portcullis1'
P4, PUB4 = pcsandbox.PEER_V4, pcsandbox.PUBLIC_V4
SHOTS = os.path.join(BUILD_DIR, 'meson-logs', 'screenshots')


def sign_tool(*args):
    res = subprocess.run(SIGN + list(args), capture_output=True, text=True)
    if res.returncode != 0:
        raise AssertionError(f'pc-sign-index {args[0]} failed: {res.stdout}{res.stderr}')


def start_xvfb(screen='1280x860x24'):
    """Xvfb on a free display (it picks one with -displayfd); returns (proc, ':N')."""
    xvfb = shutil.which('Xvfb')
    if xvfb is None:
        raise unittest.SkipTest('Xvfb is not installed (Debian package xvfb)')
    r, w = os.pipe()
    proc = subprocess.Popen([xvfb, '-displayfd', str(w), '-screen', '0', screen,
                             '-nolisten', 'tcp', '-noreset'], pass_fds=(w,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    os.close(w)
    with os.fdopen(r) as f:
        display = f.readline().strip()
    if not display:
        proc.kill()
        proc.wait()
        raise AssertionError('Xvfb did not report a display')
    return proc, ':' + display


class AppCase(unittest.TestCase):
    """The app against a helper in a sandbox of its own (sandbox_args), driven through the test
    hook; subclasses add servers the helper needs before the app starts (before_app)."""

    env_extra = {}  # more environment for the app (a language)
    screen = '1280x860x24'  # Xvfb's

    @classmethod
    def sandbox_args(cls):
        raise NotImplementedError

    @classmethod
    def before_app(cls):
        pass

    @classmethod
    def stop_servers(cls):
        pass

    @classmethod
    def setUpClass(cls):
        require_root()
        if not os.access(APP, os.X_OK):
            raise unittest.SkipTest('the GTK app is not built (gtk4/libadwaita missing)')
        os.makedirs(SHOTS, exist_ok=True)
        cls.tmp = tempfile.mkdtemp(prefix='pc-app-test-')
        os.chmod(cls.tmp, 0o755)
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY],
                                   log_dir=os.environ.get('PC_APP_TEST_LOGS'),
                                   **cls.sandbox_args())
        try:
            cls.sb.start()
            cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)
            # polkitd may not have read the policy yet ("action ... is not registered"): the app
            # would start with its first reads refused
            pctest.wait_until(lambda: cls.sb.client_run([CTL, 'status']).returncode == 0,
                              timeout=15, what='portcullisctl status answering')
            cls.before_app()
        except BaseException:
            cls.tearDownClass()
            raise
        cls.xvfb, cls.display = start_xvfb(cls.screen)
        cls.hook = os.path.join(cls.tmp, 'hook.sock')
        runtime = os.path.join(cls.tmp, 'runtime')
        os.mkdir(runtime, 0o700)
        env = {
            'DISPLAY': cls.display, 'GDK_BACKEND': 'x11', 'GSK_RENDERER': 'cairo',
            'GSETTINGS_BACKEND': 'memory',
            'GSETTINGS_SCHEMA_DIR': os.path.join(BUILD_DIR, 'data'),
            'PORTCULLIS_TEST_SOCKET': cls.hook, 'NO_AT_BRIDGE': '1', 'GTK_A11Y': 'none',
            'XDG_RUNTIME_DIR': runtime, 'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8',
            'G_MESSAGES_DEBUG': '',
            **cls.env_extra,
        }
        cls.app_log = open(os.path.join(cls.sb.log_dir, 'app.log'), 'w+')
        cls.app = cls.sb.client(['dbus-run-session', '--', APP], cgroup=False, env=env,
                                stdout=cls.app_log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        deadline = time.monotonic() + 20
        while not os.path.exists(cls.hook):
            if cls.app.poll() is not None or time.monotonic() > deadline:
                cls.tearDownClass()
                raise AssertionError('the app did not start its test hook')
            time.sleep(0.1)
        try:
            cls.wait_for_window()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, 'app', None) is not None and cls.app.poll() is None:
            os.killpg(cls.app.pid, 15)
            try:
                cls.app.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(cls.app.pid, 9)
                cls.app.wait()
        if getattr(cls, 'xvfb', None) is not None:
            cls.xvfb.terminate()
            cls.xvfb.wait(10)
        cls.stop_servers()
        if getattr(cls, 'app_log', None) is not None:
            cls.app_log.close()
        if getattr(cls, 'sb', None) is not None:
            cls.sb.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- driving the app ----

    @classmethod
    def cmd(cls, line, timeout=10):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(timeout)
        s.connect(cls.hook)
        s.sendall((line + '\n').encode())
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return data.decode().strip()

    @classmethod
    def ok(cls, line):
        answer = cls.cmd(line)
        if answer != 'ok':
            raise AssertionError(f'{line!r}: {answer}')

    @classmethod
    def dump(cls):
        return json.loads(cls.cmd('dump'))

    @classmethod
    def wait_for_window(cls):
        deadline = time.monotonic() + 20
        while True:
            try:
                if cls.dump()['helper-state'] == 1:
                    return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f'the app did not see the helper: {cls.cmd("dump")[:2000]}')
            time.sleep(0.1)

    def wait(self, pred, what, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            d = self.dump()
            got = pred(d)
            if got:
                return got
            if time.monotonic() > deadline:
                self.app_log.seek(0)
                raise AssertionError(f'timed out waiting for {what}; app shows:\n'
                                     f'{json.dumps(d, indent=1)[:6000]}\napp log:\n'
                                     f'{self.app_log.read()[-3000:]}')
            time.sleep(0.1)

    def shoot(self, name):
        """PNG screenshots of what the window shows now, light and dark."""
        for scheme in ('light', 'dark'):
            self.ok(f'scheme {scheme}')
            time.sleep(0.6)
            path = os.path.join(SHOTS, f'{name}-{scheme}.png')
            self.ok(f'screenshot {path}')
            self.assertGreater(os.path.getsize(path), 5000, path)
        self.ok('scheme light')

    def ctl(self, *args):
        r = self.sb.client_run([CTL, *map(str, args)])
        self.assertEqual(r.returncode, 0, (args, r.stdout, r.stderr))
        return r.stdout

    def bandwidth_recorded(self):
        """Bytes in and out of all apps in the helper's bandwidth history, over D-Bus."""
        code = ('from gi.repository import Gio, GLib\n'
                'bus = Gio.bus_get_sync(Gio.BusType.SYSTEM)\n'
                'r = bus.call_sync("org.portcullis.Portcullis1", "/org/portcullis/Portcullis1", '
                '"org.portcullis.Portcullis1", "GetBandwidth", GLib.Variant("(sxxu)", '
                '("", 0, 0, 300)), None, 0, 10000, None)\n'
                'print(sum(i + o for _, i, o in r.unpack()[0]))\n')
        r = self.sb.client_run(['/usr/bin/python3', '-c', code], cgroup=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        return int(r.stdout.strip())

    def curl(self, path, port=8080, timeout=5):
        return self.sb.client_run(['curl', '-s', '-o', '/dev/null', '-m', str(timeout),
                                   f'http://{P4}:{port}{path}'])

    def page(self, name):
        self.ok(f"action win.show-page '{name}'")
        self.wait(lambda d: d['page'] == name, f'page {name}')

    def search_history_for_peer(self):
        """Searches the history for the peer until a row of it shows; returns what History shows."""
        deadline = time.monotonic() + 20
        while True:
            # the helper writes its history in batches: search again until the row is there
            self.ok(f'history-search {P4}')
            time.sleep(0.5)
            h = self.dump()['history']
            if h['state'] == 'results' and [r for r in h['rows'] if r['endpoint'] == P4]:
                return h
            self.assertLess(time.monotonic(), deadline, f'no history row for {P4}: {h}')

    def curl_rows(self, d):
        return [r for r in d['monitor']['rows']
                if r['endpoint'] == P4 and r['port'] == 'tcp/8080']



class AppTests(AppCase):
    @classmethod
    def sandbox_args(cls):
        # signed filter-list updates from the peer, slow enough to show their progress
        cls.served = os.path.join(cls.tmp, 'served')
        cls.keys = os.path.join(cls.tmp, 'keys')
        for d in (cls.served, cls.keys):
            os.mkdir(d)
            os.chmod(d, 0o755)
        sign_tool('keygen', os.path.join(cls.tmp, 'good'))
        shutil.copy(os.path.join(cls.tmp, 'good.pub'), cls.keys)
        return dict(servers_args=['--static-dir', cls.served, '--static-rate', str(LISTS_RATE)],
                    settings=f'[global]\ndefault-action=allow\nendpoints=- {P4} tcp/7;\n'
                             f'lists-url=http://{PUB4}/static/\n'
                             f'lists-keys={cls.keys}\nlists-update-interval=0\n')

    # ---- tests (run in name order; they share the app) ----

    def test_1_monitor_shows_traffic(self):
        self.page('monitor')
        self.wait(lambda d: d['monitor']['subscribed'], 'the connection subscription')
        r = self.curl('/bytes/1000')
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.wait(lambda d: [r for r in self.curl_rows(d) if r['bytes'] > 1000],
                         'the curl connection and its bytes in Monitor')
        row = rows[0]
        self.assertEqual(row['verdict'], 'allow')
        self.assertEqual(row['app-name'], 'curl')
        self.assertGreater(row['bytes'], 1000)
        apps = {a['key']: a for a in self.dump()['monitor']['apps']}
        self.assertIn(row['app'], apps)
        self.assertGreaterEqual(apps['']['active'] + len(rows), 1)
        # the app's own list entry filters the table
        self.ok(f"select-app {row['app']}")
        d = self.wait(lambda d: d['monitor']['selected-app'] == row['app'] and d, 'app selection')
        self.assertTrue(all(r['app'] == row['app'] for r in d['monitor']['rows']))
        self.ok('search 8080')
        d = self.wait(lambda d: d['monitor']['rows'] and d, 'search results')
        self.assertTrue(all('8080' in r['port'] for r in d['monitor']['rows']))
        self.shoot('monitor')
        self.ok('search ')

    def test_2_block_from_context_menu(self):
        self.page('monitor')
        self.ok('select-app ')
        self.assertEqual(self.curl('/').returncode, 0)
        row = self.wait(self.curl_rows, 'the curl connection')[0]
        self.ok(f"popup {row['id']}")
        time.sleep(0.5)
        self.ok(f"screenshot {os.path.join(SHOTS, 'monitor-context-menu-light.png')}")
        self.ok(f"action monitor.block uint64 {row['id']}")
        deadline = time.monotonic() + 10
        while f'- {P4}' not in self.ctl('rules', 'list', '--app', 'curl'):
            self.assertLess(time.monotonic(), deadline, 'the block rule did not reach the helper')
            time.sleep(0.1)
        r = self.curl('/', timeout=3)
        self.assertNotEqual(r.returncode, 0, 'the next connection was not blocked')
        self.wait(lambda d: [x for x in self.curl_rows(d) if x['verdict'] == 'block'],
                  'a blocked curl connection in Monitor')
        self.ok('scheme dark')
        time.sleep(0.6)
        self.ok(f"screenshot {os.path.join(SHOTS, 'monitor-blocked-dark.png')}")
        self.ok('scheme light')
        # "Allow" replaces the block rule
        self.ok(f"action monitor.allow uint64 {row['id']}")
        deadline = time.monotonic() + 10
        while True:
            rules = self.ctl('rules', 'list', '--app', 'curl')
            if f'+ {P4}' in rules and f'- {P4}' not in rules:
                break
            self.assertLess(time.monotonic(), deadline, rules)
            time.sleep(0.1)
        self.assertEqual(self.curl('/').returncode, 0)
        self.ctl('rules', 'remove', '--app', 'curl', f'+ {P4}')
        self.assertNotIn(P4, self.ctl('rules', 'list', '--app', 'curl'))

    def test_3_app_override_persists(self):
        self.assertEqual(self.curl('/').returncode, 0)
        self.ok("action win.open-profile 'curl'")
        self.wait(lambda d: d['page'] == 'apps' and d['apps']['view']['loaded']
                  and d['apps']['view']['profile'] == 'curl', 'the curl app page')
        d = self.dump()
        self.assertIn('curl', d['apps']['profiles'])
        pt = d['apps']['view']['settings']['prompt-timeout']
        self.assertIn('Inherits global', pt[0])
        self.shoot('apps')
        self.ok('set prompt-timeout 42')
        self.wait(lambda d: d['apps']['view']['settings'].get('prompt-timeout', ['', ''])[1]
                  == 'profile',
                  'the override on the app page')
        self.ok('set block-p2p true')
        self.wait(lambda d: d['apps']['view']['settings'].get('block-p2p', ['', ''])[1]
                  == 'profile',
                  'the block-p2p override')
        shown = self.dump()['apps']['view']['settings']
        self.assertTrue(shown['block-p2p'][0].startswith('On'), shown['block-p2p'])
        info = json.loads(self.ctl('--json', 'app', 'show', 'curl'))
        self.assertEqual(list(info['effective']['prompt-timeout']), [42, 'profile'])
        # persists: the helper restarts and still has it
        self.sb.stop_helper()
        self.sb.start_helper()
        self.sb.wait_for_name(NAME, 10, self.sb.helper_proc, self.sb.helper_log_path)
        info = json.loads(self.ctl('--json', 'app', 'show', 'curl'))
        self.assertEqual(list(info['effective']['prompt-timeout']), [42, 'profile'])
        self.assertEqual(list(info['effective']['block-p2p']), [True, 'profile'])
        self.wait(lambda d: d['helper-state'] == 1 and not d['banner']['shown'], 'the helper back')
        # back to the global value through the same row
        self.ok('set block-p2p inherit')
        deadline = time.monotonic() + 10
        while json.loads(self.ctl('--json', 'app', 'show', 'curl'))['effective']['block-p2p'][1] \
                == 'profile':
            self.assertLess(time.monotonic(), deadline, 'block-p2p override was not removed')
            time.sleep(0.1)

    def test_4_invalid_rule_shows_error(self):
        self.ok("action win.open-profile 'curl'")
        self.wait(lambda d: d['apps']['view']['loaded'] and d['apps']['view']['profile'] == 'curl'
                  and 'prompt-timeout' in d['apps']['view']['settings'], 'the curl app page')
        before = self.ctl('--json', 'rules', 'list', '--app', 'curl')
        self.ok('set add-rule + exa mple..com tcp/99999')
        d = self.wait(lambda d: d['apps']['view']['rule-error'] and d, 'the inline rule error')
        # the helper's reason, naming what was wrong
        self.assertIn('exa mple..com', d['apps']['view']['rule-error'])
        self.assertEqual(self.ctl('--json', 'rules', 'list', '--app', 'curl'), before)
        self.shoot('apps-rule-error')
        # a good rule clears the error and is listed
        self.ok('set add-rule - 192.0.2.7 tcp/25')
        self.wait(lambda d: not d['apps']['view']['rule-error']
                  and '- 192.0.2.7 tcp/25' in d['apps']['view'].get('rules', []),
                  'the new rule on the app page')
        self.ctl('rules', 'remove', '--app', 'curl', '- 192.0.2.7 tcp/25')

    def test_5_settings_page(self):
        self.page('settings')
        d = self.wait(lambda d: d['settings']['loaded'] and d, 'the global settings')
        da = d['settings']['settings']['default-action']
        self.assertTrue(da[0].startswith('Allow'), da)
        self.assertEqual(da[1], 'admin')
        self.assertEqual(d['settings']['settings']['prompt-inbound'][1], 'default')
        self.shoot('settings')

    def publish_lists(self, serial, n_domains):
        """A signed index with one list, p2p (category P2P, not enabled by default; about
        n_domains * 24 bytes), on the peer."""
        with open(os.path.join(self.served, 'p2p.txt'), 'w') as f:
            f.write(''.join(f'host{i:07d}.slow.example\n' for i in range(n_domains)))
        sign_tool('index', self.served, '--serial', str(serial))
        sign_tool('sign', self.served, os.path.join(self.tmp, 'good.key'))

    def test_5a_filter_lists_update_now(self):
        self.publish_lists(21, 30000)  # 720 kB: about 3 s at LISTS_RATE
        self.page('settings')
        d = self.wait(lambda d: d['settings'].get('filter-lists', {}).get('button-sensitive')
                      and d, 'the filter lists and their Update Now button')
        fl = d['settings']['filter-lists']
        self.assertFalse(fl['progress']['visible'])
        self.assertNotIn('P2P', [c['id'] for c in fl['categories']])
        self.ok('action settings.update-lists')
        # progress while it runs: a bar with the phase, moving through the download
        d = self.wait(lambda d: d['settings']['filter-lists']['progress']['visible']
                      and 0 < d['settings']['filter-lists']['progress']['fraction'] < 1 and d,
                      'the update progress bar part way')
        self.assertIn('Downloading', d['settings']['filter-lists']['progress']['text'])
        self.assertFalse(d['settings']['filter-lists']['button-sensitive'])
        self.ok('set scroll-to filter-lists')
        # a window shown a moment ago may not have drawn yet
        pctest.wait_until(lambda: self.cmd('screenshot ' + os.path.join(
            SHOTS, 'settings-lists-updating-light.png')) == 'ok', timeout=3, what='a screenshot')
        d = self.wait(lambda d: not d['settings']['filter-lists']['updating']
                      and d['settings']['filter-lists']['result'] and d, 'the update result',
                      timeout=30)
        fl = d['settings']['filter-lists']
        self.assertEqual(fl['result'], 'The filter lists were updated')
        self.assertFalse(fl['progress']['visible'])
        self.assertEqual(fl['error'], '')
        self.assertIn('updated to serial 21', fl['status'])
        fractions = [f for f in fl['seen-fractions'] if f >= 0]
        self.assertTrue(any(0 < f < 1 for f in fractions), fl['seen-fractions'])
        self.assertEqual(fractions, sorted(fractions), 'the bar went backwards')
        self.assertIn('downloading', fl['seen-phases'])
        # the new list's category, with its size, switched off
        p2p = self.wait(lambda d: [c for c in d['settings']['filter-lists']['categories']
                                   if c['id'] == 'P2P'], 'the P2P category')[0]
        self.assertIn('30000', p2p['subtitle'])
        self.assertFalse(p2p['enabled'])
        self.shoot('settings-lists')
        # its switch enables it in the helper's filter-lists setting, and back
        self.ok('set filter-list:P2P true')
        pctest.wait_until(lambda: 'P2P' in json.loads(self.ctl('--json', 'config', 'get',
                                                               'filter-lists')),
                          timeout=10, what='P2P in filter-lists')
        self.wait(lambda d: [c for c in d['settings']['filter-lists']['categories']
                             if c['id'] == 'P2P' and c['enabled']], 'the P2P switch on')
        self.ok('set filter-list:P2P false')
        pctest.wait_until(lambda: 'P2P' not in json.loads(self.ctl('--json', 'config', 'get',
                                                                   'filter-lists')),
                          timeout=10, what='P2P out of filter-lists')
        # nothing newer on the server: said so, no error
        self.ok('action settings.update-lists')
        d = self.wait(lambda d: not d['settings']['filter-lists']['updating']
                      and d['settings']['filter-lists']['result'] and d, 'the second result',
                      timeout=30)
        self.assertEqual(d['settings']['filter-lists']['result'], 'The filter lists are up to date')

    def test_5b_history_search(self):
        self.page('history')
        self.assertEqual(self.curl('/bytes/4321').returncode, 0)
        h = self.search_history_for_peer()
        self.assertTrue(all(r['endpoint'] == P4 for r in h['rows']), h['rows'])
        self.assertIn('curl', h['counts'])
        self.shoot('history')
        self.ok('history-search nosuchhost')
        self.wait(lambda d: d['history']['state'] == 'empty', 'the empty search result')

    def history_shows(self, pred, what, timeout=20):
        """Searches again until the History page's rows satisfy pred (the helper writes its
        history in batches); returns the page's dump."""
        deadline = time.monotonic() + timeout
        while True:
            self.ok('history-search ')
            time.sleep(0.5)
            h = self.dump()['history']
            if pred(h):
                return h
            self.assertLess(time.monotonic(), deadline, f'{what}: {json.dumps(h)[:3000]}\n'
                            f"portcullisctl history: {self.ctl('--json', 'history')[:3000]}")

    def test_5c_history_filters_and_delete(self):
        self.page('history')
        for key in ('app', 'verdict', 'direction', 'protocol', 'time'):
            self.ok(f'history-filter {key} ')
        # an allowed connection of curl, and a blocked one (the administrator's rule)
        self.assertEqual(self.curl('/bytes/777').returncode, 0)
        self.assertFalse(pctest.client_tool(self.sb, 'tcp', P4, 7)['ok'])
        h = self.history_shows(lambda h: [r for r in h['rows'] if r['verdict'] == 'block'
                                          and r['port'] == 'tcp/7']
                               and [r for r in h['rows'] if r['verdict'] == 'allow'
                                    and r['port'] == 'tcp/8080'],
                               'the blocked and the allowed connection in the history')
        curl_app = [r for r in h['rows'] if r['port'] == 'tcp/8080'][0]['app']
        self.assertIn('Domains: ', h['domain-counts'])
        self.assertIn('Apps: ', h['counts'])
        # verdict
        self.ok('history-filter verdict blocked')
        h = self.wait(lambda d: d['history']['rows'] and all(r['verdict'] == 'block'
                      for r in d['history']['rows']) and d['history'], 'only blocked rows')
        self.ok('history-filter verdict allowed')
        self.wait(lambda d: d['history']['rows'] and all(r['verdict'] == 'allow'
                  for r in d['history']['rows']), 'only allowed rows')
        self.ok('history-filter verdict ')
        # app: the app filter offers the history's apps
        self.wait(lambda d: curl_app in d['history']['app-choices'], 'curl in the app filter')
        self.ok(f'history-filter app {curl_app}')
        h = self.wait(lambda d: d['history']['filter-app'] == curl_app and d['history']['rows']
                      and all(r['app'] == curl_app for r in d['history']['rows'])
                      and d['history'], "only curl's rows")
        self.assertTrue(h['counts'].startswith('Apps: curl ('), h['counts'])
        self.assertNotIn('tcp/7', [r['port'] for r in h['rows']])
        # direction: curl made no incoming connection
        self.ok('history-filter direction in')
        self.wait(lambda d: d['history']['state'] == 'empty', 'no incoming connections of curl')
        self.ok('history-filter direction out')
        self.wait(lambda d: d['history']['rows'], 'the outgoing ones again')
        # protocol: curl spoke TCP only
        self.ok('history-filter protocol udp')
        self.wait(lambda d: d['history']['state'] == 'empty', 'no UDP connections of curl')
        self.ok('history-filter protocol tcp')
        self.wait(lambda d: d['history']['rows'] and all(r['port'].startswith('tcp/')
                  for r in d['history']['rows']), 'the TCP ones again')
        # time: all of it happened in the last hour
        self.ok('history-filter time hour')
        self.wait(lambda d: d['history']['rows'], 'rows of the last hour')
        self.shoot('history-filtered')
        # delete asks first; Cancel keeps everything
        self.ok('action history.delete')
        d = self.wait(lambda d: d['dialog']['shown'] and d, 'the confirmation')
        self.assertEqual(d['dialog']['heading'], 'Delete the History of the Last Hour?')
        self.assertIn('curl', d['dialog']['body'])
        self.ok('dialog-response cancel')
        self.wait(lambda d: not d['dialog']['shown'], 'the dialog to close')
        time.sleep(0.5)
        self.assertTrue(json.loads(self.ctl('--json', 'history', '--app', curl_app)))
        # Delete removes curl's connections of the last hour, and only those
        other = [r for r in json.loads(self.ctl('--json', 'history')) if r['app'] != curl_app]
        self.ok('action history.delete')
        self.wait(lambda d: d['dialog']['shown'], 'the confirmation')
        self.ok('dialog-response delete')
        self.wait(lambda d: d['history']['state'] == 'empty', "curl's rows gone")
        self.assertEqual(json.loads(self.ctl('--json', 'history', '--app', curl_app)), [])
        left = [r for r in json.loads(self.ctl('--json', 'history')) if r['app'] != curl_app]
        self.assertGreaterEqual(len(left), len(other))
        for key in ('app', 'verdict', 'direction', 'protocol', 'time'):
            self.ok(f'history-filter {key} ')

    def test_6_bandwidth_graph(self):
        self.page('bandwidth')
        self.wait(lambda d: d['monitor']['subscribed'], 'the subscription for the graph')
        r = self.curl('/bytes/3000000', timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait(lambda d: d['bandwidth']['total'] > 2_000_000, 'the transfer in the graph')
        time.sleep(1.2)
        self.shoot('bandwidth')
        # the last 24 hours come from the helper's bandwidth history (written in batches): the
        # graph shows what GetBandwidth says for the whole sandbox run
        deadline = time.monotonic() + 20
        while True:
            self.ok('bandwidth-range 1')
            time.sleep(0.5)
            b = self.dump()['bandwidth']
            recorded = self.bandwidth_recorded()
            if b['history'] and recorded > 0 and abs(b['total'] - recorded) <= recorded * 0.01:
                break
            self.assertLess(time.monotonic(), deadline,
                            f'the 24-hour graph shows {b}, the history has {recorded} bytes')
        self.shoot('bandwidth-24h')
        self.ok('bandwidth-range 0')
        self.wait(lambda d: not d['bandwidth']['history'], 'the live graph again')

    def test_7_banner_follows_the_helper(self):
        self.page('monitor')
        self.assertFalse(self.dump()['banner']['shown'])
        self.sb.stop_helper()
        d = self.wait(lambda d: d['banner']['shown'] and d, 'the banner')
        self.assertIn('not running', d['banner']['title'])
        self.assertIn('systemctl start portcullisd', d['banner']['detail'])
        time.sleep(0.5)
        self.shoot('banner')
        self.sb.start_helper()
        self.sb.wait_for_name(NAME, 10, self.sb.helper_proc, self.sb.helper_log_path)
        self.wait(lambda d: not d['banner']['shown'] and d['monitor']['subscribed'],
                  'the banner to go and the subscription to come back')
        # live again: new traffic shows up
        self.assertEqual(self.curl('/bytes/10').returncode, 0)
        self.wait(lambda d: [r for r in self.curl_rows(d) if r['live'] or r['verdict']],
                  'traffic after the helper came back')


class AppDnsTests(AppCase):
    """Settings' DNS servers against the helper's resolver with a real unbound on the peer
    (DoT and DoH, as in test_dns.py); the first server is down."""

    @classmethod
    def sandbox_args(cls):
        test_dns.make_certs(cls.tmp)
        ca = os.path.join(cls.tmp, 'ca.pem')
        # nothing listens on 8853: that one fails, the resolver fails over to the next
        cls.down = f'dot://dns.test:8853?ip={P4}&ca={ca}&name=peer-down'
        cls.dot = f'dot://dns.test?ip={P4}&ca={ca}&name=peer-dot'
        cls.doh = f'doh://dns.test/dns-query?ip={P4}&ca={ca}&name=peer-doh'
        return dict(settings={'default-action': 'allow',
                              'dns-listen': [f'{test_dns.LISTEN}:53', '[::1]:53']})

    @classmethod
    def before_app(cls):
        cls.unbound = pctest.start_unbound(cls.sb, test_dns.unbound_conf(cls.tmp),
                                           os.path.join(cls.tmp, 'unbound.log'))

    @classmethod
    def stop_servers(cls):
        pctest.stop_process(getattr(cls, 'unbound', None))

    def dns(self, d):
        return d['settings'].get('dns')

    def upstream(self, d, name):
        rows = [u for u in (self.dns(d) or {}).get('upstreams', []) if u['title'] == name]
        return rows[0] if rows else None

    def servers(self):
        return json.loads(self.ctl('--json', 'config', 'get', 'dns-servers'))

    def test_dns_servers_live_status_and_editing(self):
        self.page('settings')
        # at first the network's servers (dns-servers = system)
        d = self.wait(lambda d: self.dns(d) and self.dns(d)['upstreams'] and d, 'the DNS servers')
        self.assertIn(f'{test_dns.LISTEN}:53', self.dns(d)['resolver'])
        # (this helper has no lists-url: Update Now says so and cannot be pressed)
        fl = self.wait(lambda d: d['settings']['filter-lists']['status'] and
                       d['settings']['filter-lists'], 'the filter lists status')
        self.assertIn('No update server is set', fl['status'])
        self.assertFalse(fl['button-sensitive'])
        system = self.dns(d)['upstreams']
        self.assertTrue(system and all("The system's resolver" in u['subtitle'] for u in system),
                        system)
        # two servers added through the entry, one at once after the other: a down one, then
        # DoT on the peer; then the system's servers removed through their row
        self.ok(f'set dns:add {self.down}')
        self.ok(f'set dns:add {self.dot}')
        self.wait(lambda d: self.upstream(d, 'peer-dot'), 'peer-dot listed')
        self.assertEqual(self.servers(), ['system', self.down, self.dot])
        self.ok('set dns:remove system')
        # the resolver keeps the system's servers for local names only: no longer removable
        d = self.wait(lambda d: [(u['title'], u['removable']) for u in self.dns(d)['upstreams']
                                 if u['removable'] or 'peer' in u['title']]
                      == [('peer-down', True), ('peer-dot', True)] and d, 'the two servers')
        self.assertEqual(self.servers(), [self.down, self.dot])
        self.assertIn('not asked yet', self.upstream(d, 'peer-dot')['subtitle'])
        # a query through the resolver: the first server fails, DoT on the peer answers
        r = self.ctl('dns', 'query', 'www.test')
        self.assertIn('203.0.113.5', r)
        d = self.wait(lambda d: (self.upstream(d, 'peer-dot') or {}).get('reachable')
                      and 'answers in' in self.upstream(d, 'peer-dot')['subtitle'] and d,
                      'peer-dot answering (refreshed while shown)')
        dot = self.upstream(d, 'peer-dot')
        self.assertIn('DNS over TLS', dot['subtitle'])
        self.assertRegex(dot['subtitle'], r'answers in \d+ ms')
        self.assertRegex(dot['subtitle'], r'[1-9]\d* quer')
        down = self.upstream(d, 'peer-down')
        self.assertFalse(down['reachable'])
        self.assertIn('not answering', down['subtitle'])
        self.assertRegex(down['subtitle'], r'[1-9]\d* failure')
        self.assertTrue(down['removable'])
        self.wait(lambda d: re.match(r'[1-9]\d* answer', self.dns(d)['cache']), 'a cached answer')
        self.ok('set scroll-to dns')
        self.shoot('settings-dns')
        # a bad server: the helper's reason under the entry, nothing changed
        before = self.servers()
        self.ok('set dns:add dot://dns.test?bogus=1')
        d = self.wait(lambda d: self.dns(d)['add-error'] and d, 'the inline error')
        self.assertIn('bogus', self.dns(d)['add-error'])
        self.assertEqual(self.servers(), before)
        self.ok('scheme dark')
        time.sleep(0.6)
        self.ok(f"screenshot {os.path.join(SHOTS, 'settings-dns-error-dark.png')}")
        self.ok('scheme light')
        # a good one is added at the end and listed; the error goes
        self.ok(f'set dns:add {self.doh}')
        d = self.wait(lambda d: self.upstream(d, 'peer-doh') and not self.dns(d)['add-error']
                      and d, 'the new server listed')
        self.assertEqual(self.servers(), [self.down, self.dot, self.doh])
        self.assertIn('DNS over HTTPS', self.upstream(d, 'peer-doh')['subtitle'])
        # the down one is removed through its row
        self.ok(f'set dns:remove {self.down}')
        self.wait(lambda d: self.upstream(d, 'peer-down') is None, 'peer-down gone')
        self.assertEqual(self.servers(), [self.dot, self.doh])
        # Flush empties the cache (changing the servers emptied it too: ask again first)
        self.assertIn('203.0.113.5', self.ctl('dns', 'query', 'www.test'))
        self.wait(lambda d: re.match(r'[1-9]\d* answer', self.dns(d)['cache']), 'a cached answer')
        self.ok('set dns:flush now')
        d = self.wait(lambda d: self.dns(d)['last-flush'] and d, 'the flush result')
        self.assertRegex(self.dns(d)['last-flush'], r'^[1-9]\d* answers? removed')
        self.wait(lambda d: self.dns(d)['cache'].startswith('0 answers'), 'an empty cache')
        # a narrow window: the DNS rows (long URLs, errors) do not hold it wide
        self.ok('size 360 700')
        time.sleep(1)
        self.ok('set scroll-to dns')
        time.sleep(0.5)
        path = os.path.join(SHOTS, 'settings-dns-narrow-light.png')
        self.ok(f'screenshot {path}')
        with open(path, 'rb') as f:
            width = int.from_bytes(f.read(24)[16:20], 'big')
        self.assertLessEqual(width, 480, 'the Settings page keeps the window wide')


class GermanPagesTest(AppCase):
    """Every page and a connection prompt's popup in German (LANGUAGE=de, po/de.po built into
    build/po): the window shows the German text, and the screenshots (de-*.png) show whether the
    German labels, often longer than the English ones, fit their widgets. Alone:
    PC_BUILD_DIR=build PC_SOURCE_DIR=. tests/integration/test_app.py GermanPagesTest"""
    env_extra = {'LANGUAGE': 'de', 'PORTCULLIS_LOCALEDIR': os.path.join(BUILD_DIR, 'po')}
    screen = '1280x2700x24'  # room for whole pages

    @classmethod
    def sandbox_args(cls):
        return dict(settings=f'[global]\ndefault-action=allow\nendpoints=- {P4} tcp/7;\n'
                             f'lists-url=http://{PUB4}/static/\nlists-update-interval=0\n')

    def shoot_whole(self, name):
        """A screenshot of the whole page: the window as tall as its content, then back."""
        self.ok('size 1100 2600')
        time.sleep(1)
        path = os.path.join(SHOTS, f'{name}-light.png')
        self.ok(f'screenshot {path}')
        self.assertGreater(os.path.getsize(path), 5000, path)
        self.ok('size 1100 720')
        time.sleep(0.5)

    def test_german_pages_narrow(self):
        """In a narrow window (360 px asked, whole pages tall) no German label holds a page
        wider than 480 px (the English pages' bound)."""
        self.assertEqual(self.curl('/bytes/10').returncode, 0)
        self.wait(self.curl_rows, 'the curl connection in Monitor')
        pages = (('monitor', None), ('apps', "action win.open-profile 'curl'"), ('settings', None),
                 ('history', None), ('bandwidth', None))
        try:
            for page, how in pages:
                self.ok(how or f"action win.show-page '{page}'")
                self.wait(lambda d: d['page'] == page, f'page {page}')
                self.ok('size 360 2600')
                time.sleep(1)
                path = os.path.join(SHOTS, f'de-{page}-narrow-light.png')
                self.ok(f'screenshot {path}')
                with open(path, 'rb') as f:
                    width = int.from_bytes(f.read(24)[16:20], 'big')
                self.assertLessEqual(width, 480, f'German {page} keeps the window wide: {path}')
        finally:
            self.ok('size 1100 720')
            time.sleep(0.5)

    def test_german_pages(self):
        self.page('monitor')
        self.wait(lambda d: d['monitor']['subscribed'], 'the connection subscription')
        self.assertEqual(self.curl('/bytes/1000').returncode, 0)
        self.assertNotEqual(self.curl('/', port=7, timeout=3).returncode, 0)  # a blocked one
        self.wait(self.curl_rows, 'the curl connection in Monitor')
        self.shoot('de-monitor')

        self.ok("action win.open-profile 'curl'")
        d = self.wait(lambda d: d['page'] == 'apps' and d['apps']['view']['loaded']
                      and d['apps']['view']['profile'] == 'curl'
                      and 'prompt-timeout' in d['apps']['view']['settings'] and d,
                      'the curl app page')
        self.assertIn('Globale Einstellung', d['apps']['view']['settings']['prompt-timeout'][0])
        self.shoot('de-apps')
        self.shoot_whole('de-apps-whole')

        self.page('settings')
        d = self.wait(lambda d: d['settings']['loaded'] and d, 'the global settings')
        da = d['settings']['settings']['default-action']
        self.assertTrue(da[0].startswith('Erlauben'), da)
        # the helper's filter-list categories, translated by the app
        lists = self.wait(lambda d: d['settings']['filter-lists']['categories']
                          and d['settings']['filter-lists'], 'the filter list categories')
        titles = {c['id']: c['title'] for c in lists['categories']}
        self.assertEqual(titles['ADS'], 'Werbung', titles)
        self.assertEqual(titles['MAL'], 'Schadsoftware', titles)
        self.assertEqual(lists['status'], 'Noch nicht aktualisiert')
        self.shoot('de-settings')
        self.shoot_whole('de-settings-whole')

        self.page('history')
        h = self.search_history_for_peer()
        self.assertTrue(h['counts'].startswith('Apps: '), h['counts'])
        self.shoot('de-history')
        # a heading made of a time filter's name
        self.ok('history-filter time hour')
        self.ok('action history.delete')
        d = self.wait(lambda d: d['dialog']['shown'] and d, 'the confirmation')
        self.assertEqual(d['dialog']['heading'], 'Den Verlauf für „Letzte Stunde“ löschen?')
        self.assertIn('Dies kann nicht rückgängig gemacht werden.', d['dialog']['body'])
        self.ok('dialog-response cancel')
        self.wait(lambda d: not d['dialog']['shown'], 'the dialog to close')
        self.ok('history-filter time ')

        self.page('bandwidth')
        time.sleep(1.2)
        self.shoot('de-bandwidth')

        # a prompt: its popup, details open
        self.ctl('config', 'set', 'default-action', 'prompt')
        holder = None
        try:
            holder = self.sb.client([pctest.PYTHON, pctest.CLIENT_TOOL, 'tcp', P4, '80',
                                     '--timeout', '30'], stdout=subprocess.PIPE, text=True)

            def popup():
                for p in json.loads(self.cmd('prompts'))['prompts']:
                    if p.get('visible') and f'{P4} über 80/TCP' in p.get('summary', ''):
                        return p
                return None
            p = pctest.wait_until(popup, timeout=15, what='the prompt popup')
            self.assertRegex(p['summary'], f'möchte sich mit {P4} über 80/TCP verbinden$')
            self.assertRegex(p['countdown'], r'^Ohne Antwort wird die Verbindung in \d+ Sekunden '
                                             r'(blockiert|erlaubt)$')
            self.ok(f"prompt-set {p['id']} details true")
            time.sleep(1.2)  # its buttons become clickable; a frame with the details open
            shot = os.path.join(SHOTS, 'de-prompt-popup.png')
            self.ok(f"prompt-screenshot {p['id']} {shot}")
            self.assertGreater(os.path.getsize(shot), 5000)
            self.ok(f"prompt-click {p['id']} block")
            out, _ = holder.communicate(timeout=30)
            self.assertFalse(json.loads(out.splitlines()[-1])['ok'], out)
        finally:
            if holder is not None and holder.poll() is None:
                holder.kill()
                holder.wait()
            self.ctl('config', 'reset', 'default-action')


class GermanAppTest(unittest.TestCase):
    """The app speaks German with LANGUAGE=de (po/de.po, built into build/po): with no helper on
    the bus its banner says so in German. A screenshot is saved."""

    def test_german_banner(self):
        require_root()
        if not os.access(APP, os.X_OK):
            raise unittest.SkipTest('the GTK app is not built (gtk4/libadwaita missing)')
        os.makedirs(SHOTS, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix='pc-app-de-')
        os.chmod(tmp, 0o755)
        sb = pcsandbox.Sandbox(BUILD_DIR, helper=False, polkit_policies=[POLICY])
        xvfb = app = None
        try:
            sb.start()
            xvfb, display = start_xvfb()
            hook = os.path.join(tmp, 'hook.sock')
            runtime = os.path.join(tmp, 'runtime')
            os.mkdir(runtime, 0o700)
            env = {
                'DISPLAY': display, 'GDK_BACKEND': 'x11', 'GSK_RENDERER': 'cairo',
                'GSETTINGS_BACKEND': 'memory',
                'GSETTINGS_SCHEMA_DIR': os.path.join(BUILD_DIR, 'data'),
                'PORTCULLIS_TEST_SOCKET': hook, 'NO_AT_BRIDGE': '1', 'GTK_A11Y': 'none',
                'XDG_RUNTIME_DIR': runtime, 'LC_ALL': 'C.UTF-8', 'LANGUAGE': 'de',
                'PORTCULLIS_LOCALEDIR': os.path.join(BUILD_DIR, 'po'),
            }
            app = sb.client(['dbus-run-session', '--', APP], cgroup=False, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
            AppTests.hook = hook

            def banner():
                try:
                    d = AppTests.dump()
                except (OSError, ValueError):
                    return None
                return d['banner'] if d['banner']['shown'] else None
            b = pctest.wait_until(banner, timeout=20, what='the banner')
            self.assertEqual(b['title'], 'Der Firewall-Dienst läuft nicht')
            path = os.path.join(SHOTS, 'german-banner.png')
            AppTests.ok(f'screenshot {path}')
            self.assertGreater(os.path.getsize(path), 5000)
        finally:
            if app is not None and app.poll() is None:
                os.killpg(app.pid, 15)
                app.wait(10)
            if xvfb is not None:
                xvfb.terminate()
                xvfb.wait(10)
            sb.close()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    pcsandbox.unittest_main()
