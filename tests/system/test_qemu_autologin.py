"""Auto-login on the appliance image: a reset through QEMU's monitor (system_reset, as a watchdog or
a power cycle would) comes back logged in with the PIN sealed in its own pflash sector, and
serves HTTPS without anyone at the console; with auto-login off it waits for an operator."""
import os
import re
import socket

from harness import BOOT_TIMEOUT, PROMPT, check, qemu_board
from hsm import USER_PIN, Token, console_login
from netboard import free_port, http_get, https_get, wait_health

SECTOR = 256 * 1024  # VE_FLASH_SECTOR; the sealed PIN is sector 2, the NV store sectors 0 and 1


def system_reset(mon_path, con, boot):
    mon = socket.socket(socket.AF_UNIX)
    mon.settimeout(10)
    mon.connect(mon_path)
    mon.sendall(b"system_reset\n")
    con.expect(r"boot #%d" % boot, BOOT_TIMEOUT)
    mon.close()


def secret_sector(tmp):
    with open(os.path.join(tmp, "nv.img"), "rb") as f:
        f.seek(2 * SECTOR)
        return f.read(64)


def test_qemu_reset_comes_back_logged_in_and_serving(tmp):
    tok = Token(tmp)
    mon_path = os.path.join(tmp, "monitor.sock")
    http_port, https_port = free_port(), free_port()
    con = qemu_board(tmp, hsm_sock=tok.sock, monitor=mon_path,
                     hostfwd=["127.0.0.1:%d-:80" % http_port, "127.0.0.1:%d-:443" % https_port])
    con.expect(PROMPT, BOOT_TIMEOUT)
    console_login(con)
    out = con.command("config auto-login on")
    check("auto-login on: the user PIN is sealed" in out, "config auto-login on: %r" % out, con)
    check(secret_sector(tmp)[4:4 + len(USER_PIN)] == USER_PIN.encode(),
          "the PIN is not in the secret's own sector", con)

    mark = len(con.output_since(0))
    system_reset(mon_path, con, 2)
    con.expect("auto-login: logged in with the sealed PIN", BOOT_TIMEOUT)
    wait_health(con, lambda: https_get(https_port), (503, "not ready: not enrolled\n"))
    check(USER_PIN not in con.output_since(mark), "the PIN appeared on the console", con)
    check("boot auto-login: logged in" in con.command("audit show"), "not audited", con)
    # The boot login ran as a token job (the TLS key found, HTTPS set up) on the token task's
    # stack: with room to spare.
    m = re.search(r"^token task: .* (\d+) done; stack (\d+) of (\d+) bytes used$",
                  con.command("status"), re.M)
    check(m is not None, "status lacks the token task line", con)
    print(m.group(0))
    done, used, size = (int(x) for x in m.groups())
    check(done >= 1 and 0 < used < size * 3 // 4, "token stack: %r" % m.group(0), con)

    out = con.command("config auto-login off")
    check("auto-login off: the sealed PIN is wiped" in out, "config auto-login off: %r" % out, con)
    check(secret_sector(tmp) == b"\xff" * 64, "the secret's sector is not erased", con)
    system_reset(mon_path, con, 3)
    con.expect(PROMPT, BOOT_TIMEOUT)
    wait_health(con, lambda: http_get(http_port), (503, "not ready: token not logged in\n"))
    check("login:     no" in con.command("status"), "logged in with auto-login off", con)
    tok.close()
