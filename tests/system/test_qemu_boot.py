"""The vexpress-a9 image under QEMU, driven over its serial console (UART0)."""
import calendar
import re
import time

from harness import BOOT_TIMEOUT, PROMPT, check, qemu_board
from hsm import Token, console_login


def boot(tmp, expect_boot=None, reason=None):
    con = qemu_board(tmp)
    m = con.expect(r"board vexpress-a9, build \S+, boot #(\d+) \(reset: ([a-z-]+)\)", BOOT_TIMEOUT)
    if expect_boot is not None:
        check(int(m.group(1)) == expect_boot, "expected boot #%d" % expect_boot, con)
    if reason is not None:
        check(m.group(2) == reason, "expected reset reason %s" % reason, con)
    con.expect(PROMPT, BOOT_TIMEOUT)
    return con, int(m.group(1))


def test_boots_to_prompt_and_status_answers(tmp):
    t0 = time.monotonic()
    con, n = boot(tmp, expect_boot=1, reason="power-on")
    secs = time.monotonic() - t0
    check(secs < 30, "reached the prompt in %.1fs; the limit is 30s" % secs, con)
    out = con.command("status")
    for field in ("board:     vexpress-a9", "boot:      #1", "watchdog:", "nv store:  bank",
                  "kernel:", "auto-login: off", "console:   1 lines, 0 errors"):
        check(field in out, "status lacks %r" % field, con)
    # A new appliance (its flash image all zeros, as QEMU's file starts) has no sealed PIN.
    check("auto-login" not in con.output_since(0).split("status")[0],
          "a fresh appliance should not try to log in by itself", con)
    # The token task runs the house task's revoke tick (each second) as jobs on its own stack:
    # the ARM context switch went there and back.
    time.sleep(1.5)
    out = con.command("status")
    m = re.search(r"^token task: idle, \d+ queued, (\d+) done; stack (\d+) of (\d+) bytes used$",
                  out, re.M)
    check(m is not None, "status lacks the token task line: %r" % out, con)
    print(m.group(0))
    done, used, size = (int(x) for x in m.groups())
    check(done >= 1 and 0 < used < size, "no token job ran on its stack: %r" % m.group(0), con)


def test_rtc_shows_today(tmp):
    con, _ = boot(tmp)
    out = con.command("time show")
    m = re.search(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$", out, re.M)
    check(m is not None, "time show printed no ISO 8601 time", con)
    rtc = calendar.timegm(tuple(int(x) for x in m.groups()) + (0, 0, 0))
    now = time.time()
    check(abs(rtc - now) < 120, "RTC says %s, host clock is %s" %
          (m.group(0), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))), con)
    check(time.strftime("%Y-%m-%d", time.gmtime(rtc)) == time.strftime("%Y-%m-%d", time.gmtime(now)) or
          abs(rtc - now) < 120, "RTC date is not today", con)


def test_time_set_needs_login(tmp):
    con, _ = boot(tmp)
    out = con.command("time set 2031-07-04T10:20:30Z")
    check(out.strip() == "error: 'time set' needs login first", "time set without login", con)


def test_time_set_moves_the_rtc(tmp):
    tok = Token(tmp)
    con = qemu_board(tmp, hsm_sock=tok.sock)
    con.expect(PROMPT, BOOT_TIMEOUT)
    console_login(con, eol="\r")
    out = con.command("time set 2031-07-04T10:20:30Z")
    check("time set: 2031-07-04T10:20" in out, "time set did not report the new time", con)
    out = con.command("time show")
    check(out.startswith("2031-07-04T10:2"), "time show after time set: %r" % out, con)
    out = con.command("time set 2031-02-30T00:00:00Z")
    check(out.startswith("error: bad time"), "impossible date accepted", con)
    tok.close()


def test_unknown_command_and_line_editing(tmp):
    con, _ = boot(tmp)
    out = con.command("frobnicate now")
    check(out.strip() == "error: unknown command 'frobnicate' (try help)",
          "wrong unknown-command error: %r" % out, con)
    # Backspace edits: "versiom" + DEL + "n" runs "version".
    con.send("versiom\x7fn\r")
    con.expect(r"signet \S+ build \S+ board vexpress-a9")
    con.expect(PROMPT)
    # Ctrl-C cancels the line: nothing runs, a fresh prompt follows.
    con.send("reboot\x03")
    con.expect(r"\^C\n" + PROMPT.pattern)
    out = con.command("help")
    for cmd in ("status", "version", "time show", "time set", "reboot"):
        check(cmd in out, "help lacks %s" % cmd, con)


def test_overlong_line_is_rejected(tmp):
    con, _ = boot(tmp)
    con.send("x" * 300 + "\r")
    con.expect(r"error: line too long \(max 256 characters\)")
    con.expect(PROMPT)
    out = con.command("version")
    check("board vexpress-a9" in out, "console unusable after an overlong line", con)
    # A 64 KiB paste in one burst: QEMU holds bytes back while the RX ring is full, so nothing is
    # lost, the line is refused once, and the console answers afterwards.
    con.send("q" * 65536 + "\r")
    con.expect(r"error: line too long", 120)
    con.expect(PROMPT, 60)
    out = con.command("status")
    check(", 0 rx overruns" in out, "bytes were lost under a paste burst", con)


def test_reboot_increments_nv_boot_counter(tmp):
    con, n = boot(tmp)
    con.send("reboot\r")
    con.expect("rebooting")
    m = con.expect(r"boot #(\d+) \(reset: ([a-z-]+)\)", BOOT_TIMEOUT)
    check(int(m.group(1)) == n + 1, "boot counter went from %d to %s" % (n, m.group(1)), con)
    check(m.group(2) == "software", "reset reason after reboot: %s" % m.group(2), con)
    con.expect(PROMPT, BOOT_TIMEOUT)
    out = con.command("status")
    check("boot:      #%d (reset: software)" % (n + 1) in out, "status disagrees", con)


def test_nv_store_survives_power_off(tmp):
    con, n = boot(tmp)
    con.close()  # pull the plug: QEMU is killed, the pflash image keeps what was written
    con2, n2 = boot(tmp, reason="power-on")
    check(n2 == n + 1, "boot counter did not persist across power-off (%d then %d)" % (n, n2), con2)
