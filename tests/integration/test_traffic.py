#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-connection traffic counted in the kernel (cgroup_skb BPF) and reported when the flow
ends: real transfers of known size, TCP and UDP, attributed to the right program."""
import re
import subprocess
import time
import unittest

from pctest import BUILD_DIR, CLIENT_TOOL, PYTHON, pcsandbox, require_root

P4, P6 = pcsandbox.PEER_V4, pcsandbox.PEER_V6
ENDED_RE = re.compile(r'ended (?P<proto>\S+) (?P<local>\S+) -> (?P<remote>\S+) pid=(?P<pid>-?\d+) '
                      r'bytes_in=(?P<bin>\d+) bytes_out=(?P<bout>\d+)')


def ended(sb, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        for line in sb.helper_log(since_start=True).splitlines():
            m = ENDED_RE.search(line)
            if m and pred(m):
                return m
        if time.monotonic() > deadline:
            raise AssertionError('no matching ended flow:\n' + sb.helper_log()[-3000:])
        time.sleep(0.1)


def wait_for_lines(sb, regex, count, pred=lambda m: True, timeout=5.0):
    """The first count matches of regex (that pred accepts) in the helper's log, once there are
    that many."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in regex.finditer(sb.helper_log(since_start=True)) if pred(m)]
        if len(found) >= count:
            return found[:count]
        if time.monotonic() > deadline:
            raise AssertionError(f'{len(found)} of {count} lines /{regex.pattern}/:\n'
                                 + sb.helper_log()[-3000:])
        time.sleep(0.1)


def echo_client(port, body):
    """A Python client of the peer's TCP echo server, from local port port: body uses connect(),
    talk(s, n) (n bytes there and back; returns s) and reset(s) (close with a RST)."""
    return ('import socket,struct,sys\n'
            'def connect():\n'
            '  s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n'
            f'  s.bind(("",{port}));s.connect(("{P4}",7));return s\n'
            'def talk(s,n):\n'
            '  s.sendall(b"x"*n);got=0\n'
            '  while got<n: got+=len(s.recv(65536))\n'
            '  return s\n'
            'def reset(s):\n'
            '  s.setsockopt(socket.SOL_SOCKET,socket.SO_LINGER,struct.pack("ii",1,0));s.close()\n'
            + body)


def retrans_segs(sb):
    """TCP segments the peer retransmitted so far (they arrive twice and are counted twice:
    they are traffic on the wire)."""
    res = sb.peer_run(['cat', '/proc/net/snmp'])
    lines = [l.split() for l in res.stdout.splitlines() if l.startswith('Tcp:')]
    return int(dict(zip(lines[0], lines[1]))['RetransSegs'])


def forget(sb, *args):
    """End flows now (delete their conntrack entries) instead of waiting for their timeouts."""
    subprocess.run(['ip', 'netns', 'exec', sb.client_ns, 'conntrack', '-D', *args],
                   capture_output=True)


class TrafficTests(unittest.TestCase):
    mode_args = ()

    @classmethod
    def setUpClass(cls):
        require_root()
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, bus=False, settings={'default-action': 'allow'},
                                   helper_args=cls.mode_args)
        cls.sb.start()

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def test_download_counted_within_2_percent(self):
        size = 10 * 1024 * 1024
        for host, url in ((P4, f'http://{P4}/bytes/{size}'), (P6, f'http://[{P6}]:8080/bytes/{size}')):
            retrans = retrans_segs(self.sb)
            res = self.sb.client_run(['curl', '-sS', '-g', '-o', '/dev/null', '-w', '%{local_port}',
                                      url], timeout=60)
            retrans = retrans_segs(self.sb) - retrans
            self.assertEqual(res.returncode, 0, res.stderr)
            port = int(res.stdout)
            forget(self.sb, '-p', 'tcp', '--sport', str(port))
            m = ended(self.sb, lambda m, p=port: m['local'].endswith(f':{p}'))
            # payload bytes: the body plus a response header of ~150 bytes, and whatever the peer
            # had to send again on a loaded machine (at most a segment per retransmission)
            self.assertAlmostEqual(int(m['bin']), size, delta=size * 0.02 + retrans * 65536)
            self.assertGreater(int(m['bin']), size)
            self.assertLess(int(m['bout']), 1000)  # just the request

    def test_udp_burst_counted_exactly(self):
        script = ('import socket,sys\n'
                  's=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);s.settimeout(2)\n'
                  'got=0\n'
                  'for i in range(500):\n'
                  f'  s.sendto(b"x"*1000,("{P4}",7)); got+=len(s.recv(2000))\n'
                  'print(s.getsockname()[1], got)\n')
        res = self.sb.client_run([PYTHON, '-c', script], timeout=60)
        port, got = map(int, res.stdout.split())
        self.assertEqual(got, 500_000)
        forget(self.sb, '-p', 'udp', '--sport', str(port))
        m = ended(self.sb, lambda m: m['proto'] == 'udp' and m['local'].endswith(f':{port}'))
        self.assertEqual(int(m['bout']), 500_000)
        self.assertEqual(int(m['bin']), 500_000)

    def test_bytes_attributed_per_program(self):
        a = self.sb.client(['curl', '-sS', '-o', '/dev/null', '-w', '%{local_port}',
                            f'http://{P4}/bytes/3000000'], stdout=subprocess.PIPE, text=True)
        b = self.sb.client([PYTHON, '-c', 'import urllib.request,socket\n'
                            f'r=urllib.request.urlopen("http://{P4}:8080/bytes/5000000")\n'
                            'n=len(r.read())\nprint(n)'], stdout=subprocess.PIPE, text=True)
        port_a = int(a.communicate(timeout=60)[0])
        self.assertEqual(b.communicate(timeout=60)[0].strip(), '5000000')
        forget(self.sb, '-p', 'tcp', '--dport', '80')
        forget(self.sb, '-p', 'tcp', '--dport', '8080')
        ma = ended(self.sb, lambda m: m['local'].endswith(f':{port_a}'))
        mb = ended(self.sb, lambda m: int(m['pid']) == b.pid and m['remote'].endswith(':8080'))
        self.assertEqual(int(ma['pid']), a.pid)
        slack = retrans_segs(self.sb) * 65536  # retransmissions of the whole run so far, if any
        self.assertAlmostEqual(int(ma['bin']), 3_000_000, delta=60_000 + slack)
        self.assertAlmostEqual(int(mb['bin']), 5_000_000, delta=100_000 + slack)

    def test_reused_tuple_is_a_new_connection(self):
        """A connection from the local port to the peer of one that has just ended (reset: its
        conntrack entry lingers, closing) is a connection of its own. The old one ends with its
        bytes; the new one lives until it ends, with its own - the end of the old entry, read
        later, must not end it."""
        script = echo_client(40555, 'reset(talk(connect(),1000))\n'
                                    's=talk(connect(),2000);print("ready",flush=True)\n'
                                    'sys.stdin.readline();reset(s)\n')
        client = self.sb.client([PYTHON, '-c', script], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(client.stdout.readline().strip(), 'ready')
            first = ended(self.sb, lambda m: m['local'].endswith(':40555'))
            # exact with BPF; without, payload estimated from conntrack's IP byte counts
            self.assertAlmostEqual(int(first['bin']), 1000, delta=50)
            self.assertAlmostEqual(int(first['bout']), 1000, delta=50)
            time.sleep(1.5)  # the old entry's end is read four times a second
            ends = [m for m in ENDED_RE.finditer(self.sb.helper_log(since_start=True))
                    if m['local'].endswith(':40555')]
            self.assertEqual(len(ends), 1, 'the new connection was ended with the old one')
        finally:
            client.communicate('\n', timeout=10)
        forget(self.sb, '-p', 'tcp', '--sport', '40555')
        second = ended(self.sb, lambda m: m['local'].endswith(':40555') and int(m['bin']) > 1500)
        self.assertAlmostEqual(int(second['bin']), 2000, delta=50)
        self.assertAlmostEqual(int(second['bout']), 2000, delta=50)

    def test_connection_outliving_its_entry_is_followed(self):
        """A live connection whose conntrack entry goes away (deleted, flushed) gets a new entry
        from its next packet: that is a flow again, attributed anew, while the old flow ends.
        Before, the connection vanished. Its bytes are split between the two (where depends on
        when the old one is finished: the BPF counters are the socket's), none lost or counted
        twice."""
        script = echo_client(40556, 's=connect();talk(s,300);print("ready",flush=True)\n'
                                    'sys.stdin.readline();talk(s,700);print("again",flush=True)\n'
                                    'sys.stdin.readline();reset(s)\n')
        client = self.sb.client([PYTHON, '-c', script], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(client.stdout.readline().strip(), 'ready')
            time.sleep(2.5)  # well after the verdict: a packet queued now has a new entry
            # the next packet at once, before the helper reads the old entry's end (it reads
            # them four times a second)
            forget(self.sb, '-p', 'tcp', '--sport', '40556')
            client.stdin.write('\n')
            client.stdin.flush()
            self.assertEqual(client.stdout.readline().strip(), 'again')
            flows = wait_for_lines(self.sb, re.compile(r'flow tcp \S+:40556 -> \S+ pid=(\d+)'), 2)
            self.assertEqual([int(m[1]) for m in flows], [client.pid, client.pid])
        finally:
            client.communicate('\n', timeout=10)
        forget(self.sb, '-p', 'tcp', '--sport', '40556')
        ends = wait_for_lines(self.sb, ENDED_RE, 2, lambda m: m['local'].endswith(':40556'))
        self.assertAlmostEqual(sum(int(m['bout']) for m in ends), 1000, delta=50)
        self.assertAlmostEqual(sum(int(m['bin']) for m in ends), 1000, delta=50)


class ConntrackTrafficTests(TrafficTests):
    """The same without BPF: conntrack accounting, payload estimated from the byte and packet
    counts."""
    mode_args = ('--no-bpf',)


if __name__ == '__main__':
    pcsandbox.unittest_main()
