#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""po/POTFILES.in names every file with translatable strings, xgettext extracts from all of them,
and every po/*.po passes `msgfmt --check`.

  test_potfiles.py SOURCE_DIR

Files with translatable strings: C sources and headers under app/ and helper/ that call _(),
N_(), C_() or NC_() on a string literal; .ui files with translatable="yes"; and in data/ the
desktop files, metainfo, GSettings schemas with a summary or description, and polkit policies.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile

CALL = re.compile(r'\b(?:N?_|N?C_)\s*\(\s*"')


def candidates(src):
    found = set()
    for top in ('app', 'helper'):
        for root, dirs, files in os.walk(os.path.join(src, top)):
            for name in files:
                path = os.path.join(root, name)
                rel = os.path.relpath(path, src)
                if name.endswith(('.c', '.h')):
                    if CALL.search(open(path, errors='replace').read()):
                        found.add(rel)
                elif name.endswith('.ui'):
                    if 'translatable="yes"' in open(path, errors='replace').read():
                        found.add(rel)
    for path in glob.glob(os.path.join(src, 'data', '*')):
        name = os.path.basename(path)
        rel = os.path.relpath(path, src)
        if name.endswith(('.desktop.in', '.desktop', '.policy', '.metainfo.xml',
                          '.metainfo.xml.in', '.appdata.xml')):
            found.add(rel)
        elif name.endswith('.gschema.xml'):
            text = open(path).read()
            if '<summary' in text or '<description' in text:
                found.add(rel)
    return found


def main():
    src = sys.argv[1]
    failures = []
    potfiles_path = os.path.join(src, 'po', 'POTFILES.in')
    listed = [l.strip() for l in open(potfiles_path)
              if l.strip() and not l.lstrip().startswith('#')]
    for rel in listed:
        if not os.path.exists(os.path.join(src, rel)):
            failures.append(f'po/POTFILES.in names {rel}, which does not exist')
    for rel in sorted(candidates(src) - set(listed)):
        failures.append(f'{rel} has translatable strings but is not in po/POTFILES.in')
    print(f'po/POTFILES.in: {len(listed)} files')

    # xgettext must understand every listed file (ITS rules for .ui, metainfo, schema, policy).
    existing = [rel for rel in listed if os.path.exists(os.path.join(src, rel))]
    with tempfile.TemporaryDirectory() as tmp:
        flist = os.path.join(tmp, 'files')
        with open(flist, 'w') as f:
            f.write('\n'.join(existing) + '\n')
        pot = os.path.join(tmp, 'portcullis.pot')
        res = subprocess.run(['xgettext', '--from-code=UTF-8', '--keyword=_', '--keyword=N_',
                              '--keyword=C_:1c,2', '--keyword=NC_:1c,2', '-f', flist, '-o', pot],
                             cwd=src, capture_output=True, text=True)
        if res.returncode != 0 or res.stderr.strip():
            failures.append(f'xgettext: exit {res.returncode}: {res.stderr.strip()}')
        elif os.path.exists(pot):
            text = open(pot).read()
            print(f'xgettext: {text.count(chr(10) + "msgid ") - 1} strings')

    for po in sorted(glob.glob(os.path.join(src, 'po', '*.po'))):
        res = subprocess.run(['msgfmt', '--check', '--check-format', '-o', os.devnull, po],
                             capture_output=True, text=True)
        ok = res.returncode == 0
        print(f'msgfmt --check {os.path.basename(po)}: {"ok" if ok else res.stderr.strip()}')
        if not ok:
            failures.append(f'msgfmt --check {os.path.basename(po)}: {res.stderr.strip()}')

    for f in failures:
        print(f'FAIL: {f}')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
