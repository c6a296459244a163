"""The HSM link of the appliance image: UART1 of QEMU's vexpress-a9 to a real p11-kit server."""
import re

from harness import BOOT_TIMEOUT, PROMPT, check, qemu_board
from hsm import Token, console_login
from signing import export_slc_public_key, openssl_verifies, private_key_report


def boot_with_token(tmp):
    tok = Token(tmp)
    con = qemu_board(tmp, hsm_sock=tok.sock)
    con.expect(PROMPT, BOOT_TIMEOUT)
    console_login(con, eol="\r")
    return tok, con


def test_qemu_generates_key_and_signs_through_uart1(tmp):
    tok, con = boot_with_token(tmp)
    out = con.command("key generate rsa2048", 120)
    check("SLC key pair created" in out, "key generate over UART1 failed: %r" % out, con)
    report = private_key_report(tok)
    check("sensitive" in report and "never extractable" in report, report, con)
    pem = export_slc_public_key(tok, tmp)
    out = con.command("key sign from-the-appliance", 60)
    m = re.search(r"^signature: (\S+)$", out, re.M)
    check(m and openssl_verifies(pem, "from-the-appliance", m.group(1), tmp),
          "the appliance's signature does not verify with openssl", con)
    out = con.command("token selftest", 180)
    check("token selftest passed" in out, "selftest over UART1 failed", con)
    tok.close()


def test_qemu_signing_loop_survives_server_restart(tmp):
    tok, con = boot_with_token(tmp)
    con.command("key generate", 120)
    pem = export_slc_public_key(tok, tmp)
    ok = []
    for i in range(10):
        if i == 3:
            tok.stop()
        if i == 4:
            tok.start()
        # A dead UART link shows as a time-out: allow for it, and for the resync back-off.
        out = con.command("key sign q-%d" % i, 60)
        m = re.search(r"^signature: (\S+)$", out, re.M)
        ok.append(bool(m) and openssl_verifies(pem, "q-%d" % i, m.group(1), tmp))
        if not m:
            check("error: token link down" in out, "a lost call must fail cleanly: %r" % out, con)
    # The first call after the restart may race QEMU's once-a-second chardev reconnect and fail;
    # from the next one on, every call must succeed again without anyone stepping in.
    check(all(ok[:3]) and all(ok[5:]), "the loop did not resume by itself: %s" % ok, con)
    out = con.command("status")
    check("token link: up" in out and "re-logged in after link loss" in out,
          "status should show the recovery", con)
    tok.close()
