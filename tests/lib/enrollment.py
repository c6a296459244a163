"""tests/lib/enrollment.py — the enrollment authority and the appliance's enrollment console flow.

Authority(tmp) runs tools/signet-authority against its own SoftHSM2 token (its root key never
leaves it) and initialises it; issue() turns an armored request into an armored response,
serve() runs the online service. The console helpers do what an operator does: paste armored
blocks, export requests, read `slc show`.
"""
import os
import re
import signal
import socket
import subprocess
import time

import harness
from harness import PROMPT, ROOT, check
from hsm import LABEL, SOFTHSM_MODULE, USER_PIN, Token, console_login

AUTHORITY_BIN = os.path.join(ROOT, "build", "tools", "signet-authority")
BLOCK = r"-----BEGIN %s-----\n.*?-----END %s-----\n"


class Authority:
    def __init__(self, tmp, name="authority"):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir, exist_ok=True)
        self.token = Token(self.dir)
        self.env = dict(self.token.env, SIGNET_AUTHORITY_PIN=USER_PIN)
        self.root_pem = os.path.join(self.dir, "authority-root.pem")
        self.server = None
        harness.LIVE.append(self)  # the runner stops its server even when the test fails
        rc, out = self.run("init", "--out", self.root_pem)
        check(rc == 0, "signet-authority init failed:\n" + out)

    def run(self, command, *args):
        argv = [AUTHORITY_BIN, command, "--module", SOFTHSM_MODULE, "--token", LABEL] + list(args)
        res = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60)
        return res.returncode, res.stdout + res.stderr

    def root_text(self):
        with open(self.root_pem) as f:
            return f.read()

    def issue(self, request_text, *extra):
        """Armored request in, (exit code, armored response or error output) out."""
        req = os.path.join(self.dir, "request.txt")
        resp = os.path.join(self.dir, "response.txt")
        with open(req, "w") as f:
            f.write(request_text)
        if os.path.exists(resp):
            os.unlink(resp)
        rc, out = self.run("issue", "--in", req, "--out", resp, "--armor", *extra)
        if rc != 0:
            return rc, out
        with open(resp) as f:
            return rc, f.read()

    def serve(self, *extra, crl_url=False):
        """Serve on a free port, returned. crl_url: the SLCs carry the CDP of this server's
        /v1/crl as a board on the user-mode network reaches it (10.0.2.2)."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if crl_url:
            extra += ("--crl-url", "http://10.0.2.2:%d/v1/crl" % port)
        argv = [AUTHORITY_BIN, "serve", "--module", SOFTHSM_MODULE, "--token", LABEL,
                "--listen", "127.0.0.1:%d" % port] + list(extra)
        self.server = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return port
            except OSError:
                check(self.server.poll() is None, "signet-authority serve exited")
                time.sleep(0.1)
        check(False, "signet-authority serve did not start listening")

    def stop_server(self):
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
        self.server = None

    def close(self):
        self.stop_server()
        self.token.close()


def paste(con, command, text, timeout=60):
    """Run a command that asks for a pasted block, paste text, return what it printed."""
    con.send(command + "\n")
    con.expect("Paste the .*Ctrl-C cancels.\n")
    start = con.pos
    con.send(text if text.endswith("\n") else text + "\n")
    end = con.expect(PROMPT, timeout).start()
    return con.output_since(start)[:end - start]


def block(text, label):
    m = re.search(BLOCK % (label, label), text, re.S)
    return m.group(0) if m else None


def export_request(con, renewal=False):
    label = "SIGNET RENEWAL REQUEST" if renewal else "SIGNET ENROLLMENT REQUEST"
    out = con.command("renew export" if renewal else "enroll export", 60)
    b = block(out, label)
    check(b, "no %s block in:\n%s" % (label, out), con)
    return b, out


def prepare_appliance(con, name="root1", url="https://rms.example.test/", alg="rsa2048"):
    """Log in, make the SLC key, set name and cluster URL."""
    console_login(con)
    out = con.command("key generate " + alg, 60)
    check("SLC key pair created" in out, "key generate: %r" % out, con)
    check(con.command("config name " + name) == "server name: %s\n" % name, "config name", con)
    check(con.command("config cluster-url " + url) == "cluster URL: %s\n" % url,
          "config cluster-url", con)


def trust(con, authority):
    out = paste(con, "trust import", authority.root_text())
    check("authority root trusted" in out, "trust import: %r" % out, con)


def slc_show(con):
    out = con.command("slc show")
    fields = dict(re.findall(r"^(\w[\w ]*?):\s+(.*)$", out, re.M))
    return fields, out


def enroll_offline(con, authority, *issue_args):
    req, _ = export_request(con)
    rc, resp = authority.issue(req, *issue_args)
    check(rc == 0, "signet-authority issue failed:\n" + resp, con)
    out = paste(con, "enroll import", resp)
    check("SLC installed" in out, "enroll import: %r" % out, con)
    return resp


def enrolled_root(tmp):
    """An authority, a token and a host board on the user network, enrolled offline as root1."""
    from netboard import host_on_network

    auth = Authority(tmp)
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    prepare_appliance(nb.con)
    trust(nb.con, auth)
    enroll_offline(nb.con, auth)
    return auth, tok, nb


def pem_blocks(text):
    return re.findall(r"-----BEGIN CERTIFICATE-----\n.*?-----END CERTIFICATE-----\n", text, re.S)


def openssl_verify(tmp, con, authority):
    """What a relying party checks: the installed SLC chains to the authority root."""
    certs = pem_blocks(con.command("slc export"))
    check(len(certs) >= 2, "slc export gave %d certificates" % len(certs), con)
    slc, chain = os.path.join(tmp, "slc.pem"), os.path.join(tmp, "chain.pem")
    with open(slc, "w") as f:
        f.write(certs[0])
    with open(chain, "w") as f:
        f.write("".join(certs[1:]))
    res = subprocess.run(["openssl", "verify", "-CAfile", authority.root_pem, "-untrusted", chain,
                          slc], capture_output=True, text=True, timeout=30)
    check(res.returncode == 0 and "OK" in res.stdout,
          "openssl verify: %s%s" % (res.stdout, res.stderr), con)
