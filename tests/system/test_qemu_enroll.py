"""Offline enrollment and renewal through the appliance image's serial console (QEMU): the SLC key
and every signature in the token over UART1, documents carried as armored text."""
import os

from enrollment import (Authority, export_request, openssl_verify, paste, prepare_appliance,
                        slc_show, trust)
from harness import BOOT_TIMEOUT, PROMPT, check, qemu_board
from hsm import Token


def test_qemu_offline_enrollment_then_renewal_by_files(tmp):
    auth = Authority(tmp)
    tok = Token(tmp)
    con = qemu_board(tmp, hsm_sock=tok.sock)
    con.expect(PROMPT, BOOT_TIMEOUT)
    prepare_appliance(con)
    trust(con, auth)
    # Offline: the request leaves on the console, the response comes back the same way.
    req, out = export_request(con)
    check("root1EnrollmentRequest.txt" in out, out, con)
    req_file = os.path.join(tmp, "root1EnrollmentRequest.txt")
    with open(req_file, "w") as f:
        f.write(req)
    rc, resp = auth.issue(req, "--days", "60")
    check(rc == 0, "signet-authority issue: " + resp, con)
    out = paste(con, "enroll import", resp, 120)
    check("enroll import: SLC installed for 'root1'" in out, "import: %r" % out, con)
    openssl_verify(tmp, con, auth)
    before, out = slc_show(con)
    check("59 days left" in out or "60 days left" in out, "60-day SLC: %r" % out, con)
    # Renewal by files: <server>RenewalRequest.txt out, the new SLC in.
    req, out = export_request(con, renewal=True)
    check("root1RenewalRequest.txt" in out, "renew export names the file: %r" % out, con)
    check("enrollment: renewal pending" in con.command("status"), "renewal pending", con)
    rc, resp = auth.issue(req)
    check(rc == 0, resp, con)
    out = paste(con, "renew import", resp, 120)
    check("renew import: SLC renewed for 'root1'" in out, "renew import: %r" % out, con)
    after, out = slc_show(con)
    check(after["serial"] != before["serial"] and
          ("364 days left" in out or "365 days left" in out), "after renewal: %r" % out, con)
    st = con.command("status")
    check("enrollment: enrolled" in st and ("364 days left" in st or "365 days left" in st),
          "status shows the new expiry at once: %r" % st, con)
    auth.close()
    tok.close()
