"""The host board driven through its console on a pipe, as tests and scripts use it."""
import os
import re
import signal
import subprocess
import time

from harness import HOST_BIN, PROMPT, ROOT, check, host_board
from hsm import Token, console_login

BOOT = 20


def boot(tmp, **kw):
    con = host_board(tmp, **kw)
    m = con.expect(r"board host, build (\S+), boot #(\d+) \(reset: ([a-z-]+)\)", BOOT)
    con.expect(PROMPT, BOOT)
    return con, int(m.group(2)), m.group(3), m.group(1)


def test_banner_version_and_build_id(tmp):
    con, n, reason, build = boot(tmp)
    check(n == 1 and reason == "power-on", "first boot should be #1 power-on", con)
    version = open(os.path.join(ROOT, "VERSION")).read().strip()
    out = con.command("version")
    check(out.strip() == "signet %s build %s board host" % (version, build),
          "version line: %r" % out, con)
    git = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"],
                         capture_output=True, text=True)
    if git.returncode == 0:
        check(build.startswith(git.stdout.strip()), "build id %s does not name commit %s" %
              (build, git.stdout.strip()), con)


def test_status_fields(tmp):
    con, _, _, _ = boot(tmp)
    out = con.command("status")
    for field in ("board:     host", "version:", "uptime:", "boot:      #1 (reset: power-on)",
                  "time:", "watchdog:  interval timer", "nv store:  bank 0",
                  "audit:     empty, 24 segments of 64 KiB", "forward:   off", "console:",
                  "kernel:    7 tasks",  # house, net, console, token, 3 TLS handshake fibers
                  "token task: "):
        check(field in out, "status lacks %r" % field, con)


def test_errors_follow_the_convention(tmp):
    con, _, _, _ = boot(tmp)
    cases = {
        "nosuch": "error: unknown command 'nosuch' (try help)",
        "time": "error: 'time' needs one of: show set ntp",
        "time set": "error: usage: time set ISO8601",
        "status extra": "error: usage: status",
        "time set 2026-11-01T00:00:00Z": "error: 'time set' needs login first",
    }
    for line, want in cases.items():
        out = con.command(line)
        check(out.strip() == want, "%r printed %r, want %r" % (line, out, want), con)


def boot_logged_in(tmp):
    tok = Token(tmp)
    con, n, reason, build = boot(tmp, extra=["--hsm", tok.sock])
    console_login(con)
    return tok, con


def test_time_set_and_show(tmp):
    tok, con = boot_logged_in(tmp)
    out = con.command("time set 2026-13-01T00:00:00Z")
    check(out.strip() == "error: bad time '2026-13-01T00:00:00Z' (expected "
          "YYYY-MM-DDTHH:MM:SSZ, UTC)", "bad time: %r" % out, con)
    con.command("time set 2030-01-02T03:04:05Z")
    lines = con.command("time show").strip().splitlines()
    check(re.match(r"2030-01-02T03:04:0[5-9]Z$", lines[0]), "time show: %r" % lines, con)
    check(lines[1:] == ["ntp: off (the clock is set by hand: `time set`)"], "time show: %r" % lines, con)
    tok.close()


def test_overlong_line_and_huge_paste(tmp):
    con, _, _, _ = boot(tmp)
    con.send("y" * 257 + "\n")
    con.expect(r"error: line too long \(max 256 characters\)")
    con.expect(PROMPT)
    con.command("y" * 256)  # exactly the limit: accepted as a line (and unknown)
    # A megabyte with no line end: one error, no crash, and the console still answers.
    con.send("z" * (1 << 20) + "\n")
    con.expect(r"error: line too long", 60)
    con.expect(PROMPT, 60)
    out = con.command("version")
    check("board host" in out, "console unusable after a 1 MB line", con)


def test_ctrl_c_cancels_and_backspace_edits(tmp):
    con, _, _, _ = boot(tmp)
    con.send("reboot\x03")
    con.expect(r"\^C\n" + PROMPT.pattern)
    con.send("statux\x08s\n")
    con.expect(r"board:     host")
    con.expect(PROMPT)


def test_reboot_reexecutes_and_counts(tmp):
    con, n, _, _ = boot(tmp)
    con.send("reboot\n")
    con.expect("rebooting")
    m = con.expect(r"boot #(\d+) \(reset: ([a-z-]+)\)", BOOT)
    check(int(m.group(1)) == n + 1 and m.group(2) == "software", "after reboot", con)
    con.expect(PROMPT)


def test_time_offset_survives_reboot(tmp):
    tok, con = boot_logged_in(tmp)
    con.command("time set 2040-06-01T00:00:00Z")
    con.send("reboot\n")
    con.expect(r"reset: software", BOOT)
    con.expect(PROMPT)
    out = con.command("time show")
    check(out.startswith("2040-06-01T00:0"), "wall clock lost across reboot: %r" % out, con)
    tok.close()


def test_nv_persists_across_processes(tmp):
    for i in range(1, 4):
        con, n, reason, _ = boot(tmp)
        check(n == i and reason == "power-on", "run %d saw boot #%d (%s)" % (i, n, reason), con)
        con.proc.stdin.close()  # end of input: the board powers off
        check(con.wait_exit() == 0, "board did not exit cleanly on end of input", con)


def test_corrupt_nv_file_boots_formatted(tmp):
    path = os.path.join(tmp, "nv.img")
    with open(path, "wb") as f:
        f.write(os.urandom(128 * 1024))
    con, n, _, _ = boot(tmp)
    check(n == 1, "a corrupt store should start over at boot #1", con)
    check("formatted" in con.output_since(0), "no word about formatting the store", con)


def test_without_nv_file_warns_and_runs(tmp):
    con = host_board(tmp, nv=None)
    con.expect(r"warning: NV store unavailable")
    con.expect(PROMPT)
    out = con.command("status")
    check("nv store:  unavailable" in out, "status should say the store is unavailable", con)


def test_watchdog_resets_a_stalled_board(tmp):
    con, n, _, _ = boot(tmp)
    # Freeze the whole process past the 8 s timeout, as a hung handler would; the interval timer
    # keeps running, so on resume the watchdog fires and the board comes back by itself.
    con.signal(signal.SIGSTOP)
    time.sleep(9)
    con.signal(signal.SIGCONT)
    con.expect(r"watchdog: timeout, resetting", 20)
    m = con.expect(r"boot #(\d+) \(reset: ([a-z-]+)\)", BOOT)
    check(int(m.group(1)) == n + 1 and m.group(2) == "watchdog", "reset after watchdog", con)
    con.expect(PROMPT)


def test_bad_command_line(tmp):
    res = subprocess.run([HOST_BIN, "--bogus"], capture_output=True, text=True, timeout=10)
    check(res.returncode == 2 and "usage:" in res.stderr, "bad option not refused clearly")
