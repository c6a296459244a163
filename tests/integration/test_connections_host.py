"""Connection floods on the host board (run it on the sanitizer build): idle sockets and
slow-loris clients on both ports, reopened as soon as the appliance drops them, must not keep a
normal client from /health (port 80 and 443) or from a certificate. Loopback only; every flood
is bounded in sockets and time."""
import os
import re
import selectors
import socket
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check  # noqa: E402
from netboard import http_get, https_context, https_get  # noqa: E402
from test_signing_concurrent_host import Requester, root_with_client, verify  # noqa: E402
from test_tls_host import client_hello_bytes, status_json  # noqa: E402

SANITIZER = re.compile(r"runtime error:|AddressSanitizer|UndefinedBehaviorSanitizer")
SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "


class Flood:
    """n sockets to port: idle ones, or slow ones sending payload a byte every `every` seconds.
    A socket the appliance closes is opened again at once (an attacker keeping its count)."""

    def __init__(self, port, n, payload=None, every=2.0):
        self.port, self.n, self.payload, self.every = port, n, payload, every
        self.sel = selectors.DefaultSelector()
        self.stop = threading.Event()
        self.reopened = self.connected = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open(self):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", self.port))
        # [sent so far, when the next byte goes, connected]
        self.sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE,
                          [0, time.monotonic() + self.every, False])

    def close(self, s):
        self.sel.unregister(s)
        s.close()

    def live(self):
        return sum(1 for key in list(self.sel.get_map().values()) if key.data[2])

    def run(self):
        for _ in range(self.n):
            self.open()
        while not self.stop.is_set():
            now = time.monotonic()
            for key, events in self.sel.select(0.2):
                if events & selectors.EVENT_WRITE and not key.data[2]:
                    key.data[2] = True
                    self.connected += 1
                    self.sel.modify(key.fileobj, selectors.EVENT_READ, key.data)
                if not events & selectors.EVENT_READ:
                    continue
                try:
                    gone = key.fileobj.recv(4096) == b""
                except BlockingIOError:
                    gone = False
                except OSError:
                    gone = True
                if gone:
                    self.close(key.fileobj)
                    self.reopened += 1
                    self.open()
            if not self.payload:
                continue
            for key in list(self.sel.get_map().values()):
                state = key.data
                if now < state[1] or not state[2]:
                    continue
                state[1] = now + self.every
                byte = (self.payload[state[0]:state[0] + 1] if state[0] < len(self.payload) - 1
                        else b"a")
                try:
                    key.fileobj.send(byte)
                    state[0] += 1
                except (BlockingIOError, OSError):
                    pass
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)


def probe(nb, requester, ctx, what):
    """A normal client: /health on both ports and a certificate, each answered promptly."""
    t0 = time.monotonic()
    code, body = http_get(nb.http_port)
    check((code, body) == (200, "ok\n"), "%s: plain /health gave %d %r" % (what, code, body),
          nb.con)
    code, body = https_get(nb.https_port)
    check((code, body) == (200, "ok\n"), "%s: HTTPS /health gave %d %r" % (what, code, body),
          nb.con)
    requester.run(nb.https_port, ctx, len(requester.statuses) + 1)
    status = requester.statuses[-1] if requester.statuses else None
    check(status and status[0] == 200 and requester.mine(requester.certs[-1]),
          "%s: certify gave %r, errors %r" % (what, status, requester.errors[-3:]), nb.con)
    return time.monotonic() - t0


def test_idle_and_slow_sockets_do_not_deny_service(tmp):
    tok, nb, auth, ctx, org = root_with_client(tmp)
    user = Requester(tmp, 1, org)  # certifies as itself, with its identity certificate
    hello = client_hello_bytes()
    for n in (8, 200):
        per = n // 4
        floods = [Flood(nb.http_port, per), Flood(nb.https_port, per),
                  Flood(nb.http_port, per, SLOW_HEAD), Flood(nb.https_port, per, hello)]
        with floods[0], floods[1], floods[2], floods[3]:
            # libslirp accepts with a backlog of one: give the burst time to get through.
            deadline = time.monotonic() + 20
            while sum(f.connected for f in floods) < n * 3 // 4 and time.monotonic() < deadline:
                time.sleep(0.2)
            connected = sum(f.connected for f in floods)
            check(connected >= n * 3 // 4, "only %d of %d sockets connected" % (connected, n),
                  nb.con)
            time.sleep(2)  # the slow ones under way
            secs = max(probe(nb, user, ctx, "%d sockets, round %d" % (n, i)) for i in range(3))
            check(secs < 10, "%d sockets: a normal client waited %.1fs" % (n, secs), nb.con)
            # Long enough for the header deadline to reap the slow ones while they keep sending.
            time.sleep(6 if n > 8 else 0)
            secs = probe(nb, user, ctx, "%d sockets, later" % n)
            check(secs < 10, "%d sockets: a normal client waited %.1fs later" % (n, secs), nb.con)
            st = status_json(nb, ctx)
        check(st["http"]["active"] <= 96, "more connections than the pool: %r" % st["http"],
              nb.con)
        if n > 8:
            check(st["http"]["evicted"] > 0 and sum(f.reopened for f in floods) > 0,
                  "200 sockets and nobody reaped: %r" % st["http"], nb.con)
    verify(tmp, nb.con, auth, user.certs[-1], "flooded")
    check(not SANITIZER.search(nb.con.output_since(0)), "a sanitizer report", nb.con)
    check("board:     host" in nb.con.command("status"), "the console stopped", nb.con)
    tok.close()
