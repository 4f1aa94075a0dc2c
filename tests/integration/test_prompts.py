#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection prompts end to end: the real helper holds flows whose decision is "prompt" while
a prompt agent (a D-Bus client on the private system bus) is registered; answers become rules
in the app's profile; unanswered prompts fall back to prompt-default; other flows never wait."""
import json
import os
import subprocess
import threading
import time
import unittest

from pctest import (BUILD_DIR, CLIENT_TOOL, PYTHON, SOURCE_DIR, apply_settings, client_tool,
                    pcsandbox, require_root)

POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
AGENT = os.path.join(SOURCE_DIR, 'tests', 'integration', 'pcagent.py')
CTL = os.path.join(BUILD_DIR, 'app', 'cli', 'portcullisctl')
NAME = 'org.portcullis.Portcullis1'
P4 = pcsandbox.PEER_V4

SETTINGS = ('[global]\ndefault-action=prompt\nprompt-default=block\nprompt-timeout=3\n'
            'block-reaction=reject\nendpoints=+ 10.77.0.1 tcp/8080;\n')


class Agent:
    """pcagent.py in the client namespace; its JSON lines are collected in a thread."""

    def __init__(self, sb, *args):
        self.proc = sb.client([PYTHON, AGENT, *args], cgroup=False, stdout=subprocess.PIPE,
                              text=True)
        self.lines = []
        first = json.loads(self.proc.stdout.readline())
        assert first.get('ready'), first
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def wait(self, pred, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for l in self.lines:
                if pred(l):
                    return l
            time.sleep(0.05)
        raise AssertionError(f'agent saw nothing matching; lines: {self.lines}')

    def prompts(self):
        return [l['prompt'] for l in self.lines if 'prompt' in l]

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.thread.join(5)
        self.proc.stdout.close()


class PromptTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY], settings=SETTINGS)
        cls.sb.start()
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()

    def setUp(self):
        self.agent = None

    def tearDown(self):
        if self.agent:
            self.agent.stop()

    def test_without_agent_prompt_default_applies_at_once(self):
        r = client_tool(self.sb, 'tcp', P4, 7, '--timeout', 5)
        self.assertFalse(r['ok'], r)
        self.assertEqual(r['error'], 'ConnectionRefusedError')
        self.assertLess(r['seconds'], 1.0)

    def test_answer_allow_forever_becomes_a_rule(self):
        self.agent = Agent(self.sb, '--answer', 'allow:port:forever', '--delay', '0.3')
        r = client_tool(self.sb, 'tcp', P4, 80, '--timeout', 10)
        self.assertTrue(r['ok'], r)
        self.assertGreater(r['seconds'], 0.25)  # it waited for the answer
        prompt = self.agent.wait(lambda l: 'prompt' in l)['prompt']
        self.assertEqual(prompt['connection']['remote-address'], P4)
        self.assertEqual(prompt['connection']['remote-port'], 80)
        self.assertEqual(prompt['connection']['exe'].rsplit('/', 1)[1][:6], 'python')
        self.agent.wait(lambda l: l.get('ended') == prompt['id'])
        # the rule is in the app's profile, like any other
        self.assertEqual(prompt['connection']['reason'],
                         'default action: prompt (waiting for an answer)')
        # the app got its profile meanwhile (a new program): the rule went there
        conns = json.loads(self.sb.client_run([CTL, '--json', 'connections'],
                                              cgroup=False).stdout)
        app = [c for c in conns if c['id'] == prompt['connection']['id']][0]['profile']
        self.assertTrue(app, conns)
        rules = self.sb.client_run([CTL, '--json', 'rules', 'list', '--app', app], cgroup=False)
        self.assertIn(f'+ {P4} tcp/80', rules.stdout, rules.stderr)
        # and the next connection of that app passes without asking
        n = len(self.agent.prompts())
        r = client_tool(self.sb, 'tcp', P4, 80, '--timeout', 10)
        self.assertTrue(r['ok'], r)
        self.assertLess(r['seconds'], 0.25)
        time.sleep(0.3)
        self.assertEqual(len(self.agent.prompts()), n)

    def test_unanswered_prompt_expires_to_prompt_default_and_others_go_on(self):
        self.agent = Agent(self.sb)  # registered, never answers
        holder = self.sb.client([PYTHON, CLIENT_TOOL, 'tcp', P4, '7', '--timeout', '10'],
                                stdout=subprocess.PIPE, text=True)
        prompt = self.agent.wait(lambda l: 'prompt' in l)['prompt']
        # while that flow waits, one that needs no answer is not delayed
        r = client_tool(self.sb, 'tcp', P4, 8080, '--timeout', 5)
        self.assertTrue(r['ok'], r)
        self.assertLess(r['seconds'], 0.5)
        out, _ = holder.communicate(timeout=20)
        holder.stdout.close()
        r = json.loads(out.splitlines()[-1])
        self.assertFalse(r['ok'], r)
        self.assertGreater(r['seconds'], 2.5)  # held for prompt-timeout=3 s
        self.assertLess(r['seconds'], 6.0)
        ended = self.agent.wait(lambda l: l.get('ended') == prompt['id'])
        self.assertEqual(ended['how'], 'expired')

    def test_block_once_and_joined_flows(self):
        self.agent = Agent(self.sb, '--answer', 'block:ip:once', '--delay', '0.5')
        # two flows of the same app to the same destination share one prompt
        script = ('import socket,threading,json,time\n'
                  'res=[]\n'
                  'def go():\n'
                  ' s=socket.socket();s.settimeout(10);t=time.monotonic()\n'
                  ' try:\n'
                  f'  s.connect(("{P4}",9));res.append("ok")\n'
                  ' except OSError as e: res.append(type(e).__name__)\n'
                  'ts=[threading.Thread(target=go) for i in range(2)]\n'
                  '[t.start() for t in ts];[t.join() for t in ts]\n'
                  'print(json.dumps(res))\n')
        res = self.sb.client_run([PYTHON, '-c', script], timeout=30)
        self.assertEqual(json.loads(res.stdout), ['ConnectionRefusedError'] * 2, res.stderr)
        self.assertEqual(len([p for p in self.agent.prompts()
                              if p['connection']['remote-port'] == 9]), 1)
        # "once" made no rule: the next attempt asks again
        self.agent.stop()
        self.agent = Agent(self.sb, '--answer', 'allow:ip:once')
        r = client_tool(self.sb, 'tcp', P4, 9, '--timeout', 10)
        self.assertTrue(r['ok'], r)
        self.assertEqual(len(self.agent.prompts()), 1)

    def test_bad_answers_change_nothing(self):
        self.agent = Agent(self.sb)
        holder = self.sb.client([PYTHON, CLIENT_TOOL, 'tcp', P4, '7', '--timeout', '10'],
                                stdout=subprocess.PIPE, text=True)
        prompt = self.agent.wait(lambda l: 'prompt' in l)['prompt']
        for args in (['maybe'], ['allow', '--scope', 'galaxy'], ['allow', '--lifetime', 'eons'],
                     ['allow', '--scope', 'domain']):
            r = self.sb.client_run([CTL, 'prompt', 'answer', prompt['id'], *args], cgroup=False)
            self.assertEqual(r.returncode, 1, (args, r.stdout, r.stderr))
        r = self.sb.client_run([CTL, 'prompt', 'answer', '999999', 'allow'], cgroup=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn('no pending prompt', r.stderr)
        # still pending, then answered for real from the command line
        r = self.sb.client_run([CTL, '--json', 'prompts'], cgroup=False)
        self.assertIn(prompt['id'], [p['id'] for p in json.loads(r.stdout)])
        r = self.sb.client_run([CTL, 'prompt', 'answer', prompt['id'], 'allow'], cgroup=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        out, _ = holder.communicate(timeout=20)
        holder.stdout.close()
        self.assertTrue(json.loads(out.splitlines()[-1])['ok'])

    def test_inbound_prompts_only_when_enabled(self):
        self.agent = Agent(self.sb, '--answer', 'allow:port:once', '--delay', '0.3')
        listener = self.sb.client([PYTHON, CLIENT_TOOL, 'listen', '2300', '--count', '5'],
                                  stdout=subprocess.PIPE, text=True)
        try:
            self.assertIn('listening', listener.stdout.readline())

            def knock():
                r = self.sb.peer_run([PYTHON, CLIENT_TOOL, 'tcp', pcsandbox.CLIENT_V4, '2300',
                                      '--send', 'hello', '--timeout', '10'], timeout=30)
                return json.loads(r.stdout.splitlines()[-1])

            def inbound(l):
                return 'prompt' in l and l['prompt']['connection']['direction'] == 'inbound'
            # off (the default): prompt-default (block) decides at once, nobody is asked
            r = knock()
            self.assertFalse(r['ok'], r)
            self.assertEqual(r['error'], 'ConnectionRefusedError')
            self.assertLess(r['seconds'], 1.0)
            time.sleep(0.3)
            self.assertFalse([l for l in self.agent.lines if inbound(l)], self.agent.lines)
            conns = json.loads(self.sb.client_run([CTL, '--json', 'connections'],
                                                  cgroup=False).stdout)
            c = [c for c in conns if c['direction'] == 'inbound' and c['local-port'] == 2300][-1]
            self.assertEqual(c['reason'],
                             'default action: prompt (inbound prompts off, prompt-default block)')
            # on: the new connection to the listener waits for the agent's answer
            apply_settings(self.sb, SETTINGS + 'prompt-inbound=true\n')
            r = knock()
            self.assertTrue(r['ok'], r)
            self.assertGreater(r['seconds'], 0.25)
            prompt = self.agent.wait(inbound)['prompt']
            c = prompt['connection']
            self.assertEqual(c['local-port'], 2300)
            self.assertEqual(c['remote-address'], P4)
            self.assertEqual(c['pid'], listener.pid)  # the listening program is asked about
            answered = self.agent.wait(lambda l: l.get('answered') == prompt['id'])
            self.assertTrue(answered['ok'], answered)
        finally:
            listener.kill()
            listener.wait()
            listener.stdout.close()
            apply_settings(self.sb, SETTINGS)


if __name__ == '__main__':
    pcsandbox.unittest_main()
