"""The token task on the host board: with the token server frozen (SIGSTOP on p11-kit server and
its children) while the boot auto-login waits for it as a token job, plain /health on port 80 and
the console's `status` keep answering within 0.5 s, the watchdog never fires, and after SIGCONT
the job's retry logs in by itself."""
import signal
import time

from harness import PROMPT, check, host_board
from hsm import Token, console_login
from netboard import free_port, http_get

BOOT = 20
BOUND = 0.5


def timed(fn):
    t0 = time.monotonic()
    res = fn()
    return res, time.monotonic() - t0


def test_frozen_token_holds_up_only_its_job(tmp):
    tok = Token(tmp)
    con = host_board(tmp, extra=["--hsm", tok.sock])
    con.expect(PROMPT, BOOT)
    console_login(con)
    out = con.command("config auto-login on")
    check("the user PIN is sealed" in out, "config auto-login on: %r" % out, con)

    # The token stops answering (connections stay open); the board restarts unattended.
    tok.signal(signal.SIGSTOP)
    frozen_at = time.monotonic()
    con.signal(signal.SIGKILL)
    con.close()
    port = free_port()
    con = host_board(tmp, extra=["--hsm", tok.sock, "--hostfwd", "127.0.0.1:%d-:80" % port])
    con.expect(PROMPT, BOOT)
    deadline = time.monotonic() + 10
    while "waiting for the token" not in con.command("status"):
        check(time.monotonic() < deadline, "the auto-login job never waited for the token", con)
        time.sleep(0.1)

    worst_http = worst_status = 0.0
    answers = set()
    polls = 0
    end = time.monotonic() + 8
    while time.monotonic() < end:
        (code, body), took = timed(lambda: http_get(port))
        answers.add((code, body))
        polls += 1
        worst_http = max(worst_http, took)
        out, took = timed(lambda: con.command("status"))
        worst_status = max(worst_status, took)
        check("board:     host" in out, "status did not answer: %r" % out, con)
        time.sleep(0.05)
    print("frozen for %.1f s: %d /health answers, slowest %.3f s; slowest status %.3f s"
          % (time.monotonic() - frozen_at, polls, worst_http, worst_status))
    check(worst_http < BOUND, "/health took %.2f s with the token frozen" % worst_http, con)
    check(worst_status < BOUND, "status took %.2f s with the token frozen" % worst_status, con)
    check(answers == {(503, "not ready: token not logged in\n")},
          "/health said %r while the token was frozen" % answers, con)
    out = con.command("status")
    check("lost (0 timeouts)" not in out, "no call timed out against the frozen token: %r" % out,
          con)
    check("reset: watchdog" not in con.output_since(0) and
          con.output_since(0).count("HSM-backed signing appliance") == 1,
          "the board restarted (the watchdog?)", con)

    tok.signal(signal.SIGCONT)
    con.expect("auto-login: logged in with the sealed PIN", 60)
    deadline = time.monotonic() + 30
    body = "not ready: token not logged in\n"
    errs = []
    while body == "not ready: token not logged in\n" and time.monotonic() < deadline:
        try:
            code, body = http_get(port)
        except OSError as e:
            errs.append((time.monotonic(), repr(e)))
        time.sleep(0.2)
    check(not errs, "/health failed while the job finished: %r" % errs, con)
    check(body != "not ready: token not logged in\n", "/health never saw the login", con)
    out = con.command("status")
    check("login:     yes" in out and "token task: idle" in out, "after SIGCONT: %r" % out, con)
    out = con.command("token info")
    check("signet" in out, "the token does not answer after SIGCONT: %r" % out, con)
    tok.close()
