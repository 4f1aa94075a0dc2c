#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every language in po/LINGUAS is completely translated for the sources as they are now.

  test_po_complete.py SOURCE_DIR BUILD_DIR

For each po/LANG.po:
- the committed file has no untranslated or fuzzy message and passes
  `msgfmt --check --check-format --check-accelerators=_` (placeholders, plural forms, header,
  one mnemonic underscore where the English has one);
- merged with a template extracted from po/POTFILES.in now (the same xgettext keywords as
  meson's i18n 'glib' preset; xgettext warns of nothing, such as a message cut short by a
  G_GUINT64_FORMAT it cannot expand), it still has none: a string added or changed in the sources
  without updating the translation fails here, naming the string and where it comes from;
- the installed data files built from it carry the translation: the desktop files have
  Name[LANG]= and Comment[LANG]=, the metainfo and the polkit policy have an xml:lang="LANG"
  version of every translatable element.

Fix a failure with `ninja -C build portcullis-update-po`, then translate what it marks.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

# meson's i18n.gettext(preset: 'glib') keywords (mesonbuild/modules/i18n.py), plus ngettext,
# which xgettext knows for C by itself
XGETTEXT_ARGS = [
    '--from-code=UTF-8', '--add-comments',
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
]
XML_LANG = '{http://www.w3.org/XML/1998/namespace}lang'


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


def read_po(path):
    """[(msgid, msgid_plural, [msgstr...], fuzzy, refs)] of a PO file as msgmerge writes it
    (entries separated by blank lines), the header and obsolete entries left out."""
    def unquote(s):
        out, i = [], 1
        while i < len(s) - 1:
            if s[i] == '\\':
                out.append({'n': '\n', 't': '\t'}.get(s[i + 1], s[i + 1]))
                i += 2
            else:
                out.append(s[i])
                i += 1
        return ''.join(out)

    entries = []
    for block in open(path, encoding='utf-8').read().split('\n\n'):
        msgid, plural, msgstr, fuzzy, refs, field = None, None, [], False, [], None
        for line in block.splitlines():
            if line.startswith('#~'):
                msgid = None
                break
            if line.startswith('#,') and 'fuzzy' in line:
                fuzzy = True
            elif line.startswith('#:'):
                refs += line[2:].split()
            elif line.startswith('msgid_plural '):
                field, plural = 'plural', unquote(line[13:])
            elif line.startswith('msgid '):
                field, msgid = 'msgid', unquote(line[6:])
            elif line.startswith('msgstr'):
                field = 'msgstr'
                msgstr.append(unquote(line[line.index(' ') + 1:]))
            elif line.startswith('"') and field == 'msgid':
                msgid += unquote(line)
            elif line.startswith('"') and field == 'plural':
                plural += unquote(line)
            elif line.startswith('"') and field == 'msgstr':
                msgstr[-1] += unquote(line)
        if msgid:  # not the header, not obsolete
            entries.append((msgid, plural, msgstr, fuzzy, refs))
    return entries


def incomplete(path):
    """Descriptions of the untranslated and fuzzy messages of a PO file."""
    bad = []
    for msgid, _plural, msgstr, fuzzy, refs in read_po(path):
        where = refs[0] if refs else '?'
        if fuzzy:
            bad.append(f'fuzzy ({where}): {msgid!r}')
        elif not msgstr or any(s == '' for s in msgstr):
            bad.append(f'untranslated ({where}): {msgid!r}')
    return bad


def check_data_files(build, lang):
    failures = []
    data = os.path.join(build, 'data')
    for name in ('org.portcullis.Portcullis.desktop', 'org.portcullis.Portcullis.Agent.desktop'):
        path = os.path.join(data, name)
        if not os.path.exists(path):
            failures.append(f'{path} is not built')
            continue
        text = open(path, encoding='utf-8').read()
        for key in ('Name', 'Comment'):
            if not re.search(rf'^{key}\[{lang}\]=\S', text, re.M):
                failures.append(f'{name} has no {key}[{lang}]= (is it built with i18n.merge_file?)')
    for name, tags in (('org.portcullis.Portcullis.metainfo.xml',
                        ('name', 'summary', 'p', 'li', 'caption', 'developer_name')),
                       ('org.portcullis.Portcullis1.policy', ('description', 'message'))):
        path = os.path.join(data, name)
        if not os.path.exists(path):
            continue  # the policy is built with the helper only
        root = ET.parse(path).getroot()
        parents = {child: parent for parent in root.iter() for child in parent}
        for el in root.iter():
            if el.tag not in tags or el.get(XML_LANG) is not None:
                continue
            if el.tag in ('name', 'developer_name') and parents.get(el) is not root:
                continue
            siblings = list(parents[el])
            i = siblings.index(el)
            translated = [s for s in siblings[i + 1:] if s.tag == el.tag
                          and s.get(XML_LANG) == lang]
            if not translated:
                text = ''.join(el.itertext()).strip()
                failures.append(f'{name}: <{el.tag}> {text[:60]!r} has no xml:lang="{lang}" '
                                'version')
    return failures


def main():
    src, build = sys.argv[1], sys.argv[2]
    failures = []
    po_dir = os.path.join(src, 'po')
    langs = [l.strip() for l in open(os.path.join(po_dir, 'LINGUAS'))
             if l.strip() and not l.startswith('#')]
    listed = [l.strip() for l in open(os.path.join(po_dir, 'POTFILES.in'))
              if l.strip() and not l.lstrip().startswith('#')]
    with tempfile.TemporaryDirectory() as tmp:
        pot = os.path.join(tmp, 'portcullis.pot')
        flist = os.path.join(tmp, 'files')
        with open(flist, 'w') as f:
            f.write('\n'.join(listed) + '\n')
        res = run(['xgettext', *XGETTEXT_ARGS, '-f', flist, '-o', pot], cwd=src)
        if res.returncode != 0:
            print(f'FAIL: xgettext: {res.stderr.strip()}')
            sys.exit(1)
        # e.g. "%" G_GUINT64_FORMAT in a message: xgettext sees "%" only, nothing can translate it
        for line in res.stderr.splitlines():
            if 'warning' in line:
                failures.append(f'xgettext: {line.strip()}')
        for lang in langs:
            po = os.path.join(po_dir, f'{lang}.po')
            if not os.path.exists(po):
                failures.append(f'po/LINGUAS names {lang}, but po/{lang}.po does not exist')
                continue
            res = run(['msgfmt', '--check', '--check-format', '--check-accelerators=_',
                       '--statistics', '-o', os.devnull, po])
            print(f'po/{lang}.po: {res.stderr.strip()}')
            if res.returncode != 0:
                failures.append(f'msgfmt --check po/{lang}.po: {res.stderr.strip()}')
            for b in incomplete(po):
                failures.append(f'po/{lang}.po: {b}')
            merged = os.path.join(tmp, f'{lang}.po')
            res = run(['msgmerge', '--quiet', '--previous', '-o', merged, po, pot])
            if res.returncode != 0:
                failures.append(f'msgmerge po/{lang}.po: {res.stderr.strip()}')
                continue
            n = sum(1 for _ in read_po(merged))
            bad = incomplete(merged)
            print(f'po/{lang}.po merged with the sources now: {n} messages, '
                  f'{len(bad)} untranslated or fuzzy')
            for b in bad:
                failures.append(f'po/{lang}.po is out of date with the sources: {b}')
            failures += check_data_files(build, lang)
    for f in failures:
        print(f'FAIL: {f}')
    if failures:
        print('Run `ninja -C build portcullis-update-po` and translate what it marks.')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
