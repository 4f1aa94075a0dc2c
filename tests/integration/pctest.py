# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers for the integration tests: the sandbox, the client tool, log parsing."""
import json
import os
import re
import subprocess
import sys
import time
import unittest

SOURCE_DIR = os.environ.get('PC_SOURCE_DIR') or os.path.abspath(
    os.path.join(os.path.dirname(__file__), '..', '..'))
BUILD_DIR = os.environ.get('PC_BUILD_DIR') or os.path.join(SOURCE_DIR, 'build')
sys.path.insert(0, os.path.join(SOURCE_DIR, 'build-aux'))

import pcsandbox  # noqa: E402

CLIENT_TOOL = os.path.join(SOURCE_DIR, 'tests', 'integration', 'pcclient.py')
PYTHON = '/usr/bin/python3'

FLOW_RE = re.compile(
    r'(?P<what>flow|cut|reallow) (?P<proto>\S+) (?P<local>\S+) (?P<arrow>->|<-) (?P<remote>\S+) '
    r'pid=(?P<pid>-?\d+) uid=(?P<uid>-?\d+) comm=(?P<comm>\S*) exe=(?P<exe>\S+) kind=(?P<kind>\S+) '
    r'app=(?P<app>\S+) verdict=(?P<verdict>\S+) reason=(?P<reason>.*)$')


def require_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest('needs root (network namespaces, netfilter, BPF)')


def flows(sb, since_start=True):
    """Every decision the helper logged (it runs with -v), as dicts."""
    out = []
    for line in sb.helper_log(since_start=since_start).splitlines():
        m = FLOW_RE.search(line)
        if m:
            d = m.groupdict()
            d['pid'] = int(d['pid'])
            d['uid'] = int(d['uid'])
            d['rport'] = int(d['remote'].rsplit(':', 1)[1])
            d['lport'] = int(d['local'].rsplit(':', 1)[1])
            out.append(d)
    return out


def wait_for_flow(sb, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        for f in flows(sb):
            if pred(f):
                return f
        if time.monotonic() > deadline:
            raise AssertionError('no matching flow in the helper log:\n' + sb.helper_log()[-4000:])
        time.sleep(0.05)


def client_tool(sb, *args, user=None, timeout=30, cgroup=True):
    """Runs pcclient.py in the client namespace and returns its JSON lines."""
    res = sb.client_run([PYTHON, CLIENT_TOOL, *map(str, args)], user=user, timeout=timeout,
                        cgroup=cgroup)
    lines = [json.loads(l) for l in res.stdout.splitlines() if l.startswith('{')]
    if not lines:
        raise AssertionError(f'pcclient {args} printed nothing (rc={res.returncode}): {res.stderr}')
    return lines[-1] if len(lines) == 1 else lines


def apply_settings(sb, text, timeout=10):
    """Writes settings.conf, sends SIGHUP and waits until the packet thread applied them."""
    before = sb.helper_log().count('settings applied:')
    sb.write_settings(text)
    sb.reload_helper()
    deadline = time.monotonic() + timeout
    while sb.helper_log().count('settings applied:') <= before:
        if time.monotonic() > deadline:
            raise AssertionError('settings were not applied:\n' + sb.helper_log()[-3000:])
        time.sleep(0.05)


def start_unbound(sb, conf, log):
    """unbound -d -c conf in the peer namespace, returned once its log (the conf's logfile)
    says it serves."""
    proc = sb.peer(['unbound', '-d', '-c', conf], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)

    def started():
        if proc.poll() is not None:
            return True
        try:
            with open(log) as f:
                return 'start of service' in f.read()
        except FileNotFoundError:
            return False

    wait_until(started, what='unbound')
    if proc.poll() is not None:
        raise RuntimeError('unbound did not start in the peer namespace')
    return proc


def stop_process(proc):
    """Terminates proc (may be None) and waits for it."""
    if proc is not None:
        proc.terminate()
        proc.wait(10)


def wait_until(pred, timeout=10, what='condition', interval=0.1):
    """Polls pred until it returns something true; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f'{what} not reached within {timeout} s')
        time.sleep(interval)
