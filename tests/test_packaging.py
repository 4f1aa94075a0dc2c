#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builds the Debian packages from build-aux/debian and checks what is inside; in CI (or with
PC_PACKAGING_INSTALL=1) also installs them, runs the installed portcullisd in the sandbox,
and uninstalls them.

  test_packaging.py SOURCE_DIR BUILD_DIR

The build is what the README documents: a copy of the source tree with build-aux/debian as
./debian, `dpkg-buildpackage -us -uc -b`. Slow (a full build): meson suite 'packaging'.

Installing with dpkg touches the real system, so it runs only where that is wanted: CI machines
are disposable (CI=true), elsewhere set PC_PACKAGING_INSTALL=1. It refuses where Portcullis is
installed already or where systemd runs (the package enables portcullisd.service for the next
boot; it never starts it). The installed helper runs only inside pcsandbox's namespaces; while it
runs there, `dpkg -r` must stop it (prerm) and it must remove its rules, and afterwards no file
of either package may remain.
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

SOURCE_DIR, BUILD_DIR = sys.argv[1:3]
sys.path.insert(0, os.path.join(SOURCE_DIR, 'build-aux'))
import pcsandbox  # noqa: E402

# Files each package must contain (dpkg-deb -c paths without the leading '.').
EXPECTED = {
    'portcullis': [
        '/usr/sbin/portcullisd',
        '/usr/bin/portcullisctl',
        '/etc/portcullis/settings.conf',
        '/lib/systemd/system/portcullisd.service',
        '/usr/share/dbus-1/system-services/org.portcullis.Portcullis1.service',
        '/usr/share/dbus-1/system.d/org.portcullis.Portcullis1.conf',
        '/usr/share/dbus-1/interfaces/org.portcullis.Portcullis1.xml',
        '/usr/share/polkit-1/actions/org.portcullis.Portcullis1.policy',
        '/usr/share/man/man8/portcullisd.8.gz',
        '/usr/share/man/man1/portcullisctl.1.gz',
        '/usr/share/portcullis/lists/index.json',
        '/usr/share/doc/portcullis/copyright',
    ],
    'portcullis-gtk': [
        '/usr/bin/portcullis',
        '/usr/share/applications/org.portcullis.Portcullis.desktop',
        '/usr/share/metainfo/org.portcullis.Portcullis.metainfo.xml',
        '/usr/share/glib-2.0/schemas/org.portcullis.Portcullis.gschema.xml',
        '/usr/share/icons/hicolor/scalable/apps/org.portcullis.Portcullis.svg',
        '/usr/share/man/man1/portcullis.1.gz',
        '/usr/share/locale/de/LC_MESSAGES/portcullis.mo',
    ],
}
POLKIT_ACTION = '/usr/share/polkit-1/actions/org.portcullis.Portcullis1.policy'
failures = []


def check(cond, msg):
    print(('ok: ' if cond else 'FAIL: ') + msg)
    if not cond:
        failures.append(msg)


def run(argv, **kw):
    print('+ ' + ' '.join(argv), flush=True)
    return subprocess.run(argv, text=True, **kw)


def copy_source(dest):
    """The source tree without build directories, .git or a stray ./debian."""
    def ignore(d, names):
        if os.path.abspath(d) == os.path.abspath(SOURCE_DIR):
            return [n for n in names
                    if n in ('.git', 'debian') or n.startswith('obj-')
                    or os.path.isdir(os.path.join(d, n, 'meson-private'))]
        return []
    shutil.copytree(SOURCE_DIR, dest, ignore=ignore, symlinks=True)
    shutil.copytree(os.path.join(dest, 'build-aux', 'debian'), os.path.join(dest, 'debian'))


def build_debs(work):
    src = os.path.join(work, 'portcullis')
    copy_source(src)
    env = dict(os.environ, DEB_BUILD_OPTIONS=f'nocheck parallel={os.cpu_count() or 2}')
    log = os.path.join(BUILD_DIR, 'meson-logs', 'dpkg-buildpackage.log')
    with open(log, 'w') as f:
        res = run(['dpkg-buildpackage', '-us', '-uc', '-b'], cwd=src, env=env, stdout=f,
                  stderr=subprocess.STDOUT)
    if res.returncode != 0:
        print(open(log).read()[-6000:])
        sys.exit(f'FAIL: dpkg-buildpackage exited {res.returncode} (log: {log})')
    debs = {os.path.basename(p).split('_')[0]: p for p in glob.glob(os.path.join(work, '*.deb'))}
    print(f'built: {sorted(debs)}')
    return debs


def check_contents(debs):
    for pkg, files in EXPECTED.items():
        check(pkg in debs, f'{pkg} .deb was built')
        if pkg not in debs:
            continue
        listing = run(['dpkg-deb', '-c', debs[pkg]], capture_output=True, check=True).stdout
        paths = {line.split()[5].lstrip('.') for line in listing.splitlines()}
        for f in files:
            check(f in paths, f'{pkg} contains {f}')
    if shutil.which('lintian'):
        res = run(['lintian', '--fail-on', 'error', '--tag-display-limit', '0',
                   debs['portcullis'], debs['portcullis-gtk']], capture_output=True)
        print(res.stdout + res.stderr)
        check(res.returncode == 0, 'lintian finds no error in the packages')
    info = run(['dpkg-deb', '-I', debs['portcullis'], 'conffiles'], capture_output=True).stdout
    check('/etc/portcullis/settings.conf' in info, 'settings.conf is a conffile')
    ctl = tempfile.mkdtemp()
    run(['dpkg-deb', '-e', debs['portcullis'], ctl], check=True)
    postinst = open(os.path.join(ctl, 'postinst')).read()
    prerm = open(os.path.join(ctl, 'prerm')).read()
    shutil.rmtree(ctl)
    check('portcullisd.service' in postinst and 'deb-systemd-invoke start' not in postinst
          and 'systemctl start' not in postinst,
          'postinst enables portcullisd.service and starts nothing')
    check('start-stop-daemon --stop' in prerm and 'deb-systemd-invoke stop' in prerm,
          'prerm stops the helper (with systemd and without)')


def installed(pkg):
    res = subprocess.run(['dpkg-query', '-W', '-f=${db:Status-Abbrev}', pkg],
                         capture_output=True, text=True)
    return res.stdout.startswith('ii')


def install_and_run(debs):
    if installed('portcullis') or installed('portcullis-gtk'):
        sys.exit('FAIL: Portcullis is installed on this machine already; '
                 'not touching a real installation')
    if os.path.isdir('/run/systemd/system'):
        sys.exit('FAIL: systemd runs here: installing would enable portcullisd.service for the '
                 'next boot; run the install part only on a disposable machine without systemd')
    pkgs = ['portcullis', 'portcullis-gtk']
    # A sandbox of another test run may have put the polkit action file there (pcsandbox does
    # for polkitd); dpkg takes it over and removes it, so it is put back afterwards.
    sandbox_action = open(POLKIT_ACTION, 'rb').read() if os.path.exists(POLKIT_ACTION) else None
    try:
        res = run(['dpkg', '-i'] + [debs[p] for p in pkgs], capture_output=True)
        print(res.stdout + res.stderr)
        check(res.returncode == 0, 'dpkg -i portcullis portcullis-gtk')
        if res.returncode != 0:
            return
        check(os.access('/usr/sbin/portcullisd', os.X_OK), '/usr/sbin/portcullisd installed')
        check(not subprocess.run(['pgrep', '-f', '^/usr/sbin/portcullisd'],
                                 capture_output=True).stdout,
              'installing started no portcullisd')

        settings = '[global]\ndefault-action=block\n'
        with pcsandbox.Sandbox(BUILD_DIR, helper_exe='/usr/sbin/portcullisd',
                               settings=settings) as sb:
            sb.wait_for_name('org.portcullis.Portcullis1', 10, sb.helper_proc,
                             sb.helper_log_path)
            check('PORTCULLIS' in sb.ruleset(), 'the installed helper installed its chains')
            r = sb.client_run(['curl', '-s', '-m', '3', '-o', '/dev/null', '-w', '%{http_code}',
                               f'http://{pcsandbox.PEER_V4}/bytes/10'])
            check(r.stdout != '200', f'a connection is blocked by default-action=block '
                                     f'(curl: {r.stdout!r})')
            r = sb.client_run(['/usr/bin/portcullisctl', 'status'])
            check(r.returncode == 0 and 'Interception' in r.stdout,
                  f'installed portcullisctl talks to the installed helper ({r.returncode})')

            # Uninstalling stops the running helper (prerm); it removes its rules on the way out.
            helper = sb.helper_proc
            res = run(['dpkg', '-r'] + pkgs[::-1], capture_output=True)
            print(res.stdout + res.stderr)
            check(res.returncode == 0, 'dpkg -r portcullis-gtk portcullis')
            try:
                helper.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            check(helper.poll() is not None, 'dpkg -r stopped the running helper')
            check('PORTCULLIS' not in sb.ruleset(), 'its chains are gone with it')
    finally:
        run(['dpkg', '--purge'] + pkgs[::-1], capture_output=True)
        if sandbox_action is not None and not os.path.exists(POLKIT_ACTION):
            with open(POLKIT_ACTION + '.tmp', 'wb') as f:
                f.write(sandbox_action)
            os.rename(POLKIT_ACTION + '.tmp', POLKIT_ACTION)
    for pkg in pkgs:
        check(not installed(pkg), f'{pkg} is purged')
    for path in EXPECTED['portcullis'] + EXPECTED['portcullis-gtk'] + [
            '/etc/portcullis', '/var/lib/portcullis',
            '/etc/systemd/system/multi-user.target.wants/portcullisd.service']:
        owned = subprocess.run(['dpkg', '-S', path], capture_output=True).returncode == 0
        if path == POLKIT_ACTION:
            # pcsandbox installs this very file for polkitd while a sandbox runs
            check(not owned, f'{path} belongs to no package')
        else:
            check(not owned and not os.path.lexists(path), f'{path} is gone')


def main():
    work = tempfile.mkdtemp(prefix='pc-deb-')
    try:
        start = time.monotonic()
        debs = build_debs(work)
        print(f'dpkg-buildpackage took {time.monotonic() - start:.0f} s')
        check_contents(debs)
        if os.environ.get('CI') == 'true' or os.environ.get('PC_PACKAGING_INSTALL') == '1':
            install_and_run(debs)
        else:
            print('not installing the packages (not CI; PC_PACKAGING_INSTALL=1 to do it here)')
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f'{len(failures)} failures')
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    main()
