"""The HTTP service of the host board over the user-mode network, normal and hostile clients."""
import http.client
import socket
import time

from harness import check
from hsm import Token, console_login
from netboard import host_on_network, http_get, open_many, raw_exchange


def board(tmp, token=None):
    nb = host_on_network(tmp, token)
    return nb.con, nb.http_port


def get(port, path="/health", method="GET", body=None, headers=None):
    return http_get(port, path, method, body, headers)


def raw(port, data):
    """Send bytes, return everything the server says until it closes, as text."""
    return raw_exchange(port, data, wait=10)[0].decode(errors="replace")


def test_health_follows_the_token_login(tmp):
    tok = Token(tmp)
    con, port = board(tmp, tok)
    status, body = get(port)
    check(status == 503 and body == "not ready: token not logged in\n",
          "before login: %d %r" % (status, body), con)
    console_login(con)
    con.command("token info")  # the link is up once a call has gone through
    status, body = get(port)
    # Logged in, the next reason is the missing SLC (tests/integration/test_enroll_host.py).
    check(status == 503 and body == "not ready: not enrolled\n", "after login: %d %r" % (status, body),
          con)
    con.command("logout")
    status, body = get(port)
    check(status == 503, "after logout: %d" % status, con)
    tok.close()


def test_keep_alive_and_errors(tmp):
    con, port = board(tmp)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(3):  # one connection, several requests
        c.request("GET", "/health")
        r = c.getresponse()
        r.read()
        check(r.status == 503 and r.getheader("Connection") == "keep-alive", "keep-alive", con)
    c.close()
    # Pipelined: two requests in one write, two answers in order on the same connection.
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
    got = b""
    while got.count(b"HTTP/1.1 503 ") < 2:
        chunk = s.recv(4096)
        check(chunk, "pipelined: connection closed after %r" % got, con)
        got += chunk
    s.close()
    check(get(port, "/nope") == (404, "no such resource\n"), "404", con)
    check(get(port, method="POST", body=b"x")[0] == 405, "405", con)
    check(get(port, "/" + "a" * 300)[0] == 414, "414", con)
    out = raw(port, b"GET /health HTTP/1.1\r\n\r\n")
    check(out.startswith("HTTP/1.1 400 ") and out.endswith("missing Host header\n"), out, con)
    out = raw(port, b"GET /health HTTP/1.0\r\n\r\n")
    check(out.startswith("HTTP/1.1 503 ") and "Connection: close" in out, "HTTP/1.0 closes", con)
    out = raw(port, b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    check(out.startswith("HTTP/1.1 501 "), "chunked: %r" % out, con)


def test_bare_lf_and_a_second_host_get_400_at_once(tmp):
    con, port = board(tmp)
    # Only LFs: no CRLF CRLF will ever come, so the answer must not wait for one (it used to
    # wait for the 10 s head time-out).
    for req in (b"GET /health HTTP/1.1\nHost: x\n\n", b"GET /health HTTP/1.1\r\nHost: x\n\n"):
        out, secs = raw_exchange(port, req, wait=10)
        out = out.decode(errors="replace")
        check(out.startswith("HTTP/1.1 400 ") and
              out.endswith("a line ends in a bare LF (lines end in CRLF)\n") and secs < 3,
              "bare LF: %.1f s %r" % (secs, out), con)
    out = raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
    check(out.startswith("HTTP/1.1 400 ") and out.endswith("more than one Host header\n"),
          "two Host fields: %r" % out, con)
    check(get(port)[0] == 503, "a normal request after them", con)


def test_hostile_clients_then_a_normal_request(tmp):
    con, port = board(tmp)
    # Garbage bytes.
    out = raw(port, bytes(range(256)) * 4 + b"\r\n\r\n")
    check(out.startswith("HTTP/1.1 400 "), "garbage: %r" % out[:80], con)
    # Oversized header block.
    out = raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
    check(out.startswith("HTTP/1.1 431 "), "big header: %r" % out[:80], con)
    # Too many header fields.
    many = b"".join(b"X-%d: y\r\n" % i for i in range(60))
    out = raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    check(out.startswith("HTTP/1.1 431 "), "many headers: %r" % out[:80], con)
    # A 10 MB body is refused from its Content-Length, before it is read.
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 10485760\r\n\r\n")
    try:
        s.sendall(b"z" * (1 << 20))
    except OSError:
        pass
    reply = s.recv(4096).decode(errors="replace")
    s.close()
    check(reply.startswith("HTTP/1.1 413 ") and time.monotonic() - t0 < 10, "10 MB body", con)
    check(get(port)[0] == 503, "a normal request after the hostile ones", con)
    out = con.command("status")
    check("board:     host" in out, "the console still answers", con)
    # Unplugging the console ends the process normally: under ASan, LeakSanitizer checks now.
    con.proc.stdin.close()
    rc = con.wait_exit(30)
    check(rc == 0, "the board exited with %d (a leak report?)" % rc, con)


def test_slow_and_idle_clients_are_dropped(tmp):
    con, port = board(tmp)
    # A slow-loris client: a byte now and then, never a whole head.
    slow = socket.create_connection(("127.0.0.1", port), timeout=20)
    slow.sendall(b"GET /health HTTP/1.1\r\n")
    # More idle connections than the service holds.
    idle = open_many(port, 40)
    t0 = time.monotonic()
    dropped = False
    while time.monotonic() - t0 < 20:
        try:
            slow.sendall(b"X")
            slow.settimeout(1)
            if slow.recv(16) == b"":
                dropped = True
                break
        except socket.timeout:
            continue
        except OSError:
            dropped = True
            break
    check(dropped and time.monotonic() - t0 < 15, "the slow client was not dropped in time", con)
    for s in idle:
        s.close()
    slow.close()
    # Once the idle ones are gone (or timed out), the service answers normally again.
    deadline = time.monotonic() + 15
    status = 0
    while time.monotonic() < deadline:
        try:
            status = get(port)[0]
            if status == 503:
                break
        except OSError:
            pass
        time.sleep(0.5)
    check(status == 503, "no answer after the connection flood", con)
