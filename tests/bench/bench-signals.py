#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: the ConnectionsChanged signal stream at 2,000 new connections per second.

portcullisd runs in the sandbox with a private system bus and the real polkitd. A paced client
opens and resets 2,000 TCP connections a second; rounds alternate between no subscriber
(baseline) and one subscriber. Printed: helper CPU per round in both modes and their ratio (the
cost of the signal stream), and the delivery latency from the helper's decision ("started") to
the subscriber's receipt (which includes the ~100 ms batching). Asserts nothing.

  bench-signals.py                   run the benchmark (root)
  bench-signals.py subscribe SECS    (internal) the subscriber: prints latency figures as JSON
  bench-signals.py load HOST PORT RATE SECS   (internal) the paced connection generator
"""
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import time

SOURCE_DIR = os.environ.get('PC_SOURCE_DIR') or os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD_DIR = os.environ.get('PC_BUILD_DIR') or os.path.join(SOURCE_DIR, 'build')
sys.path.insert(0, os.path.join(SOURCE_DIR, 'build-aux'))

RATE = 2000
SECONDS = 5
ROUNDS = 3
PORT = 5555
NETLOAD = os.path.join(BUILD_DIR, 'tests', 'bench', 'bench-netload')
PCDBUS = os.path.join(SOURCE_DIR, 'tests', 'integration', 'pcdbus.py')
POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')


def cmd_load(host, port, rate, secs):
    rate, secs, port = float(rate), float(secs), int(port)
    n = int(rate * secs)
    linger = struct.pack('ii', 1, 0)  # close with RST: no TIME_WAIT, ports stay free
    t0 = time.monotonic()
    errors = 0
    ports = set()
    for i in range(n):
        ahead = t0 + i / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        try:
            s.connect((host, port))
            ports.add(s.getsockname()[1])
        except OSError:
            errors += 1
        s.close()
    elapsed = time.monotonic() - t0
    print(json.dumps({'n': n, 'rate': n / elapsed, 'errors': errors, 'distinct': len(ports)}),
          flush=True)


def cmd_subscribe(secs):
    from gi.repository import Gio, GLib

    conn = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    loop = GLib.MainLoop()
    lat = []
    seen = set()
    t_subscribed = None
    stats = {'signals': 0, 'entries': 0}

    def on_signal(c, sender, path, iface, name, params, _data):
        now = GLib.get_real_time()
        last[0] = time.monotonic()
        stats.setdefault('first', last[0])
        stats['span'] = last[0] - stats['first']
        changes = params.get_child_value(0)
        stats['signals'] += 1
        stats['entries'] += changes.n_children()
        for i in range(changes.n_children()):
            entry = changes.get_child_value(i)
            cid = entry.lookup_value('id', None).get_uint64()
            # first news of a connection: "added", or "ended" when it began and ended in one batch
            started = entry.lookup_value('started', None).get_int64()
            if cid not in seen and started >= t_subscribed:
                seen.add(cid)
                lat.append((now - started) / 1000.0)

    conn.signal_subscribe('org.portcullis.Portcullis1', 'org.portcullis.Portcullis1',
                          'ConnectionsChanged', '/org/portcullis/Portcullis1', None,
                          Gio.DBusSignalFlags.NONE, on_signal, None)
    conn.call_sync('org.portcullis.Portcullis1', '/org/portcullis/Portcullis1',
                   'org.portcullis.Portcullis1', 'Subscribe', None, None, 0, 10000, None)
    t_subscribed = GLib.get_real_time()
    print(json.dumps({'subscribed': True}), flush=True)
    # after SECS, keep reading until the stream has been quiet for a second (a busy machine
    # may leave signals queued for this process)
    last = [time.monotonic()]
    deadline = time.monotonic() + float(secs)

    def check_done():
        now = time.monotonic()
        if now >= deadline and now - last[0] >= 1.0:
            loop.quit()
            return GLib.SOURCE_REMOVE
        return GLib.SOURCE_CONTINUE

    GLib.timeout_add(200, check_done)
    loop.run()
    lat.sort()
    out = dict(stats, connections=len(lat))
    if lat:
        out.update(p50_ms=lat[len(lat) // 2], p99_ms=lat[int(len(lat) * 0.99)], max_ms=lat[-1])
    print(json.dumps(out), flush=True)


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def helper_flows(sb):
    res = sb.client_run([sys.executable, PCDBUS, 'call', 'Status'], cgroup=False, check=True)
    return json.loads(res.stdout)['result'][0]['flows']


def run_round(sb, subscribed):
    me = [sys.executable, os.path.abspath(__file__)]
    sub = None
    flows0 = helper_flows(sb)
    if subscribed:
        sub = sb.client(me + ['subscribe', str(SECONDS + 2)], text=True, stdout=subprocess.PIPE,
                        start_new_session=True, cgroup=False)
        json.loads(sub.stdout.readline())
    cpu0 = cpu_seconds(sb.helper_pid)
    load = sb.client_run(me + ['load', sb.peer_v4, str(PORT), str(RATE), str(SECONDS)],
                         timeout=SECONDS * 10)
    # the last batch and the flows' ends are part of the cost
    time.sleep(1.0)
    cpu = cpu_seconds(sb.helper_pid) - cpu0
    result = {'cpu': cpu, 'flows': helper_flows(sb) - flows0, **json.loads(load.stdout)}
    if sub is not None:
        out, _ = sub.communicate(timeout=30)
        result['sub'] = json.loads(out.splitlines()[-1])
    return result


def main():
    import pcsandbox

    if os.geteuid() != 0:
        print('bench-signals: needs root (sandbox)')
        return 77
    sb = pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY],
                           settings='[global]\ndefault-action=allow\n')
    sb.verbose = False
    with sb:
        sb.wait_for_name('org.portcullis.Portcullis1', 10)
        # fewer reused local ports (a reused 5-tuple can be the same flow to the helper)
        sb.client_run(['sysctl', '-q', '-w', 'net.ipv4.ip_local_port_range=1024 65535'],
                      check=True)
        server = sb.peer([NETLOAD, 'serve', str(PORT)], stdout=subprocess.DEVNULL,
                         start_new_session=True)
        try:
            time.sleep(0.3)
            base, subd = [], []
            for _ in range(ROUNDS):
                base.append(run_round(sb, False))
                subd.append(run_round(sb, True))
        finally:
            server.terminate()
            server.wait()

    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    # CPU per 1000 flows the helper decided (a slow round makes fewer), median of the rounds
    per_b = statistics.median(r['cpu'] / max(r['flows'], 1) * 1e6 for r in base)
    per_s = statistics.median(r['cpu'] / max(r['flows'], 1) * 1e6 for r in subd)
    print(f'load: {RATE} new TCP connections/s for {SECONDS} s per round, {ROUNDS} rounds per mode '
          f'(achieved {med(base, "rate"):.0f}/s and {med(subd, "rate"):.0f}/s)')
    print(f'helper CPU per 1000 new flows: {per_b:.1f} ms without a subscriber, {per_s:.1f} ms '
          f'with one (ratio {per_s / per_b if per_b else float("nan"):.2f}); per round '
          f'{med(base, "cpu"):.2f} s vs {med(subd, "cpu"):.2f} s')
    subs = [r['sub'] for r in subd]
    print('signals per second: '
          + ', '.join(f'{(s["signals"] - 1) / s["span"] if s.get("span") else 0:.1f}' for s in subs)
          + f' (each with ~{statistics.median(s["entries"] / max(s["signals"], 1) for s in subs):.0f}'
          ' entries)')
    # A local port reused while the helper still tracks the old flow (RST-closed flows stay in
    # conntrack for 10 s) is the same flow to the helper: compare with the flows it decided.
    print('connections in the stream / flows the helper decided / connects made: '
          + ', '.join(f'{s["connections"]}/{r["flows"]}/{r["n"]}' for s, r in zip(subs, subd)))
    print('delivery latency decision -> subscriber (ms): '
          + ', '.join(f'p50 {s.get("p50_ms", 0):.0f} p99 {s.get("p99_ms", 0):.0f} '
                      f'max {s.get("max_ms", 0):.0f}' for s in subs))
    return 0


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == 'subscribe':
        cmd_subscribe(sys.argv[2])
    elif len(sys.argv) > 1 and sys.argv[1] == 'load':
        cmd_load(*sys.argv[2:6])
    else:
        sys.exit(main())
