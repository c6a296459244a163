"""tests/lib/nameserver.py — DNS for a test: Debian's dnsmasq on a loopback port, and a server
that never answers.

Dnsmasq(tmp, {"authority.test": "10.0.2.2"}) serves those names (A records) and answers NXDOMAIN
for any other name under the same top-level domains; nothing goes upstream. A board on the user
network reaches it as 10.0.2.2:port. queried(name) says whether dnsmasq was asked for a name
(its query log), so a test can show the name really went through DNS. Silent() is a UDP socket
that reads every query and answers none: a resolver that does not answer.
"""
import os
import socket
import subprocess
import time

import harness
from netboard import free_port


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dnsmasq:
    def __init__(self, tmp, names):
        self.log = os.path.join(tmp, "dnsmasq-%d.log" % free_port())
        self.port = free_udp_port()
        argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--pid-file=",
                "--port=%d" % self.port, "--listen-address=127.0.0.1", "--bind-interfaces",
                "--no-resolv", "--no-hosts", "--log-queries", "--log-facility=" + self.log]
        for tld in sorted({n.rsplit(".", 1)[-1] for n in names}):
            argv.append("--local=/%s/" % tld)  # unknown names there: NXDOMAIN, never upstream
        for name, addr in names.items():
            argv.append("--address=/%s/%s" % (name, addr))
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        harness.LIVE.append(self)
        deadline = time.monotonic() + 10
        while not self._answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dnsmasq did not start: %s" % self.proc.stderr.read())
            time.sleep(0.05)

    def _answers(self):
        """A query of our own: is it serving yet?"""
        q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05probe\x04test\x00\x00\x01\x00\x01"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            try:
                s.sendto(q, ("127.0.0.1", self.port))
                return s.recv(512)[:2] == b"\x12\x34"
            except OSError:
                return False

    @property
    def server(self):
        """As `net set dns` takes it on a board on the user network."""
        return "10.0.2.2:%d" % self.port

    def queried(self, name):
        try:
            with open(self.log) as f:
                return any("query[A] %s from" % name in line for line in f)
        except FileNotFoundError:
            return False

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Silent:
    """A UDP port that takes queries and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        harness.LIVE.append(self)

    @property
    def server(self):
        return "10.0.2.2:%d" % self.port

    def close(self):
        self.sock.close()
