#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Packet-path benchmark, in one run over the sandbox veth:
  (a) no firewall, (b) a trivial accept-all nfqueue program with the same chains,
  (c) portcullisd with 200 endpoint rules (none matching: every rule is considered).
Client pinned to CPU 0, server to CPU 1. Prints figures and ratios; asserts nothing.
Run: meson test -C build --benchmark packet-path -v   (as root)"""
import os
import statistics
import subprocess
import sys
import time

SOURCE_DIR = os.environ.get('PC_SOURCE_DIR') or os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD_DIR = os.environ.get('PC_BUILD_DIR') or os.path.join(SOURCE_DIR, 'build')
sys.path.insert(0, os.path.join(SOURCE_DIR, 'build-aux'))
import pcsandbox  # noqa: E402

NETLOAD = os.path.join(BUILD_DIR, 'tests', 'bench', 'bench-netload')
NFQ_ACCEPT = os.path.join(BUILD_DIR, 'tests', 'bench', 'bench-nfq-accept')
PORT = 5000
ROUNDS = int(os.environ.get('PC_BENCH_ROUNDS', '5'))
WORK = {'tcp': 4000, 'tcp-fork': 1500, 'udp': 4000}
BULK_MB = 1000


def rules_200():
    rules = []
    for i in range(100):
        rules.append(f'- 198.51.{i}.{i + 1} tcp/{1000 + i}')
    for i in range(50):
        rules.append(f'- 203.0.{i}.0/24')
    for i in range(50):
        rules.append(f'- 2001:db8:{i:x}::/48 udp/{2000 + i}')
    return rules


def parse(line):
    return {k: float(v) for k, v in (kv.split('=') for kv in line.split())}


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


UDP_LPORT = 20000


def flush_udp(sb):
    """Every UDP flow a new conntrack flow: the previous mode's UDP entries (they live 30 s) are
    removed before a mode starts - before its helper runs, so that portcullisd is not handed
    thousands of end-of-flow events of flows that were never its own - and the flows come from
    fresh local ports; otherwise a port handed out again meets its old entry and the datagram
    never reaches the queue."""
    sb.client_run(['conntrack', '-D', '-p', 'udp'], timeout=30)


def run_mode(sb, kind):
    extra = []
    if kind == 'udp':
        extra = [str(UDP_LPORT)]
    res = sb.client_run(['taskset', '-c', '0', NETLOAD, kind, sb.peer_v4, str(PORT), str(WORK[kind])]
                        + extra, timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f'{kind}: {res.stderr}')
    return parse(res.stdout.strip())


def run_bulk(sb):
    res = sb.client_run(['taskset', '-c', '0', NETLOAD, 'bulk', sb.peer_v4, str(PORT + 1),
                         str(BULK_MB)], timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f'bulk: {res.stderr}')
    return parse(res.stdout.strip())['mbit']


def run_round(sb, label, raw, pid=None):
    """One round of every load in one mode; adds to raw[(label, kind)] lists and CPU totals."""
    cpu0 = cpu_seconds(pid) if pid else 0
    flows = 0
    for kind in WORK:
        raw.setdefault((label, kind), []).append(run_mode(sb, kind))
        flows += WORK[kind]
    raw.setdefault((label, 'bulk'), []).append(run_bulk(sb))
    if pid:
        raw.setdefault((label, 'cpu'), []).append(cpu_seconds(pid) - cpu0)
        raw.setdefault((label, 'flows'), []).append(flows)
        raw[(label, 'rss_kib')] = [rss_kib(pid)]


def main():
    if os.geteuid() != 0:
        print('the packet-path benchmark needs root (namespaces, netfilter)')
        return 77
    settings = {'default-action': 'allow', 'endpoints': rules_200()}
    with pcsandbox.Sandbox(BUILD_DIR, helper=False, bus=False, settings=settings) as sb:
        sb.verbose = False
        server = sb.peer(['taskset', '-c', '1', NETLOAD, 'serve', str(PORT)],
                         stdout=subprocess.PIPE, text=True)
        if server.stdout.readline().strip() != 'ready':
            raise RuntimeError('bench server did not start')

        # The modes take turns in every round, so a change in the machine's load during the
        # run affects all three alike; the median round of each is reported.
        raw = {}
        queued = 0
        for _ in range(ROUNDS):
            flush_udp(sb)
            run_round(sb, 'a', raw)

            flush_udp(sb)
            base = subprocess.Popen(sb.ns_argv(sb.client_ns, [NFQ_ACCEPT]),
                                    stderr=subprocess.PIPE, text=True)
            if 'ready' not in base.stderr.readline():
                raise RuntimeError('bench-nfq-accept did not start')
            run_round(sb, 'b', raw, pid=base.pid)
            base.terminate()
            base.wait()

            flush_udp(sb)
            sb.start_helper()
            run_round(sb, 'c', raw, pid=sb.helper_pid)
            queued += sb.queue_stats()[0]['queued_total']
            sb.stop_helper()
        server.kill()

    results = {}
    for (label, kind), values in raw.items():
        if kind in WORK:
            results[(label, kind)] = sorted(values, key=lambda r: r['rate'])[len(values) // 2]
        elif kind == 'bulk':
            results[(label, kind)] = statistics.median(values)
    for label in 'bc':
        results[(label, 'cpu_per_1000')] = sum(raw[(label, 'cpu')]) / sum(raw[(label, 'flows')]) * 1000
        results[(label, 'rss_kib')] = raw[(label, 'rss_kib')][0]

    names = {'a': 'no firewall', 'b': 'accept-all nfqueue', 'c': 'portcullisd, 200 rules'}
    print(f'{"mode":<26}{"tcp conn/s":>12}{"p50 us":>9}{"p99 us":>9}{"fork conn/s":>13}'
          f'{"p50 us":>9}{"p99 us":>9}{"udp flows/s":>13}{"p50 us":>9}{"p99 us":>9}{"bulk Mbit/s":>13}')
    for m in 'abc':
        t, f, u = results[(m, 'tcp')], results[(m, 'tcp-fork')], results[(m, 'udp')]
        print(f'{names[m]:<26}{t["rate"]:>12.0f}{t["p50_us"]:>9.1f}{t["p99_us"]:>9.1f}'
              f'{f["rate"]:>13.0f}{f["p50_us"]:>9.1f}{f["p99_us"]:>9.1f}'
              f'{u["rate"]:>13.0f}{u["p50_us"]:>9.1f}{u["p99_us"]:>9.1f}{results[(m, "bulk")]:>13.0f}')
    print()
    for kind in WORK:
        c, b, a = (results[(m, kind)]['rate'] for m in 'cba')
        print(f'ratio {kind:<9} (c)/(b) = {c / b:.3f}   (b)/(a) = {b / a:.3f}   (c)/(a) = {c / a:.3f}'
              '   target (c)/(b) >= 0.85')
    print(f'ratio bulk      (c)/(a) = {results[("c", "bulk")] / results[("a", "bulk")]:.3f}'
          '   target >= 0.97')
    print(f'helper CPU per 1000 connections: {results[("c", "cpu_per_1000")]:.4f} s '
          f'(accept-all program: {results[("b", "cpu_per_1000")]:.4f} s)   target <= 0.08 s')
    print(f'helper RSS: {results[("c", "rss_kib")] / 1024:.1f} MiB '
          f'(accept-all program: {results[("b", "rss_kib")] / 1024:.1f} MiB)')
    print(f'packets queued to portcullisd: {queued} for {sum(WORK.values()) * ROUNDS} new flows '
          f'and {ROUNDS} bulk transfers of {BULK_MB} MiB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
