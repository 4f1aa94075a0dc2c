#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The user-facing side of connection prompts: the app as the session's prompt agent
(`portcullis --agent`, as XDG autostart starts it) against the real helper on the sandbox's
private system bus, under Xvfb, with a real notification server (dunst) on a private session bus.

- the popup shows the prompt and answers through its buttons (activated through the app's test
  hook, app/pc-test-hook.c); its buttons refuse clicks for the first second;
- real X key presses (xdotool) into a fresh popup answer nothing; Escape hides it and the prompt
  stays pending; an answer from elsewhere closes what the app shows;
- dunst shows the notification; its Allow action, chosen through dunst's own context menu
  (`dunstctl context` runs the configured dmenu, here a script that picks a line), answers the
  prompt in the helper; with three prompts at once, Block in one notification's menu answers
  only that one;
- a user without the answer-prompt authorization cannot answer;
- an unanswered prompt times out to prompt-default and its popup and notification go;
- with prompt-inbound on, a connection from the peer to a listener shows an inbound popup;
- with the main window focused, the popup comes without a notification;
- of many prompts at once three are shown, the others wait their turn;
- when the helper stops its prompts go; when it is back the agent registers again.

Screenshots go to BUILD_DIR/meson-logs/screenshots/.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import pctest
from pctest import BUILD_DIR, CLIENT_TOOL, PYTHON, SOURCE_DIR, pcsandbox, require_root
import test_app
from test_app import start_xvfb

POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
PCDBUS = os.path.join(SOURCE_DIR, 'tests', 'integration', 'pcdbus.py')
CTL = os.path.join(BUILD_DIR, 'app', 'cli', 'portcullisctl')
APP = os.path.join(BUILD_DIR, 'app', 'portcullis')
NAME = 'org.portcullis.Portcullis1'
ERR = 'org.portcullis.Portcullis1.Error.'
P4 = pcsandbox.PEER_V4
SHOTS = os.path.join(BUILD_DIR, 'meson-logs', 'screenshots')

SETTINGS = ('[global]\ndefault-action=prompt\nprompt-default=block\nprompt-timeout=40\n'
            'block-reaction=reject\nendpoints=+ 10.77.0.1 tcp/8080;\n')

# dunst's context menu goes through "dmenu" (lines "#Allow (SUMMARY) [ID,allow]"): this one
# logs the menu and picks the line that has the text in $0.choice
DMENU = '''#!/bin/sh
cat > "$0.menu"
cat "$0.menu" >> "$0.log"
grep -m1 -F "$(cat "$0.choice")" "$0.menu"
'''
# a dunst rule script: logs every notification it shows
LOGGER = '''#!/bin/sh
printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$1" "$2" "$3" "$4" "$5" >> "$0.log"
'''
SESSION_CONF = '''<busconfig>
  <type>session</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
'''
DUNSTRC = '''[global]
    dmenu = {dmenu}
    browser = /bin/true
    always_run_script = true
    show_indicators = false
[log-all]
    appname = "*"
    script = {logger}
'''


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ''


class PromptUiTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        if not os.access(APP, os.X_OK):
            raise unittest.SkipTest('the GTK app is not built (gtk4/libadwaita missing)')
        for tool in ('dunst', 'dunstctl', 'xdotool', 'dbus-daemon'):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f'{tool} is not installed (build-aux/debian-packages.txt)')
        os.makedirs(SHOTS, exist_ok=True)
        cls.procs = []
        cls.tmp = tempfile.mkdtemp(prefix='pc-prompt-ui-')
        os.chmod(cls.tmp, 0o755)
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, polkit_policies=[POLICY], settings=SETTINGS)
        cls.sb.start()
        try:
            cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)
            cls.xvfb, cls.display = start_xvfb()
            cls.start_session_bus()
            cls.start_dunst()
            cls.start_agent()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def start_session_bus(cls):
        """A private session bus on a path socket (abstract ones do not cross namespaces),
        without service activation: the notification server is the one the test starts."""
        path = os.path.join(cls.tmp, 'session-bus')
        cls.session_bus = 'unix:path=' + path
        conf = os.path.join(cls.tmp, 'session.conf')
        with open(conf, 'w') as f:
            f.write(SESSION_CONF.format(path=path))
        bus = subprocess.Popen(['dbus-daemon', '--config-file=' + conf, '--nofork', '--nosyslog',
                                '--print-address'],
                               stdout=subprocess.PIPE, text=True, start_new_session=True)
        cls.procs.append(bus)
        bus.stdout.readline()
        bus.stdout.close()
        cls.session_env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=cls.session_bus,
                               DISPLAY=cls.display)

    @classmethod
    def start_dunst(cls):
        cls.dmenu = os.path.join(cls.tmp, 'dmenu.sh')
        cls.logger = os.path.join(cls.tmp, 'notify-log.sh')
        for path, text in ((cls.dmenu, DMENU), (cls.logger, LOGGER)):
            with open(path, 'w') as f:
                f.write(text)
            os.chmod(path, 0o755)
        rc = os.path.join(cls.tmp, 'dunstrc')
        with open(rc, 'w') as f:
            f.write(DUNSTRC.format(dmenu=cls.dmenu, logger=cls.logger))
        cls.dunst_log = open(os.path.join(cls.sb.log_dir, 'dunst.log'), 'w+')
        dunst = subprocess.Popen(['dunst', '-config', rc, '-verbosity', 'info'],
                                 env=cls.session_env, stdout=cls.dunst_log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        cls.procs.append(dunst)
        deadline = time.monotonic() + 10
        while True:
            owned = cls.session_call('org.freedesktop.DBus', '/org/freedesktop/DBus',
                                     'org.freedesktop.DBus.NameHasOwner',
                                     'org.freedesktop.Notifications', check=False)
            if owned.stdout.strip() == '(true,)':
                break
            if dunst.poll() is not None or time.monotonic() > deadline:
                cls.dunst_log.seek(0)
                raise AssertionError('dunst did not take org.freedesktop.Notifications: '
                                     + cls.dunst_log.read())
            time.sleep(0.1)
        cls.server_info = cls.session_call('org.freedesktop.Notifications',
                                           '/org/freedesktop/Notifications',
                                           'org.freedesktop.Notifications.GetServerInformation'
                                           ).stdout

    @classmethod
    def start_agent(cls):
        cls.hook = os.path.join(cls.tmp, 'hook.sock')
        runtime = os.path.join(cls.tmp, 'runtime')
        os.mkdir(runtime, 0o700)
        env = {
            'DISPLAY': cls.display, 'GDK_BACKEND': 'x11', 'GSK_RENDERER': 'cairo',
            'GSETTINGS_BACKEND': 'memory',
            'GSETTINGS_SCHEMA_DIR': os.path.join(BUILD_DIR, 'data'),
            'DBUS_SESSION_BUS_ADDRESS': cls.session_bus,
            'PORTCULLIS_TEST_SOCKET': cls.hook, 'NO_AT_BRIDGE': '1', 'GTK_A11Y': 'none',
            'XDG_RUNTIME_DIR': runtime, 'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8',
            'G_MESSAGES_DEBUG': '',
        }
        cls.app_env = env
        cls.app_log = open(os.path.join(cls.sb.log_dir, 'agent.log'), 'w+')
        cls.app = cls.sb.client([APP, '--agent'], cgroup=False, env=env, stdout=cls.app_log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        cls.procs.append(cls.app)
        deadline = time.monotonic() + 20
        while True:
            try:
                if cls.prompts_shown()['registered']:
                    break
            except (OSError, ValueError):
                pass
            if cls.app.poll() is not None or time.monotonic() > deadline:
                cls.app_log.seek(0)
                raise AssertionError('the agent did not register: ' + cls.app_log.read())
            time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        for proc in reversed(getattr(cls, 'procs', [])):
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
                    proc.wait()
        if getattr(cls, 'xvfb', None) is not None:
            cls.xvfb.terminate()
            cls.xvfb.wait(10)
        if getattr(cls, 'sb', None) is not None:
            cls.sb.close()
        for f in ('app_log', 'dunst_log'):
            if getattr(cls, f, None) is not None:
                getattr(cls, f).close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        # no prompt of one test reaches the next
        for p in self.helper_prompts():
            self.sb.client_run([CTL, 'prompt', 'answer', p['id'], 'block'], cgroup=False)
        for h in getattr(self, 'holders', []):
            if h.poll() is None:
                h.kill()
            h.wait()
            h.stdout.close()
        self.wait(lambda: not self.prompts_shown()['prompts'] and self.displayed() == 0,
                  'the app to let go of every prompt')

    # ---- helpers ----

    @classmethod
    def session_call(cls, dest, path, method, *args, check=True):
        r = subprocess.run(['gdbus', 'call', '--session', '--dest', dest, '--object-path', path,
                            '--method', method, *args], env=cls.session_env,
                           capture_output=True, text=True, timeout=10)
        if check and r.returncode != 0:
            raise AssertionError(f'{method}: {r.stderr}')
        return r

    @classmethod
    def cmd(cls, line):
        """One command to the app's test hook (test_app.py's client of it)."""
        test_app.AppTests.hook = cls.hook
        return test_app.AppTests.cmd(line)

    def ok(self, line):
        answer = self.cmd(line)
        self.assertEqual(answer, 'ok', line)

    @classmethod
    def prompts_shown(cls):
        return json.loads(cls.cmd('prompts'))

    def helper_prompts(self):
        r = self.sb.client_run([CTL, '--json', 'prompts'], cgroup=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def log_tail(self):
        self.app_log.seek(0)
        self.dunst_log.seek(0)
        return (f'agent log:\n{self.app_log.read()[-3000:]}\n'
                f'dunst log:\n{self.dunst_log.read()[-2000:]}')

    def wait(self, pred, what, timeout=15):
        try:
            return pctest.wait_until(pred, timeout=timeout, what=what, interval=0.05)
        except AssertionError as e:
            raise AssertionError(f'{e}\n{self.log_tail()}') from None

    def hold(self, port):
        """A connection from the client that waits for the prompt's answer."""
        proc = self.sb.client([PYTHON, CLIENT_TOOL, 'tcp', P4, str(port), '--timeout', '30'],
                              stdout=subprocess.PIPE, text=True)
        self.holders = getattr(self, 'holders', []) + [proc]
        return proc

    def hold_as(self, script, port):
        """Like hold, from a copy of the client tool at another path: a program without a
        profile yet."""
        proc = self.sb.client([PYTHON, script, 'tcp', P4, str(port), '--timeout', '30'],
                              stdout=subprocess.PIPE, text=True)
        self.holders = getattr(self, 'holders', []) + [proc]
        return proc

    def held_result(self, proc):
        out, _ = proc.communicate(timeout=30)
        return json.loads(out.splitlines()[-1])

    def popup_for(self, port):
        """Waits for the popup of the prompt for P4:port; returns what it shows."""
        def find():
            for p in self.prompts_shown()['prompts']:
                if f'{P4} on {port}/TCP' in p.get('summary', '') and p.get('visible'):
                    return p
            return None
        return self.wait(find, f'the popup for port {port}')

    def shown(self, pid):
        return [p for p in self.prompts_shown()['prompts'] if p['id'] == pid]

    def dunst_menu(self, choice):
        """Opens dunst's context menu; the dmenu script picks the line with choice."""
        with open(self.dmenu + '.choice', 'w') as f:
            f.write(choice)
        r = subprocess.run(['dunstctl', 'context'], env=self.session_env, capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)

    def displayed(self):
        """How many notifications dunst shows."""
        r = subprocess.run(['dunstctl', 'count', 'displayed'], env=self.session_env,
                           capture_output=True, text=True, timeout=10)
        return int(r.stdout.strip())

    def xdotool(self, *args):
        r = subprocess.run(['xdotool', *args], env=self.session_env, capture_output=True,
                           text=True, timeout=10)
        self.assertEqual(r.returncode, 0, (args, r.stderr))
        return r.stdout

    # ---- tests ----

    def test_many_prompts_wait_their_turn(self):
        # five destinations at once: three popups and notifications, two wait their turn
        ports = (9, 81, 82, 83, 84)
        for port in ports:
            self.hold(port)
        self.wait(lambda: len(self.prompts_shown()['prompts']) == 5, 'five prompts')
        shown = self.prompts_shown()['prompts']
        self.wait(lambda: len([p for p in self.prompts_shown()['prompts'] if p['visible']]) == 3,
                  'three popups')
        self.assertEqual(len([p for p in self.prompts_shown()['prompts'] if p['waiting']]), 2)
        self.wait(lambda: self.displayed() == 3, 'dunst showing three')
        # one answered (from the command line): the next in line shows
        first = [p for p in self.prompts_shown()['prompts'] if p['visible']][0]['id']
        r = self.sb.client_run([CTL, 'prompt', 'answer', first, 'block', '--scope', 'port'],
                               cgroup=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait(lambda: len(self.prompts_shown()['prompts']) == 4
                  and len([p for p in self.prompts_shown()['prompts'] if p['visible']]) == 3,
                  'a waiting prompt to show')
        self.assertEqual(len([p for p in self.prompts_shown()['prompts'] if p['waiting']]), 1)
        # Escape (decide later) on one makes room for the last
        later = [p for p in self.prompts_shown()['prompts'] if p['visible']][0]['id']
        self.ok(f'prompt-close {later}')
        self.wait(lambda: not [p for p in self.prompts_shown()['prompts'] if p['waiting']],
                  'the last prompt to show')
        self.assertEqual(len(shown), 5)

    def test_several_prompts_and_a_notifications_block(self):
        # three destinations at once: three prompts, each with its popup and notification
        # (not port 80: test_popup_answers_through_its_buttons leaves a 5-minute rule for it)
        holders = {port: self.hold(port) for port in (7, 9, 81)}
        popups = {port: self.popup_for(port) for port in holders}
        self.assertEqual(len({p['id'] for p in popups.values()}), 3)
        for p in popups.values():
            self.ok(f"prompt-set {p['id']} lifetime once")
            self.ok(f"prompt-set {p['id']} scope port")
        self.wait(lambda: all(self.shown(p['id'])[0]['notified'] for p in popups.values()),
                  'three notifications')
        self.wait(lambda: self.displayed() == 3, 'dunst showing three')
        # Block in the menu of the notification for port 9 only
        nid = self.shown(popups[9]['id'])[0]['notification-id']
        self.assertGreater(nid, 0)
        self.dunst_menu(f'[{nid},block]')
        r = self.held_result(holders[9])
        self.assertFalse(r['ok'], r)
        self.assertEqual(r['error'], 'ConnectionRefusedError')
        self.wait(lambda: not self.shown(popups[9]['id']), 'its popup to close')
        # the two others wait on, their popups and notifications stay
        self.assertEqual(len(self.helper_prompts()), 2)
        self.assertIsNone(holders[7].poll())
        self.assertIsNone(holders[81].poll())
        self.wait(lambda: self.displayed() == 2, 'the other two notifications')
        for port, verdict in ((7, 'allow'), (81, 'block')):
            pid = popups[port]['id']
            self.assertTrue(self.shown(pid)[0]['visible'])
            self.wait(lambda pid=pid: self.shown(pid)[0]['allow-sensitive'], 'the buttons')
            self.ok(f'prompt-click {pid} {verdict}')
            self.assertEqual(self.held_result(holders[port])['ok'], verdict == 'allow')
        self.wait(lambda: self.displayed() == 0, 'all notifications to close')
        self.assertEqual(self.prompts_shown()['prompts'], [])

    def test_popup_answers_through_its_buttons(self):
        holder = self.hold(80)
        popup = self.popup_for(80)
        pid = popup['id']
        # what it says: the program, where it connects, the details
        # the profile's name (the script), or the program's while the profile is being made
        name = popup['app-name']
        self.assertIn(name, ('pcclient.py', 'python3'), popup)
        self.assertEqual(popup['summary'], f'{name} wants to connect to {P4} on 80/TCP')
        self.wait(lambda: self.shown(pid)[0]['title'] == 'pcclient.py — Connection Request',
                  "the profile's name in the title")
        self.assertTrue(popup['exe'].startswith('/usr/bin/python3'), popup)
        self.assertIn(CLIENT_TOOL, popup['cmdline'])
        self.assertTrue(popup['pid'].isdigit() and int(popup['pid']) > 1, popup)
        self.assertEqual(popup['user'], 'root (0)')
        self.assertEqual(popup['scope'], 'ip')  # no domain known for a bare address
        self.assertEqual(popup['lifetime'], 'forever')
        # prompt-default is block: the countdown says what happens without an answer
        self.wait(lambda: 'Without an answer, it is blocked in' in self.shown(pid)[0]['countdown'],
                  'the countdown')
        self.assertGreater(popup['seconds-left'], 20)
        # a click in the first second does nothing
        r = self.cmd(f'prompt-click {pid} allow')
        if popup['shown-ms'] < 800:
            self.assertEqual(r, 'error: the button is insensitive')
            self.assertFalse(popup['allow-sensitive'])
        self.assertIn(pid, [p['id'] for p in self.helper_prompts()])
        # this port, for 5 minutes
        self.ok(f'prompt-set {pid} scope port')
        self.ok(f'prompt-set {pid} lifetime minutes')
        self.ok(f'prompt-set {pid} minutes 5')
        self.ok(f'prompt-screenshot {pid} {os.path.join(SHOTS, "prompt-popup-compact.png")}')
        self.ok(f'prompt-set {pid} details true')
        self.wait(lambda: self.shown(pid)[0]['allow-sensitive'], 'Allow to become clickable')
        time.sleep(0.5)  # a frame with the expander open
        shot = os.path.join(SHOTS, 'prompt-popup.png')
        self.ok(f'prompt-screenshot {pid} {shot}')
        self.assertGreater(os.path.getsize(shot), 5000)
        self.ok(f'prompt-click {pid} allow')
        r = self.held_result(holder)
        self.assertTrue(r['ok'], r)
        # answered: the popup is gone, the helper has no prompt, the rule is in the profile
        self.wait(lambda: not self.shown(pid), 'the popup to close')
        self.assertNotIn(pid, [p['id'] for p in self.helper_prompts()])
        app = [p for p in json.loads(self.sb.client_run([CTL, '--json', 'connections'],
                                                         cgroup=False).stdout)
               if p['remote-port'] == 80][0]['profile']
        r = self.sb.client_run([CTL, '--json', 'app', 'show', app], cgroup=False)
        temporary = json.loads(r.stdout)['profile']['temporary-rules']
        self.assertEqual([t['rule'] for t in temporary], [f'+ {P4} tcp/80'], r.stdout)
        self.assertAlmostEqual(temporary[0]['expires'] / 1e6 - time.time(), 300, delta=30)
        # the next connection passes without asking
        r = pctest.client_tool(self.sb, 'tcp', P4, 80, '--timeout', 10)
        self.assertTrue(r['ok'], r)
        self.assertLess(r['seconds'], 0.5)

    def test_keys_answer_nothing_and_escape_decides_later(self):
        holder = self.hold(9)
        popup = self.popup_for(9)
        pid = popup['id']
        wid = self.xdotool('search', '--sync', '--onlyvisible', '--name',
                           'Connection Request').split()[-1]
        # typing goes on into the popup as it appears: nothing is answered
        self.xdotool('windowfocus', '--sync', wid)
        self.xdotool('key', '--delay', '20', 'Return', 'space', 'a', 'Return')
        time.sleep(1.5)
        self.xdotool('key', '--delay', '20', 'Return', 'space', 'Return')
        time.sleep(0.5)
        self.assertIn(pid, [p['id'] for p in self.helper_prompts()])
        shown = self.shown(pid)[0]
        self.assertTrue(shown['visible'])
        self.assertFalse(shown['answering'], shown)
        self.assertIsNone(holder.poll())
        # Escape: the popup goes, the prompt stays pending, the flow still waits
        self.xdotool('key', 'Escape')
        self.wait(lambda: not self.shown(pid)[0]['visible'], 'Escape to hide the popup')
        time.sleep(0.5)
        self.assertIn(pid, [p['id'] for p in self.helper_prompts()])
        self.assertIsNone(holder.poll())
        # answered elsewhere: the app lets go of it, the flow gets the answer
        r = self.sb.client_run([CTL, 'prompt', 'answer', pid, 'block', '--scope', 'port'],
                               cgroup=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(self.held_result(holder)['ok'])
        self.wait(lambda: not self.shown(pid), 'PromptEnded to drop the prompt')
        self.wait(lambda: self.displayed() == 0, 'the notification to close')

    def test_unanswered_prompt_times_out_and_the_popup_goes(self):
        pctest.apply_settings(self.sb, SETTINGS.replace('prompt-timeout=40', 'prompt-timeout=5'))
        try:
            holder = self.hold(9)
            popup = self.popup_for(9)
            self.assertLessEqual(popup['seconds-left'], 5)
            self.wait(lambda: 'it is blocked in' in self.shown(popup['id'])[0]['countdown'],
                      'the countdown')
            # nobody answers: prompt-default (block) applies, the popup and notification go
            self.assertFalse(self.held_result(holder)['ok'])
            self.wait(lambda: not self.shown(popup['id']), 'the expired prompt to go')
            self.wait(lambda: self.displayed() == 0, 'the notification to close')
        finally:
            pctest.apply_settings(self.sb, SETTINGS)

    def test_helper_restart(self):
        self.hold(9)
        self.popup_for(9)
        # the helper goes: its prompts are gone, and so are their popup and notification
        self.sb.stop_helper()
        self.wait(lambda: not self.prompts_shown()['prompts'] and self.displayed() == 0,
                  'the prompts of the stopped helper to go')
        self.wait(lambda: not self.prompts_shown()['registered'], 'the agent to notice')
        # it comes back: the agent registers again and shows its prompts
        self.sb.start_helper()
        self.sb.wait_for_name(NAME, 10, self.sb.helper_proc, self.sb.helper_log_path)
        self.wait(lambda: self.prompts_shown()['registered'], 'the agent to register again')
        self.hold(81)
        self.popup_for(81)

    def test_inbound_prompt(self):
        pctest.apply_settings(self.sb, SETTINGS + 'prompt-inbound=true\n')
        listener = self.sb.client([PYTHON, CLIENT_TOOL, 'listen', '2300', '--count', '3'],
                                  stdout=subprocess.PIPE, text=True)
        try:
            self.assertIn('listening', listener.stdout.readline())
            knock = self.sb.peer([PYTHON, CLIENT_TOOL, 'tcp', pcsandbox.CLIENT_V4, '2300',
                                  '--send', 'hello', '--timeout', '30'],
                                 stdout=subprocess.PIPE, text=True)
            self.holders = [knock]
            popup = self.wait(lambda: [p for p in self.prompts_shown()['prompts']
                                       if 'on 2300/TCP' in p.get('summary', '')],
                              'the inbound popup')[0]
            self.assertEqual(popup['summary'],
                             f"{P4} wants to connect to {popup['app-name']} on 2300/TCP")
            self.assertEqual(popup['pid'], str(listener.pid))
            # named after the listener's profile once the helper has it
            self.wait(lambda: self.shown(popup['id'])[0]['app-name'] == 'pcclient.py',
                      "the profile's name")
            self.assertEqual(popup['scope'], 'port')  # its own port: the service
            self.ok(f"prompt-set {popup['id']} lifetime once")
            self.wait(lambda: self.shown(popup['id'])[0]['allow-sensitive'], 'Allow')
            self.ok(f"prompt-screenshot {popup['id']} {os.path.join(SHOTS, 'prompt-inbound.png')}")
            self.ok(f"prompt-click {popup['id']} allow")
            r = self.held_result(knock)
            self.assertTrue(r['ok'], r)
        finally:
            listener.kill()
            listener.wait()
            listener.stdout.close()
            pctest.apply_settings(self.sb, SETTINGS)

    def test_notification_allow_on_a_real_server(self):
        self.assertIn("('dunst',", self.server_info)
        holder = self.hold(7)
        popup = self.popup_for(7)
        pid = popup['id']
        self.wait(lambda: self.shown(pid)[0]['notified'], 'the notification')
        # dunst shows it: its rule script saw the title and the text
        log = self.logger + '.log'
        self.wait(lambda: f'{P4} on 7/TCP' in read(log), "dunst's rule script")
        line = [l for l in read(log).splitlines() if f'{P4} on 7/TCP' in l][-1].split('\t')
        name = self.shown(pid)[0]['app-name']
        self.assertEqual(line[0], 'Portcullis')
        self.assertEqual(line[1], f'Connection request from {name}')
        self.assertEqual(line[2], f'{name} wants to connect to {P4} on 7/TCP')
        self.assertEqual(line[4].strip(), 'CRITICAL')
        self.assertEqual(self.displayed(), 1)
        # only this once: the popup's choice goes with the notification's answer
        self.ok(f'prompt-set {pid} lifetime once')
        self.ok(f'prompt-set {pid} scope port')
        # dunst's context menu (our dmenu picks "Allow"): dunst invokes the action
        self.dunst_menu('#Allow ')
        r = self.held_result(holder)
        self.assertTrue(r['ok'], f'{r}\n{self.log_tail()}')
        self.assertNotIn(pid, [p['id'] for p in self.helper_prompts()])
        self.assertIn('Allow', read(self.dmenu + '.log'))
        # the popup and the notification are gone
        self.wait(lambda: not self.shown(pid), 'the popup to close')
        self.wait(lambda: self.displayed() == 0, 'the notification to close')

    def test_notification_takes_the_new_profiles_name(self):
        # a program never seen: prompted under its program name at first, then its profile's
        script = os.path.join(self.tmp, 'fresh-client.py')
        shutil.copy2(CLIENT_TOOL, script)
        os.chmod(script, 0o755)
        holder = self.hold_as(script, 83)
        pid = self.popup_for(83)['id']
        self.wait(lambda: self.shown(pid)[0]['title'] == 'fresh-client.py — Connection Request',
                  "the profile's name in the popup's title")
        self.wait(lambda: self.shown(pid)[0]['notified'], 'the notification')
        log = self.logger + '.log'
        self.wait(lambda: any(l.split('\t')[1:3] == [
                      'Connection request from fresh-client.py',
                      f'fresh-client.py wants to connect to {P4} on 83/TCP']
                      for l in read(log).splitlines() if l.count('\t') >= 4),
                  "the notification under the profile's name")
        self.ok(f'prompt-click {pid} block')
        self.assertFalse(self.held_result(holder)['ok'])
        self.wait(lambda: self.displayed() == 0, 'the notification to close')

    def test_unauthorized_user_cannot_answer(self):
        holder = self.hold(9)
        pid = self.popup_for(9)['id']
        r = self.sb.client_run([PYTHON, PCDBUS, 'call', 'AnswerPrompt',
                                f"('{pid}', @a{{sv}} {{'verdict': <'allow'>}})"], user='pctest')
        res = json.loads(r.stdout.splitlines()[-1])
        self.assertEqual(res.get('error'), ERR + 'AccessDenied', res)
        self.assertIn(pid, [p['id'] for p in self.helper_prompts()])
        self.assertTrue(self.shown(pid))
        self.assertIsNone(holder.poll())
        # the person at the screen can: Block in the popup
        self.ok(f'prompt-set {pid} lifetime once')  # no rule for the tests after this one
        self.wait(lambda: self.shown(pid)[0]['block-sensitive'], 'Block to become clickable')
        self.ok(f'prompt-click {pid} block')
        self.assertFalse(self.held_result(holder)['ok'])
        self.wait(lambda: not self.shown(pid), 'the popup to close')

    def test_zz_focused_main_window_needs_no_notification(self):
        # launched from the menu while the agent runs: the agent's process opens the window
        env = {k: v for k, v in self.app_env.items() if k != 'PORTCULLIS_TEST_SOCKET'}
        r = self.sb.client_run([APP], cgroup=False, env=env, timeout=20)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait(lambda: self.cmd('dump').startswith('{'), 'the main window')
        wid = self.xdotool('search', '--sync', '--onlyvisible', '--name', '^Portcullis$').split()[-1]
        self.xdotool('windowfocus', '--sync', wid)
        time.sleep(0.3)
        holder = self.hold(9)
        pid = self.popup_for(9)['id']
        time.sleep(0.5)
        self.assertFalse(self.shown(pid)[0]['notified'], self.log_tail())
        self.assertIn(pid, [p['id'] for p in self.helper_prompts()])
        self.ok(f'prompt-set {pid} lifetime once')  # no rule for the tests after this one
        self.wait(lambda: self.shown(pid)[0]['block-sensitive'], 'Block to become clickable')
        self.ok(f'prompt-click {pid} block')
        self.assertFalse(self.held_result(holder)['ok'])


if __name__ == '__main__':
    pcsandbox.unittest_main()
