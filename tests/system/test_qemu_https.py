"""HTTPS on the appliance image: QEMU's LAN9118 and user network, TLS signatures by the token over
UART1. What an operator and a client would check: curl, openssl s_client, the console."""
import json
import re
import socket
import subprocess

from harness import check
from hsm import Token, console_login
from netboard import http_get, https_get, qemu_on_network

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
    tok.close()
