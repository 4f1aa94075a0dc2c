#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A D-Bus client of org.portcullis.Portcullis1 for the integration tests (Gio, system bus from
DBUS_SYSTEM_BUS_ADDRESS). Runs as any user; prints JSON lines:
  call METHOD [ARGS]            ARGS: GVariant text of the in-arguments tuple, e.g. "('id',)"
  pipeline METHOD N             N calls at once on one connection; counts replies by error name
  sequential METHOD N [ARGS]    N calls one after the other on one connection; counts replies
  subscribe [--times N] [--until-ids N --remote-port P] [--seconds S]
                                Subscribe N times, print {"subscribed": ...}, then collect
                                ConnectionsChanged until N distinct ids with remote port P were
                                seen or S seconds passed; print a summary
  own NAME                      try to own a bus name
  fire METHOD N                 send N calls and leave the bus without waiting for replies
  wait-signal NAME [--seconds S]  print {"ready": true}, then the first signal NAME's args
"""
import argparse
import json
import os
import sys
import time

from gi.repository import Gio, GLib

NAME = 'org.portcullis.Portcullis1'
PATH = '/org/portcullis/Portcullis1'
IFACE = 'org.portcullis.Portcullis1'


def out(**kw):
    print(json.dumps(kw), flush=True)


def error_fields(e):
    name = Gio.DBusError.get_remote_error(e) if Gio.DBusError.is_remote_error(e) else None
    msg = e.message
    if name:
        Gio.DBusError.strip_remote_error(e)
        msg = e.message
    return {'ok': False, 'error': name or f'{e.domain}:{e.code}', 'message': msg}


def bus():
    return Gio.bus_get_sync(Gio.BusType.SYSTEM, None)


def call(conn, method, args=None, flags=Gio.DBusCallFlags.NONE, timeout=25000):
    return conn.call_sync(NAME, PATH, IFACE, method, args, None, flags, timeout, None)


def cmd_call(a):
    conn = bus()
    args = GLib.Variant.parse(None, a.args, None, None) if a.args else None
    flags = Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION if a.interactive else 0
    try:
        res = call(conn, a.method, args, flags)
    except GLib.Error as e:
        out(**error_fields(e))
        return 1
    out(ok=True, result=res.unpack() if res is not None else None)
    return 0


def cmd_pipeline(a):
    conn = bus()
    loop = GLib.MainLoop()
    counts = {}
    left = [a.n]

    def done(c, res, _data):
        try:
            c.call_finish(res)
            key = 'ok'
        except GLib.Error as e:
            key = error_fields(e)['error']
        counts[key] = counts.get(key, 0) + 1
        left[0] -= 1
        if left[0] == 0:
            loop.quit()

    for _ in range(a.n):
        conn.call(NAME, PATH, IFACE, a.method, None, None, 0, 25000, None, done, None)
    loop.run()
    out(counts=counts)
    return 0


def cmd_sequential(a):
    conn = bus()
    args = GLib.Variant.parse(None, a.args, None, None) if a.args else None
    counts = {}
    for _ in range(a.n):
        try:
            call(conn, a.method, args)
            key = 'ok'
        except GLib.Error as e:
            key = error_fields(e)['error']
        counts[key] = counts.get(key, 0) + 1
    out(counts=counts)
    return 0


def cmd_subscribe(a):
    conn = bus()
    loop = GLib.MainLoop()
    state = {'signals': 0, 'entries': 0, 'ids': set(), 'sizes': [], 'events': {},
             'first': None, 'last': None}
    matched = {}

    def on_signal(c, sender, path, iface, signal, params, _data):
        changes = params.unpack()[0]
        now = time.monotonic()
        state['signals'] += 1
        state['entries'] += len(changes)
        state['sizes'].append(len(changes))
        state['first'] = state['first'] or now
        state['last'] = now
        for ch in changes:
            state['ids'].add(ch['id'])
            state['events'][ch['event']] = state['events'].get(ch['event'], 0) + 1
            if a.remote_port is not None and ch['remote-port'] == a.remote_port:
                matched[ch['id']] = ch
        if a.until_ids and len(matched) >= a.until_ids:
            loop.quit()

    conn.signal_subscribe(NAME, IFACE, 'ConnectionsChanged', PATH, None,
                          Gio.DBusSignalFlags.NONE, on_signal, None)
    try:
        for _ in range(a.times):
            call(conn, 'Subscribe')
    except GLib.Error as e:
        out(subscribed=False, **error_fields(e))
        return 1
    out(subscribed=True, unique_name=conn.get_unique_name())
    GLib.timeout_add(int(a.seconds * 1000), loop.quit)
    loop.run()
    out(signals=state['signals'], entries=state['entries'], distinct_ids=len(state['ids']),
        events=state['events'], max_entries=max(state['sizes'] or [0]),
        span=(state['last'] - state['first']) if state['first'] else 0,
        matched=len(matched),
        matched_local_ports=sorted(c['local-port'] for c in matched.values()),
        matched_sample=next(iter(matched.values()), None))
    return 0


def cmd_own(a):
    conn = bus()
    try:
        res = conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus',
                             'org.freedesktop.DBus', 'RequestName',
                             GLib.Variant('(su)', (a.name, 4)), None, 0, 10000, None)
    except GLib.Error as e:
        out(**error_fields(e))
        return 1
    out(ok=True, result=res.unpack()[0])
    return 0


def cmd_fire(a):
    conn = bus()
    for _ in range(a.n):
        conn.call(NAME, PATH, IFACE, a.method, None, None, 0, 25000, None, None, None)
    conn.flush_sync(None)
    out(sent=a.n)
    sys.stdout.flush()
    os._exit(0)  # gone before the replies come


def cmd_wait_signal(a):
    conn = bus()
    loop = GLib.MainLoop()
    got = []

    def on_signal(c, sender, path, iface, name, params, _data):
        got.append(params.unpack())
        loop.quit()

    conn.signal_subscribe(NAME, IFACE, a.name, PATH, None, Gio.DBusSignalFlags.NONE, on_signal,
                          None)
    # a round trip to the bus: the match rule is in place once it returns
    conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                   'GetId', None, None, 0, 10000, None)
    out(ready=True)
    GLib.timeout_add(int(a.seconds * 1000), loop.quit)
    loop.run()
    out(received=bool(got), args=got[0] if got else None)
    return 0 if got else 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    q = sub.add_parser('call')
    q.add_argument('method')
    q.add_argument('args', nargs='?')
    q.add_argument('--interactive', action='store_true')
    q = sub.add_parser('pipeline')
    q.add_argument('method')
    q.add_argument('n', type=int)
    q = sub.add_parser('sequential')
    q.add_argument('method')
    q.add_argument('n', type=int)
    q.add_argument('args', nargs='?')
    q = sub.add_parser('subscribe')
    q.add_argument('--times', type=int, default=1)
    q.add_argument('--until-ids', type=int, default=0)
    q.add_argument('--remote-port', type=int)
    q.add_argument('--seconds', type=float, default=3600)
    q = sub.add_parser('own')
    q.add_argument('name')
    q = sub.add_parser('fire')
    q.add_argument('method')
    q.add_argument('n', type=int)
    q = sub.add_parser('wait-signal')
    q.add_argument('name')
    q.add_argument('--seconds', type=float, default=10)
    a = p.parse_args()
    return {'call': cmd_call, 'pipeline': cmd_pipeline, 'sequential': cmd_sequential,
            'subscribe': cmd_subscribe,
            'own': cmd_own, 'fire': cmd_fire, 'wait-signal': cmd_wait_signal}[a.cmd](a)


if __name__ == '__main__':
    sys.exit(main())
