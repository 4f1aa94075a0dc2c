#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The policy engine end to end: the real helper in the sandbox, configured over D-Bus (as root,
authorized by the real polkitd). A per-app rule blocks curl but not python to the same host,
by profile; a settings change cuts a live connection within 1 s; settings and rules survive a
helper restart and a kill -9."""
import json
import os
import shutil
import subprocess
import time
import unittest

from pctest import (BUILD_DIR, CLIENT_TOOL, PYTHON, SOURCE_DIR, client_tool, pcsandbox,
                    require_root, wait_for_flow)

POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
PCDBUS = os.path.join(SOURCE_DIR, 'tests', 'integration', 'pcdbus.py')
NAME = 'org.portcullis.Portcullis1'
P4 = pcsandbox.PEER_V4
BASE = '[global]\ndefault-action=allow\nblock-reaction=reject\n'


def call(sb, method, args=None):
    res = sb.client_run([PYTHON, PCDBUS, 'call', method, *([args] if args else [])], timeout=30)
    lines = [json.loads(l) for l in res.stdout.splitlines() if l.startswith('{')]
    if not lines:
        raise AssertionError(f'pcdbus {method} printed nothing (rc={res.returncode}): {res.stderr}')
    r = lines[-1]
    if not r.get('ok'):
        raise AssertionError(f'{method} {args}: {r}')
    return r['result']


def curl(sb, url, timeout=3):
    return sb.client_run(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time',
                          str(timeout), url], timeout=timeout + 10)


def wait_until(pred, timeout=10, what='condition'):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f'timed out waiting for {what}')
        time.sleep(0.1)


class PolicyTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY], settings=BASE)
        cls.sb.start()
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)
        cls.curl_exe = os.path.realpath(shutil.which('curl'))

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def restart(self, kill=False):
        if kill:
            self.sb.kill_helper()
        else:
            self.sb.stop_helper()
        self.sb.start_helper()
        self.sb.wait_for_name(NAME, 10, self.sb.helper_proc, self.sb.helper_log_path)

    def curl_profile(self):
        for p in call(self.sb, 'ListProfiles')[0]:
            if f'path:{self.curl_exe}' in p.get('fingerprints', []):
                return p
        return None

    def test_1_per_app_rule_by_profile(self):
        # curl's first connection makes its profile (named after the executable)
        self.assertEqual(curl(self.sb, f'http://{P4}/').stdout, '200')
        profile = wait_until(self.curl_profile, what='a profile for curl')
        self.assertEqual(profile['name'], 'curl')
        self.assertFalse(profile['special'])
        call(self.sb, 'AddRule', f"('{profile['id']}', false, '- {P4}')")

        self.assertNotEqual(curl(self.sb, f'http://{P4}/').stdout, '200')
        f = wait_for_flow(self.sb, lambda f: f['comm'] == 'curl' and f['verdict'] == 'block')
        self.assertIn(f"profile 'curl' endpoints rule 1 '- {P4}'", f['reason'])
        # python to the same host and port is not curl: the global default allows it
        r = self.sb.client_run([PYTHON, '-c', 'import urllib.request,sys;'
                                f'sys.stdout.write(str(urllib.request.urlopen("http://{P4}/", '
                                'timeout=3).status))'], timeout=15)
        self.assertEqual(r.stdout, '200', r.stderr)
        wait_for_flow(self.sb, lambda f: f['comm'].startswith('python') and f['rport'] == 80
                      and f['verdict'] == 'allow')
        # curl's connections since it has a profile count as seen (written every few seconds)
        wait_until(lambda: self.curl_profile()['last-seen'] > profile['created'], timeout=12,
                   what='last-seen of the curl profile')

    def test_2_setting_change_cuts_live_connection(self):
        hold = self.sb.client([PYTHON, CLIENT_TOOL, 'hold', P4, '7', '--seconds', '15'],
                              stdout=subprocess.PIPE, text=True)
        try:
            self.assertIn('connected', hold.stdout.readline())
            time.sleep(0.3)
            t0 = time.monotonic()
            call(self.sb, 'SetSetting', "('block-lan', <true>)")
            end = hold.stdout.readline()
            elapsed = time.monotonic() - t0
            self.assertIn('"event": "error"', end)
            self.assertLess(elapsed, 1.0)
            f = wait_for_flow(self.sb, lambda f: f['what'] == 'cut' and f['rport'] == 7)
            self.assertIn('block-lan', f['reason'])
            self.assertFalse(client_tool(self.sb, 'tcp', P4, 7)['ok'])
        finally:
            hold.kill()
            hold.wait()
            call(self.sb, 'ResetSetting', "('block-lan',)")
        self.assertTrue(client_tool(self.sb, 'tcp', P4, 7)['ok'])

    def test_3_settings_survive_restart_and_kill(self):
        call(self.sb, 'SetSetting', "('prompt-timeout', <uint32 17>)")
        self.restart()
        self.assertEqual(call(self.sb, 'GetSetting', "('prompt-timeout',)")[0], 17)
        profile = self.curl_profile()
        self.assertIsNotNone(profile, 'curl profile lost at restart')
        self.assertNotEqual(curl(self.sb, f'http://{P4}/').stdout, '200')

        # acknowledged = the D-Bus reply came back; kill -9 right after loses nothing
        call(self.sb, 'SetSetting', "('history-keep-days', <uint32 9>)")
        call(self.sb, 'RemoveRule', f"('{profile['id']}', false, '- {P4}')")
        self.restart(kill=True)
        self.assertEqual(call(self.sb, 'GetSetting', "('history-keep-days',)")[0], 9)
        self.assertEqual(curl(self.sb, f'http://{P4}/').stdout, '200')
        settings = call(self.sb, 'GetSettings')[0]
        self.assertEqual(settings['history-keep-days'], [9, 'user'])
        self.assertEqual(settings['default-action'], ['allow', 'admin'])
        self.assertEqual(settings['block-lan'], [False, 'default'])

    def test_4_corrupt_database_moved_aside_and_helper_starts(self):
        self.sb.stop_helper()
        db = os.path.join(self.sb.state_dir, 'policy.db')
        for suffix in ('-wal', '-shm'):
            if os.path.exists(db + suffix):
                os.unlink(db + suffix)
        with open(db, 'r+b') as f:
            f.write(b'this is no longer a sqlite database' * 200)
        self.sb.start_helper()
        self.sb.wait_for_name(NAME, 10, self.sb.helper_proc, self.sb.helper_log_path)
        log = self.sb.helper_log(since_start=True)
        self.assertIn('is corrupt', log)
        aside = [n for n in os.listdir(self.sb.state_dir) if n.startswith('policy.db.corrupt-')
                 and not n.endswith(('-wal', '-shm'))]
        self.assertEqual(len(aside), 1, os.listdir(self.sb.state_dir))
        with open(os.path.join(self.sb.state_dir, aside[0]), 'rb') as f:
            self.assertTrue(f.read().startswith(b'this is no longer'))
        # the problem is stated in the status, and the helper runs with defaults
        st = call(self.sb, 'Status')[0]
        self.assertTrue(any('is corrupt' in d and aside[0] in d for d in st['degraded']), st)
        self.assertEqual(call(self.sb, 'GetSetting', "('history-keep-days',)")[0], 30)
        self.assertEqual(curl(self.sb, f'http://{P4}/').stdout, '200')


if __name__ == '__main__':
    pcsandbox.unittest_main()
