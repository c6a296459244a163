"""tests/lib/collector.py — rsyslog (Debian's rsyslogd with imrelp) as the audit trail's syslog
collector, on a loopback port the test picks: every message it takes is written, raw, one per
line, to a file the test reads."""
import os
import re
import signal
import subprocess
import time

import harness
from netboard import free_port

RSYSLOGD = "/usr/sbin/rsyslogd"
LINE = re.compile(r'^<(\d+)>1 (\S+) (\S+) signet - (audit|seal|loss|gap) '
                  r'\[signet@32473 (?:seq="(\d+)" ring="([0-9a-f]{16}|none)"|from="(\d+)" '
                  r'to="(\d+)")\] (.*)$')


class Collector:
    def __init__(self, tmp, name="collector"):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.out = os.path.join(self.dir, "messages.log")
        self.conf = os.path.join(self.dir, "rsyslog.conf")
        with open(self.conf, "w") as f:
            f.write('global(workDirectory="%s")\n'
                    'module(load="imrelp")\n'
                    'input(type="imrelp" address="127.0.0.1" port="%d")\n'
                    'template(name="raw" type="string" string="%%rawmsg%%\\n")\n'
                    'action(type="omfile" file="%s" template="raw")\n'
                    % (self.dir, self.port, self.out))
        self.proc = None
        harness.LIVE.append(self)
        self.start()

    def start(self):
        log = open(os.path.join(self.dir, "rsyslogd.log"), "a")
        self.proc = subprocess.Popen(
            [RSYSLOGD, "-n", "-f", self.conf, "-i", os.path.join(self.dir, "rsyslogd.pid")],
            stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                import socket
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise harness.TestFailure("rsyslogd did not listen on %d" % self.port)

    def stop(self):
        """As an operator stops it: SIGTERM, and it writes what it has taken."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None

    close = stop

    def messages(self):
        """Every line taken: (seq or None, msgid, text, the line)."""
        if not os.path.exists(self.out):
            return []
        out = []
        with open(self.out, errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                m = LINE.match(line)
                if not m:
                    raise harness.TestFailure("not an RFC 5424 message as Signet sends: %r" % line)
                out.append((int(m.group(5)) if m.group(5) else None, m.group(4), m.group(9), line))
        return out
