#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Network history and bandwidth end to end: the real helper records allowed and blocked
connections and their bytes; portcullisctl searches, counts, exports and deletes them over the
private system bus, and an unprivileged user can neither read nor delete."""
import csv
import io
import json
import os
import time
import unittest

from pctest import BUILD_DIR, SOURCE_DIR, client_tool, pcsandbox, require_root, wait_until

POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
CTL = os.path.join(BUILD_DIR, 'app', 'cli', 'portcullisctl')
NAME = 'org.portcullis.Portcullis1'
P4 = pcsandbox.PEER_V4


def ctl(sb, *args, user=None):
    return sb.client_run([CTL, *map(str, args)], user=user, cgroup=False, timeout=60)


class HistoryTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        pcsandbox.ensure_test_user('pctest')
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY],
                                   settings=f'[global]\ndefault-action=allow\n'
                                            f'endpoints=- {P4} tcp/7;\n')
        cls.sb.start()
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)
        # known traffic: a 5 MB download by curl, a blocked connection by a script
        res = cls.sb.client_run(['curl', '-sS', '-o', '/dev/null', f'http://{P4}/bytes/5000000'])
        assert res.returncode == 0, res.stderr
        assert not client_tool(cls.sb, 'tcp', P4, 7)['ok']

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def search(self, *args):
        r = ctl(self.sb, '--json', 'history', *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_search_filters_and_counts(self):
        rows = wait_until(lambda: [r for r in self.search() if r['remote-port'] in (80, 7)]
                          if len([r for r in self.search() if r['remote-port'] in (80, 7)]) >= 2
                          else None, what='both connections in the history')
        by_port = {r['remote-port']: r for r in rows}
        self.assertTrue(by_port[80]['allowed'])
        self.assertEqual(by_port[80]['exe'], '/usr/bin/curl')
        self.assertFalse(by_port[7]['allowed'])
        self.assertIn(f'- {P4} tcp/7', by_port[7]['reason'])
        self.assertEqual([r['remote-port'] for r in self.search('--verdict', 'blocked')], [7])
        self.assertTrue(all(r['exe'] == '/usr/bin/curl' for r in self.search('curl')))
        self.assertEqual(len(self.search(P4)), len(self.search()))
        self.assertEqual(self.search('--since', '2099-01-01T00:00:00Z'), [])
        r = ctl(self.sb, '--json', 'history', 'count', 'app')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(len(json.loads(r.stdout)), 2)
        # a readable table too
        r = ctl(self.sb, 'history', '--verdict', 'blocked')
        self.assertRegex(r.stdout, rf'out +tcp +\S+ +{P4}:7 +blocked')

    def test_bandwidth_of_a_download(self):
        def total():
            r = ctl(self.sb, '--json', 'bandwidth', '--since', '10m', '--step', '60')
            self.assertEqual(r.returncode, 0, r.stderr)
            return sum(s[1] for s in json.loads(r.stdout))
        got = wait_until(lambda: total() if total() >= 5_000_000 else None, timeout=15,
                         what='5 MB in the bandwidth series')
        # what was sent counts, retransmissions too: a loaded machine (the suite runs tests in
        # parallel) can drop a few segments on the veth; a double count would be twice as much
        self.assertLess(got, 5_000_000 * 1.05 + 10_000)

    def test_live_rate_of_a_connection(self):
        # a reader that takes 200 kB/s through a small receive buffer: after the first moments
        # the network can only go as fast as the reader, and the live connection says so
        reader = ('import socket,time\n'
                  's=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_RCVBUF,32768)\n'
                  f's.connect(("{P4}",8080));s.sendall(b"GET /bytes/50000000 HTTP/1.0\\r\\n\\r\\n")\n'
                  'while True:\n'
                  ' t=time.monotonic();n=0\n'
                  ' while n<20000:\n'
                  '  d=s.recv(20000-n)\n'
                  '  if not d: raise SystemExit\n'
                  '  n+=len(d)\n'
                  ' time.sleep(max(0,0.1-(time.monotonic()-t)))\n')
        dl = self.sb.client(['/usr/bin/python3', '-c', reader])
        seen = []
        try:
            def steady_rate():
                r = ctl(self.sb, '--json', 'connections')
                live = [c['rate-in'] for c in json.loads(r.stdout)
                        if c['remote-port'] == 8080 and c['ended'] == 0]
                seen.extend(live)
                return live and 100_000 < live[0] < 400_000
            wait_until(steady_rate, timeout=15, what=f'a rate near 200 kB/s (seen {seen})')
        finally:
            dl.kill()
            dl.wait()

    def test_export_csv_and_json(self):
        wait_until(lambda: self.search(), what='rows')
        r = ctl(self.sb, 'history', 'export', '-', '--format', 'csv')
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        self.assertTrue(any(x['remote'] == P4 and x['verdict'] == 'blocked' for x in rows), rows)
        r = ctl(self.sb, 'history', 'export', '-', '--format', 'json')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(json.loads(r.stdout))

    def test_unprivileged_user_cannot_read_or_delete(self):
        wait_until(lambda: self.search(), what='rows')
        before = len(self.search())
        for args in (['history'], ['history', 'delete'], ['bandwidth'],
                     ['history', 'export', '-']):
            r = ctl(self.sb, *args, user='pctest')
            self.assertEqual(r.returncode, 4, (args, r.stdout, r.stderr))
        self.assertEqual(len(self.search()), before)

    def test_zz_delete(self):
        wait_until(lambda: self.search(), what='rows')
        r = ctl(self.sb, '--json', 'history', 'delete', '--app', 'no-such-app')
        self.assertEqual(json.loads(r.stdout)['deleted'], 0)
        n = len(self.search('--limit', '10000'))
        r = ctl(self.sb, '--json', 'history', 'delete')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreaterEqual(json.loads(r.stdout)['deleted'], n)
        self.assertEqual(self.search(), [])


if __name__ == '__main__':
    pcsandbox.unittest_main()
