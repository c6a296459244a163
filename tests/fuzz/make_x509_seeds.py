#!/usr/bin/env python3
"""Seed corpora for the certificate fuzzers, made with the openssl command line.

A Signet hierarchy (root, server licensor certificate, a rights account certificate with a
CRL distribution point and signetVia, licenses, a CKEK certificate), two PKCS#10 requests and a
few public keys, written as DER into
tests/fuzz/corpus/{x509,csr,spki,tls_peer}/ and the root as tests/fuzz/x509_anchor.der (the
anchor fuzz_x509 verifies chains against). The keys are made in a temporary directory and
deleted with it: only public certificates, requests and keys are kept. Run it again to renew
the seeds (the certificates are valid for 20 years from the day they are made).

    python3 tests/fuzz/make_x509_seeds.py
"""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
ARC = "1.2.840.113556.1.8000.2554.23324.11786.32063.19041.40078.3099501.9051703"
ARC_DER = bytes.fromhex("2a864886f71401be40937a81b61cdc0a81fa3f81946182b90e81bd966d84a8bc37")


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        head = bytes([tag, n])
    elif n < 0x100:
        head = bytes([tag, 0x81, n])
    else:
        head = bytes([tag, 0x82, n >> 8, n & 0xFF])
    return head + body


def oid(*arcs):
    return tlv(0x06, ARC_DER + bytes(arcs))


def rights(bits):
    return tlv(0x30, b"".join(oid(2, i + 1) for i in range(4) if bits & (1 << i)))


def product(sku, version):
    return tlv(0x30, tlv(0x0C, sku.encode()) + tlv(0x0C, version.encode()))


def grant(user, octet, unused):
    return tlv(0x30, tlv(0x0C, user.encode()) + tlv(0x03, bytes([unused, octet])))


def content(owner, grants):
    return tlv(0x30, tlv(0x04, bytes(range(16))) + tlv(0x0C, owner.encode()) +
               tlv(0x04, bytes([0x5A]) * 256) + tlv(0x30, b"".join(grants)))


def run(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ext_file(tmp, name, lines):
    path = os.path.join(tmp, name + ".ext")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def cert(tmp, name, key, issuer, ext):
    """name.der signed by issuer (a (cert, key) pair) or self-signed when issuer is None."""
    run("openssl", "req", "-new", "-key", key, "-subj", f"/CN={name}/O=Signet fuzz", "-out",
        name + ".csr", cwd=tmp)
    common = ["-days", "7300", "-sha256", "-extfile", ext, "-set_serial",
              str(0x4000 + len(os.listdir(tmp))), "-outform", "DER", "-out", name + ".der"]
    if issuer is None:
        run("openssl", "x509", "-req", "-in", name + ".csr", "-signkey", key, *common, cwd=tmp)
    else:
        run("openssl", "x509", "-req", "-in", name + ".csr", "-CA", issuer[0], "-CAform", "DER",
            "-CAkey", issuer[1], *common, cwd=tmp)
    with open(os.path.join(tmp, name + ".der"), "rb") as f:
        return f.read()


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def framed(*ders):
    return b"".join(struct.pack(">H", len(d)) + d for d in ders)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for k in ("root", "slc", "leaf"):
            run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-out", k + ".key", cwd=tmp)
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
            "-out", "rsa.key", cwd=tmp)
        run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024",
            "-out", "rsa1024.key", cwd=tmp)
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384",
            "-out", "p384.key", cwd=tmp)

        def der_ext(arc, value):
            return f"{ARC}.{arc} = DER:{value.hex()}"

        ca = ["basicConstraints = critical,CA:TRUE", "keyUsage = critical,keyCertSign,cRLSign",
              "subjectKeyIdentifier = hash"]
        root = cert(tmp, "root", "root.key", None, ext_file(tmp, "root", ca + [
            der_ext(1, rights(0xF))]))
        slc = cert(tmp, "slc", "slc.key", ("root.der", "root.key"), ext_file(tmp, "slc", ca + [
            "authorityKeyIdentifier = keyid", der_ext(1, rights(0xE)),
            der_ext(3, product("SIG-100", "1.0")),
            der_ext(4, tlv(0x30, open_spki(tmp, "rsa.key"))),
            "subjectAltName = URI:https://10.0.2.15/v1"]))
        issuer = ("slc.der", "slc.key")
        leaf = ["basicConstraints = critical,CA:FALSE", "authorityKeyIdentifier = keyid"]
        rac = cert(tmp, "rac", "rsa.key", issuer, ext_file(tmp, "rac", leaf + [
            "keyUsage = critical,keyEncipherment,digitalSignature", der_ext(5, oid(5, 1)),
            "crlDistributionPoints = URI:https://10.0.2.15/v1/crl",
            der_ext(7, tlv(0x04, bytes([0x4C]) + bytes(range(1, 16))))]))
        pl = cert(tmp, "pl", "leaf.key", issuer, ext_file(tmp, "pl", leaf + [
            der_ext(5, oid(5, 2)),
            der_ext(6, content("alice", [grant("alice", 0xFC, 2), grant("bob", 0x80, 7)]))]))
        ul = cert(tmp, "ul", "leaf.key", issuer, ext_file(tmp, "ul", leaf + [
            der_ext(5, oid(5, 3)), der_ext(6, content("alice", [grant("bob", 0xA0, 5)]))]))
        ckek = cert(tmp, "ckek", "rsa.key", issuer, ext_file(tmp, "ckek", leaf + [
            "keyUsage = critical,keyEncipherment", der_ext(5, oid(5, 4))]))
        https = cert(tmp, "https", "leaf.key", None, ext_file(tmp, "https", [
            "basicConstraints = critical,CA:FALSE", "extendedKeyUsage = serverAuth,clientAuth",
            "subjectAltName = URI:https://10.0.2.15/"]))

        with open(os.path.join(HERE, "x509_anchor.der"), "wb") as f:
            f.write(root)
        # fuzz_x509: first byte even reads one certificate, odd verifies a framed chain.
        for name, der in (("root", root), ("slc", slc), ("rac", rac), ("pl", pl), ("ul", ul),
                          ("ckek", ckek), ("https", https)):
            write("x509", "read-" + name, b"\x00" + der)
            write("tls_peer", name + ".der", der)
        for name, ders in (("slc", (slc,)), ("rac", (rac, slc)), ("pl", (pl, slc)),
                           ("ul", (ul, slc, root)), ("ckek", (ckek, slc))):
            write("x509", "chain-" + name, b"\x01\x00" + framed(*ders))

        for name, key in (("rsa", "rsa.key"), ("p256", "leaf.key")):
            run("openssl", "req", "-new", "-key", key, "-subj", "/CN=alice", "-sha256",
                "-outform", "DER", "-out", name + ".req", cwd=tmp)
            with open(os.path.join(tmp, name + ".req"), "rb") as f:
                write("csr", name + ".der", f.read())
        for name, key in (("rsa2048", "rsa.key"), ("rsa1024", "rsa1024.key"),
                          ("p256", "leaf.key"), ("p384", "p384.key")):
            write("spki", name + ".der", open_spki(tmp, key))
    return 0


def open_spki(tmp, key):
    out = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], cwd=tmp,
                         check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    return out


if __name__ == "__main__":
    sys.exit(main())
