#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bandwidth-sampling cost: portcullisd's CPU while 10,000 live sockets (flows with kernel
traffic counters) are sampled every second, against the same helper idle with none, in one run.
Target: sampling under 1% of one core. Run: meson test -C build --benchmark traffic -v (root)."""
import os
import subprocess
import sys
import time

SOURCE_DIR = os.environ.get('PC_SOURCE_DIR') or os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD_DIR = os.environ.get('PC_BUILD_DIR') or os.path.join(SOURCE_DIR, 'build')
sys.path.insert(0, os.path.join(SOURCE_DIR, 'build-aux'))
import pcsandbox  # noqa: E402

N = int(os.environ.get('PC_BENCH_SOCKETS', '10000'))
SECONDS = 10

HOLDER = r'''
import resource, socket, sys, time
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, n + 100))
socks = []
for i in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b'x' * 100, (sys.argv[2], 7))
    socks.append(s)
print('ready', flush=True)
time.sleep(3600)
'''


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def measure(pid):
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(SECONDS)
    return (cpu_seconds(pid) - c0) / (time.monotonic() - t0) * 100


def main():
    if os.geteuid() != 0:
        print('the traffic benchmark needs root')
        return 77
    with pcsandbox.Sandbox(BUILD_DIR, helper=False, bus=False,
                           settings={'default-action': 'allow'}) as sb:
        sb.verbose = False
        sb.start_helper()
        time.sleep(2)
        idle = measure(sb.helper_pid)
        holder = sb.client(['/usr/bin/python3', '-c', HOLDER, str(N), sb.peer_v4],
                           stdout=subprocess.PIPE, text=True)
        if holder.stdout.readline().strip() != 'ready':
            raise RuntimeError('socket holder did not start')
        time.sleep(3)  # let the flows be decided and recorded
        live = [l for l in open(f'/proc/{sb.helper_pid}/status') if l.startswith('VmRSS')]
        busy = measure(sb.helper_pid)
        holder.kill()
        holder.wait()
        print(f'helper CPU idle, no sockets:           {idle:6.2f} % of one core')
        print(f'helper CPU with {N} live sockets: {busy:6.2f} % of one core '
              f'(sampling once a second; difference {busy - idle:+.2f} %)   target < 1 %')
        print(f'helper {live[0].strip() if live else "VmRSS unknown"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
