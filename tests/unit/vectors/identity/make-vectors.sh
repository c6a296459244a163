#!/bin/sh
# Regenerate the identity certificate vectors (tests/unit/vectors/identity/*.pem) with openssl.
# Keys live only in a temporary directory that is deleted at the end: no key is ever committed.
# Dates are fixed (openssl ca -startdate/-enddate) so that the unit tests can use a fixed "now"
# (2026-06-01): the valid window is 2025-01-01 .. 2045-01-01 unless a case is about dates.
# Each run makes new keys, hence new certificates and fingerprints; commit them all together.
# See README.md in this directory for what each file is for.
set -eu
out=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"

START=20250101000000Z
END=20450101000000Z
serial=4096

cat >ca.cnf <<'CNF'
[ca]
default_ca = c
[c]
database = index.txt
new_certs_dir = issued
serial = serial
policy = pol
unique_subject = no
copy_extensions = none
default_md = sha256
[pol]
commonName = supplied
organizationName = optional
[ca_root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ca_issuing]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
: >index.txt; mkdir issued

key_rsa() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
key_ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# sign NAME SUBJ KEY ISSUER(-|name) EXTSECTION-FILE START END MD
sign() {
    name=$1 subj=$2 key=$3 issuer=$4 ext=$5 from=$6 to=$7 md=$8
    serial=$((serial + 1))
    printf '%X\n' "$serial" >serial
    openssl req -new -key "$key" -subj "$subj" -utf8 -out "$name.csr"
    if [ "$issuer" = - ]; then
        set -- -selfsign -keyfile "$key"
    else
        set -- -cert "$issuer.pem" -keyfile "$issuer.key"
    fi
    [ "$name" = user-pss ] && set -- "$@" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32
    openssl ca -batch -config ca.cnf -notext -utf8 -md "$md" -startdate "$from" -enddate "$to" \
        -extfile "$ext" -extensions x "$@" -in "$name.csr" -out "$name.pem" 2>"$name.err" || { cat "$name.err" >&2; exit 1; }
}

ext_ca() { printf '[x]\n' >"$1.ext"; sed -n "/^\[$2\]/,/^$/p" ca.cnf | sed 1d >>"$1.ext"; }

# A user certificate: NAME SUBJ ISSUER SAN [EKU [KU [BC]]] ; "" omits an extension.
user() {
    name=$1 subj=$2 issuer=$3 san=$4
    eku=${5-clientAuth} ku=${6-critical, digitalSignature} bc=${7-CA:false}
    {
        echo '[x]'
        [ -n "$bc" ] && echo "basicConstraints = $bc"
        [ -n "$ku" ] && echo "keyUsage = $ku"
        [ -n "$eku" ] && echo "extendedKeyUsage = $eku"
        [ -n "$san" ] && echo "subjectAltName = $san"
        echo 'subjectKeyIdentifier = hash'
        echo 'authorityKeyIdentifier = keyid'
    } >"$name.ext"
    key_ec "$name.key"
    sign "$name" "$subj" "$name.key" "$issuer" "$name.ext" "${FROM:-$START}" "${TO:-$END}" "${MD:-sha256}"
}

UPN=1.3.6.1.4.1.311.20.2.3

# The CAs.
key_rsa contoso-root-ca.key
ext_ca contoso-root-ca ca_root
sign contoso-root-ca "/CN=Contoso Users CA/O=Contoso" contoso-root-ca.key - contoso-root-ca.ext $START $END sha256
key_rsa contoso-issuing-ca.key
ext_ca contoso-issuing-ca ca_issuing
sign contoso-issuing-ca "/CN=Contoso Issuing CA/O=Contoso" contoso-issuing-ca.key contoso-root-ca \
    contoso-issuing-ca.ext $START $END sha256
key_ec fabrikam-ca.key
ext_ca fabrikam-ca ca_root
sign fabrikam-ca "/CN=Fabrikam Users CA/O=Fabrikam" fabrikam-ca.key - fabrikam-ca.ext $START $END sha256
key_rsa evil-ca.key
ext_ca evil-ca ca_root
sign evil-ca "/CN=Evil CA" evil-ca.key - evil-ca.ext $START $END sha256
key_ec expired-ca.key
ext_ca expired-ca ca_root
sign expired-ca "/CN=Old Contoso Users CA/O=Contoso" expired-ca.key - expired-ca.ext \
    20200101000000Z 20210101000000Z sha256

# The users that are accepted.
user user-alice "/CN=alice/O=Contoso" contoso-root-ca "email:alice@contoso.example"
user user-bob-upn "/CN=bob/O=Contoso" contoso-issuing-ca "otherName:$UPN;UTF8:bob@contoso.example"
user user-carol-ec "/CN=carol/O=Fabrikam" fabrikam-ca "email:carol@fabrikam.example"
user user-no-eku "/CN=noeku" contoso-root-ca "email:noeku@contoso.example" ""
user user-any-eku "/CN=anyeku" contoso-root-ca "email:anyeku@contoso.example" \
    "anyExtendedKeyUsage"
user user-email-and-same-upn "/CN=alice" contoso-root-ca \
    "email:alice@contoso.example, otherName:$UPN;UTF8:alice@Contoso.Example"
user user-mixed-case "/CN=Alice" contoso-root-ca "email:Alice.Smith@Contoso.EXAMPLE"

# The users that are refused.
FROM=20200101000000Z TO=20210101000000Z \
    user user-expired "/CN=expired" contoso-root-ca "email:expired@contoso.example"
FROM=20400101000000Z TO=20450101000000Z \
    user user-not-yet-valid "/CN=future" contoso-root-ca "email:future@contoso.example"
user user-eku-serverauth "/CN=server" contoso-root-ca "email:server@contoso.example" serverAuth
user user-ku-keyencipherment "/CN=kex" contoso-root-ca "email:kex@contoso.example" clientAuth \
    "critical, keyEncipherment"
user user-no-san "/CN=nosan@contoso.example" contoso-root-ca ""
user user-two-emails "/CN=two" contoso-root-ca "email:alice@contoso.example, email:bob@contoso.example"
user user-email-and-upn "/CN=alice" contoso-root-ca \
    "email:alice@contoso.example, otherName:$UPN;UTF8:mallory@contoso.example"
user user-is-ca "/CN=caalice" contoso-root-ca "email:caalice@contoso.example" clientAuth \
    "critical, digitalSignature, keyCertSign" "critical, CA:true"
MD=sha1 user user-sha1 "/CN=sha1" contoso-root-ca "email:sha1@contoso.example"
user user-name-space "/CN=space" contoso-root-ca "email:alice smith@contoso.example"
user user-name-nonascii "/CN=jose" contoso-root-ca "otherName:$UPN;UTF8:josé@contoso.example"
long=$(printf 'a%.0s' $(seq 1 52))@contoso.example # 52 + 1 + 16 = 69 > 64
user user-name-long "/CN=long" contoso-root-ca "email:$long"
user user-evil-alice "/CN=alice/O=Contoso" evil-ca "email:alice@contoso.example"

# Northwind: path length, a CA that may not sign, an expired source, other signature schemes.
key_rsa northwind-root-ca.key
ext_ca northwind-root-ca ca_root
sign northwind-root-ca "/CN=Northwind Users CA/O=Northwind" northwind-root-ca.key - \
    northwind-root-ca.ext $START $END sha256
key_rsa northwind-issuing-ca.key
ext_ca northwind-issuing-ca ca_issuing
sign northwind-issuing-ca "/CN=Northwind Issuing CA/O=Northwind" northwind-issuing-ca.key \
    northwind-root-ca northwind-issuing-ca.ext $START $END sha256
key_ec northwind-rogue-ca.key
ext_ca northwind-rogue-ca ca_root
sign northwind-rogue-ca "/CN=Northwind Rogue CA/O=Northwind" northwind-rogue-ca.key \
    northwind-issuing-ca northwind-rogue-ca.ext $START $END sha256
key_ec northwind-nosign-ca.key
printf '[x]\nbasicConstraints = critical, CA:true\nkeyUsage = critical, digitalSignature\n' \
    >northwind-nosign-ca.ext
sign northwind-nosign-ca "/CN=Northwind No-Sign CA" northwind-nosign-ca.key - \
    northwind-nosign-ca.ext $START $END sha256
key_ec northwind-old-ca.key
ext_ca northwind-old-ca ca_root
sign northwind-old-ca "/CN=Old Northwind CA/O=Northwind" northwind-old-ca.key - \
    northwind-old-ca.ext 20200101000000Z 20210101000000Z sha256
user user-dan-deep "/CN=dan/O=Northwind" northwind-rogue-ca "email:dan@northwind.example"
user user-old-ca "/CN=olga/O=Northwind" northwind-old-ca "email:olga@northwind.example"
MD=sha384 user user-sha384 "/CN=sha384" northwind-root-ca "email:sha384@northwind.example"
user user-pss "/CN=pss" northwind-root-ca "email:pss@northwind.example"

for f in [a-z]*.pem; do
    openssl x509 -in "$f" -out "$out/$f"
done
# What a TLS client sends for bob: the leaf, then its issuing CA.
cat "$out/user-bob-upn.pem" "$out/contoso-issuing-ca.pem" >"$out/user-bob-upn-chain.pem"
# dan's chain: his rogue CA, then the issuing CA whose path length (0) forbids it.
cat "$out/user-dan-deep.pem" "$out/northwind-rogue-ca.pem" "$out/northwind-issuing-ca.pem" \
    >"$out/user-dan-deep-chain.pem"
echo "wrote $(ls ./[a-z]*.pem | wc -l) certificates to $out (keys deleted)"
