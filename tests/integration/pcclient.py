#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small network client used by the integration tests inside the sandbox's client namespace.

Each subcommand prints one JSON line with what happened, so tests can assert on it:
  tcp HOST PORT [--timeout S] [--send TEXT]     connect, optionally send and read the echo
  udp HOST PORT [--timeout S] [--no-wait]       send one datagram, optionally wait for the echo
  udp-connected HOST PORT [--timeout S]         connect() a UDP socket, send, wait for the echo
  hold HOST PORT [--seconds S]                  keep a TCP echo connection busy, report how it ended
  udp-repeat HOST PORT [--count N] [--interval S]  one UDP socket, one exchange per interval
  listen PORT [--udp] [--count N]               accept N connections (or datagrams) and echo them
"""
import argparse
import json
import socket
import sys
import time


def family_of(host):
    return socket.AF_INET6 if ':' in host else socket.AF_INET


def out(**kw):
    print(json.dumps(kw), flush=True)


def cmd_tcp(a):
    s = socket.socket(family_of(a.host), socket.SOCK_STREAM)
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        s.connect((a.host, a.port))
        local = s.getsockname()[1]
        reply = None
        if a.send is not None:
            s.sendall(a.send.encode())
            reply = s.recv(65536).decode(errors='replace')
        out(ok=True, local_port=local, reply=reply, seconds=time.monotonic() - t0)
    except OSError as e:
        out(ok=False, error=type(e).__name__, errno=getattr(e, 'errno', None), seconds=time.monotonic() - t0)
    finally:
        s.close()


def cmd_udp(a, connected=False):
    s = socket.socket(family_of(a.host), socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        if connected:
            s.connect((a.host, a.port))
            s.send(b'ping')
        else:
            s.sendto(b'ping', (a.host, a.port))
        local = s.getsockname()[1]
        if a.no_wait:
            out(ok=True, local_port=local, sent=True)
            return
        data = s.recv(65536)
        out(ok=data == b'ping', local_port=local, seconds=time.monotonic() - t0)
    except OSError as e:
        out(ok=False, error=type(e).__name__, errno=getattr(e, 'errno', None), seconds=time.monotonic() - t0)
    finally:
        s.close()


def cmd_hold(a):
    s = socket.socket(family_of(a.host), socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect((a.host, a.port))
    out(event='connected', local_port=s.getsockname()[1])
    deadline = time.monotonic() + a.seconds
    n = 0
    try:
        while time.monotonic() < deadline:
            s.sendall(b'x' * 16)
            got = s.recv(64)
            if not got:
                out(event='closed', exchanges=n)
                return
            n += 1
            time.sleep(0.05)
        out(event='done', exchanges=n)
    except OSError as e:
        out(event='error', error=type(e).__name__, errno=getattr(e, 'errno', None), exchanges=n)


def cmd_udp_repeat(a):
    """One UDP socket sending every interval; reports which exchanges got their echo."""
    s = socket.socket(family_of(a.host), socket.SOCK_DGRAM)
    s.settimeout(a.interval)
    results = []
    for i in range(a.count):
        t0 = time.monotonic()
        try:
            s.sendto(b'ping', (a.host, a.port))
            results.append(s.recv(64) == b'ping')
        except OSError:
            results.append(False)
        left = a.interval - (time.monotonic() - t0)
        if left > 0:
            time.sleep(left)
        if i == 0:
            out(event='first', local_port=s.getsockname()[1])
    out(event='done', results=results)


def cmd_listen(a):
    fam = socket.AF_INET6
    kind = socket.SOCK_DGRAM if a.udp else socket.SOCK_STREAM
    s = socket.socket(fam, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(('::', a.port))
    if not a.udp:
        s.listen(64)
    out(event='listening', port=a.port)
    for _ in range(a.count):
        if a.udp:
            data, peer = s.recvfrom(65536)
            s.sendto(data, peer)
        else:
            c, _ = s.accept()
            c.settimeout(5)
            try:
                data = c.recv(65536)
                if data:
                    c.sendall(data)
            except OSError:
                pass
            c.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    for name in ('tcp', 'udp', 'udp-connected', 'hold'):
        q = sub.add_parser(name)
        q.add_argument('host')
        q.add_argument('port', type=int)
        q.add_argument('--timeout', type=float, default=3)
        q.add_argument('--send')
        q.add_argument('--no-wait', action='store_true')
        q.add_argument('--seconds', type=float, default=10)
    q = sub.add_parser('udp-repeat')
    q.add_argument('host')
    q.add_argument('port', type=int)
    q.add_argument('--count', type=int, default=20)
    q.add_argument('--interval', type=float, default=0.2)
    q = sub.add_parser('listen')
    q.add_argument('port', type=int)
    q.add_argument('--udp', action='store_true')
    q.add_argument('--count', type=int, default=1)
    a = p.parse_args()
    {'tcp': cmd_tcp, 'udp': cmd_udp, 'udp-connected': lambda x: cmd_udp(x, True),
     'hold': cmd_hold, 'udp-repeat': cmd_udp_repeat, 'listen': cmd_listen}[a.cmd](a)


if __name__ == '__main__':
    sys.exit(main())
