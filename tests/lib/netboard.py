"""tests/lib/netboard.py — a board on the user-mode network with forwarded ports, and clients.

host_on_network(tmp, token) boots the host board with 127.0.0.1 forwards to its HTTP (80) and
HTTPS (443) ports and waits for its DHCP lease. http_get/https_get are plain clients with
time-outs; https_context() builds a TLS client context (no server verification: the appliance's
certificate is self-signed and tests check its fingerprint instead), optionally with a client
certificate.
"""
import http.client
import selectors
import socket
import ssl
import time

from harness import BOOT_TIMEOUT, PROMPT, check, host_board, qemu_board

BOOT = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_lease(con, timeout=15):
    deadline = time.monotonic() + timeout
    while "ip:        10.0.2.15" not in con.command("net show"):
        check(time.monotonic() < deadline, "no DHCP lease", con)
        time.sleep(0.3)


class NetBoard:
    def __init__(self, con, http_port, https_port):
        self.con, self.http_port, self.https_port = con, http_port, https_port


def host_on_network(tmp, token=None, nv="nv.img", extra=()):
    http_port, https_port = free_port(), free_port()
    argv = ["--hostfwd", "127.0.0.1:%d-:80" % http_port,
            "--hostfwd", "127.0.0.1:%d-:443" % https_port] + list(extra)
    if token:
        argv += ["--hsm", token.sock]
    con = host_board(tmp, nv=nv, extra=argv)
    con.expect(PROMPT, BOOT)
    wait_for_lease(con)
    return NetBoard(con, http_port, https_port)


def qemu_on_network(tmp, token=None, nv="nv.img"):
    """The appliance image on QEMU's user network, with the same two forwards."""
    http_port, https_port = free_port(), free_port()
    con = qemu_board(tmp, nv=nv, hsm_sock=token.sock if token else None,
                     hostfwd=["127.0.0.1:%d-:80" % http_port, "127.0.0.1:%d-:443" % https_port])
    con.expect(PROMPT, BOOT_TIMEOUT)
    wait_for_lease(con, 30)
    return NetBoard(con, http_port, https_port)


def https_context(cert=None, key=None, version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert, key)
    if version:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def request(conn, method="GET", path="/health", body=None, headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    return r.status, data.decode(errors="replace")


def http_get(port, path="/health", method="GET", body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        return request(c, method, path, body, headers)
    finally:
        c.close()


def https_get(port, path="/health", method="GET", body=None, headers=None, ctx=None):
    c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10,
                                    context=ctx or https_context())
    try:
        return request(c, method, path, body, headers)
    finally:
        c.close()


def open_many(port, n, within=30):
    """Start n TCP connections at once; return those that connected within the time.

    Concurrent, because libslirp listens with a backlog of one: a burst of blocking connects
    would each wait for the kernel's one-second SYN retransmission in turn.
    """
    sel = selectors.DefaultSelector()
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_WRITE)
    done = []
    deadline = time.monotonic() + within
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(0.5):
            sel.unregister(key.fileobj)
            done.append(key.fileobj)
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    sel.close()
    ok = [s for s in done if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0]
    for s in done:
        if s not in ok:
            s.close()
    return ok


def raw_exchange(port, data, wait=15):
    """Send bytes; return (what came back until the server closed, seconds until it did)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    t0 = time.monotonic()
    out = b""
    try:
        if data:
            s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    finally:
        s.close()
    return out, time.monotonic() - t0


def wait_health(con, fetch, want, timeout=60):
    """Poll /health with fetch() until it answers want (status, body): a board that has just
    booted needs its lease, its login and its TLS key first."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fetch()
            if last == want:
                return
        except OSError as e:
            last = repr(e)
        time.sleep(0.3)
    con.fail("/health never answered %r; last %r" % (want, last))
