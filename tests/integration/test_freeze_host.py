"""A frozen token must not freeze the appliance (issue 15, docs/hsm-link.md "No handler waits").

The token server is stopped with SIGSTOP (it and every per-connection child) for 10 s, so the link
stays connected but nothing answers: the worst case of a slow HSM. While a console command waits for
it, plain `GET /health` on port 80 and the console's `status` must still answer promptly; the
frozen command must fail within the link time-out; after SIGCONT everything works again. The same
while HTTPS handshakes wait for their signature: they park on the handshake fibers, not in the net
task (one more waits for a free fiber), and end by themselves (an alert, or a close at the head
time-out) or complete once the token is back.
"""
import http.client
import json
import signal
import socket
import ssl
import struct
import threading
import time

from enrollment import enrolled_root
from harness import PROMPT, check
from netboard import http_get, https_context, https_get, request, wait_health
from rights import Org, certify_body, post, publish_body

ANSWER_WITHIN = 0.5  # seconds: what a load balancer's health check may wait
# The link's bound on one frozen operation: the call's time-out, then one reconnect whose version
# exchange times out (firmware/signet_defaults.h P11_CALL_TIMEOUT_MS, P11_HANDSHAKE_TIMEOUT_MS,
# P11_RESYNC_MS), with room for a loaded machine.
FAILS_WITHIN = 12.0
# A request's token job may queue behind another already waiting for the frozen token (the house
# task's state refresh, /health's link probe): that one's bound first, then one reconnect attempt
# of its own after the resync back-off (P11_RESYNC_MS + P11_HANDSHAKE_TIMEOUT_MS, 3.5 s); its
# other calls fail at once (p11_client_begin_work). CI once saw 14 s when each job met the
# link's whole bound at every attempt.
QUEUED_FAILS_WITHIN = FAILS_WITHIN + 5.0
FROZEN_FOR = 10.0  # seconds the token server stays stopped


def health_probe(port, stop, samples):
    """GET /health every 100 ms; record how long each answer took (None: no answer)."""
    while not stop.is_set():
        start = time.monotonic()
        try:
            code, _ = http_get(port)
        except OSError:
            code = None
        samples.append((time.monotonic() - start, code))
        time.sleep(0.1)


def timed_command(con, line, timeout=30):
    start = time.monotonic()
    out = con.command(line, timeout)
    return time.monotonic() - start, out


def status_answers_until(con, deadline, while_what):
    """The console's status answers within ANSWER_WITHIN, every 0.5 s, until deadline."""
    while time.monotonic() < deadline:
        took, out = timed_command(con, "status")
        check(took < ANSWER_WITHIN, "console status took %.2f s with %s" % (took, while_what),
              con)
        time.sleep(0.5)


def test_a_frozen_token_freezes_neither_health_nor_the_console(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    wait_health(con, lambda: http_get(nb.http_port), (200, "ok\n"))
    stop, samples = threading.Event(), []
    probe = threading.Thread(target=health_probe, args=(nb.http_port, stop, samples), daemon=True)
    probe.start()
    try:
        tok.signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        con.send("token info\r")  # needs the token: it waits for the frozen server
        con.expect(r"token info\n")
        time.sleep(1.0)
        took, out = timed_command(con, "status")
        check(took < ANSWER_WITHIN, "console status took %.2f s with the token frozen" % took,
              con)
        check("token link:" in out, "status while frozen: %r" % out, con)
        # The frozen command ends by itself, with an error, within the link's bound.
        # (after the prompt the quick command left: the console kept listening)
        con.expect(r"error: token .*\n", FAILS_WITHIN)
        failed_after = time.monotonic() - frozen_at
        check(failed_after < FAILS_WITHIN, "the frozen command failed only after %.1f s" %
              failed_after, con)
        print("the frozen command failed after %.1f s" % failed_after)
        # The token stays frozen for FROZEN_FOR in all; status keeps answering meanwhile.
        status_answers_until(con, frozen_at + FROZEN_FOR, "the token frozen")
    finally:
        tok.signal(signal.SIGCONT)
        stop.set()
        probe.join(15)
    slow = [(round(t, 2), c) for t, c in samples if t >= ANSWER_WITHIN or c is None]
    check(samples and not slow, "/health answered late or not at all while the token was frozen: "
          "%r of %d probes" % (slow, len(samples)), con)
    # Everything recovers: health says ok again and the token answers the console.
    wait_health(con, lambda: http_get(nb.http_port), (200, "ok\n"))
    out = con.command("token info", 30)
    check("error" not in out, "token info after SIGCONT: %r" % out, con)
    auth.close()
    tok.close()


def test_a_publication_waiting_on_a_frozen_token_freezes_nothing_else(tmp):
    """A user's POST /v1/publish, over a TLS connection made before the freeze, waits for the
    frozen token (a content key, two signatures) in the token task: /health keeps answering, the
    request ends by itself with a one-line 503 (or its licenses, if the token came back first),
    and the next one works."""
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    user = Org(tmp, con).user("alice@contoso.example")
    conn = http.client.HTTPSConnection("127.0.0.1", nb.https_port, timeout=60,
                                       context=https_context(user.cert, user.key))
    status, text = post(conn, "/v1/certify", certify_body(tmp, "alice@contoso.example"))
    check(status == 200, "certify before the freeze: %d %r" % (status, text[:200]), con)
    body = publish_body(text)
    status, text = post(conn, "/v1/publish", body)
    check(status == 200, "publish before the freeze: %d %r" % (status, text[:200]), con)
    stop, samples = threading.Event(), []
    probe = threading.Thread(target=health_probe, args=(nb.http_port, stop, samples), daemon=True)
    result = {}

    def frozen_certify():
        start = time.monotonic()
        try:
            result["answer"] = post(conn, "/v1/publish", body)
        except (OSError, http.client.HTTPException) as e:
            result["answer"] = (None, repr(e))
        result["took"] = time.monotonic() - start

    asker = threading.Thread(target=frozen_certify, daemon=True)
    try:
        tok.signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        probe.start()
        asker.start()
        time.sleep(1.0)
        took, out = timed_command(con, "status")
        check(took < ANSWER_WITHIN, "console status took %.2f s with the token frozen" % took,
              con)
        asker.join(QUEUED_FAILS_WITHIN + 5)
        check(not asker.is_alive(), "the frozen publication never ended", con)
        while time.monotonic() < frozen_at + FROZEN_FOR:
            time.sleep(0.2)
    finally:
        tok.signal(signal.SIGCONT)
        stop.set()
        probe.join(15)
        asker.join(30)
    status, text = result["answer"]
    print("the frozen publication ended after %.1f s: %s %r" % (result["took"], status,
                                                                     text[:120]))
    check(status == 503 and text.count("\n") == 1 or status == 200,
          "the frozen publication: %s %r" % (status, text[:300]), con)
    check(result["took"] < QUEUED_FAILS_WITHIN, "the frozen publication took %.1f s" %
          result["took"],
          con)
    slow = [(round(t, 2), c) for t, c in samples if t >= ANSWER_WITHIN or c is None]
    check(samples and not slow, "/health answered late or not at all while a publication "
          "waited on the frozen token: %r of %d probes" % (slow, len(samples)), con)
    wait_health(con, lambda: http_get(nb.http_port), (200, "ok\n"))
    conn.close()
    conn = http.client.HTTPSConnection("127.0.0.1", nb.https_port, timeout=60,
                                       context=https_context(user.cert, user.key))
    status, text = post(conn, "/v1/publish", body)
    check(status == 200, "publish after SIGCONT: %d %r" % (status, text[:200]), con)
    conn.close()


def handshake(port, results, i):
    """One HTTPS request on a fresh connection (a full handshake); record how it ended and when."""
    start = time.monotonic()
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=40, context=https_context())
    try:
        code, _ = request(c, "GET", "/health")
        results[i] = ("answered %d" % code, time.monotonic() - start)
    except (ssl.SSLError, OSError, http.client.HTTPException) as e:
        results[i] = ("failed: %s" % type(e).__name__, time.monotonic() - start)
    finally:
        c.close()


def client_hello_then_leave(port, wait):
    """Send a ClientHello, wait while the board's handshake parks on the token, then reset the
    connection: the session is freed while its handshake step is parked (the fiber frees it)."""
    ctx = https_context()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setblocking(False)
    tls = ctx.wrap_socket(s, do_handshake_on_connect=False)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    time.sleep(wait)
    tls.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    tls.close()


def test_handshakes_waiting_on_a_frozen_token_freeze_no_one(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    wait_health(con, lambda: http_get(nb.http_port), (200, "ok\n"))
    check(https_get(nb.https_port)[0] == 200, "HTTPS before the freeze", con)
    stop, samples = threading.Event(), []
    probe = threading.Thread(target=health_probe, args=(nb.http_port, stop, samples), daemon=True)
    probe.start()
    # Three requests and a leaver: one more than the handshake fibers, so one waits for a fiber.
    results = [None, None, None]
    shakers = [threading.Thread(target=handshake, args=(nb.https_port, results, i), daemon=True)
               for i in range(len(results))]
    try:
        tok.signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        for t in shakers:
            t.start()
        # A third client gives up while its handshake waits: freed under the parked step.
        leaver = threading.Thread(target=client_hello_then_leave, args=(nb.https_port, 2.0),
                                  daemon=True)
        leaver.start()
        time.sleep(1.0)
        took, out = timed_command(con, "status")
        check(took < ANSWER_WITHIN, "console status took %.2f s with handshakes waiting" % took,
              con)
        check("tls fibers: 3 of 3 waiting" in out, "the handshakes park on the fibers: %r" % out,
              con)
        status_answers_until(con, frozen_at + FROZEN_FOR, "handshakes waiting")
    finally:
        tok.signal(signal.SIGCONT)
    leaver.join(15)
    for t in shakers:
        t.join(FAILS_WITHIN + 30)
    stop.set()
    probe.join(15)
    print("handshakes started during the freeze: %r" % results)
    check(all(results), "a handshake never ended: %r" % results, con)
    # Each ends by itself: an alert or a close after the link's time-out, or an answer once the
    # token is back; never the client's own time-out.
    for how, after in results:
        check(after < FROZEN_FOR + FAILS_WITHIN and "timeout" not in how.lower(),
              "a handshake ended %r after %.1f s" % (how, after), con)
    slow = [(round(t, 2), c) for t, c in samples if t >= ANSWER_WITHIN or c is None]
    check(samples and not slow, "/health answered late or not at all while handshakes waited for "
          "the frozen token: %r of %d probes" % (slow, len(samples)), con)
    # HTTPS works again: a fresh handshake and the status document, which counts the waits.
    wait_health(con, lambda: http_get(nb.http_port), (200, "ok\n"))
    deadline = time.monotonic() + 30
    while True:
        try:
            code, body = https_get(nb.https_port, "/v1/status")
            break
        except (ssl.SSLError, OSError, http.client.HTTPException):
            check(time.monotonic() < deadline, "HTTPS did not come back after SIGCONT", con)
            time.sleep(0.5)
    check(code == 200, "status after SIGCONT: %d %s" % (code, body), con)
    tls = json.loads(body)["tls"]
    print("tls counters: %r" % tls)
    check(tls["token_waits"] >= 3 and tls["fiber_waits"] >= 1 and tls["waiting_for_token"] == 0
          and tls["waiting_for_fiber"] == 0,
          "the handshakes waited off the net task, and none waits now: %r" % tls, con)
    auth.close()
    tok.close()
