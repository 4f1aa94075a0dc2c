#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""A prompt agent for the integration tests: registers with portcullisd (DBUS_SYSTEM_BUS_ADDRESS),
prints {"ready": true}, then one JSON line per PromptAdded ({"prompt": ...}) and PromptEnded
({"ended": ID, "how": ...}). With --answer VERDICT[:SCOPE[:LIFETIME]] it answers every prompt
(after --delay seconds) and prints {"answered": ID, "ok": ...}. Exits after --seconds.
"""
import argparse
import json
import sys

from gi.repository import Gio, GLib

NAME = 'org.portcullis.Portcullis1'
PATH = '/org/portcullis/Portcullis1'
IFACE = 'org.portcullis.Portcullis1'


def out(**kw):
    print(json.dumps(kw), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--answer')
    p.add_argument('--delay', type=float, default=0.0)
    p.add_argument('--seconds', type=float, default=30)
    a = p.parse_args()
    conn = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    loop = GLib.MainLoop()

    def answer(pid):
        verdict, scope, lifetime = (a.answer.split(':') + [None, None])[:3]
        d = {'verdict': GLib.Variant('s', verdict)}
        if scope:
            d['scope'] = GLib.Variant('s', scope)
        if lifetime:
            d['lifetime'] = GLib.Variant('s', lifetime)
        try:
            conn.call_sync(NAME, PATH, IFACE, 'AnswerPrompt', GLib.Variant('(sa{sv})', (pid, d)),
                           None, Gio.DBusCallFlags.NONE, 10000, None)
            out(answered=pid, ok=True)
        except GLib.Error as e:
            out(answered=pid, ok=False, message=e.message)
        return False

    def on_signal(c, sender, path, iface, name, params, _data):
        if name == 'PromptAdded':
            prompt = params.unpack()[0]
            out(prompt=prompt)
            if a.answer:
                GLib.timeout_add(int(a.delay * 1000), answer, prompt['id'])
        elif name == 'PromptEnded':
            pid, how = params.unpack()
            out(ended=pid, how=how)

    conn.signal_subscribe(NAME, IFACE, None, PATH, None, Gio.DBusSignalFlags.NONE, on_signal, None)
    conn.call_sync(NAME, PATH, IFACE, 'RegisterPromptAgent', None, None, Gio.DBusCallFlags.NONE,
                   10000, None)
    out(ready=True)
    GLib.timeout_add(int(a.seconds * 1000), loop.quit)
    loop.run()


if __name__ == '__main__':
    sys.exit(main())
