#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""`meson install --destdir` installs exactly the files in tests/install-manifest.txt.

  test_install.py BUILD_DIR MANIFEST [--helper] [--app] NAME=DIR...

Each manifest line is a path with {NAME} placeholders for the install directories meson and
pkg-config chose (passed as NAME=DIR by tests/meson.build), optionally tagged 'helper:' or 'app:'
when it is installed only with -Dhelper=true or only when the GTK app is built.

When the installed files change on purpose, update the manifest:

  PC_UPDATE_MANIFEST=1 meson test -C build install-manifest

rewrites tests/install-manifest.txt from what was installed (keeping the tags of lines that stay;
new lines get none: tag them by hand when they depend on -Dhelper or the app), then review the
diff and commit it.
"""
import os
import subprocess
import sys
import tempfile


def installed_files(build_dir, destdir):
    subprocess.run(['meson', 'install', '-C', build_dir, '--destdir', destdir, '--no-rebuild',
                    '--quiet'], check=True, stdout=subprocess.DEVNULL)
    found = set()
    for root, dirs, files in os.walk(destdir):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            found.add('/' + os.path.relpath(os.path.join(root, name), destdir))
    return found


def parse_manifest(path):
    entries = []  # (tag or None, template)
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            tag = None
            if ':' in line.split('/', 1)[0]:
                tag, line = line.split(':', 1)
            entries.append((tag, line.strip()))
    return entries


class Missing(dict):
    def __missing__(self, key):  # a directory of a part not built here
        return '{' + key + '}'


def main():
    build_dir, manifest = sys.argv[1:3]
    flags = {a[2:] for a in sys.argv[3:] if a.startswith('--')}
    dirs = dict(a.split('=', 1) for a in sys.argv[3:] if '=' in a and not a.startswith('--'))
    entries = parse_manifest(manifest)

    with tempfile.TemporaryDirectory(prefix='pc-install-') as destdir:
        found = installed_files(build_dir, destdir)

    expected = {}
    for tag, template in entries:
        if tag is None or tag in flags:
            expected[template.format(**dirs)] = template

    if os.environ.get('PC_UPDATE_MANIFEST') == '1':
        keep = {t.format_map(Missing(dirs)): (tag, t) for tag, t in entries}
        by_length = sorted(dirs.items(), key=lambda kv: -len(kv[1]))
        lines = []
        for path in sorted(found):
            if path in keep:
                tag, t = keep[path]
                lines.append(f'{tag}: {t}' if tag else t)
                continue
            for name, value in by_length:
                if path.startswith(value.rstrip('/') + '/'):
                    path = '{' + name + '}' + path[len(value.rstrip('/')):]
                    break
            lines.append(path)
        # entries for options not built here stay as they were
        lines += [f'{tag}: {t}' for tag, t in entries if tag is not None and tag not in flags]
        header = [l for l in open(manifest) if l.startswith('#')]
        with open(manifest, 'w') as f:
            f.writelines(header)
            f.write('\n'.join(sorted(set(lines), key=lambda l: l.split(': ')[-1])) + '\n')
        print(f'{manifest} rewritten from {len(found)} installed files')
        return

    missing = sorted(set(expected) - found)
    extra = sorted(found - set(expected))
    for p in missing:
        print(f'MISSING (in the manifest, not installed): {p}')
    for p in extra:
        print(f'EXTRA (installed, not in the manifest): {p}')
    print(f'{len(found)} files installed, {len(expected)} expected')
    if missing or extra:
        print('If this change is intended: PC_UPDATE_MANIFEST=1 meson test -C BUILD '
              'install-manifest, review and commit tests/install-manifest.txt')
        sys.exit(1)


if __name__ == '__main__':
    main()
