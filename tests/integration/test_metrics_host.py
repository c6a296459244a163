"""GET /metrics (R25) on the host board: the Prometheus text format, read by Debian's
python3-prometheus-client parser, holding what /v1/status holds (issued by kind, refusals by
status, token link, TLS, heap, the audit log); open on port 80 only by default, then to one HTTPS
client certificate, then to nobody, each setting kept across a reboot and audited."""
import http.client
import json
import os
import subprocess

from enrollment import enrolled_root
from harness import PROMPT, check
from hsm import console_login
from netboard import http_get, https_context, https_get
from rights import Client, Org, tls_fingerprint

# Debian's parser, run by Debian's interpreter (the one its python3-* packages are for).
PARSE = ("import sys, json\n"
         "from prometheus_client.parser import text_string_to_metric_families\n"
         "out = {}\n"
         "for f in text_string_to_metric_families(sys.stdin.read()):\n"
         "    out[f.name] = {'type': f.type, 'samples': [[s.name, s.labels, s.value]\n"
         "                                            for s in f.samples]}\n"
         "print(json.dumps(out))\n")


def parse(text, con=None):
    res = subprocess.run(["/usr/bin/python3", "-c", PARSE], input=text, capture_output=True,
                         text=True, timeout=30)
    check(res.returncode == 0, "the Prometheus parser refused the metrics:\n%s\n%s" %
          (res.stderr[-2000:], text[:2000]), con)
    return json.loads(res.stdout)


def value(fams, family, **labels):
    for name, got, v in fams[family]["samples"]:
        if got == labels:
            return v
    raise KeyError("%s%r" % (family, labels))


def scrape(port):
    """GET /metrics on the plain port: status, Content-Type, body."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", "/metrics")
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read().decode()
    finally:
        c.close()


def scraper_identity(tmp):
    os.makedirs(tmp, exist_ok=True)
    key, cert = os.path.join(tmp, "scraper.key"), os.path.join(tmp, "scraper.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "2", "-subj", "/CN=prometheus"], check=True, capture_output=True)
    fp = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", cert],
                        check=True, capture_output=True, text=True).stdout
    return cert, key, fp.strip().split("=", 1)[1]


def test_metrics_parse_and_match_status(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    org = Org(tmp, con)
    alice = org.client("alice@contoso.example")
    alice.keygen()
    rc, out = alice.certify(nb.https_port)
    check(rc == 0, "certify: " + out, con)
    stranger = Client(tmp, "mallory@contoso.example")  # no identity certificate: 401
    stranger.keygen()
    rc, out = stranger.certify(nb.https_port)
    check(rc != 0 and "401" in out, "the stranger: %s" % out, con)

    code, ctype, body = scrape(nb.http_port)
    check(code == 200 and ctype == "text/plain; version=0.0.4", "GET /metrics: %d %r" %
          (code, ctype), con)
    fams = parse(body, con)
    st = json.loads(https_get(nb.https_port, "/v1/status")[1])
    check(fams["signet_issued"]["type"] == "counter", "issued is not a counter", con)
    for kind, key in (("certification", "certified"), ("subenrollment", "subenrolled"),
                      ("publishing_license", "published"), ("use_license", "licensed")):
        check(value(fams, "signet_issued", kind=kind) == st["issued"][key],
              "issued %s: metrics %r, status %r" % (kind, value(fams, "signet_issued", kind=kind),
                                                    st["issued"][key]), con)
    check(value(fams, "signet_issued", kind="certification") == 1, "one RAC was issued", con)
    refused = sum(v for _, _, v in fams["signet_refused"]["samples"])
    check(refused == st["issued"]["refused"] and value(fams, "signet_refused", status="401") >= 1,
          "refusals: %r against %r" % (fams["signet_refused"], st["issued"]["refused"]), con)
    check(value(fams, "signet_token_link_up") == 1 and value(fams, "signet_token_logged_in") == 1
          and 0 < value(fams, "signet_token_calls") <= st["token"]["calls"],  # status came after
          "token: %r" % st["token"], con)
    check(value(fams, "signet_tls_handshakes") >= 2 and value(fams, "signet_serving") == 1 and
          value(fams, "signet_tls_heap_bytes") > 0, "tls / serving", con)
    check(value(fams, "signet_audit_entries") > 5 and
          value(fams, "signet_audit_ring_capacity_bytes") == 24 * 65536 and
          0 < value(fams, "signet_audit_ring_used_bytes") < 65536 and
          value(fams, "signet_audit_ring_free_segments") == 23 and
          value(fams, "signet_audit_ring_full") == 0 and
          value(fams, "signet_audit_unexported_entries") == value(fams, "signet_audit_entries") and
          value(fams, "signet_audit_lost") == 0, "audit", con)
    check(value(fams, "signet_slc_days_left") in (364, 365), "slc days", con)
    # Counters only grow between two scrapes.
    again = parse(scrape(nb.http_port)[2], con)
    check(value(again, "signet_http_requests") > value(fams, "signet_http_requests"),
          "http requests did not grow", con)
    # Not over HTTPS by default: the counters never go out over the users' port unasked.
    code, text = https_get(nb.https_port, "/metrics")
    check(code == 403 and text == "metrics are served on port 80 (config metrics)\n",
          "https /metrics by default: %d %r" % (code, text), con)
    auth.close()


def test_who_may_read_the_metrics(tmp):
    auth, tok, nb = enrolled_root(tmp)
    con = nb.con
    cert, key, fp = scraper_identity(tmp)
    out = con.command("config metrics https " + fp)
    check("metrics:   GET /metrics over HTTPS only, to the client " + fp in out,
          "config metrics https: %r" % out, con)
    code, text = https_get(nb.https_port, "/metrics", ctx=https_context(cert, key))
    check(code == 200 and "signet_token_link_up 1" in text, "the scraper: %d %r" % (code, text[:200]),
          con)
    parse(text, con)
    code, text = https_get(nb.https_port, "/metrics")
    check(code == 403 and "one client certificate" in text, "no certificate: %d %r" % (code, text),
          con)
    other_cert, other_key, _ = scraper_identity(os.path.join(tmp, "other"))
    code, _ = https_get(nb.https_port, "/metrics", ctx=https_context(other_cert, other_key))
    check(code == 403, "another certificate was let in", con)
    check(scrape(nb.http_port)[0] == 403, "port 80 still open", con)
    for bad in ("https", "https 12:34", "everyone", "open now"):
        out = con.command("config metrics " + bad)
        check(out.startswith("error: usage: config metrics"), "config metrics %s: %r" % (bad, out),
              con)
    # Kept across a reboot.
    con.send("reboot\n")
    con.expect("boot #2", 30)
    con.expect(PROMPT, 30)
    console_login(con)
    code, _ = https_get(nb.https_port, "/metrics", ctx=https_context(cert, key))
    check(code == 200, "after reboot the scraper got %d" % code, con)
    out = con.command("config metrics off")
    check("metrics:   off" in out, out, con)
    check(scrape(nb.http_port)[0] == 403 and
          https_get(nb.https_port, "/metrics", ctx=https_context(cert, key))[0] == 403,
          "off is not off", con)
    audit = con.command("audit show 10")
    check("config metrics https " + fp in audit and "config metrics off" in audit,
          "not audited:\n" + audit, con)
    check("open to anyone" in con.command("config metrics open"), "open", con)
    check(scrape(nb.http_port)[0] == 200, "open again", con)
    auth.close()
