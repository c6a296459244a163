"""Auto-login and PIN change on the host board: an unattended restart (SIGKILL, then the same NV
file and token) comes back logged in and serving only with auto-login on; `token pin change`
changes the PIN in the token, the one held for re-login and the sealed one."""
import errno
import os
import signal
import stat
import time

from enrollment import enrolled_root
from harness import PROMPT, check, host_board
from hsm import USER_PIN, Token, console_login
from netboard import free_port, http_get, https_get, wait_health

BOOT = 20
NEW_PIN = "24681357"


def sealed_path(tmp, nv="nv.img"):
    return os.path.join(tmp, nv) + ".autologin"


def restart(tmp, tok, con, nv="nv.img"):
    """Kill the board as a power cut would and start it again on the same NV file and token,
    with fresh forwards; types nothing."""
    con.signal(signal.SIGKILL)
    con.close()
    http_port, https_port = free_port(), free_port()
    new = host_board(tmp, nv=nv, extra=["--hsm", tok.sock,
                                        "--hostfwd", "127.0.0.1:%d-:80" % http_port,
                                        "--hostfwd", "127.0.0.1:%d-:443" % https_port])
    new.expect(PROMPT, BOOT)
    return new, http_port, https_port


def change_pin(con, current, new, again=None):
    con.send("token pin change\n")
    con.expect("current PIN: ")
    con.send(current + "\n")
    con.expect("new PIN: ")
    con.send(new + "\n")
    con.expect("new PIN again: ")
    con.send((new if again is None else again) + "\n")
    start = con.pos
    end = con.expect(PROMPT).start()
    return con.output_since(start)[:end - start]


def test_restart_serves_unattended_only_with_auto_login(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    check(https_get(nb.https_port) == (200, "ok\n"), "not serving after enrollment", con)
    check("auto-login: off" in con.command("status"), "auto-login should be off by default", con)
    out = con.command("config auto-login on")
    check("auto-login on: the user PIN is sealed" in out, "config auto-login on: %r" % out, con)
    st = os.lstat(sealed_path(tmp))
    check(stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
          "the sealed file is not a plain 0600 file: %o" % st.st_mode, con)
    check("auto-login: on" in con.command("status"), "status does not show auto-login", con)
    check("auto-login:  on" in con.command("config show"), "config show lacks auto-login", con)
    check(USER_PIN not in con.output_since(0), "the PIN appeared on the console", con)

    # Power cut: back logged in and serving HTTPS, nobody at the console.
    con, http_port, https_port = restart(tmp, tok, con)
    con.expect("auto-login: logged in with the sealed PIN", BOOT)
    wait_health(con, lambda: https_get(https_port), (200, "ok\n"))
    audit = con.command("audit show")
    for what in ("config auto-login on", "boot auto-login: logged in"):
        check(what in audit, "audit log lacks %r" % what, con)
    check(USER_PIN not in con.output_since(0), "the PIN appeared on the console", con)

    out = con.command("config auto-login off")
    check("auto-login off: the sealed PIN is wiped" in out, "config auto-login off: %r" % out, con)
    check(not os.path.exists(sealed_path(tmp)), "the sealed file is still there", con)
    check("config auto-login off" in con.command("audit show"), "off not audited", con)

    # Off: the restart waits for an operator again.
    con, http_port, https_port = restart(tmp, tok, con)
    wait_health(con, lambda: http_get(http_port), (503, "not ready: token not logged in\n"))
    check("auto-login" not in con.output_since(0), "a boot without a sealed PIN tried one", con)
    check("login:     no" in con.command("status"), "logged in without auto-login", con)
    auth.close()
    tok.close()


def test_pin_change_then_login_and_relogin_use_the_new_pin(tmp):
    tok = Token(tmp)
    con = host_board(tmp, extra=["--hsm", tok.sock])
    con.expect(PROMPT, BOOT)
    check("needs login first" in con.command("token pin change"), "pin change without login", con)
    console_login(con)
    # Refusals change nothing.
    out = change_pin(con, USER_PIN, NEW_PIN, again=NEW_PIN + "9")
    check("error: the new PINs differ; nothing changed" in out, "mismatch: %r" % out, con)
    out = change_pin(con, "99999999", NEW_PIN)
    check("error: PIN incorrect" in out and "nothing changed" in out, "wrong PIN: %r" % out, con)
    rc, _ = tok.pkcs11_tool("--list-objects")
    check(rc == 0, "a refused change changed the token's PIN", con)

    out = change_pin(con, USER_PIN, NEW_PIN)
    check("user PIN changed in the token" in out, "pin change: %r" % out, con)
    text = con.output_since(0)
    check(USER_PIN not in text and NEW_PIN not in text, "a PIN appeared on the console", con)
    audit = con.command("audit show")
    for what in ("token pin change: refused: the new PINs differ",
                 "token pin change: refused: PIN incorrect", "token pin change: changed"):
        check(what in audit, "audit log lacks %r" % what, con)
    # From outside the firmware: the token takes the new PIN, not the old.
    rc, out = tok.pkcs11_tool("--login", "--pin", NEW_PIN, "--list-objects", login=False)
    check(rc == 0, "the token refuses the new PIN:\n" + out, con)
    rc, _ = tok.pkcs11_tool("--list-objects")
    check(rc != 0, "the token still takes the old PIN", con)

    # The link drops: the re-login uses the new PIN held since the change.
    tok.stop()
    tok.start()
    out = con.command("token selftest", 60)
    check("token selftest passed" in out, "selftest after the link drop: %r" % out, con)
    out = con.command("status")
    check("login:     yes (re-logged in after link loss)" in out, "no re-login: %r" % out, con)

    con.command("logout")
    con.send("login\n")
    con.expect("PIN: ")
    con.send(USER_PIN + "\n")
    con.expect(r"error: PIN incorrect")
    console_login(con, NEW_PIN)
    tok.close()


def test_pin_change_reseals_and_a_refused_sealed_pin_is_tried_once(tmp):
    tok = Token(tmp)
    con = host_board(tmp, extra=["--hsm", tok.sock])
    con.expect(PROMPT, BOOT)
    console_login(con)
    con.command("config auto-login on")
    out = change_pin(con, USER_PIN, NEW_PIN)
    check("auto-login: the sealed PIN is the new one" in out, "not resealed: %r" % out, con)
    con, _, _ = restart(tmp, tok, con)
    con.expect("auto-login: logged in with the sealed PIN", BOOT)

    # The PIN changed elsewhere: one try at boot, said and audited, the sealed PIN kept.
    rc, out = tok.pkcs11_tool("--login", "--pin", NEW_PIN, "--change-pin", "--new-pin",
                              USER_PIN, login=False)
    check(rc == 0, "pkcs11-tool --change-pin failed:\n" + out, con)
    con, _, _ = restart(tmp, tok, con)
    con.expect("error: auto-login: the token refused the sealed PIN: PIN incorrect", BOOT)
    time.sleep(3)  # longer than the relink back-off: a retry would show by now
    text = con.output_since(0)
    check(text.count("refused the sealed PIN") == 1, "the sealed PIN was tried again", con)
    check("login:     no" in con.command("status"), "logged in with a refused PIN", con)
    check(os.path.exists(sealed_path(tmp)), "the refused sealed PIN was wiped silently", con)
    console_login(con)  # the operator's PIN
    check("boot auto-login: refused: PIN incorrect" in con.command("audit show"),
          "the refusal is not audited", con)
    tok.close()


def test_boot_auto_login_waits_for_the_token(tmp):
    tok = Token(tmp)
    con = host_board(tmp, extra=["--hsm", tok.sock])
    con.expect(PROMPT, BOOT)
    console_login(con)
    con.command("config auto-login on")
    tok.stop()
    con, _, _ = restart(tmp, tok, con)
    time.sleep(2)
    out = con.command("status")
    check("login:     no" in out and "auto-login: on (waiting for the token)" in out,
          "status while the token is away: %r" % out, con)
    tok.start()
    con.expect("auto-login: logged in with the sealed PIN", 40)
    check("login:     yes" in con.command("status"), "not logged in once the token came", con)
    tok.close()


def test_hostile_sealed_files_are_refused_and_change_nothing(tmp):
    tok = Token(tmp)
    con = host_board(tmp, extra=["--hsm", tok.sock])
    con.expect(PROMPT, BOOT)
    console_login(con)
    check("error: unknown setting 'maybe' (on or off)" in con.command("config auto-login maybe"),
          "a bad setting was taken", con)
    # A symlink planted where the temporary file goes is replaced, never written through.
    victim = os.path.join(tmp, "victim")
    with open(victim, "w") as f:
        f.write("untouched")
    os.symlink(victim, sealed_path(tmp) + ".tmp")
    check("auto-login on" in con.command("config auto-login on"), "sealing failed", con)
    with open(victim) as f:
        check(f.read() == "untouched", "sealing wrote through a symlink", con)
    check(not os.path.islink(sealed_path(tmp)), "the sealed file is a link", con)
    with open(sealed_path(tmp), "rb") as f:
        good = f.read()

    def planted_boot(plant, errno_name):
        nonlocal con
        os.unlink(sealed_path(tmp))
        plant(sealed_path(tmp))
        con, _, _ = restart(tmp, tok, con)
        con.expect(r"error: auto-login: the sealed PIN is unreadable \(-%d\); log in by hand"
                   % getattr(errno, errno_name), BOOT)
        check("login:     no" in con.command("status"), "logged in from a hostile file", con)

    def write(data):
        def plant(path):
            with open(path, "wb") as f:
                f.write(data)
            os.chmod(path, 0o600)
        return plant

    planted_boot(write(b"\0" * (1 << 20)), "EFBIG")  # far too long: not read whole
    planted_boot(write(b"123456"), "EBADMSG")  # not a sealed secret
    planted_boot(write(good[:4]), "EBADMSG")  # the tag and no PIN
    good_copy = os.path.join(tmp, "good-copy")
    write(good)(good_copy)
    planted_boot(lambda path: os.symlink(good_copy, path), "ELOOP")  # never followed
    console_login(con)
    check("boot auto-login: failed: sealed PIN unreadable" in con.command("audit show"),
          "the unreadable sealed PIN is not audited", con)
    tok.close()
