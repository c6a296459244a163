"""A newcomer's first minutes: `make run BOARD=host` typed at a terminal, in a fresh copy.

The copy holds the repository's files and nothing built (only the fetched upstream sources are
shared, as `make deps` would have left them), so the whole build runs the way a person's first
`make run` does, under a pseudo-terminal: anything in the build that reads the terminal hangs
here as it would for them. Then several appliances side by side, as the README shows them.
"""
import atexit
import json
import os
import re
import shutil
import socket
import subprocess

from harness import PROMPT, ROOT, Console, check

# A build from nothing, serial as `make run` builds: about 30 s on an idle 2-core machine.
BUILD_TIMEOUT = 300
CTRL_A_X = b"\x01x"

_copy = None  # one fresh copy for the module: its first test builds it, the next reuse it


def fresh_copy():
    global _copy
    if _copy and os.path.isdir(_copy):
        return _copy
    dest = os.path.join(os.environ.get("TMPDIR", "/tmp"), "signet-newcomer-%d" % os.getpid())
    shutil.rmtree(dest, ignore_errors=True)
    files = subprocess.run(["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = os.path.join(ROOT, rel)
        if not os.path.isfile(src):
            continue  # deleted in the work tree
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))
    os.makedirs(os.path.join(dest, "build"))
    os.symlink(os.path.join(ROOT, "build", "deps"), os.path.join(dest, "build", "deps"))
    atexit.register(shutil.rmtree, dest, True)
    _copy = dest
    return dest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_run(copy, name=None, https_port=None, http_port=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE") and k != "MFLAGS"}
    env["TERM"] = "xterm"
    if https_port:
        env["SIGNET_HTTPS_PORT"], env["SIGNET_HTTP_PORT"] = str(https_port), str(http_port)
    argv = ["make", "run", "BOARD=host"] + (["NAME=" + name] if name else [])
    return Console(argv, "make run %s" % (name or ""), env=env, cwd=copy, tty=True)


def quit_board(con):
    con.send(CTRL_A_X)
    code = con.wait_exit(30)
    check(code == 0, "make run should end cleanly after Ctrl-A X (exit %s)" % code, con)


def server_alive(token_dir):
    try:
        pid = int(open(os.path.join(token_dir, "p11kit.pid")).read())
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False


def test_make_run_on_a_terminal_builds_and_reaches_the_prompt(tmp):
    copy = fresh_copy()
    con = make_run(copy, https_port=free_port(), http_port=free_port())
    con.expect(r"image\s+build/host/signet", BUILD_TIMEOUT)
    # Nothing after the build may wait on the terminal (an argument-less cat once did).
    con.expect(r"run: appliance 'default'", 60)
    con.expect(PROMPT, 60)
    out = con.command("status")
    check("board:     host" in out, "status on the new board: %r" % out, con)
    check(server_alive(os.path.join(copy, "build", "token")), "the token server should run", con)
    quit_board(con)
    check(not server_alive(os.path.join(copy, "build", "token")),
          "quitting should stop the token server", con)
    # The build's compile database names our sources (it used to be an empty list).
    entries = json.load(open(os.path.join(copy, "compile_commands.json")))
    files = {e["file"] for e in entries}
    check("firmware/console/console.c" in files,
          "compile_commands.json lacks our sources (%d entries)" % len(entries), con)


def test_named_appliances_side_by_side(tmp):
    copy = fresh_copy()
    if not os.path.exists(os.path.join(copy, "build", "host", "signet")):
        test_make_run_on_a_terminal_builds_and_reaches_the_prompt(tmp)
    root = make_run(copy, https_port=free_port(), http_port=free_port())
    root.expect(PROMPT, BUILD_TIMEOUT)
    lic = make_run(copy, name="lic1")
    m = lic.expect(r"HTTPS at https://127\.0\.0\.1:(\d+)/", BUILD_TIMEOUT)
    lic.expect(r"health check at http://127\.0\.0\.1:(\d+)/health", 10)
    lic.expect(PROMPT, 60)
    lic_https = int(m.group(1))
    inst = os.path.join(copy, "build", "run", "lic1")
    check(open(os.path.join(inst, "ports")).read().split()[0] == str(lic_https),
          "the ports printed should be the ones kept for lic1", lic)
    check(os.path.exists(os.path.join(inst, "nv-host.img")), "lic1 has its own NV file", lic)
    check(server_alive(os.path.join(inst, "token")) and
          server_alive(os.path.join(copy, "build", "token")), "each has its own token server", lic)

    # A second start of lic1 is refused in one line and leaves the running one alone.
    again = make_run(copy, name="lic1")
    again.expect(r"run: error: appliance 'lic1' is already running", 60)
    again.wait_exit(30)
    check(server_alive(os.path.join(inst, "token")), "the refused start stopped lic1's token", lic)

    # Both still reach their own token: log in on each.
    for con in (root, lic):
        con.send("login\r")
        con.expect(r"PIN: ?", 30)
        con.send("123456\r")
        con.expect(r"logged in", 30)
        con.expect(PROMPT, 30)
        out = con.command("token info")
        check(re.search(r"label\s*:?\s+signet", out), "token info: %r" % out, con)
    for con in (lic, root):
        quit_board(con)
    # Named runs keep their ports across runs.
    lic = make_run(copy, name="lic1")
    m = lic.expect(r"HTTPS at https://127\.0\.0\.1:(\d+)/", 60)
    check(int(m.group(1)) == lic_https, "lic1 should keep its ports", lic)
    lic.expect(PROMPT, 60)
    quit_board(lic)
