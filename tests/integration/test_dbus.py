#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The D-Bus service on a private system bus with the real polkitd: authorization per action
(root and a user granted by a polkit rule succeed, an unprivileged user is denied with
org.portcullis.Portcullis1.Error.AccessDenied and nothing changes), argument errors,
subscriptions with per-client limits and cleanup, the batched connection signal stream, the bus
policy file, Stop, and a helper without a bus."""
import json
import os
import signal
import subprocess
import time
import unittest

from gi.repository import GLib

from pctest import BUILD_DIR, PYTHON, SOURCE_DIR, pcsandbox, require_root

POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
BUS_POLICY_DIR = os.path.join(SOURCE_DIR, 'data')
PCDBUS = os.path.join(SOURCE_DIR, 'tests', 'integration', 'pcdbus.py')
NAME = 'org.portcullis.Portcullis1'
ERR = 'org.portcullis.Portcullis1.Error.'
P4 = pcsandbox.PEER_V4

# pcmon may monitor by a polkit rule (a non-root authorized caller); pctest has no session and
# no rule: polkit wants authentication, which no agent can give, so the answer is no.
RULES = '''polkit.addRule(function(action, subject) {
    if (action.id == "org.portcullis.Portcullis1.monitor" && subject.user == "pcmon")
        return polkit.Result.YES;
});
'''

# Every method with valid arguments, by the action that guards it.
METHODS = {
    'monitor': [('Status', None), ('ListConnections', None), ('Subscribe', None),
                ('Unsubscribe', None), ('GetSettings', None), ('GetSetting', "('default-action',)"),
                ('ListProfiles', None), ('GetProfile', "('x',)"),
                ('GetEffectiveSettings', "('x',)"), ('ListPrompts', None), ('Export', None),
                ('SearchHistory', "(@a{sv} {},)"), ('CountHistory', "(@a{sv} {}, 'app')"),
                ('GetBandwidth', "('', int64 0, int64 0, uint32 60)"), ('ExportHistory', "(@a{sv} {}, 'csv')"),
                ('ListFilterLists', None), ('GetDnsStatus', None),
                ('QueryDns', "('example.test', 'A')")],
    'answer-prompt': [('AnswerPrompt', "('1', @a{sv} {'verdict': <'allow'>})"),
                      ('RegisterPromptAgent', None), ('UnregisterPromptAgent', None)],
    'configure': [('SetSetting', "('default-action', <'block'>)"),
                  ('ResetSetting', "('default-action',)"),
                  ('CreateProfile', "(@a{sv} {'name': <'x'>},)"),
                  ('UpdateProfile', "('x', @a{sv} {'name': <'y'>})"), ('DeleteProfile', "('x',)"),
                  ('SetProfileSetting', "('x', 'block-lan', <true>)"),
                  ('UnsetProfileSetting', "('x', 'block-lan')"),
                  ('AddRule', "('', false, '- 10.9.9.9')"),
                  ('RemoveRule', "('', false, '- 10.9.9.9')"), ('Import', "('{}',)")],
    'manage': [('DeleteHistory', "('', int64 0, int64 0)"), ('UpdateFilterLists', None),
               ('FlushDnsCache', None), ('Stop', None)],
}


def dbus_tool(sb, *args, user=None, timeout=30):
    res = sb.client_run([PYTHON, PCDBUS, *map(str, args)], user=user, timeout=timeout)
    lines = [json.loads(l) for l in res.stdout.splitlines() if l.startswith('{')]
    if not lines:
        raise AssertionError(f'pcdbus {args} printed nothing (rc={res.returncode}): {res.stderr}')
    return lines[-1] if len(lines) == 1 else lines


def call(sb, method, args=None, user=None):
    return dbus_tool(sb, 'call', method, *([args] if args else []), user=user)


def status(sb):
    r = call(sb, 'Status')
    assert r['ok'], r
    return r['result'][0]


def wait_until(pred, timeout=10, what='condition'):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f'{what} not reached within {timeout} s')
        time.sleep(0.1)


class ServiceTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        pcsandbox.ensure_test_user('pctest')
        pcsandbox.ensure_test_user('pcmon')
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY], polkit_rules=RULES,
                                   settings='[global]\ndefault-action=allow\n')
        cls.sb.start()
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def test_status(self):
        st = status(self.sb)
        self.assertEqual(st['version'], '0.1.0')
        self.assertTrue(st['ipv4'])
        self.assertIn(st['attribution'], ('bpf', 'proc'))
        self.assertEqual(st['dns'], 'running, intercepting')  # dns-resolver is on by default
        self.assertEqual(st['ok'], not st['degraded'])
        self.assertEqual(st['pending-calls'], 0)

    def test_unprivileged_user_is_denied_everything(self):
        for action, methods in METHODS.items():
            for method, args in methods:
                r = call(self.sb, method, args, user='pctest')
                self.assertFalse(r['ok'], (method, r))
                self.assertEqual(r['error'], ERR + 'AccessDenied', (method, r))
                self.assertIn(f'org.portcullis.Portcullis1.{action}', r['message'])
        # Stop was denied: the helper still runs and still answers
        self.assertIsNone(self.sb.helper_proc.poll())
        self.assertTrue(status(self.sb)['ipv4'])

    def test_interactive_denial_without_agent(self):
        r = dbus_tool(self.sb, 'call', 'Status', '--interactive', user='pctest')
        self.assertEqual(r['error'], ERR + 'AccessDenied', r)

    def test_polkit_rule_grants_monitor_only(self):
        r = call(self.sb, 'Status', user='pcmon')
        self.assertTrue(r['ok'], r)
        r = call(self.sb, 'ListConnections', user='pcmon')
        self.assertTrue(r['ok'], r)
        for method, args in METHODS['configure'] + METHODS['manage']:
            r = call(self.sb, method, args, user='pcmon')
            self.assertEqual(r.get('error'), ERR + 'AccessDenied', (method, r))

    def test_prompts(self):
        r = call(self.sb, 'ListPrompts')
        self.assertEqual(r, {'ok': True, 'result': [[]]})
        r = call(self.sb, 'AnswerPrompt', "('42', @a{sv} {'verdict': <'allow'>})")
        self.assertEqual(r['error'], ERR + 'NotFound', r)
        self.assertIn("'42'", r['message'])

    def test_bad_arguments(self):
        # wrong signature: refused by the bus layer before anything runs
        r = call(self.sb, 'AnswerPrompt', "(42,)")
        self.assertFalse(r['ok'])
        self.assertEqual(r['error'], 'org.freedesktop.DBus.Error.InvalidArgs', r)
        r = call(self.sb, 'NoSuchMethod')
        self.assertFalse(r['ok'])
        r = call(self.sb, 'Unsubscribe')
        self.assertEqual(r['error'], ERR + 'NotFound', r)
        self.assertEqual(status(self.sb)['subscribers'], 0)

    def test_subscription_limit_and_cleanup(self):
        self.assertEqual(status(self.sb)['subscribers'], 0)
        r = dbus_tool(self.sb, 'subscribe', '--times', 9, '--seconds', 0)
        self.assertFalse(r['subscribed'])
        self.assertEqual(r['error'], ERR + 'Limit', r)
        self.assertIn('8 subscriptions', r['message'])
        # that client left the bus: its 8 subscriptions are gone with it
        wait_until(lambda: status(self.sb)['subscribers'] == 0, what='subscriber cleanup')

        proc = self.sb.client([PYTHON, PCDBUS, 'subscribe', '--times', '2'], text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
        try:
            first = json.loads(proc.stdout.readline())
            self.assertTrue(first['subscribed'], first)
            self.assertEqual(status(self.sb)['subscribers'], 1)
            os.killpg(proc.pid, signal.SIGKILL)  # gone mid-subscription, without Unsubscribe
            proc.wait(10)
            wait_until(lambda: status(self.sb)['subscribers'] == 0, what='subscriber cleanup')
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def test_client_gone_before_replies(self):
        # calls still waiting for polkit when their client left: counted once, forgotten once
        for _ in range(3):
            r = dbus_tool(self.sb, 'fire', 'Subscribe', 20)
            self.assertEqual(r, {'sent': 20})
        wait_until(lambda: (lambda st: st['subscribers'] == 0 and st['pending-calls'] == 0)(
            status(self.sb)), what='no subscribers and no calls in flight')
        self.assertTrue(dbus_tool(self.sb, 'pipeline', 'Status', 20)['counts'] == {'ok': 20})

    def test_long_lived_client_stays_under_the_limit(self):
        # a client that makes many calls one after the other (like the app) never reaches
        # the limit of calls in flight
        for method, args in (('Status', None), ('SearchHistory', "(@a{sv} {},)")):
            r = dbus_tool(self.sb, 'sequential', method, 100, *([args] if args else []))
            self.assertEqual(r['counts'], {'ok': 100}, (method, r))

    def test_pending_call_limit(self):
        # 100 calls at once from one client (under dbus-daemon's own 128 pending replies):
        # 32 wait for polkit, the rest are refused at once
        r = dbus_tool(self.sb, 'pipeline', 'Status', 100)
        counts = r['counts']
        self.assertEqual(sum(counts.values()), 100)
        self.assertGreaterEqual(counts.get('ok', 0), 32, counts)
        self.assertGreater(counts.get(ERR + 'Limit', 0), 0, counts)
        self.assertEqual(set(counts) - {'ok', ERR + 'Limit'}, set(), counts)
        wait_until(lambda: status(self.sb)['pending-calls'] == 0, what='no calls in flight')

    def test_thousand_connections_in_the_signal_stream(self):
        n = 1000
        proc = self.sb.client([PYTHON, PCDBUS, 'subscribe', '--until-ids', str(n), '--remote-port',
                               '7', '--seconds', '60'], text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, start_new_session=True)
        try:
            first = json.loads(proc.stdout.readline())
            self.assertTrue(first['subscribed'], first)
            maker = self.sb.client_run([PYTHON, '-c', f'''
import socket, json
ports = []
for i in range({n}):
    s = socket.create_connection(("{P4}", 7), timeout=5)
    ports.append(s.getsockname()[1])
    s.close()
print(json.dumps(ports))
'''], timeout=120)
            self.assertEqual(maker.returncode, 0, maker.stderr)
            ports = sorted(json.loads(maker.stdout))
            out, err = proc.communicate(timeout=70)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
        summary = json.loads(out.splitlines()[-1])
        self.assertEqual(summary['matched'], n, summary)
        self.assertEqual(summary['matched_local_ports'], ports)
        sample = summary['matched_sample']
        for key in ('profile', 'pid', 'exe', 'direction', 'protocol', 'local-address',
                    'local-port', 'remote-address', 'remote-port', 'domain', 'country',
                    'verdict', 'reason', 'bytes-in', 'bytes-out', 'started', 'ended', 'event'):
            self.assertIn(key, sample)
        self.assertEqual(sample['remote-address'], P4)
        self.assertEqual(sample['protocol'], 'tcp')
        self.assertEqual(sample['direction'], 'outbound')
        self.assertEqual(sample['verdict'], 'allow')
        self.assertGreater(sample['pid'], 0)
        # batched: many entries per signal, not one signal per connection
        self.assertLess(summary['signals'], n / 5, summary)


def ok(r):
    assert r['ok'], r
    return r['result']


class PolicyTests(unittest.TestCase):
    """Settings, profiles, rules and backup: root succeeds; pctest is denied and nothing
    changes; bad values get a clear error and change nothing."""

    @classmethod
    def setUpClass(cls):
        require_root()
        pcsandbox.ensure_test_user('pctest')
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY],
                                   settings='[global]\ndefault-action=allow\n')
        cls.sb.start()
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def settings(self):
        return ok(call(self.sb, 'GetSettings'))[0]

    def assertError(self, r, name, *fragments):
        self.assertFalse(r['ok'], r)
        self.assertEqual(r['error'], ERR + name, r)
        for f in fragments:
            self.assertIn(f, r['message'])

    def test_global_settings(self):
        before = self.settings()
        self.assertEqual(before['block-lan'], [False, 'default'])
        self.assertEqual(before['default-action'][0], 'allow')
        self.assertError(call(self.sb, 'SetSetting', "('block-lan', <true>)", user='pctest'),
                         'AccessDenied', 'configure')
        self.assertError(call(self.sb, 'SetSetting', "('block-lan', <'yes'>)"), 'InvalidSetting',
                         'block-lan')
        self.assertError(call(self.sb, 'SetSetting', "('default-action', <'sometimes'>)"),
                         'InvalidSetting', 'sometimes')
        self.assertError(call(self.sb, 'SetSetting', "('no-such-key', <true>)"),
                         'InvalidSetting', 'no-such-key')
        self.assertError(call(self.sb, 'SetSetting', "('endpoints', <['+ *', 'bogus']>)"),
                         'InvalidRule', 'bogus')
        self.assertEqual(self.settings(), before)

        ok(call(self.sb, 'SetSetting', "('block-lan', <true>)"))
        self.assertEqual(ok(call(self.sb, 'GetSetting', "('block-lan',)"))[0], True)
        self.assertEqual(self.settings()['block-lan'], [True, 'user'])
        self.assertError(call(self.sb, 'ResetSetting', "('block-lan',)", user='pctest'),
                         'AccessDenied')
        self.assertEqual(self.settings()['block-lan'], [True, 'user'])
        ok(call(self.sb, 'ResetSetting', "('block-lan',)"))
        self.assertEqual(self.settings()['block-lan'], [False, 'default'])

    def test_settings_changed_signal(self):
        # anyone may listen (it carries no data); pctest does, root changes a setting
        proc = self.sb.client([PYTHON, PCDBUS, 'wait-signal', 'SettingsChanged'], user='pctest',
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              start_new_session=True)
        try:
            self.assertEqual(json.loads(proc.stdout.readline()), {'ready': True})
            ok(call(self.sb, 'SetSetting', "('block-p2p', <true>)"))
            out, err = proc.communicate(timeout=15)
            self.assertEqual(json.loads(out.splitlines()[-1]), {'received': True, 'args': []},
                             err)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
            ok(call(self.sb, 'ResetSetting', "('block-p2p',)"))

    def test_profiles(self):
        pid = ok(call(self.sb, 'CreateProfile',
                      "(@a{sv} {'name': <'Test App'>, "
                      "'fingerprints': <['path:/usr/local/bin/test-app']>},)"))[0]
        self.assertTrue(pid)
        p = ok(call(self.sb, 'GetProfile', f"('{pid}',)"))[0]
        self.assertEqual(p['name'], 'Test App')
        self.assertIn(pid, [x['id'] for x in ok(call(self.sb, 'ListProfiles'))[0]])

        self.assertError(call(self.sb, 'UpdateProfile', f"('{pid}', @a{{sv}} {{'name': <'X'>}})",
                              user='pctest'), 'AccessDenied')
        ok(call(self.sb, 'UpdateProfile', f"('{pid}', @a{{sv}} {{'name': <'Renamed'>}})"))
        self.assertEqual(ok(call(self.sb, 'GetProfile', f"('{pid}',)"))[0]['name'], 'Renamed')

        self.assertError(call(self.sb, 'SetProfileSetting', f"('{pid}', 'block-internet', <true>)",
                              user='pctest'), 'AccessDenied')
        self.assertError(call(self.sb, 'SetProfileSetting',
                              f"('{pid}', 'default-action', <'maybe'>)"), 'InvalidSetting', 'maybe')
        eff = ok(call(self.sb, 'GetEffectiveSettings', f"('{pid}',)"))[0]
        self.assertEqual(eff['block-internet'], [False, 'default'])
        ok(call(self.sb, 'SetProfileSetting', f"('{pid}', 'block-internet', <true>)"))
        eff = ok(call(self.sb, 'GetEffectiveSettings', f"('{pid}',)"))[0]
        self.assertEqual(eff['block-internet'], [True, 'profile'])
        self.assertEqual(self.settings()['block-internet'][0], False)
        ok(call(self.sb, 'UnsetProfileSetting', f"('{pid}', 'block-internet')"))
        eff = ok(call(self.sb, 'GetEffectiveSettings', f"('{pid}',)"))[0]
        self.assertEqual(eff['block-internet'], [False, 'default'])

        self.assertError(call(self.sb, 'GetProfile', "('no-such-profile',)"), 'NotFound',
                         'no-such-profile')
        self.assertError(call(self.sb, 'DeleteProfile', f"('{pid}',)", user='pctest'),
                         'AccessDenied')
        ok(call(self.sb, 'GetProfile', f"('{pid}',)"))
        ok(call(self.sb, 'DeleteProfile', f"('{pid}',)"))
        self.assertError(call(self.sb, 'GetProfile', f"('{pid}',)"), 'NotFound')

    def test_rules(self):
        rule = '- 10.9.9.9 tcp/80'
        self.assertError(call(self.sb, 'AddRule', f"('', false, '{rule}')", user='pctest'),
                         'AccessDenied')
        self.assertEqual(self.settings()['endpoints'][0], [])
        self.assertError(call(self.sb, 'AddRule', "('', false, 'allow everything')"),
                         'InvalidRule', 'allow')
        self.assertError(call(self.sb, 'AddRule', f"('no-such-profile', false, '{rule}')"),
                         'NotFound')
        self.assertEqual(self.settings()['endpoints'][0], [])
        ok(call(self.sb, 'AddRule', f"('', false, '{rule}')"))
        ok(call(self.sb, 'AddRule', "('', true, '+ * tcp/local:22')"))
        st = self.settings()
        self.assertEqual(st['endpoints'][0], [rule])
        self.assertEqual(st['inbound-endpoints'][0], ['+ * tcp/local:22'])
        ok(call(self.sb, 'RemoveRule', f"('', false, '{rule}')"))
        ok(call(self.sb, 'RemoveRule', "('', true, '+ * tcp/local:22')"))
        self.assertError(call(self.sb, 'RemoveRule', f"('', false, '{rule}')"), 'NotFound', rule)
        st = self.settings()
        self.assertEqual(st['endpoints'][0], [])
        self.assertEqual(st['inbound-endpoints'][0], [])

    def test_export_import(self):
        exported = ok(call(self.sb, 'Export'))[0]
        doc = json.loads(exported)
        self.assertIn('profiles', doc)
        ok(call(self.sb, 'SetSetting', "('prompt-timeout', <uint32 17>)"))
        arg = GLibText(exported)
        self.assertError(call(self.sb, 'Import', f"({arg},)", user='pctest'), 'AccessDenied')
        self.assertEqual(self.settings()['prompt-timeout'][0], 17)
        self.assertError(call(self.sb, 'Import', "('{not json',)"), 'InvalidArgs')
        self.assertEqual(self.settings()['prompt-timeout'][0], 17)
        ok(call(self.sb, 'Import', f"({arg},)"))
        self.assertNotEqual(self.settings()['prompt-timeout'][0], 17)
        self.assertEqual(json.loads(ok(call(self.sb, 'Export'))[0])['global'], doc['global'])


def GLibText(text):
    """A string as GVariant text."""
    return GLib.Variant('s', text).print_(False)


class BusPolicyTests(unittest.TestCase):
    """data/org.portcullis.Portcullis1.conf on a bus that denies by default, like Debian's."""

    def test_only_root_owns_anyone_calls(self):
        require_root()
        pcsandbox.ensure_test_user('pctest')
        pcsandbox.ensure_test_user('pcmon')
        with pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY], polkit_rules=RULES,
                               bus_strict=True, bus_policy_dirs=[BUS_POLICY_DIR]) as sb:
            sb.wait_for_name(NAME, 10, sb.helper_proc, sb.helper_log_path)
            r = call(sb, 'Status')
            self.assertTrue(r['ok'], r)
            # the bus lets pctest call; polkit says no
            r = call(sb, 'Status', user='pctest')
            self.assertEqual(r['error'], ERR + 'AccessDenied', r)
            r = dbus_tool(sb, 'own', NAME, user='pctest')
            self.assertEqual(r['error'], 'org.freedesktop.DBus.Error.AccessDenied', r)
            # an unprivileged subscriber that polkit allows gets the unicast signals through
            # the deny-by-default bus
            proc = sb.client([PYTHON, PCDBUS, 'subscribe', '--until-ids', '1', '--remote-port',
                              '7', '--seconds', '20'], user='pcmon', text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True)
            try:
                first = json.loads(proc.stdout.readline())
                self.assertTrue(first['subscribed'], first)
                res = sb.client_run([PYTHON, '-c', f'import socket; socket.create_connection('
                                     f'("{P4}", 7), timeout=5).close()'])
                self.assertEqual(res.returncode, 0, res.stderr)
                out, err = proc.communicate(timeout=30)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.communicate()
            self.assertEqual(json.loads(out.splitlines()[-1])['matched'], 1, out + err)


class LifecycleTests(unittest.TestCase):
    def test_stop_by_root(self):
        require_root()
        with pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY]) as sb:
            sb.wait_for_name(NAME, 10, sb.helper_proc, sb.helper_log_path)
            r = call(sb, 'Stop')
            self.assertTrue(r['ok'], r)
            self.assertEqual(sb.helper_proc.wait(10), 0)
            self.assertNotIn('PORTCULLIS', sb.ruleset())
            self.assertIn('stop requested over D-Bus', sb.helper_log())

    def test_root_goes_through_polkit(self):
        # no uid shortcut: without polkitd even root is denied (fail closed), and allowed again
        # once polkitd is back
        require_root()
        with pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY]) as sb:
            sb.wait_for_name(NAME, 10, sb.helper_proc, sb.helper_log_path)
            self.assertTrue(call(sb, 'Status')['ok'])
            sb.polkitd_proc.terminate()
            sb.polkitd_proc.wait(10)
            wait_until(lambda: not sb.name_has_owner('org.freedesktop.PolicyKit1'), 10,
                       'polkitd gone')
            r = call(sb, 'Status')
            self.assertEqual(r['error'], ERR + 'AccessDenied', r)
            self.assertIn('cannot check authorization', r['message'])
            sb.restart_polkitd()
            self.assertTrue(call(sb, 'Status')['ok'])

    def test_no_bus_keeps_firewalling(self):
        require_root()
        with pcsandbox.Sandbox(BUILD_DIR, bus=False) as sb:
            self.assertIn('no system bus', wait_until(
                lambda: 'no system bus' in sb.helper_log() and sb.helper_log(), 10,
                'the no-bus warning'))
            self.assertIsNone(sb.helper_proc.poll())
            self.assertIn('PORTCULLIS', sb.ruleset())


if __name__ == '__main__':
    pcsandbox.unittest_main()
