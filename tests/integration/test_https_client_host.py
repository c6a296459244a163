"""The appliance as an HTTPS client (mutual TLS with its own identity) and deferred HTTP answers,
on the host board: `enroll online https://...` through a TLS front end that requires a client
certificate, POST /v1/test/forward (test builds) with concurrency, time-outs, pipelining and
callers that leave, and hostile https servers."""
import json
import os
import re
import socket
import ssl
import threading
import time
import http.client

from enrollment import Authority, prepare_appliance, slc_show, trust
from harness import check
from hsm import Token, console_login
from netboard import host_on_network, http_get, https_context
from upstream import Hostile, Upstream

FP = re.compile(r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}")


def console_fingerprint(con):
    m = FP.search(con.command("tls fingerprint"))
    check(m, "tls fingerprint printed no fingerprint", con)
    return m.group(0)


def appliance_cert(nb):
    """The appliance's own HTTPS certificate (PEM), as any client sees it."""
    return ssl.get_server_certificate(("127.0.0.1", nb.https_port))


def logged_in_board(tmp):
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    console_login(nb.con)
    return tok, nb


def forward_url(con, up, scheme="https"):
    out = con.command("test forward-url %s://10.0.2.2:%d/echo" % (scheme, up.port))
    check("test: /v1/test/forward goes to" in out, out, con)


def raw_request(path="/v1/test/forward", body=b"", method="POST"):
    return (b"%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" %
            (method.encode(), path.encode(), len(body)) + body)


def read_answer(sock, data=b""):
    """One HTTP/1.1 answer from a raw socket: (status, body, head), and what followed it."""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed before an answer: %r" % data[:200])
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    m = re.search(rb"content-length:\s*(\d+)", head, re.I)
    n = int(m.group(1))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed inside an answer")
        rest += chunk
    return (int(head.split(b" ")[1]), rest[:n].decode(errors="replace"), head.decode()), rest[n:]


class RawConn:
    """A keep-alive connection to the board, plain or TLS, for pipelining."""

    def __init__(self, port, tls=False, timeout=60):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock = https_context().wrap_socket(s) if tls else s
        self.rest = b""

    def send(self, data):
        self.sock.sendall(data)

    def answer(self):
        res, self.rest = read_answer(self.sock, self.rest)
        return res

    def close(self):
        self.sock.close()


def forward(port, body, results, idx, tls=True):
    c = RawConn(port, tls)
    try:
        c.send(raw_request(body=body))
        results[idx] = c.answer()[:2]
    except (OSError, ssl.SSLError) as e:
        results[idx] = (0, str(e))
    finally:
        c.close()


def test_enroll_online_over_mutual_tls(tmp):
    auth = Authority(tmp)
    auth_port = auth.serve()
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    prepare_appliance(con, alg="p256")
    trust(con, auth)

    def to_authority(path, body):
        c = http.client.HTTPConnection("127.0.0.1", auth_port, timeout=30)
        c.request("POST", path, body=body, headers={"Content-Type": "application/xml"})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data

    # The front end accepts exactly the appliance's certificate as a client (CERT_REQUIRED).
    front = Upstream(tmp, to_authority, tls=True, client_ca=appliance_cert(nb), name="front")
    out = con.command("enroll online https://10.0.2.2:%d" % front.port, 60)
    check("enroll online: SLC installed for 'root1'" in out, "enroll online https: %r" % out, con)
    # Two connections: the enrollment, then the CRL fetched from <url>/v1/crl (crl_fetch.c).
    check(front.client_fps == [console_fingerprint(con)] * 2,
          "the front end saw client certificates %r" % front.client_fps, con)
    serial = slc_show(con)[0]["serial"]
    # Renewal the same way, this time over TLS 1.2.
    front12 = Upstream(tmp, to_authority, tls=True, client_ca=appliance_cert(nb), name="front12",
                       tls13=False)
    out = con.command("renew online https://10.0.2.2:%d" % front12.port, 60)
    check("renew online: SLC renewed for 'root1'" in out, "renew online over TLS 1.2: %r" % out,
          con)
    check(front12.client_fps == [console_fingerprint(con)] * 2, "TLS 1.2 client certificate",
          con)
    check(slc_show(con)[0]["serial"] != serial, "the renewal changed nothing", con)
    # A server that wants a client certificate from another CA refuses ours: a clear reason.
    with open(os.path.join(tmp, "front.pem")) as f:
        other = Upstream(tmp, to_authority, tls=True, client_ca=f.read(), name="strict")
    out = con.command("renew online https://10.0.2.2:%d" % other.port, 60)
    check(re.search(r"^error: .*TLS.*; nothing changed$", out, re.M), "refused cert: %r" % out,
          con)
    auth.close()
    tok.close()


def test_hostile_https_servers_give_clear_errors(tmp):
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    prepare_appliance(con, alg="p256")
    cases = [
        (Hostile("garbage"), "does not speak TLS"),
        (Hostile("alert"), "TLS alert"),
        (Upstream(tmp, lambda p, b: b"HTTP/1.1 200 OK\r\nX-Filler: " + b"x" * (1 << 20),
                  tls=True, name="big"), "answer is too large"),
        (Upstream(tmp, lambda p, b: b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * (1 << 20), tls=True,
                  name="nolen-big"), "no Content-Length"),
        (Upstream(tmp, lambda p, b: b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\nxx",
                  tls=True, name="biglen"), "too large (Content-Length)"),
        (Upstream(tmp, lambda p, b: b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\nxx",
                  tls=True, name="badlen"), "bad Content-Length"),
        (Upstream(tmp, lambda p, b: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nxx",
                  tls=True, name="short"), "before its whole answer"),
        (Upstream(tmp, lambda p, b: b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n<x/>",
                  tls=True, name="nolen"), "no Content-Length"),
        (Upstream(tmp, lambda p, b: b"\x00\x01garbage\r\n\r\n" * 10, tls=True, name="junk"),
         "not HTTP/1.x"),
    ]
    for server, why in cases:
        t0 = time.monotonic()
        out = con.command("enroll online https://10.0.2.2:%d" % server.port, 60)
        errors = [ln for ln in out.splitlines() if ln.startswith("error: ")]
        check(len(errors) == 1 and why in errors[0] and "nothing changed" in errors[0] and
              time.monotonic() - t0 < 20, "%s: %r" % (why, out), con)
        server.close()
    check("none installed" in con.command("slc show"), "an SLC got in", con)
    check(http_get(nb.http_port)[0] == 503, "the service stopped answering", con)
    nb.con.proc.stdin.close()
    rc = nb.con.wait_exit(30)
    check(rc == 0, "the board exited with %d (a leak report?)" % rc, nb.con)
    tok.close()


def test_https_needs_the_identity(tmp):
    nb = host_on_network(tmp)  # no token: nobody can log in, so there is no TLS identity
    out = nb.con.command("test forward-url https://10.0.2.2:9/x")
    check("goes to" in out, out, nb.con)
    code, body = http_get(nb.http_port, "/v1/test/forward", "POST", b"x")
    check(code == 502 and "log in first" in body, "https without identity: %d %r" % (code, body),
          nb.con)


def test_forward_deferred_concurrency_timeouts_pipelining(tmp):
    tok, nb = logged_in_board(tmp)
    con = nb.con
    up = Upstream(tmp, lambda path, body: (200, b"echo " + path.encode() + b" " + body),
                  tls=True, client_ca=appliance_cert(nb), name="echo")
    forward_url(con, up)
    port = nb.https_port
    # One forward: the upstream's answer comes back, over TLS with our client certificate.
    res = [None]
    forward(port, b"hello", res, 0)
    check(res[0] == (200, "echo /echo hello"), "forward: %r" % (res[0],), con)
    check(up.client_fps == [console_fingerprint(con)], "client certificate %r" % up.client_fps,
          con)
    # HTTP_CLIENT_MAX (4) at once, all held upstream; a fifth is told busy at once.
    up.hold()
    res = [None] * 4
    threads = [threading.Thread(target=forward, args=(port, b"n%d" % i, res, i))
               for i in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while up.requests < 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    check(up.requests == 5, "the upstream got %d of 4 requests" % (up.requests - 1), con)
    extra = [None]
    forward(port, b"five", extra, 0)
    check(extra[0][0] == 503 and "busy" in extra[0][1], "fifth forward: %r" % (extra[0],), con)
    up.release()
    for t in threads:
        t.join(60)
    check(res == [(200, "echo /echo n%d" % i) for i in range(4)], "concurrent: %r" % res, con)
    # Four client sessions and five server sessions at once fit the crypto heap with room.
    tls = json.loads(status_body(port))["tls"]
    print("heap after 4 forwards: %r" % tls)
    check(tls["heap_peak"] < 400 * 1024 and tls["client_handshakes"] >= 5,
          "TLS memory: %r" % tls, con)
    # Pipelined: GET /health behind a deferred POST is answered after it, in order (both ports).
    for tls, p in ((False, nb.http_port), (True, nb.https_port)):
        up.hold()
        c = RawConn(p, tls)
        c.send(raw_request(body=b"first") + raw_request("/health", method="GET"))
        c.sock.settimeout(1.5)
        try:
            early = c.sock.recv(100)
        except (socket.timeout, ssl.SSLError):
            early = b""
        check(early == b"", "answered while deferred: %r" % early, con)
        c.sock.settimeout(30)
        up.release()
        first = c.answer()
        second = c.answer()
        check(first[:2] == (200, "echo /echo first") and "keep-alive" in first[2] and
              second[0] == 503 and "not enrolled" in second[1],
              "pipelined (tls=%s): %r then %r" % (tls, first, second), con)
        c.send(raw_request("/health", method="GET"))  # still alive afterwards
        check(c.answer()[0] == 503, "keep-alive after the deferred answer", con)
        c.close()
    # A caller that leaves while deferred: nothing breaks, the next request is served.
    up.hold()
    before = up.requests
    c = RawConn(port, True)
    c.send(raw_request(body=b"gone"))
    deadline = time.monotonic() + 20
    while up.requests == before and time.monotonic() < deadline:
        time.sleep(0.1)
    c.close()
    time.sleep(0.5)
    up.release()
    time.sleep(1)
    res = [None]
    forward(port, b"after", res, 0)
    check(res[0] == (200, "echo /echo after"), "after a caller left: %r" % (res[0],), con)
    # An upstream that never answers: the client's time-out (shortened) gives 502 and the why...
    silent = Hostile("silent")
    con.command("test forward-url https://10.0.2.2:%d/" % silent.port)
    out = con.command("test net-timeouts 2000 0")
    check("client time-out 2000 ms" in out, out, con)
    t0 = time.monotonic()
    res = [None]
    forward(port, b"x", res, 0)
    check(res[0][0] == 502 and "no answer in time" in res[0][1] and time.monotonic() - t0 < 10,
          "silent upstream, client time-out: %r" % (res[0],), con)
    # ...and with the deferral's time-out the shorter, 504 upstream timed out, connection kept.
    con.command("test net-timeouts 0 2000")
    c = RawConn(port, True)
    t0 = time.monotonic()
    c.send(raw_request(body=b"y"))
    code, body, head = c.answer()
    check(code == 504 and body == "upstream timed out\n" and "keep-alive" in head and
          time.monotonic() - t0 < 10, "deferral time-out: %d %r" % (code, body), con)
    c.send(raw_request("/health", method="GET"))
    check(c.answer()[0] == 503, "the connection after a 504", con)
    c.close()
    silent.close()  # the client's late failure finds its caller already answered
    time.sleep(1)
    con.command("test net-timeouts 0 0")
    forward_url(con, up)
    res = [None]
    forward(port, b"last", res, 0)
    check(res[0] == (200, "echo /echo last"), "after the time-outs: %r" % (res[0],), con)
    st = json.loads(status_body(port))
    check(st["http"]["active"] <= 1, "connections left open: %r" % st["http"], con)
    # Unplugging the console ends the process normally: under ASan, LeakSanitizer checks now.
    nb.con.proc.stdin.close()
    rc = nb.con.wait_exit(30)
    check(rc == 0, "the board exited with %d (a leak report?)" % rc, nb.con)
    tok.close()


def status_body(port):
    c = RawConn(port, True)
    c.send(raw_request("/v1/status", method="GET"))
    body = c.answer()[1]
    c.close()
    return body
