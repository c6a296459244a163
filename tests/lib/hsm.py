"""tests/lib/hsm.py — a private SoftHSM2 token behind a stock `p11-kit server`, per test.

Token(tmp) initialises a token labelled "signet" in tmp (its own SOFTHSM2_CONF, never the system's)
and serves it on a Unix socket. stop()/start() simulate the link dropping and the server coming
back. pkcs11_tool() runs OpenSC's pkcs11-tool directly against SoftHSM2 to check, from outside
the firmware, what is in the token.
"""
import os
import signal
import subprocess
import time

import harness

SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
USER_PIN = "123456"  # test token only
SO_PIN = "12345678"
LABEL = "signet"


class Token:
    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "token")
        os.makedirs(os.path.join(self.dir, "tokens"), exist_ok=True)
        self.conf = os.path.join(self.dir, "softhsm2.conf")
        with open(self.conf, "w") as f:
            f.write("directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
                    "log.level = ERROR\n" % self.dir)
        self.env = dict(os.environ, SOFTHSM2_CONF=self.conf)
        self.sock = os.path.join(self.dir, "p11kit.sock")
        self.proc = None
        harness.LIVE.append(self)  # the runner stops it even when the test fails
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", LABEL,
                        "--pin", USER_PIN, "--so-pin", SO_PIN], env=self.env, check=True,
                       capture_output=True, timeout=60)
        self.start()

    def start(self):
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        self.proc = subprocess.Popen(
            ["p11-kit", "server", "-f", "-n", self.sock, "--provider", SOFTHSM_MODULE,
             "pkcs11:token=" + LABEL],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("p11-kit server did not start")
            time.sleep(0.02)

    def stop(self):
        """Take the whole server down, including the per-connection children it forked."""
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self.proc = None

    def signal(self, sig):
        """Signal the server and every per-connection child it forked."""
        os.killpg(self.proc.pid, sig)

    def pkcs11_tool(self, *args, login=True):
        argv = ["pkcs11-tool", "--module", SOFTHSM_MODULE, "--token-label", LABEL]
        if login:
            argv += ["--login", "--pin", USER_PIN]
        res = subprocess.run(argv + list(args), env=self.env, capture_output=True, text=True,
                             timeout=60)
        return res.returncode, res.stdout + res.stderr

    def close(self):
        self.stop()


def console_login(con, pin=USER_PIN, eol="\n", timeout=60):
    """Log the board's console in to the token as an operator would: command, prompt, PIN."""
    from harness import PROMPT
    con.send("login" + eol)
    con.expect("PIN: ")
    con.send(pin + eol)
    con.expect("logged in", timeout)
    con.expect(PROMPT)
