"""The host board's network: lwIP over libslirp, the user-mode network QEMU uses."""
import re
import socket
import time

from harness import PROMPT, check, host_board

BOOT = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dhcp_address_from_the_user_network(tmp):
    con = host_board(tmp, extra=["--net"])
    con.expect(PROMPT, BOOT)
    deadline = time.monotonic() + 15
    while True:
        out = con.command("net show")
        if "ip:        10.0.2.15" in out or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    check("interface: up, mac 52:54:00:12:34:56" in out, "interface not up: %r" % out, con)
    check("address:   DHCP" in out and "ip:        10.0.2.15" in out and
          "gateway:   10.0.2.2" in out, "no DHCP lease from the user network: %r" % out, con)
    m = re.search(r"frames:\s+(\d+) in, (\d+) out", out)
    check(m and int(m.group(1)) > 0 and int(m.group(2)) > 0, "no frames counted", con)


def test_forwarded_port_reaches_the_stack(tmp):
    port = free_port()
    # Port 81: nothing listens there (the HTTP service took port 80).
    con = host_board(tmp, extra=["--hostfwd", "127.0.0.1:%d-:81" % port])
    con.expect(PROMPT, BOOT)
    deadline = time.monotonic() + 15
    while "ip:        10.0.2.15" not in con.command("net show"):
        check(time.monotonic() < deadline, "no DHCP lease", con)
        time.sleep(0.5)
    # Nothing listens on port 81: lwIP must refuse at once (RST), not leave the client hanging.
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.settimeout(10)
        try:
            data = s.recv(16)
        except ConnectionResetError:
            data = b""
    check(data == b"" and time.monotonic() - t0 < 5,
          "the refused connection was not closed promptly", con)
    out = con.command("net show")
    check(re.search(r"frames:\s+[1-9]\d* in", out), "no frames through the forward", con)


def test_without_a_network_device(tmp):
    con = host_board(tmp)
    con.expect(PROMPT, BOOT)
    out = con.command("net show")
    check(out.strip() == "interface: none (no network device attached)", "net show: %r" % out,
          con)
