"""The host board's network: lwIP over libslirp, the user-mode network QEMU uses."""
import re
import socket
import time

from harness import PROMPT, check, host_board
from hsm import Token, console_login
from netboard import BOOT, free_port, http_get, wait_for_lease


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
    con = host_board(tmp, extra=["--hostfwd", "127.0.0.1:%d-:81" % port])
    con.expect(PROMPT, BOOT)
    wait_for_lease(con)
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


def test_static_address_set_refused_kept_and_back_to_dhcp(tmp):
    tok = Token(tmp)
    port = free_port()
    con = host_board(tmp, extra=["--hsm", tok.sock,
                                 "--hostfwd", "127.0.0.1:%d-10.0.2.20:80" % port])
    con.expect(PROMPT, BOOT)
    wait_for_lease(con)
    out = con.command("net set static 10.0.2.20/24 10.0.2.2")
    check(out.startswith("error: ") and "login" in out, "net set without login: %r" % out, con)
    console_login(con)
    out = con.command("net set static 10.0.2.20/24 10.0.2.2")
    check(out == "network: static address set\n", "net set static: %r" % out, con)
    out = con.command("net show")
    check("address:   static" in out and "ip:        10.0.2.20" in out and
          "netmask:   255.255.255.0" in out and "gateway:   10.0.2.2" in out, out, con)
    # The forward to 10.0.2.20 reaches the service at its new address.
    check(http_get(port) == (503, "not ready: not enrolled\n"),
          "no HTTP answer at the static address", con)
    # Bad settings are refused with one line each and change nothing.
    for bad, why in (("net set static 10.0.2.255/24", "broadcast"),
                     ("net set static 300.1.1.1/24", "bad address"),
                     ("net set static 10.0.2.30/24 192.168.1.1", "gateway"),
                     ("net set static 10.0.2.30/24 10.0.2.30", "gateway"),
                     ("net set static 127.0.0.1/8", "unicast"),
                     ("net set static 10.0.2.30", "bad address"),
                     ("net set static 10.0.2.030/24", "bad address"),
                     ("net set dhcpx", "usage")):
        out = con.command(bad)
        check(out.startswith("error: ") and why in out and out.count("\n") == 1,
              "%r: %r" % (bad, out), con)
    check("ip:        10.0.2.20" in con.command("net show"), "a refused setting changed it", con)
    # Kept across a reboot (NV store).
    con.send("reboot\n")
    con.expect("boot #2", BOOT)
    con.expect(PROMPT, BOOT)
    out = con.command("net show")
    check("address:   static" in out and "ip:        10.0.2.20" in out,
          "static address not kept: %r" % out, con)
    console_login(con)
    check(con.command("net set dhcp") == "network: DHCP\n", "net set dhcp", con)
    wait_for_lease(con)
    check("address:   DHCP" in con.command("net show"), "not back on DHCP", con)
    tok.close()
