"""HTTPS on the appliance image: QEMU's LAN9118 and user network, TLS signatures by the token over
UART1. What an operator and a client would check: curl, openssl s_client, the console."""
import json
import os
import re
import socket
import ssl
import subprocess

from harness import check
from hsm import Token, console_login
from netboard import http_get, https_context, https_get, qemu_on_network

FP = re.compile(r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}")


def test_qemu_serves_https_with_the_token_key(tmp):
    tok = Token(tmp)
    nb = qemu_on_network(tmp, tok)
    code, body = http_get(nb.http_port)
    check((code, body) == (503, "not ready: token not logged in\n"), "%d %r" % (code, body), nb.con)
    console_login(nb.con)
    fp = FP.search(nb.con.command("tls fingerprint"))
    check(fp, "no fingerprint on the console", nb.con)
    res = subprocess.run(["curl", "-sk", "--max-time", "60", "https://127.0.0.1:%d/health" %
                          nb.https_port], capture_output=True, text=True, timeout=90)
    check(res.returncode == 0 and res.stdout == "not ready: not enrolled\n",
          "curl https /health: %d %r %r" % (res.returncode, res.stdout, res.stderr), nb.con)
    res = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % nb.https_port,
                          "-tls1_3"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                         timeout=90)
    check("New, TLSv1.3" in res.stdout, "s_client:\n" + res.stdout[-1500:], nb.con)
    res = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
                         input=res.stdout, capture_output=True, text=True, timeout=30)
    check(fp.group(0) in res.stdout, "served certificate %r is not the console's %s" %
          (res.stdout, fp.group(0)), nb.con)
    res = subprocess.run(["curl", "-sk", "--max-time", "60", "https://127.0.0.1:%d/v1/status" %
                          nb.https_port], capture_output=True, text=True, timeout=90)
    st = json.loads(res.stdout) if res.returncode == 0 else {}
    check(st.get("reason") == "not enrolled" and st["token"]["link"] == "up" and st["tls"]["handshakes"] >= 2 and
          st["tls"]["token_signatures"] >= 3, "status: %r %r" % (res.stdout, res.stderr), nb.con)
    # Garbage on the TLS port costs that connection only.
    with socket.create_connection(("127.0.0.1", nb.https_port), timeout=30) as s:
        s.sendall(bytes(range(256)) * 4)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
    check(https_get(nb.https_port, "/v1/whoami")[0] == 200, "no answer after garbage", nb.con)
    # Client certificates (their parse and CertificateVerify check run in a handshake step, the
    # deepest), over TLS 1.3 and 1.2.
    for name, spec in (("ec-client", ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
                       ("rsa-client", ["rsa:2048"])):
        key, crt = os.path.join(tmp, name + ".key"), os.path.join(tmp, name + ".pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", spec[0], "-nodes", "-keyout", key,
                        "-out", crt, "-days", "30", "-subj", "/CN=" + name] + spec[1:],
                       capture_output=True, check=True, timeout=60)
        for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            code, body = https_get(nb.https_port, "/v1/whoami", ctx=https_context(crt, key, version))
            check(code == 200 and json.loads(body)["client_certificate"],
                  "%s over %s: %d %r" % (name, version, code, body), nb.con)
    # The handshakes ran on the handshake fibers (their signatures through the token task), and
    # the deepest step left a quarter of a fiber's stack free (signet_defaults.h APP_TLS_STACK).
    out = nb.con.command("status")
    m = re.search(r"^tls fibers: 0 of \d+ waiting for the token, (\d+) steps, (\d+) token calls; "
                  r"stack (\d+) of (\d+) bytes used$", out, re.M)
    check(m, "no tls fibers line in status: %r" % out, nb.con)
    steps, calls, used, size = (int(g) for g in m.groups())
    print("tls fibers: %s" % m.group(0))
    check(steps >= 3 and calls >= 3 and 0 < used < size * 3 // 4, "tls fibers: %r" % m.group(0),
          nb.con)
    tok.close()
