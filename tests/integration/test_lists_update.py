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


class ListServerCase(unittest.TestCase):
    """A helper with no shipped lists, MAL enabled, and signed updates from the peer's static
    directory (served at SERVER_ARGS' pace), signed with the trusted key 'good'."""
    SERVER_ARGS = ()

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
            BUILD_DIR, polkit_policies=[POLICY],
            servers_args=['--static-dir', cls.served, *cls.SERVER_ARGS],
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

    def ctl(self, *args, user=None):
        return self.sb.client_run([CTL, *args], user=user, cgroup=False, timeout=60)


class ListsUpdateTests(ListServerCase):
    def publish(self, serial, entries, key='good'):
        for name in os.listdir(self.served):
            os.unlink(os.path.join(self.served, name))
        with open(os.path.join(self.served, 'mal.txt'), 'w') as f:
            f.write(''.join(e + '\n' for e in entries))
        sign_tool('index', self.served, '--serial', str(serial))
        sign_tool('sign', self.served, os.path.join(self.tmp, key + '.key'))

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


class ListsUpdateProgressTests(ListServerCase):
    """A slow update (the peer sends the list at RATE bytes/s) shows its progress live: over
    D-Bus in ListFilterLists' update dict (what the app polls) and on portcullisctl's terminal."""
    RATE = 256 * 1024
    SERVER_ARGS = ('--static-rate', str(RATE))

    def publish(self, serial, n_domains):
        """A list of about n_domains * 24 bytes: at RATE it takes seconds to download."""
        with open(os.path.join(self.served, 'mal.txt'), 'w') as f:
            f.write(''.join(f'host{i:07d}.slow.example\n' for i in range(n_domains)))
        sign_tool('index', self.served, '--serial', str(serial))
        sign_tool('sign', self.served, os.path.join(self.tmp, 'good.key'))
        return os.path.getsize(os.path.join(self.served, 'mal.txt'))

    def update_state(self):
        r = self.ctl('--json', 'lists')
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)['update']

    def test_1_progress_over_dbus(self):
        size = self.publish(11, 60000)  # 1.4 MB: about 5 s
        idle = self.update_state()
        self.assertEqual((idle['phase'], idle['fraction'], idle['running']), ('', -1, False))
        proc = self.sb.client([CTL, 'lists', 'update'], cgroup=False, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen = []
        summary = None
        while proc.poll() is None:
            seen.append(self.update_state())
            if summary is None and seen[-1]['phase'] == 'downloading':
                # what 'portcullisctl lists' says meanwhile
                summary = self.ctl('lists').stdout
        out, err = proc.communicate()
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, 'filter lists updated\n')
        self.assertRegex(summary or '', r'update running: downloading +[0-9]{1,3}%')
        downloading = [u for u in seen if u['phase'] == 'downloading']
        self.assertGreaterEqual(len(downloading), 3, seen)
        for u in downloading:
            self.assertTrue(u['running'])
            self.assertEqual(u['bytes-total'], size)
            self.assertLessEqual(u['bytes-done'], size)
            self.assertAlmostEqual(u['fraction'], u['bytes-done'] / size, places=6)
        # it moved: some reading strictly between the ends, and never backwards
        self.assertTrue(any(0 < u['fraction'] < 1 for u in downloading), downloading)
        done = [u['bytes-done'] for u in downloading]
        self.assertEqual(done, sorted(done))
        # the phases came in order
        order = ['index', 'verifying', 'downloading', 'swapping']
        phases = [order.index(u['phase']) for u in seen if u['phase']]
        self.assertEqual(phases, sorted(phases), seen)
        after = self.update_state()
        self.assertEqual((after['phase'], after['fraction'], after['bytes-done']), ('', -1, 0))
        self.assertEqual(after['last-result'], 'updated to serial 11')

    def test_2_progress_on_a_terminal(self):
        self.publish(12, 36000)  # 900,000 bytes
        # a pseudo-terminal, as a person running it sees
        pty_run = ['/usr/bin/python3', '-c',
                   'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)']
        r = self.sb.client_run(pty_run + [CTL, 'lists', 'update'], cgroup=False, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # (text mode reads each '\r' as a line end)
        screen = r.stdout
        self.assertRegex(screen, r'downloading +[0-9]{1,3}% +[0-9.]+\s(bytes|kB) of 900\.0\skB')
        # each progress line is erased before the next, and the result printed on its own line
        self.assertTrue(screen.endswith('\n\033[Kfilter lists updated\n'), repr(screen[-200:]))
        # not on a terminal: only the result
        self.publish(13, 10)
        r = self.ctl('lists', 'update')
        self.assertEqual((r.returncode, r.stdout), (0, 'filter lists updated\n'), r.stderr)


if __name__ == '__main__':
    pcsandbox.unittest_main()
