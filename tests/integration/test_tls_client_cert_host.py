"""Malformed TLS client certificates on the host board (run it on the sanitizer build): the
handshake may fail, the board must not. Each vector once crashed UBSan inside mbedTLS's chain
verification, which ran although the appliance has no CA to verify against.

The vectors are kept as found, except for their P-256 public key: the test makes a fresh key pair
and writes its public point into each certificate (no private key is kept in the repository).
The crash lies in the certificate's signature algorithm, which mbedTLS cannot parse; the key only
lets the TLS client load the certificate."""
import base64
import os
import re
import ssl
import subprocess

from harness import check
from hsm import Token, console_login
from netboard import host_on_network, http_get, https_context, https_get

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors", "tls-client-cert")
BAD = ("bad09.pem", "bad16.pem", "bad078.pem")
SANITIZER = re.compile(r"runtime error:|AddressSanitizer|UndefinedBehaviorSanitizer|"
                       r"LeakSanitizer")


P256_SPKI_HEAD = bytes.fromhex("06082a8648ce3d03010703420004")  # prime256v1, BIT STRING, point
KEYS = {}  # tmp -> the run's key file


def with_fresh_key(tmp, name):
    """The vector with a fresh key's public point in place of its own: (cert path, key path)."""
    key = KEYS.get(tmp)
    if not key:
        key = os.path.join(tmp, "client.key")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", key], check=True, capture_output=True)
        KEYS[tmp] = key
    spki = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                          check=True, capture_output=True).stdout
    point = spki[-65:]
    with open(os.path.join(VECTORS, name)) as f:
        b64 = "".join(line for line in f.read().splitlines() if not line.startswith("-----"))
    der = bytearray(base64.b64decode(b64))
    at = der.find(P256_SPKI_HEAD)
    check(at > 0 and der.count(P256_SPKI_HEAD) == 1, "%s: no P-256 key found" % name)
    at += len(P256_SPKI_HEAD) - 1
    der[at:at + 65] = point
    text = base64.encodebytes(bytes(der)).decode().replace("\n", "")
    pem = os.path.join(tmp, name)
    with open(pem, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\n")
        f.writelines(text[i:i + 64] + "\n" for i in range(0, len(text), 64))
        f.write("-----END CERTIFICATE-----\n")
    return pem, key


def present(port, tmp, name, version):
    """Handshake with the vector as client certificate and ask for /v1/whoami; True if answered."""
    ctx = https_context(*with_fresh_key(tmp, name), version)
    try:
        code, _ = https_get(port, "/v1/whoami", ctx=ctx)
        return code == 200
    except (OSError, ssl.SSLError):
        return False


def openssl_present(port, tmp, name):
    """The same with openssl s_client -tls1_2, as the attack pass sent it."""
    cert, key = with_fresh_key(tmp, name)
    subprocess.run(["openssl", "s_client", "-tls1_2", "-connect", "127.0.0.1:%d" % port,
                    "-cert", cert, "-key", key],
                   input=b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", capture_output=True,
                   timeout=30)


def survives(nb, what):
    code, body = http_get(nb.http_port)
    check(code in (200, 503) and body, "%s: /health gave %d %r" % (what, code, body), nb.con)
    code, _ = https_get(nb.https_port, "/v1/whoami")
    check(code == 200, "%s: HTTPS /v1/whoami gave %d" % (what, code), nb.con)
    check("board:     host" in nb.con.command("status"), "%s: the console stopped" % what,
          nb.con)
    report = SANITIZER.search(nb.con.output_since(0))
    check(not report, "%s: a sanitizer report in the board's output" % what, nb.con)


def run_vectors(nb, tmp):
    for name in BAD:
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            present(nb.https_port, tmp, name, version)
            survives(nb, "%s over %s" % (name, version.name))
        openssl_present(nb.https_port, tmp, name)
        survives(nb, "%s by openssl s_client -tls1_2" % name)


def test_malformed_client_certificates_do_not_crash_the_board(tmp):
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    console_login(nb.con)
    run_vectors(nb, tmp)
    # With the vectors' fingerprints in the ACL (what the ACL knows a client by) as well.
    for name in BAD:
        out = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                              with_fresh_key(tmp, name)[0]], capture_output=True, text=True,
                             timeout=30).stdout
        fp = re.search(r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}", out)
        check(fp, "openssl could not fingerprint %s: %r" % (name, out), nb.con)
        out = nb.con.command("acl grant %s %s" % (fp.group(0), name.split(".")[0]))
        check("error" not in out, "acl grant: %r" % out, nb.con)
    run_vectors(nb, tmp)
    nb.con.proc.stdin.close()
    check(nb.con.wait_exit(30) == 0, "the board did not exit cleanly", nb.con)
    tok.close()
