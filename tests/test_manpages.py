#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The man pages render without a single warning and cover every option and command.

  test_manpages.py MANPAGE:PROGRAM [...]

Each page is rendered with `groff -man -ww -z` (all warnings) and `man --warnings -l`; any output
fails. Every long option in `PROGRAM --help` must appear in the page, and for portcullisctl every
command of its --help too, so the pages fail this test when the programs change and they don't.
"""
import os
import re
import subprocess
import sys


def main():
    failures = []
    for arg in sys.argv[1:]:
        page, program = arg.split(':', 1)
        name = os.path.basename(page)
        env = dict(os.environ, LC_ALL='C.UTF-8', MANWIDTH='80')
        for argv in (['groff', '-man', '-ww', '-z', page],
                     ['man', '--warnings', '-E', 'UTF-8', '-l', page]):
            res = subprocess.run(argv, capture_output=True, text=True, env=env)
            if res.returncode != 0 or res.stderr.strip():
                failures.append(f'{name}: {" ".join(argv[:-1])}: exit {res.returncode}\n'
                                f'{res.stderr.strip()}')
        # wide, so that no option is hyphenated at a line end
        text = subprocess.run(['man', '-l', page], capture_output=True, text=True,
                              env=dict(env, MANWIDTH='250')).stdout
        text = re.sub(r'.\x08', '', text)  # overstrike (bold, underline) from a non-tty man
        text = re.sub(r'\s+', ' ', text)  # justification and line breaks
        helptext = subprocess.run([program, '--help'], capture_output=True, text=True).stdout
        wanted = set(re.findall(r'(--[a-z][a-z-]*)', helptext))
        if os.path.basename(program) == 'portcullisctl':
            # commands: the first words of the lines under "Commands:"
            block = helptext.split('Commands:', 1)[1].split('\n\n', 1)[0]
            for line in block.splitlines():
                words = re.findall(r'^  ([a-z]+(?: [a-z]+)?)', line)
                if words:
                    cmd = words[0]
                    # "app show ID": two words when the second is a lowercase subcommand
                    wanted.add(cmd)
        for w in sorted(wanted):
            if w not in text:
                failures.append(f'{name}: "{w}" from {os.path.basename(program)} --help is '
                                f'not in the page')
        print(f'{name}: checked {len(wanted)} options/commands of {os.path.basename(program)}')
    for f in failures:
        print(f'FAIL: {f}')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
