#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter lists in the running helper: lists over D-Bus and portcullisctl, a signed update from
the sandbox peer that starts blocking at once (live flows re-judged), and a tampered update that
changes nothing and says why."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from pctest import BUILD_DIR, SOURCE_DIR, client_tool, pcsandbox, require_root

POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
CTL = os.path.join(BUILD_DIR, 'app', 'cli', 'portcullisctl')
SIGN = ['/usr/bin/python3', os.path.join(SOURCE_DIR, 'build-aux', 'pc-sign-index')]
NAME = 'org.portcullis.Portcullis1'
P4, PUB4 = pcsandbox.PEER_V4, pcsandbox.PUBLIC_V4


def sign_tool(*args):
    res = subprocess.run(SIGN + list(args), capture_output=True, text=True)
    if res.returncode != 0:
        raise AssertionError(f'pc-sign-index {args[0]} failed: {res.stdout}{res.stderr}')


class ListsUpdateTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        pcsandbox.ensure_test_user('pctest')
        cls.tmp = tempfile.mkdtemp(prefix='pc-lists-update-')
        os.chmod(cls.tmp, 0o755)
        cls.served = os.path.join(cls.tmp, 'served')
        cls.keys = os.path.join(cls.tmp, 'keys')
        cls.empty = os.path.join(cls.tmp, 'shipped')
        for d in (cls.served, cls.keys, cls.empty):
            os.mkdir(d)
            os.chmod(d, 0o755)
        sign_tool('keygen', os.path.join(cls.tmp, 'good'))
        sign_tool('keygen', os.path.join(cls.tmp, 'evil'))
        shutil.copy(os.path.join(cls.tmp, 'good.pub'), cls.keys)
        cls.sb = pcsandbox.Sandbox(
            BUILD_DIR, polkit_policies=[POLICY], servers_args=['--static-dir', cls.served],
            helper_args=('--lists-dir', cls.empty),
            settings=f'[global]\ndefault-action=allow\nfilter-lists=MAL;\n'
                     f'lists-url=http://{PUB4}/static/\nlists-keys={cls.keys}\n'
                     f'lists-update-interval=0\n')
        cls.sb.start()
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def publish(self, serial, entries, key='good'):
        for name in os.listdir(self.served):
            os.unlink(os.path.join(self.served, name))
        with open(os.path.join(self.served, 'mal.txt'), 'w') as f:
            f.write(''.join(e + '\n' for e in entries))
        sign_tool('index', self.served, '--serial', str(serial))
        sign_tool('sign', self.served, os.path.join(self.tmp, key + '.key'))

    def ctl(self, *args, user=None):
        return self.sb.client_run([CTL, *args], user=user, cgroup=False, timeout=60)

    def test_update_blocks_at_once_and_tampering_keeps_the_last_good(self):
        # before: nothing listed, the peer answers
        self.assertTrue(client_tool(self.sb, 'tcp', P4, 80)['ok'])
        hold = self.sb.client(['/usr/bin/python3', os.path.join(SOURCE_DIR, 'tests', 'integration',
                                                                 'pcclient.py'),
                               'hold', P4, '7', '--seconds', '20'], stdout=subprocess.PIPE, text=True)
        self.assertIn('connected', hold.stdout.readline())

        self.publish(7, [P4])
        r = self.ctl('lists', 'update')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('updated', r.stdout)
        # new connections are blocked by the list, and the live one was cut
        r = client_tool(self.sb, 'tcp', P4, 80)
        self.assertFalse(r['ok'], r)
        self.assertIn('"event": "error"', hold.stdout.readline())
        hold.wait(10)
        hold.stdout.close()
        st = json.loads(self.ctl('--json', 'lists').stdout)
        self.assertEqual(st['serial'], 7)
        self.assertEqual(st['update']['last-result'], 'updated to serial 7')
        r = self.ctl('lists', 'show', 'mal')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'mal +MAL +0 +1 +0')

        # an index signed by an unknown key: refused, the last good lists stay
        self.publish(8, [], key='evil')
        r = self.ctl('lists', 'update')
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn('the last good lists stay', r.stderr)
        self.assertFalse(client_tool(self.sb, 'tcp', P4, 80)['ok'])
        self.assertEqual(json.loads(self.ctl('--json', 'lists').stdout)['serial'], 7)

    def test_unprivileged_user(self):
        r = self.ctl('lists', user='pctest')
        self.assertEqual(r.returncode, 4, r.stderr)
        r = self.ctl('lists', 'update', user='pctest')
        self.assertEqual(r.returncode, 4, r.stderr)

    def test_usage(self):
        self.assertEqual(self.ctl('lists', 'show').returncode, 2)
        r = self.ctl('lists', 'show', 'nope')
        self.assertEqual(r.returncode, 1)
        self.assertIn("no filter list 'nope'", r.stderr)


if __name__ == '__main__':
    pcsandbox.unittest_main()
