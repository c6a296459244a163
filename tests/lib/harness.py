"""tests/lib/harness.py — drive a board's console like an operator would, expect-style.

Console(cmd) starts a process with its console on pipes, collects everything it prints, and
expect(regex) waits for output with a time-out. A failure raises TestFailure carrying the console
transcript, so a red test shows what the appliance said. Nothing here outside the standard library.
"""
import fcntl
import os
import re
import signal
import subprocess
import termios
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# make test points this at the ASan/UBSan build of the same board (SANITIZE=1).
HOST_BIN = os.path.join(ROOT, os.environ.get("SIGNET_HOST_BIN", "build/host/signet"))
VEXPRESS_ELF = os.path.join(ROOT, "build", "vexpress-a9", "signet.elf")
PROMPT = re.compile(r"signet[>#] $", re.M)

# Generous: QEMU under full emulation on a loaded 2-core CI machine can be slow.
BOOT_TIMEOUT = 90
CMD_TIMEOUT = 30


# Three or more lines of base64 between a first and a last one (a pasted or printed document).
BASE64_RUN = re.compile(r"^([A-Za-z0-9+/=]{40,}\n)((?:[A-Za-z0-9+/=]{40,}\n){3,})"
                        r"([A-Za-z0-9+/=]+\n)", re.M)


class TestFailure(Exception):
    pass


LIVE = []  # what the current test started (consoles, tokens, ...); the runner closes them after


def _take_terminal():
    """In the child, after setsid: make its pseudo-terminal (fd 0) the controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Console:
    """tty=True runs the program on a pseudo-terminal, as a person at a terminal would."""

    def __init__(self, argv, name, env=None, cwd=None, tty=False):
        self.name = name
        self.argv = argv
        self.pty = None
        if tty:
            self.pty, slave = os.openpty()
            self.proc = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                start_new_session=True, preexec_fn=_take_terminal)
            os.close(slave)
        else:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env=env, cwd=cwd, start_new_session=True)
        self.buf = ""
        self.pos = 0  # expect() searches from here
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        LIVE.append(self)

    def _read(self):
        fd = self.pty if self.pty is not None else self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.eof = True
                    self.cond.notify_all()
                    return
                self.buf += data.decode("utf-8", "replace").replace("\r", "")
                self.cond.notify_all()

    def transcript(self, tail=4000):
        with self.lock:
            text = self.buf
        # A pasted document would fill the tail with base64: keep its first and last line only,
        # so what the board printed after it is what the tail shows.
        text = BASE64_RUN.sub(lambda m: "%s[%d base64 lines]\n%s" % (
            m.group(1), m.group(0).count("\n") - 2, m.group(3)), text)
        if len(text) > tail:
            text = "...\n" + text[-tail:]
        return "---- %s console transcript ----\n%s\n---- end of transcript ----" % (self.name, text)

    def fail(self, msg):
        raise TestFailure("%s\n%s" % (msg, self.transcript()))

    def expect(self, pattern, timeout=CMD_TIMEOUT):
        """Wait for pattern after the last match; return the match and move past it."""
        rx = re.compile(pattern, re.M) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, self.pos)
                if m:
                    self.pos = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    break
                self.cond.wait(min(left, 0.5))
        why = "exited (%s)" % self.proc.poll() if self.eof else "timed out after %ss" % timeout
        self.fail("expected /%s/ but the console %s" % (rx.pattern, why))

    def send(self, text):
        data = text.encode() if isinstance(text, str) else text
        try:
            if self.pty is not None:
                os.write(self.pty, data)
            else:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.fail("could not type %r: console input closed" % text[:40])

    def command(self, line, timeout=CMD_TIMEOUT):
        """Type a command and return what it printed before the next prompt."""
        self.send(line + "\r")
        start = self.expect(re.escape(line) + r"\n", timeout).end()
        end = self.expect(PROMPT, timeout).start()
        with self.lock:
            return self.buf[start:end]

    def output_since(self, mark):
        with self.lock:
            return self.buf[mark:]

    def wait_exit(self, timeout=CMD_TIMEOUT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fail("process did not exit within %ss" % timeout)

    def signal(self, sig):
        os.killpg(self.proc.pid, sig)

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self.reader.join(5)
        if self.pty is not None:
            os.close(self.pty)
            self.pty = None


def host_board(tmp, nv="nv.img", extra=()):
    argv = [HOST_BIN]
    if nv:
        argv += ["--nv", os.path.join(tmp, nv)]
    return Console(argv + list(extra), "host board")


def qemu_nv_image(tmp, name="nv.img"):
    path = os.path.join(tmp, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.truncate(64 * 1024 * 1024)  # pflash must be backed by exactly its 64 MiB
    return path


def qemu_board(tmp, nv="nv.img", hsm_sock=None, hostfwd=None, monitor=None):
    """The appliance image; UART1 goes to hsm_sock (a p11-kit server socket) or nowhere.

    The chardev reconnects every second, as the runner's does, so a restarted server is found.
    hostfwd=None leaves the board without a network device; a list (maybe empty) of TCP forwards
    "HOSTIP:PORT-:GUESTPORT", as the host board's --hostfwd takes them, attaches QEMU's user
    network (10.0.2.0/24, DHCP) to the on-board LAN9118. monitor: a Unix socket path where QEMU's
    human monitor listens (e.g. for set_link), otherwise there is none.
    """
    hsm = ["-serial", "null"]
    if hsm_sock:
        hsm = ["-chardev", "socket,id=hsm,path=%s,reconnect=1" % hsm_sock,
               "-serial", "chardev:hsm"]
    nic = "none"
    if hostfwd is not None:
        nic = ",".join(["user,model=lan9118"] + ["hostfwd=tcp:" + f for f in hostfwd])
    argv = ["qemu-system-arm", "-M", "vexpress-a9", "-m", "128M", "-display", "none",
            "-monitor", "unix:%s,server=on,wait=off" % monitor if monitor else "none",
            "-nic", nic, "-audiodev", "none,id=noaudio",
            "-kernel", VEXPRESS_ELF,
            "-drive", "if=pflash,index=0,format=raw,file=" + qemu_nv_image(tmp, nv),
            "-serial", "stdio"] + hsm
    return Console(argv, "vexpress-a9 (QEMU)")


def check(cond, msg, console=None):
    if cond:
        return
    if console:
        console.fail(msg)
    raise TestFailure(msg)
