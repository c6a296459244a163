#!/usr/bin/env bash
# tools/run.sh BOARD [NAME] — boot the built firmware with the console on this terminal.
#   vexpress-a9: QEMU, UART0 on the terminal, UART1 to the token, the NV store on pflash 0,
#                QEMU's user network on the LAN9118.
#   host:        the Linux process, HSM link on the token's socket, the NV store in a file.
# Every appliance has its own test token (SoftHSM2 behind `p11-kit server`, created on first run,
# started before the board and stopped when it exits), NV store and forwarded ports:
#   no NAME:   token build/token, NV store build/BOARD/nv.img, HTTPS 127.0.0.1:8443 -> 443 and
#              plain HTTP 127.0.0.1:8080 -> 80 (SIGNET_HTTPS_PORT / SIGNET_HTTP_PORT change them);
#   NAME=lic1: token build/run/lic1/token, NV store build/run/lic1/nv-BOARD.img, and a pair of
#              free ports chosen on its first run and kept in build/run/lic1/ports.
# One appliance of a name runs at a time: a second start is refused and touches nothing of the
# first. Either way, Ctrl-A then X quits.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
board=${1:-vexpress-a9}
name=${2:-}
cd "$top"

die() {
    echo "run: error: $*" >&2
    exit 1
}

case "$board" in
vexpress-a9 | host) ;;
*)
    echo "run: unknown board '$board' (host or vexpress-a9)" >&2
    exit 2
    ;;
esac

# Is anything listening on 127.0.0.1:PORT?
port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Ports recorded by the other named appliances, so two of them never pick the same pair.
ports_taken() {
    cat build/run/*/ports 2>/dev/null | tr ' ' '\n' || true
}

if [ -z "$name" ]; then
    label=default
    token_dir=build/token
    nv=build/$board/nv.img
    https_port=${SIGNET_HTTPS_PORT:-8443}
    http_port=${SIGNET_HTTP_PORT:-8080}
else
    # The name becomes a directory: a short, plain word.
    [[ "$name" =~ ^[a-z0-9][a-z0-9-]{0,31}$ ]] ||
        die "NAME is 1-32 lower-case letters, digits or '-' (got '$name')"
    label=$name
    inst=build/run/$name
    token_dir=$inst/token
    nv=$inst/nv-$board.img
    mkdir -p "$inst"
    if [ ! -s "$inst/ports" ]; then
        taken=" $(ports_taken | xargs) "
        for i in $(seq 1 99); do
            hs=$((8443 + i)) hp=$((8080 + i))
            [[ "$taken" == *" $hs "* || "$taken" == *" $hp "* ]] && continue
            port_busy "$hs" || port_busy "$hp" || {
                echo "$hs $hp" >"$inst/ports"
                break
            }
        done
        [ -s "$inst/ports" ] || die "no free port pair in 8444-8542 / 8081-8179"
    fi
    read -r saved_https saved_http <"$inst/ports"
    https_port=${SIGNET_HTTPS_PORT:-$saved_https}
    http_port=${SIGNET_HTTP_PORT:-$saved_http}
fi

# One run per appliance: the lock is held until this script exits, so a second `make run` of
# the same name stops here instead of restarting the first one's token server under it.
mkdir -p "$token_dir"
exec 9>"$token_dir/run.lock"
flock -n 9 || die "appliance '$label' is already running (its token: $token_dir); quit it first, or start another with make run NAME=OTHER"

for p in "$https_port" "$http_port"; do
    port_busy "$p" && die "127.0.0.1:$p is in use by another program; set SIGNET_HTTPS_PORT / SIGNET_HTTP_PORT"
done

tools/token.sh init "$token_dir"
# Holding the lock, a server still recorded for this token is a leftover of a run that was
# killed: stop it. The server does not inherit the lock (fd 9), the board does.
tools/token.sh stop "$token_dir"
tools/token.sh start "$token_dir" 9>&-
trap 'tools/token.sh stop "$token_dir"' EXIT
sock=$token_dir/p11kit.sock
fwd_https="127.0.0.1:$https_port-:443"
fwd_http="127.0.0.1:$http_port-:80"
echo "run: appliance '$label': token SoftHSM2 via p11-kit server on $sock"
echo "run: HTTPS at https://127.0.0.1:$https_port/ (after 'login'; self-signed: check 'tls fingerprint')"
echo "run: plain health check at http://127.0.0.1:$http_port/health"

case "$board" in
vexpress-a9)
    elf=build/vexpress-a9/signet.elf
    [ -f "$elf" ] || die "$elf missing; run make BOARD=vexpress-a9"
    # The pflash device must be backed by exactly its 64 MiB; a sparse file costs nothing.
    [ -f "$nv" ] || truncate -s 64M "$nv"
    echo "run: booting $elf in QEMU (vexpress-a9); NV store $nv"
    echo "run: Ctrl-A then X quits QEMU; Ctrl-A then C toggles the QEMU monitor"
    # UART1 is a socket chardev: QEMU connects to the server and reconnects if it restarts.
    qemu-system-arm -M vexpress-a9 -m 128M -display none \
        -nic user,model=lan9118,hostfwd=tcp:"$fwd_https",hostfwd=tcp:"$fwd_http" \
        -audiodev none,id=noaudio \
        -kernel "$elf" \
        -drive if=pflash,index=0,format=raw,file="$nv" \
        -chardev socket,id=hsm,path="$sock",reconnect=1 \
        -serial mon:stdio -serial chardev:hsm \
        2> >(grep -v 'audiodev default parameter is deprecated' >&2)
    ;;
host)
    bin=build/host/signet
    [ -x "$bin" ] || die "$bin missing; run make BOARD=host"
    echo "run: starting $bin; NV store $nv"
    echo "run: Ctrl-A then X quits"
    "$bin" --nv "$nv" --hsm "$sock" --hostfwd "$fwd_https" --hostfwd "$fwd_http"
    ;;
esac
