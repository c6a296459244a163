#!/usr/bin/env python3
"""tests/bench/bench_issue.py — certificates and licenses issued per second over HTTPS, beside
the token's raw signing rate and beside what a user might script instead, in one run.

  raw sign      `key bench N` on the console: the SLC key's RSA-2048 signature through our client
                and p11-kit server — the one token operation a sub-enrollment certificate needs
  subenroll     POST /v1/subenroll (a granted TLS client certificate), the same well-formed
                request over and over on CONNECTIONS kept-alive HTTPS connections for SECONDS
  certify       POST /v1/certify likewise, the user authenticated by an identity certificate from
                a user CA the appliance trusts (the TLS client certificate): one signature, like a
                sub-enrollment, plus the identity check of every request; the ratio line says what
                that check costs (the aim: certification >= 0.85 of sub-enrollment)
  license       POST /v1/license (a publishing license + a user's RAC) likewise, as that user:
                each use license costs the token an unwrap (RSA private key), a wrap and a
                signature
  license, 10,000 revoked
                the same after `revoke SERIAL` of REVOKED (10,000) other serials on the console
                and the CRL of them signed: every license request checks the RAC, its signetVia
                and the publishing license against the list (binary search, firmware/revoke); the
                ratio line says what a long list costs (the aim: >= 0.95 of the empty list).
                Then the user's RAC itself is revoked and the next request must be refused.
  openssl       `openssl x509 -req` with OpenSSL's PKCS#11 engine signing with the same SLC key
                through p11-kit-client.so to the same p11-kit server, one process per certificate

Latencies are measured per request by the clients; p50 and p99 are reported, and for each HTTPS
row the board process's own CPU time per request (/proc/PID/stat, user + system), which does not
swing with the machine's load the way rates do.

BENCH_ROWS=subenroll runs only raw sign, sub-enrollment and certification (one run, ~1 min):
the rows the sub-enrollment ratio needs, without the 10,000 revocations and the baseline. It
measures the raw rate before and after the rows and divides by their mean: on the shared
machine the raw rate alone moves by a factor of 1.5 from one minute to the next.
BENCH_ROWS=license does the same for the use-license row (raw sign before and after it).
"""
import base64
import hashlib
import http.client
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
from enrollment import Authority, enroll_offline, pem_blocks, prepare_appliance, trust  # noqa
from hsm import LABEL, USER_PIN, Token  # noqa: E402
from netboard import host_on_network, https_context, https_get  # noqa: E402
from rights import Org  # noqa: E402

N = int(os.environ.get("BENCH_SIGNATURES", "2000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "4"))
BASELINE = int(os.environ.get("BENCH_BASELINE", "100"))
REVOKED = int(os.environ.get("BENCH_REVOKED", "10000"))
ROWS = os.environ.get("BENCH_ROWS", "all")
RATE = re.compile(r"(\d+) signatures in (\d+) ms: (\d+)/s")
ENGINE = "/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so"
CLIENT_MODULE = "/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so"


def ssl(*args, inp=None, env=None):
    res = subprocess.run(["openssl"] + list(args), capture_output=True, input=inp, env=env,
                         timeout=60)
    if res.returncode:
        sys.exit("openssl %s: %s" % (args[0], res.stderr.decode(errors="replace")))
    return res.stdout


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid):
    """CPU seconds of the live processes in process group pgid (the token server and the child
    it forks per connection)."""
    total = 0.0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            fields = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


TOKEN_PGID = [None]
TOKEN_MS = {}


def load(port, ctx, path, body, pid=None):
    """CONNECTIONS kept-alive clients for SECONDS: (requests/s, latencies in ms, failures); with
    pid, the process's CPU ms per request is appended to CPU_MS[path]."""
    lat, bad = [], []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client():
        mine, errs = [], []
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=ctx)
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers={"Content-Type": "application/xml"})
            r = conn.getresponse()
            data = r.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if r.status != 200:
                errs.append("%d %s" % (r.status, data[:80]))
        conn.close()
        with lock:
            lat.extend(mine)
            bad.extend(errs)

    t0 = time.monotonic()
    c0 = cpu_seconds(pid) if pid else 0
    t_c0 = group_cpu_seconds(TOKEN_PGID[0]) if TOKEN_PGID[0] else 0
    me0 = time.process_time()
    threads = [threading.Thread(target=client) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    if pid and lat:
        CPU_MS.setdefault(path, []).append((cpu_seconds(pid) - c0) * 1000 / len(lat))
        CLIENT_MS.setdefault(path, []).append((time.process_time() - me0) * 1000 / len(lat))
        if TOKEN_PGID[0]:
            token_s = group_cpu_seconds(TOKEN_PGID[0]) - t_c0
            TOKEN_MS.setdefault(path, []).append(token_s * 1000 / len(lat))
            TOKEN_BUSY.setdefault(path, []).append(token_s / wall)
    return len(lat) / wall, sorted(lat), bad


CPU_MS = {}
CLIENT_MS = {}  # this script's own CPU per request (the load generator's share of the 2 cores)
TOKEN_BUSY = {}  # the token server's CPU seconds per second of the row: 1.0 is never idle
RAW_RUNS = []  # with BENCH_ROWS=subenroll: the raw rate before and after the rows


def cpu_ms(path, i=-1):
    return "%.2f" % CPU_MS[path][i] if CPU_MS.get(path) else ""


def revoke_many(con, n):
    """n serials (not the user's: the first octet 0x40..0x7f, then 0xbe 0x4c, as no random serial
    is likely to be) revoked on the console, typed ahead 50 at a time; the seconds it took until
    the CRL listing them all was signed."""
    t0 = time.monotonic()
    for i in range(1, n + 1):
        con.send("revoke 4ebe4c%026x\n" % i)
        if i % 50 == 0 or i == n:
            con.expect("revoked 4ebe4c%026x " % i, 120)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        m = re.search(r"own CRL: number \d+, .*?, (\d+) entries", con.command("crl show", 60))
        if m and int(m.group(1)) >= n:
            return time.monotonic() - t0
        time.sleep(1)
    sys.exit("no CRL of %d entries was signed:\n%s" % (n, con.command("crl show")))


def pct(lat, p):
    return lat[min(len(lat) - 1, int(len(lat) * p / 100))] if lat else float("nan")


def baseline(tmp, tok, slc_pem):
    """openssl x509 -req with the PKCS#11 engine: one process per certificate."""
    conf = os.path.join(tmp, "engine.cnf")
    with open(conf, "w") as f:
        f.write("openssl_conf = init\n[init]\nengines = engines\n[engines]\npkcs11 = pkcs11\n"
                "[pkcs11]\nengine_id = pkcs11\ndynamic_path = %s\nMODULE_PATH = %s\n"
                "init = 0\n" % (ENGINE, CLIENT_MODULE))
    env = dict(os.environ, OPENSSL_CONF=conf,
               P11_KIT_SERVER_ADDRESS="unix:path=" + tok.sock)
    key = os.path.join(tmp, "base.key")
    ssl("genrsa", "-out", key, "2048")
    csr = os.path.join(tmp, "base.csr")
    ssl("req", "-new", "-key", key, "-subj", "/CN=lic-baseline", "-out", csr)
    uri = "pkcs11:token=%s;id=%s;type=private;pin-value=%s" % (
        LABEL, "".join("%%%02x" % b for b in b"signet-slc"), USER_PIN)
    t0 = time.monotonic()
    for i in range(BASELINE):
        ssl("x509", "-req", "-in", csr, "-CA", slc_pem, "-CAkey", uri, "-CAkeyform", "engine",
            "-engine", "pkcs11", "-set_serial", str(i + 1), "-days", "365", "-sha256", "-out",
            os.path.join(tmp, "base.pem"), env=env)
    rate = BASELINE / (time.monotonic() - t0)
    ssl("verify", "-partial_chain", "-CAfile", slc_pem, os.path.join(tmp, "base.pem"))
    return rate


def main():
    tmp = tempfile.mkdtemp(prefix="signet-bench-")
    tok = Token(tmp)
    os.environ["SIGNET_HOST_BIN"] = os.environ.get("SIGNET_HOST_BIN", "build/host/signet")
    nb = host_on_network(tmp, tok)
    auth = Authority(tmp)
    con, port = nb.con, nb.https_port
    try:
        prepare_appliance(con)
        trust(con, auth)
        enroll_offline(con, auth)
        if https_get(port)[0] != 200:
            sys.exit("the board does not serve HTTPS:\n" + con.transcript())
        slc_pem = os.path.join(tmp, "slc.pem")
        with open(slc_pem, "w") as f:
            f.write(pem_blocks(con.command("slc export"))[0])

        # A granted client and a well-formed sub-enrollment request.
        cli_key, cli_cert = os.path.join(tmp, "cli.key"), os.path.join(tmp, "cli.pem")
        ssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", cli_key, "-out", cli_cert, "-subj", "/CN=bench", "-days", "2")
        fp = hashlib.sha256(ssl("x509", "-in", cli_cert, "-outform", "DER")).hexdigest()
        con.command("acl grant %s bench" % ":".join(fp[i:i + 2] for i in range(0, 64, 2)))
        ctx = https_context(cli_cert, cli_key)
        lic_key = os.path.join(tmp, "lic.key")
        ssl("genrsa", "-out", lic_key, "2048")
        spki = ssl("pkey", "-in", lic_key, "-pubout", "-outform", "DER")
        pop = ssl("req", "-new", "-key", lic_key, "-subj", "/CN=lic-bench", "-outform", "DER")
        sub = ("<SignetRequest version=\"1\" kind=\"subenrollment\"><ServerName>lic-bench"
               "</ServerName><ClusterUrl>https://lic.example.test/</ClusterUrl><Sku>Signet</Sku>"
               "<Version>1.0</Version><Revocation type=\"standard\"/><PublicKey>%s</PublicKey>"
               "<ProofOfPossession>%s</ProofOfPossession></SignetRequest>" %
               (base64.b64encode(spki).decode(), base64.b64encode(pop).decode())).encode()

        # A user of an organisation the appliance trusts, with a RAC, a publishing license
        # naming them, and the certify and license requests, sent with their identity
        # certificate.
        user = Org(tmp, con).client("bench@contoso.example")
        user_ctx = https_context(user.identity.cert, user.identity.key)
        user.keygen()
        rc, out = user.certify(port)
        if rc:
            sys.exit("certify: " + out)
        csr = ssl("req", "-new", "-key", user.key, "-subj", "/CN=" + user.user, "-outform", "DER")
        cert_req = ("<SignetCertifyRequest version=\"1\"><CertificateRequest>%s"
                    "</CertificateRequest></SignetCertifyRequest>" %
                    base64.b64encode(csr).decode()).encode()
        with open(user.rac) as f:
            certs = pem_blocks(f.read())
        der = [ssl("x509", "-outform", "DER", inp=c.encode()) for c in certs]
        b64 = [base64.b64encode(d).decode() for d in der]
        chain = "<Chain>%s</Chain>" % "".join("<Certificate>%s</Certificate>" % c for c in b64[1:])
        pub = ("<SignetPublishRequest version=\"1\"><RightsAccountCertificate>%s"
               "</RightsAccountCertificate>%s<Policy><Grant user=\"bench@contoso.example\" "
               "rights=\"view\"/></Policy></SignetPublishRequest>" % (b64[0], chain))
        code, text = https_get(port, "/v1/publish", "POST", pub.encode(),
                               {"Content-Type": "application/xml"}, ctx=user_ctx)
        if code != 200:
            sys.exit("publish: %d %s" % (code, text))
        pl = text.split("<PublishingLicense>")[1].split("<")[0]
        lic = ("<SignetLicenseRequest version=\"1\"><PublishingLicense>%s</PublishingLicense>"
               "<RightsAccountCertificate>%s</RightsAccountCertificate>%s"
               "</SignetLicenseRequest>" % (pl, b64[0], chain)).encode()

        con.command("key bench 50", 60)  # warm-up
        TOKEN_PGID[0] = tok.proc.pid
        t_c0 = group_cpu_seconds(TOKEN_PGID[0])
        w0 = time.monotonic()
        m = RATE.search(con.command("key bench %d" % N, 600))
        if not m:
            sys.exit("key bench failed:\n" + con.transcript())
        raw = int(m.group(3))
        token_s = group_cpu_seconds(TOKEN_PGID[0]) - t_c0
        TOKEN_MS["raw"] = [token_s * 1000 / N]
        TOKEN_BUSY["raw"] = [token_s / (time.monotonic() - w0)]
        pid = con.proc.pid
        load(port, ctx, "/v1/subenroll", sub)  # warm-up: the connections and the CKEK
        sub_rate, sub_lat, sub_bad = load(port, ctx, "/v1/subenroll", sub, pid)
        cer_rate, cer_lat, cer_bad = load(port, user_ctx, "/v1/certify", cert_req, pid)
        if ROWS == "subenroll":
            # The raw rate again, after the rows: on a shared machine it drifts within a minute;
            # the ratios use the mean of before and after.
            raw = raw_again(con, raw)
            status = https_get(port, "/v1/status")[1]
            return report_subenroll(raw, sub_rate, sub_lat, sub_bad, cer_rate, cer_lat, cer_bad,
                                    status)
        lic_rate, lic_lat, lic_bad = load(port, user_ctx, "/v1/license", lic, pid)
        if ROWS == "license":
            raw = raw_again(con, raw)
            head_rows(raw, sub_rate, sub_lat, cer_rate, cer_lat)
            print("| use licenses, client-certificate users (POST /v1/license) | %.0f | %.2f | "
                  "%.2f | %.2f | %s |" % (lic_rate, lic_rate / raw, pct(lic_lat, 50),
                                          pct(lic_lat, 99), cpu_ms("/v1/license", 0)))
            token_cpu_line()
            if lic_bad:
                print("note (license): %d non-200 answers, first: %s" % (len(lic_bad), lic_bad[0]))
                sys.exit(1)
            return
        typed = revoke_many(con, REVOKED)
        rev_rate, rev_lat, rev_bad = load(port, user_ctx, "/v1/license", lic, pid)
        rac_serial = ssl("x509", "-noout", "-serial", inp=certs[0].encode()).decode()
        rac_serial = rac_serial.strip().split("=")[1].lower().rjust(32, "0")
        con.command("revoke %s keyCompromise" % rac_serial, 60)
        refused = https_get(port, "/v1/license", "POST", lic,
                            {"Content-Type": "application/xml"}, ctx=user_ctx)
        base_rate = baseline(tmp, tok, slc_pem)
        status = https_get(port, "/v1/status")[1]
    finally:
        con.close()
        auth.close()
        tok.close()
    head_rows(raw, sub_rate, sub_lat, cer_rate, cer_lat)
    print("| use licenses, client-certificate users (POST /v1/license) | %.0f | %.2f | %.2f | "
          "%.2f | %s |" % (lic_rate, lic_rate / raw, pct(lic_lat, 50), pct(lic_lat, 99),
                           cpu_ms("/v1/license", 0)))
    print("| use licenses with %d serials revoked (POST /v1/license) | %.0f | %.2f | %.2f | "
          "%.2f | %s |" % (REVOKED, rev_rate, rev_rate / raw, pct(rev_lat, 50), pct(rev_lat, 99),
                           cpu_ms("/v1/license", 1)))
    print("| `openssl x509 -req` + PKCS#11 engine, one process per certificate (%d) | %.1f | "
          "%.2f | | | |" % (BASELINE, base_rate, base_rate / raw))
    for what, bad in (("subenroll", sub_bad), ("certify", cer_bad), ("license", lic_bad),
                      ("license, %d revoked" % REVOKED, rev_bad)):
        if bad:
            print("note (%s): %d non-200 answers, first: %s" % (what, len(bad), bad[0]))
    ratio_lines(raw, sub_rate, cer_rate)
    print("use licenses with %d revoked / with none = %.2f (aim: >= 0.95: a long list costs a "
          "license no more than 5 %%); %d revocations typed and signed in %.0f s"
          % (REVOKED, rev_rate / lic_rate, REVOKED, typed))
    revoked_ok = refused[0] == 403 and "revoked" in refused[1]
    print("the user's RAC revoked, then a license request: %d %s%s"
          % (refused[0], refused[1].strip()[:80],
             "" if revoked_ok else "  <- NOT REFUSED: the list was not consulted, the ratio "
             "above measures nothing"))
    print("appliance counters after the run: " + status.strip())
    if sub_bad or cer_bad or lic_bad or rev_bad or not revoked_ok:
        sys.exit(1)


def raw_again(con, raw):
    """The raw rate again, after the rows: the mean of before and after (RAW_RUNS keeps both)."""
    m = RATE.search(con.command("key bench %d" % N, 600))
    if not m:
        sys.exit("key bench failed:\n" + con.transcript())
    RAW_RUNS.extend([raw, int(m.group(3))])
    return (raw + int(m.group(3))) / 2


def head_rows(raw, sub_rate, sub_lat, cer_rate, cer_lat):
    print("\nIssuance on the host board (-O2), SLC key RSA-2048 in SoftHSM2 behind p11-kit "
          "server; %d kept-alive HTTPS clients, %d s per row:\n" % (CONNECTIONS, SECONDS))
    print("| what | per second | vs raw sign | p50 ms | p99 ms | board CPU ms/request |")
    print("|---|---|---|---|---|---|")
    print("| token raw RSA-2048 sign over the link (`key bench %d`%s) | %d | 1.00 | | | |"
          % (N, ", %d before and %d after the rows" % tuple(RAW_RUNS) if RAW_RUNS else "", raw))
    print("| sub-enrollment certificates (POST /v1/subenroll) | %.0f | %.2f | %.2f | %.2f | %s |" %
          (sub_rate, sub_rate / raw, pct(sub_lat, 50), pct(sub_lat, 99), cpu_ms("/v1/subenroll")))
    print("| rights account certificates, client-certificate users (POST /v1/certify) | %.0f | "
          "%.2f | %.2f | %.2f | %s |" % (cer_rate, cer_rate / raw, pct(cer_lat, 50),
                                         pct(cer_lat, 99), cpu_ms("/v1/certify")))


def token_cpu_line():
    """The token server's CPU per signature: the same in every row means the token did the same
    work; a row slower than raw with the same work per signature waited for CPU, not for it."""
    parts = ["%s %.2f" % (k, v[0]) for k, v in TOKEN_MS.items() if v]
    if parts:
        print("token server CPU ms per signature (per request): " + ", ".join(parts))
    busy = ["%s %.0f %%" % (k, v[0] * 100) for k, v in TOKEN_BUSY.items() if v]
    if busy:
        print("token server busy during the row: " + ", ".join(busy))
    mine = ["%s %.2f" % (k, v[0]) for k, v in CLIENT_MS.items() if v]
    if mine:
        print("load generator (this script) CPU ms per request: " + ", ".join(mine))


def ratio_lines(raw, sub_rate, cer_rate):
    token_cpu_line()
    print("\nsub-enrollment rate / raw sign rate = %.2f (aim: >= 0.9)" % (sub_rate / raw))
    print("certification / sub-enrollment = %.2f (aim: >= 0.85: the identity check costs "
          "certification no more than 15 %%)" % (cer_rate / sub_rate))


def report_subenroll(raw, sub_rate, sub_lat, sub_bad, cer_rate, cer_lat, cer_bad, status):
    head_rows(raw, sub_rate, sub_lat, cer_rate, cer_lat)
    for what, bad in (("subenroll", sub_bad), ("certify", cer_bad)):
        if bad:
            print("note (%s): %d non-200 answers, first: %s" % (what, len(bad), bad[0]))
    ratio_lines(raw, sub_rate, cer_rate)
    print("appliance counters after the run: " + status.strip())
    if sub_bad or cer_bad:
        sys.exit(1)


if __name__ == "__main__":
    main()
