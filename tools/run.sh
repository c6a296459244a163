#!/usr/bin/env bash
# tools/run.sh BOARD — boot the built firmware with the console on this terminal.
#   vexpress-a9: QEMU, UART0 on the terminal, UART1 to the token, NV store build/vexpress-a9/nv.img,
#                QEMU's user network on the LAN9118.
# Both boards: 127.0.0.1:8443 forwards to the appliance's HTTPS port 443 and 127.0.0.1:8080 to its
# plain-HTTP port 80 (SIGNET_HTTPS_PORT / SIGNET_HTTP_PORT change them).
#   host:        the Linux process, HSM link on the token's socket, NV store build/host/nv.img.
# The test token (SoftHSM2 behind `p11-kit server`, build/token) is created on first run, started
# before the board and stopped when it exits. Either way, Ctrl-A then X quits.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
board=${1:-vexpress-a9}
cd "$top"

token_dir=build/token
tools/token.sh init "$token_dir"
tools/token.sh start "$token_dir"
trap 'tools/token.sh stop "$token_dir"' EXIT
sock=$token_dir/p11kit.sock
echo "run: token: SoftHSM2 via p11-kit server on $sock"

# The appliance's HTTPS port 443 (and plain /health on port 80) reached from this machine.
https_port=${SIGNET_HTTPS_PORT:-8443}
http_port=${SIGNET_HTTP_PORT:-8080}
fwd_https="127.0.0.1:$https_port-:443"
fwd_http="127.0.0.1:$http_port-:80"
echo "run: HTTPS at https://127.0.0.1:$https_port/ (after 'login'; self-signed: check 'tls fingerprint')"
echo "run: plain health check at http://127.0.0.1:$http_port/health"

case "$board" in
vexpress-a9)
    elf=build/vexpress-a9/signet.elf
    nv=build/vexpress-a9/nv.img
    [ -f "$elf" ] || { echo "run: $elf missing; run make BOARD=vexpress-a9" >&2; exit 1; }
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
    [ -x "$bin" ] || { echo "run: $bin missing; run make BOARD=host" >&2; exit 1; }
    echo "run: starting $bin; NV store build/host/nv.img"
    echo "run: Ctrl-A then X quits"
    "$bin" --nv build/host/nv.img --hsm "$sock" --hostfwd "$fwd_https" --hostfwd "$fwd_http"
    ;;
*)
    echo "run: unknown board '$board' (host or vexpress-a9)" >&2
    exit 2
    ;;
esac
