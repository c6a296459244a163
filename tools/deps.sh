#!/usr/bin/env bash
# tools/deps.sh — everything Signet needs from outside, fetched, never vendored (README).
#
# 1. Installs the Debian packages the build and tests use, when any is missing.
# 2. Fetches the upstream sources of mbedTLS 3.6, lwIP 2.2 and expat 2.x as Debian source packages
#    with a private apt configuration under build/deps/apt (own sources list, lists, cache), so the
#    machine's apt configuration is never touched, and unpacks them under build/deps/src.
# 3. Records what was fetched (version, upstream tarball, SHA-256) in build/deps/sources.lock and
#    prints it. A second run finds everything in place and changes nothing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
deps="$top/build/deps"
apt_dir="$deps/apt"
src_dir="$deps/src"
lock="$deps/sources.lock"

PACKAGES=(
    gcc make python3 git clang libclang-rt-14-dev
    gcc-arm-none-eabi picolibc-arm-none-eabi binutils-arm-none-eabi
    qemu-system-arm
    softhsm2 p11-kit libp11-kit-dev opensc openssl curl wrk
    libslirp-dev libssl-dev libcurl4-openssl-dev libengine-pkcs11-openssl python3-cryptography gnutls-bin
    dnsmasq-base chrony faketime python3-prometheus-client rsyslog rsyslog-relp
    dpkg-dev xz-utils bzip2 ca-certificates debian-archive-keyring
)

# Source package, the upstream series we build against, and the suites to look in (newest first).
# expat: the newest trixie upload is not always on the mirror yet, so bookworm's patched 2.x is
# the fallback; any version within the series is acceptable.
SOURCES=(
    "mbedtls ^3\.6\."
    "lwip ^2\.2\."
    "expat ^2\."
)
SUITES=(trixie bookworm)

die() {
    echo "deps: error: $*" >&2
    exit 1
}

# ---- 1. Debian packages ----
missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    echo "deps: installing missing packages: ${missing[*]}"
    if [ "$(id -u)" != 0 ]; then
        die "missing packages ${missing[*]}: run as root or install them with apt-get"
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed (is the Debian archive reachable?)"
    # Servers the tests start themselves (chronyd, and later others) must not also start as
    # system services: a chronyd of the machine's would set its clock. Debian's policy-rc.d
    # says "do not start" to every package's scripts for the length of the install.
    policy=/usr/sbin/policy-rc.d
    own_policy=false
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
    fi
    rc=0
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
    if $own_policy; then rm -f "$policy"; fi
    ((rc == 0)) || die "apt-get install failed for: ${missing[*]}"
fi

# ---- 2. upstream sources ----
lock_ok() {
    [ -s "$lock" ] || return 1
    local pkg ver tarball sum
    for entry in "${SOURCES[@]}"; do
        read -r pkg _ <<<"$entry"
        grep -q "^$pkg " "$lock" || return 1
    done
    while read -r pkg ver tarball sum; do
        [ -d "$src_dir/$pkg" ] || return 1
        [ -f "$apt_dir/files/$tarball" ] || return 1
        [ "$(sha256sum "$apt_dir/files/$tarball" | cut -d' ' -f1)" = "$sum" ] || return 1
    done <"$lock"
}

if lock_ok; then
    echo "deps: packages present; sources already fetched ($lock):"
    sed 's/^/  /' "$lock"
    exit 0
fi

# The archive's address comes from the machine's own apt configuration.
archive_uri() {
    local uri=""
    if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
        uri=$(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null |
            grep -v -- '-security' | grep '/debian/\?$' | head -n1 || true)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' \
            /etc/apt/sources.list)
    fi
    [ -n "$uri" ] || die "no Debian archive URI found in /etc/apt/sources.list{,.d}"
    echo "${uri%/}"
}

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring missing (package debian-archive-keyring)"
uri=$(archive_uri)

mkdir -p "$apt_dir"/{etc,lists/partial,cache/archives/partial,files} "$src_dir"
: >"$apt_dir/etc/sources.list"
for s in "${SUITES[@]}"; do
    echo "deb-src [signed-by=$keyring] $uri $s main" >>"$apt_dir/etc/sources.list"
done
: >"$apt_dir/etc/preferences"
APT_OPTS=(
    -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list"
    -o "Dir::Etc::SourceParts=/nonexistent"
    -o "Dir::Etc::Preferences=$apt_dir/etc/preferences"
    -o "Dir::Etc::PreferencesParts=/nonexistent"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "Dir::State::status=/var/lib/dpkg/status"
    -o "APT::Sandbox::User=root"
    -o "Debug::NoLocking=1"
)

echo "deps: updating private source index ($apt_dir) from $uri (${SUITES[*]})"
apt-get "${APT_OPTS[@]}" -qq update >"$apt_dir/update.log" 2>&1 ||
    die "apt-get update with the private configuration failed; see $apt_dir/update.log"

# Try each version within the series, newest first, until one downloads.
fetch_one() {
    local pkg=$1 series=$2 ver
    local versions
    versions=$(apt-cache "${APT_OPTS[@]}" showsrc "$pkg" 2>/dev/null |
        awk -v p="$pkg" '/^Package:/ {cur = $2} /^Version:/ && cur == p {print $2}' | sort -u)
    local candidates=()
    while read -r ver; do
        [ -n "$ver" ] || continue
        local upstream=${ver#*:}
        upstream=${upstream%-*}
        [[ $upstream =~ $series ]] && candidates+=("$ver")
    done <<<"$versions"
    ((${#candidates[@]})) || die "no $pkg source in series '$series' in suites ${SUITES[*]}"
    local sorted
    sorted=$(printf '%s\n' "${candidates[@]}" | sort -V -r)
    for ver in $sorted; do
        (cd "$apt_dir/files" && apt-get "${APT_OPTS[@]}" -qq source --download-only "$pkg=$ver" \
            >>"$apt_dir/source.log" 2>&1) && {
            echo "$ver"
            return 0
        }
        echo "deps: $pkg $ver not downloadable, trying an older one" >&2
    done
    die "could not download any $pkg source in series '$series'; see $apt_dir/source.log"
}

tmp_lock="$lock.tmp"
: >"$tmp_lock"
for entry in "${SOURCES[@]}"; do
    read -r pkg series <<<"$entry"
    ver=$(fetch_one "$pkg" "$series")
    dsc="$apt_dir/files/${pkg}_${ver#*:}.dsc"
    [ -f "$dsc" ] || die "$dsc missing after download"
    upstream=${ver#*:}
    upstream=${upstream%-*}
    tarball=$(cd "$apt_dir/files" && ls "${pkg}_${upstream}.orig.tar."* 2>/dev/null | head -n1)
    [ -n "$tarball" ] || die "no upstream tarball for $pkg $ver"
    rm -rf "$src_dir/$pkg" "$src_dir/$pkg.tmp"
    # dpkg-source checks every file against the .dsc and applies Debian's patches (security fixes).
    dpkg-source -x "$dsc" "$src_dir/$pkg.tmp" >"$apt_dir/extract-$pkg.log" 2>&1 ||
        die "unpacking $dsc failed; see $apt_dir/extract-$pkg.log"
    mv "$src_dir/$pkg.tmp" "$src_dir/$pkg"
    sum=$(sha256sum "$apt_dir/files/$tarball" | cut -d' ' -f1)
    echo "$pkg $ver $tarball $sum" >>"$tmp_lock"
done
mv "$tmp_lock" "$lock"
echo "deps: fetched upstream sources ($lock):"
sed 's/^/  /' "$lock"
