"""The vexpress-a9 image on QEMU's user network, through the on-board LAN9118 and its driver."""
import http.client
import os
import re
import socket
import time

from harness import BOOT_TIMEOUT, PROMPT, check, qemu_board
from netboard import free_port

DHCP_TIMEOUT = 30  # the lease comes within milliseconds of boot; the margin is for a loaded CI box
HTTP_TIMEOUT = 20
HEALTH = b"not ready: token not logged in\n"


def frames(out):
    m = re.search(r"frames:\s+(\d+) in, (\d+) out, (\d+) dropped", out)
    return tuple(int(x) for x in m.groups()) if m else None


def wait_net_show(con, want, timeout=DHCP_TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        out = con.command("net show")
        if all(w in out for w in want):
            return out
        check(time.monotonic() < deadline, "net show lacks %r after %ds: %r" % (want, timeout, out),
              con)
        time.sleep(0.3)


def boot_with_lease(tmp, port=None, monitor=None):
    """Boot on the user network (forwarding 127.0.0.1:port to port 80) and wait for the lease."""
    con = qemu_board(tmp, hostfwd=["127.0.0.1:%d-:80" % port] if port else [], monitor=monitor)
    con.expect(PROMPT, BOOT_TIMEOUT)
    return con, wait_net_show(con, ["ip:        10.0.2.15"])


def test_dhcp_lease_mac_and_frame_counters(tmp):
    con, out = boot_with_lease(tmp)
    check("interface: up, mac 52:54:00:12:34:56" in out, "interface or MAC: %r" % out, con)
    check("address:   DHCP" in out and "netmask:   255.255.255.0" in out and
          "gateway:   10.0.2.2" in out, "lease from the user network: %r" % out, con)
    n = frames(out)
    check(n and n[0] > 0 and n[1] > 0, "no frames counted both ways: %r" % out, con)


def test_http_health_over_the_forwarded_port(tmp):
    port = free_port()
    con, out = boot_with_lease(tmp, port)
    before = frames(out)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    for i in range(3):  # one keep-alive connection, several requests
        c.request("GET", "/health")
        r = c.getresponse()
        body = r.read()
        check(r.status == 503 and body == HEALTH and r.getheader("Connection") == "keep-alive",
              "request %d: %d %r %s" % (i, r.status, body, r.getheaders()), con)
    # A 20 KB body arrives as ~14 full-size frames, several waiting in the RX FIFO at a time.
    t0 = time.monotonic()
    c.request("POST", "/health", body=bytes(range(256)) * 80)
    r = c.getresponse()
    body = r.read()
    secs = time.monotonic() - t0
    c.close()
    check(r.status == 405 and body == b"method not allowed\n", "POST: %d %r" % (r.status, body),
          con)
    # A lost frame would cost a retransmission time-out (a second or more), not a failure.
    check(secs < 5, "the 20 KB POST took %.1fs: frames were lost and resent" % secs, con)
    # 100 pipelined requests in one write: ~14 KB of answers leave as a run of full-size frames.
    s = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: signet\r\n\r\n" * 100)
    got = b""
    while got.count(HEALTH) < 100:
        chunk = s.recv(65536)
        check(chunk, "pipelined: closed after %d answers" % got.count(HEALTH), con)
        got += chunk
    s.close()
    answers = got.split(b"HTTP/1.1 ")[1:]
    check(len(answers) == 100 and len(set(answers)) == 1 and answers[0].startswith(b"503 "),
          "pipelined answers differ or are mangled: %r" % got[:300], con)
    after = frames(con.command("net show"))
    check(after[0] - before[0] >= 20 and after[1] - before[1] >= 15 and after[2] == 0,
          "frame counters before %r, after %r" % (before, after), con)


def test_link_follows_the_virtual_cable(tmp):
    # The PHY interrupt path: QEMU's set_link drops and restores the link; lwIP follows, and on
    # link-up DHCP confirms the lease again.
    mon_path = os.path.join(tmp, "monitor.sock")
    con, out = boot_with_lease(tmp, monitor=mon_path)
    before = frames(out)
    mon = socket.socket(socket.AF_UNIX)
    mon.connect(mon_path)
    mon.sendall(b"set_link lan9118.0 off\n")
    wait_net_show(con, ["interface: down"], 10)
    mon.sendall(b"set_link lan9118.0 on\n")
    out = wait_net_show(con, ["interface: up", "ip:        10.0.2.15"], 10)
    mon.close()
    after = frames(out)
    check(after[0] > before[0] and after[1] > before[1], "no DHCP exchange after link-up: %r, %r"
          % (before, after), con)


def test_without_a_network_device(tmp):
    con = qemu_board(tmp)  # -nic none: QEMU leaves 0x4e000000 empty
    con.expect(PROMPT, BOOT_TIMEOUT)
    out = con.command("net show")
    check(out.strip() == "interface: none (no network device attached)", "net show: %r" % out,
          con)
    out = con.command("status")
    check("board:     vexpress-a9" in out, "the console does not answer after net show", con)
