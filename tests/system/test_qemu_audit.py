"""The audit ring on the appliance image (R24): the vexpress-a9 under QEMU keeps it in pflash
sectors 3..10, seals it with the audit key in the token over UART1, and after the power is
pulled the chain goes on; an export verifies offline against the authority root."""
import os
import re

from enrollment import Authority, prepare_appliance, trust
from harness import check
from hsm import Token, console_login
from netboard import qemu_on_network
from rights import HOST, online

BLOCK = re.compile(r"-----BEGIN SIGNET AUDIT EXPORT-----\n.*?-----END SIGNET AUDIT EXPORT-----\n",
                   re.S)


def test_qemu_audit_ring_verifies_across_a_power_cut_and_exports(tmp):
    auth = Authority(tmp)
    port = auth.serve()
    tok = Token(os.path.join(tmp, "root"))
    nb = qemu_on_network(tmp, tok)
    con = nb.con
    prepare_appliance(con, name="qroot")
    trust(con, auth)
    out = online(con, "http://%s:%d" % (HOST, port), 120)
    check("SLC installed" in out, "QEMU root enrollment: %r" % out, con)
    for i in range(20):
        check("bad time" in con.command("time set q%02d" % i, 30), "time set", con)
    out = con.command("audit verify", 120)
    m = re.match(r"audit verify: ok: entries 1\.\.(\d+)", out)
    check(m and "seals: 1, good" in out, "audit verify: %r" % out, con)
    first = int(m.group(1))
    check(re.search(r"audit:     entries 1\.\.\d+, 7 of 8 segments free, sealed to \d+",
                    con.command("status")), "status", con)
    con.close()  # the power pulled: QEMU killed, the pflash image keeps what was programmed

    nb = qemu_on_network(tmp, tok)
    con = nb.con
    console_login(con)
    out = con.command("audit verify", 120)
    m = re.match(r"audit verify: ok: entries 1\.\.(\d+)", out)
    check(m and int(m.group(1)) > first, "after the power cut: %r" % out, con)
    out = con.command("audit export", 300)
    block = BLOCK.search(out)
    check(block and "exported entries 1.." in out, "audit export: %r" % out[-300:], con)
    path = os.path.join(tmp, "export.txt")
    with open(path, "w") as f:
        f.write(block.group(0))
    rc, out = auth.run("audit-verify", path, "--anchor", auth.root_pem)
    check(rc == 0 and "of qroot's ring" in out, "audit-verify: %r" % out, con)
    con.close()
    auth.close()
    tok.close()
