"""Host names (R22) on the host board: resolvers from `net set dns` (kept across a reboot) or
DHCP, enrollment, renewal, sub-enrollment and forwarded certification by name against dnsmasq,
and names that do not resolve — no such name, a resolver that does not answer — each failing
with a one-line reason within a bounded time and changing nothing."""
import os
import re
import time

from enrollment import Authority, prepare_appliance, slc_show, trust
from harness import PROMPT, check
from hsm import Token, console_login
from nameserver import Dnsmasq, Silent
from netboard import host_on_network
from rights import HOST, Org, licensing_prepare, online, split_bundle, openssl_verify, tls_fingerprint


def dns_line(con):
    m = re.search(r"^dns: +(.*)$", con.command("net show"), re.M)
    return m.group(1) if m else None


def test_enrollment_renewal_and_sub_enrollment_by_name(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    root_tok = Token(os.path.join(tmp, "root1"))
    root = host_on_network(tmp, root_tok, nv="root.img")
    lic_tok = Token(os.path.join(tmp, "lic1"))
    lic = host_on_network(tmp, lic_tok, nv="lic.img")
    dns = Dnsmasq(tmp, {"authority.corp.test": HOST, "root.corp.test": HOST})

    # DHCP's resolver until the operator names one; then theirs, kept in NV.
    check(dns_line(root.con) == "10.0.2.3 (from DHCP)", "net show: %r" % dns_line(root.con),
          root.con)
    prepare_appliance(root.con)
    trust(root.con, auth)
    out = root.con.command("net set dns " + dns.server)
    check("dns: " + dns.server in out, "net set dns: %r" % out, root.con)
    check(dns_line(root.con) == dns.server + " (set)", "net show: %r" % dns_line(root.con),
          root.con)
    check(root.con.command("net resolve authority.corp.test").strip() == HOST, "net resolve",
          root.con)

    # The root enrolls and renews with the authority by name.
    out = online(root.con, "http://authority.corp.test:%d" % port)
    check("SLC installed for 'root1'" in out, "enroll online by name: %r" % out, root.con)
    check(dns.queried("authority.corp.test"), "dnsmasq was never asked for the name", root.con)
    old, _ = slc_show(root.con)
    out = root.con.command("renew online http://authority.corp.test:%d" % port, 60)
    check("renew online: SLC renewed for 'root1'" in out, "renew online: %r" % out, root.con)
    check(slc_show(root.con)[0]["serial"] != old["serial"], "the renewal changed nothing",
          root.con)

    # The licensing server sub-enrolls to its root by name; the name is its root URL, where
    # certification requests are forwarded and the root's CRL is fetched from.
    licensing_prepare(lic.con, auth)
    out = lic.con.command("net set dns " + dns.server)
    check("dns: " in out, "net set dns: %r" % out, lic.con)
    fp = tls_fingerprint(lic.con)
    check("granted" in root.con.command("acl grant %s lic1" % fp), "acl grant", root.con)
    root_url = "https://root.corp.test:%d" % root.https_port
    out = online(lic.con, root_url)
    check("SLC installed for 'lic1'" in out, "sub-enrollment by name: %r" % out, lic.con)
    check("root URL:    " + root_url in lic.con.command("config show"), "root url", lic.con)
    check(dns.queried("root.corp.test"), "dnsmasq was never asked for the root's name", lic.con)
    org = Org(tmp, root.con, lic.con)
    alice = org.client("alice@contoso.example", {lic.https_port: fp})
    alice.keygen()
    rc, out = alice.certify(lic.https_port)  # forwarded to https://root.corp.test:PORT
    check(rc == 0, "certification forwarded by name: %s" % out, lic.con)
    certs = split_bundle(alice.rac, tmp, "rac-alice")
    openssl_verify(auth.root_pem, certs[0], certs[1:], lic.con)

    # The setting survives a reboot.
    root.con.send("reboot\n")
    root.con.expect("boot #2", 30)
    root.con.expect(PROMPT, 30)
    check(dns_line(root.con) == dns.server + " (set)", "after reboot: %r" % dns_line(root.con),
          root.con)
    console_login(root.con)
    out = root.con.command("net set dns dhcp")
    check("dns: from DHCP" in out, "net set dns dhcp: %r" % out, root.con)
    deadline = time.monotonic() + 10
    while dns_line(root.con) != "10.0.2.3 (from DHCP)":
        check(time.monotonic() < deadline, "DHCP's resolver is not back: %r" % dns_line(root.con),
              root.con)
        time.sleep(0.3)
    audit = root.con.command("audit show")
    check("net set dns " + dns.server in audit and "net set dns dhcp" in audit,
          "the DNS settings are not audited:\n" + audit, root.con)
    auth.close()


def test_names_that_do_not_resolve(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    tok = Token(tmp)
    nb = host_on_network(tmp, tok)
    con = nb.con
    dns = Dnsmasq(tmp, {"authority.corp.test": HOST})
    silent = Silent()
    prepare_appliance(con)
    trust(con, auth)

    # What the operator types wrong is refused before anything is sent, and nothing is stored.
    for bad in ("10.0.2.256", "10.0.2.2:0", "224.0.0.1", "10.0.2.2,10.0.2.3,10.0.2.4", "name.test"):
        out = con.command("net set dns " + bad)
        check(out.startswith("error: "), "net set dns %s: %r" % (bad, out), con)
    check(dns_line(con) == "10.0.2.3 (from DHCP)", "a refused setting changed: %r" %
          dns_line(con), con)
    out = con.command("enroll online http://bad_name.test:%d" % port)
    check(out.startswith("error: the URL must be http[s]://HOST[:PORT]"), out, con)
    out = con.command("net resolve -bad-.test")
    check(out.startswith("error: not a host name"), out, con)

    # No such name: the resolver says so, at once.
    con.command("net set dns " + dns.server)
    t0 = time.monotonic()
    out = con.command("enroll online http://nothere.corp.test:%d" % port, 30)
    check("error: cannot resolve nothere.corp.test: no such name (NXDOMAIN), says the DNS server "
          "(10.0.2.2); nothing changed" in out, "no such name: %r" % out, con)
    check(time.monotonic() - t0 < 5, "NXDOMAIN took %.1f s" % (time.monotonic() - t0), con)
    check("enroll online: failed: cannot resolve nothere.corp.test" in con.command("audit show 3"),
          "the failure is not audited", con)
    check("none installed" in con.command("slc show"), "a failed enrollment changed the SLC", con)

    # A resolver that never answers: a one-line reason within the bound (4 s per server).
    con.command("net set dns " + silent.server)
    for cmd in ("net resolve authority.corp.test", "enroll online http://authority.corp.test:%d"
                % port):
        t0 = time.monotonic()
        out = con.command(cmd, 30)
        took = time.monotonic() - t0
        check("error: cannot resolve authority.corp.test: no answer from the DNS server "
              "(10.0.2.2)" in out, "%s: %r" % (cmd, out), con)
        check(2 < took < 11, "%s: the lookup failed after %.1f s" % (cmd, took), con)
    # A dead first resolver, a good second: the answer comes from the second.
    con.command("net set dns %s,%s" % (silent.server, dns.server))
    out = online(con, "http://authority.corp.test:%d" % port)
    check("SLC installed for 'root1'" in out, "with a dead first resolver: %r" % out, con)
    auth.close()
