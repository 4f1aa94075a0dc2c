#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every screenshot the metainfo names is a file in data/screenshots (its URL is that file in
the project's repository), a PNG of the width and height the metainfo states."""
import os
import struct
import sys
import xml.etree.ElementTree as ET

PREFIX = 'https://raw.githubusercontent.com/portcullis/portcullis/main/'


def main():
    source = sys.argv[1]
    root = ET.parse(os.path.join(source, 'data', 'org.portcullis.Portcullis.metainfo.xml'))
    homepage = root.find("url[@type='homepage']").text
    errors = []
    images = root.findall('screenshots/screenshot/image')
    if not images:
        errors.append('no screenshots')
    for img in images:
        url = img.text.strip()
        if not url.startswith(PREFIX) or not homepage.endswith('/portcullis/portcullis'):
            errors.append(f'{url}: not a file of the homepage repository ({homepage})')
            continue
        path = os.path.join(source, url[len(PREFIX):])
        try:
            with open(path, 'rb') as f:
                head = f.read(24)
        except OSError as e:
            errors.append(f'{url}: {e}')
            continue
        if head[:8] != b'\x89PNG\r\n\x1a\n' or head[12:16] != b'IHDR':
            errors.append(f'{path}: not a PNG')
            continue
        w, h = struct.unpack('>II', head[16:24])
        if (str(w), str(h)) != (img.get('width'), img.get('height')):
            errors.append(f'{path}: {w}x{h}, the metainfo says '
                          f"{img.get('width')}x{img.get('height')}")
    for e in errors:
        print(e, file=sys.stderr)
    print(f'{len(images)} screenshots checked')
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
