#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Flatpak manifest build-aux/flatpak/org.portcullis.Portcullis.json: valid JSON, the app
only (-Dhelper=false) on the GNOME runtime, sandboxed except for the one system bus name it
talks to. With --show-manifest it also runs `flatpak-builder --show-manifest` (meson passes it
only where flatpak-builder exists). Building needs the GNOME runtime, which is not available
offline here (README)."""
import json
import os
import subprocess
import sys

failures = []


def check(cond, msg):
    print(('ok: ' if cond else 'FAIL: ') + msg)
    if not cond:
        failures.append(msg)


def main():
    path = sys.argv[1]
    with open(path) as f:
        m = json.load(f)  # a syntax error fails here, with its line and column
    check(m.get('id') == 'org.portcullis.Portcullis', 'app id org.portcullis.Portcullis')
    check(m.get('runtime') == 'org.gnome.Platform' and m.get('sdk') == 'org.gnome.Sdk',
          'GNOME runtime and SDK')
    check(m.get('command') == 'portcullis', 'runs portcullis')
    args = m.get('finish-args', [])
    talks = [a for a in args if a.startswith('--system-talk-name=')]
    check(talks == ['--system-talk-name=org.portcullis.Portcullis1'],
          f'talks to org.portcullis.Portcullis1 on the system bus and nothing else ({talks})')
    risky = [a for a in args if a in ('--socket=system-bus', '--socket=session-bus',
                                      '--filesystem=host', '--device=all', '--share=network')
             or a.startswith('--system-own-name')]
    check(not risky, f'no wider access ({risky})')
    modules = m.get('modules', [])
    main_mod = modules[-1] if modules else {}
    opts = main_mod.get('config-opts', [])
    check(main_mod.get('buildsystem') == 'meson' and '-Dhelper=false' in opts,
          f'the last module builds with meson -Dhelper=false ({opts})')
    srcs = [s for s in main_mod.get('sources', []) if s.get('type') == 'dir']
    top = os.path.normpath(os.path.join(os.path.dirname(path), srcs[0]['path'])) if srcs else ''
    check(os.path.exists(os.path.join(top, 'meson.build'))
          and os.path.exists(os.path.join(top, 'app', 'meson.build')),
          f'its source directory is the project ({top})')
    if '--show-manifest' in sys.argv[2:]:
        res = subprocess.run(['flatpak-builder', '--show-manifest', path], capture_output=True,
                             text=True)
        check(res.returncode == 0, f'flatpak-builder --show-manifest: {res.stderr.strip()}')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
