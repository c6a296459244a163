#!/usr/bin/env bash
# tools/run.sh BOARD — boot the built firmware with the console on this terminal.
#   vexpress-a9: QEMU, UART0 on the terminal, NV store in build/vexpress-a9/nv.img (pflash).
#   host:        the Linux process, NV store in build/host/nv.img.
# Either way, Ctrl-A then X quits.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
board=${1:-vexpress-a9}
cd "$top"

case "$board" in
vexpress-a9)
    elf=build/vexpress-a9/signet.elf
    nv=build/vexpress-a9/nv.img
    [ -f "$elf" ] || { echo "run: $elf missing; run make BOARD=vexpress-a9" >&2; exit 1; }
    # The pflash device must be backed by exactly its 64 MiB; a sparse file costs nothing.
    [ -f "$nv" ] || truncate -s 64M "$nv"
    echo "run: booting $elf in QEMU (vexpress-a9); NV store $nv"
    echo "run: Ctrl-A then X quits QEMU; Ctrl-A then C toggles the QEMU monitor"
    exec qemu-system-arm -M vexpress-a9 -m 128M -display none -nic none \
        -audiodev none,id=noaudio \
        -kernel "$elf" \
        -drive if=pflash,index=0,format=raw,file="$nv" \
        -serial mon:stdio -serial null \
        2> >(grep -v 'audiodev default parameter is deprecated' >&2)
    ;;
host)
    bin=build/host/signet
    [ -x "$bin" ] || { echo "run: $bin missing; run make BOARD=host" >&2; exit 1; }
    echo "run: starting $bin; NV store build/host/nv.img"
    echo "run: Ctrl-A then X quits"
    exec "$bin" --nv build/host/nv.img
    ;;
*)
    echo "run: unknown board '$board' (host or vexpress-a9)" >&2
    exit 2
    ;;
esac
