#!/usr/bin/env bash
# tools/token.sh — the test token behind the HSM link: SoftHSM2 served by stock `p11-kit server`.
#
#   tools/token.sh init DIR     create DIR/softhsm2.conf and a token labelled "signet" (once)
#   tools/token.sh start DIR    start p11-kit server on DIR/p11kit.sock (pid in DIR/p11kit.pid);
#                               refused while one already runs for DIR
#   tools/token.sh stop DIR     stop it
#
# The token, its configuration and the socket live under DIR (build/token, or build/run/NAME/token,
# for make run), never in the system's SoftHSM2 directories. The PINs are for this test token only.
set -euo pipefail

SOFTHSM_MODULE=${SOFTHSM_MODULE:-/usr/lib/softhsm/libsofthsm2.so}
TEST_USER_PIN=${SIGNET_TEST_USER_PIN:-123456}
TEST_SO_PIN=${SIGNET_TEST_SO_PIN:-12345678}
LABEL=signet

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 init|start|stop DIR" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export SOFTHSM2_CONF="$dir/softhsm2.conf"
sock="$dir/p11kit.sock"
pidf="$dir/p11kit.pid"

case "$cmd" in
init)
    if [ -f "$dir/token.ready" ]; then
        exit 0
    fi
    mkdir -p "$dir/tokens"
    printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
        "$dir" >"$SOFTHSM2_CONF"
    softhsm2-util --init-token --free --label "$LABEL" --pin "$TEST_USER_PIN" \
        --so-pin "$TEST_SO_PIN" >/dev/null
    touch "$dir/token.ready"
    cat <<MSG
************************************************************************
*  TEST TOKEN created in $dir
*  label "$LABEL"   user PIN $TEST_USER_PIN   SO PIN $TEST_SO_PIN
*  TEST ONLY - these PINs are public; never use this token for real keys
************************************************************************
MSG
    ;;
start)
    # Another appliance may be using this token: never restart its server under it.
    if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
        echo "token: p11-kit server already runs for $dir (pid $(cat "$pidf")); stop it first" >&2
        exit 1
    fi
    rm -f "$sock"
    p11-kit server -f -n "$sock" --provider "$SOFTHSM_MODULE" "pkcs11:token=$LABEL" \
        >"$dir/p11kit.log" 2>&1 &
    echo $! >"$pidf"
    for _ in $(seq 1 100); do
        [ -S "$sock" ] && exit 0
        kill -0 "$(cat "$pidf")" 2>/dev/null || break
        sleep 0.05
    done
    echo "token: p11-kit server did not come up; see $dir/p11kit.log" >&2
    exit 1
    ;;
stop)
    if [ -f "$pidf" ]; then
        kill "$(cat "$pidf")" 2>/dev/null || true
        rm -f "$pidf"
    fi
    rm -f "$sock"
    ;;
*)
    echo "usage: $0 init|start|stop DIR" >&2
    exit 2
    ;;
esac
