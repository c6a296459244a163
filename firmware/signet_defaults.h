/*
 * firmware/signet_defaults.h — limits shared by every board, each with its reason.
 *
 * A board's signet_config.h defines what differs for it and includes this file last; anything it
 * left undefined takes the value here (the lwIP opt.h / lwipopts.h arrangement).
 */
#ifndef SIGNET_DEFAULTS_H
#define SIGNET_DEFAULTS_H

/* Longest console line: a 64-column PEM line or "time set" with room to spare; longer is refused.
 */
#ifndef CONSOLE_LINE_MAX
#define CONSOLE_LINE_MAX 256
#endif

/* Most words in a console line: the longest command has a handful. */
#ifndef CONSOLE_ARGS_MAX
#define CONSOLE_ARGS_MAX 16
#endif

/* A gap this long in the console input ends a burst: bytes of one paste (one write on the host
 * pipe, back to back on a serial line) come far closer, a person typing after reading the
 * console's answer comes later. */
#ifndef CONSOLE_QUIET_MS
#define CONSOLE_QUIET_MS 300
#endif

/* A command out with the token longer than this no longer holds typed input back: lines are read
 * and the quick ones (status, help, ...) answered while it waits. */
#ifndef CONSOLE_BUSY_ANSWER_MS
#define CONSOLE_BUSY_ANSWER_MS 150
#endif
/* Lines typed ahead meanwhile, kept to run in order (at least one whole line more). */
#ifndef CONSOLE_AHEAD_MAX
#define CONSOLE_AHEAD_MAX (4 * (CONSOLE_LINE_MAX + 1))
#endif

/* A prompt that asked for it (a paste) is cancelled after this long without a line, so an
 * unattended console does not sit in paste mode. */
#ifndef CONSOLE_READ_TIMEOUT_MS
#define CONSOLE_READ_TIMEOUT_MS 60000
#endif

/* How often the console task looks at the clock for the two above. */
#ifndef CONSOLE_TICK_MS
#define CONSOLE_TICK_MS 100
#endif

/* Command tables the console can hold: one per firmware module that adds commands. */
#ifndef CONSOLE_GROUPS_MAX
#define CONSOLE_GROUPS_MAX 12
#endif

/* Distinct NV keys: network settings, counters, and the old audit log's 64 (moved at boot). */
#ifndef NVSTORE_KEYS_MAX
#define NVSTORE_KEYS_MAX 96
#endif

/* Largest NV value; also the size of the store's copy buffer. */
#ifndef NVSTORE_VALUE_MAX
#define NVSTORE_VALUE_MAX 1024
#endif

/* Largest flash write unit any board reports. */
#ifndef NVSTORE_WRITE_ALIGN_MAX
#define NVSTORE_WRITE_ALIGN_MAX 8
#endif

/* Console task queue: one pending "bytes waiting" event is enough, a few absorb bursts. */
#ifndef APP_CONSOLE_QUEUE
#define APP_CONSOLE_QUEUE 4
#endif

/* Housekeeping task queue: watchdog kick and later periodic jobs. */
#ifndef APP_HOUSE_QUEUE
#define APP_HOUSE_QUEUE 8
#endif

/* Token task (firmware/app/token_task.c): its queue only rings a doorbell, its jobs wait in their
 * own list; its stack holds a job's deepest path (a TLS key and certificate set up after a login:
 * mbedTLS's ECDSA and X.509 writer). */
#ifndef APP_TOKEN_QUEUE
#define APP_TOKEN_QUEUE 2
#endif
#ifndef APP_TOKEN_STACK
#define APP_TOKEN_STACK (48u * 1024u)
#endif

/* HTTPS handshake fibers (firmware/app/tls_fibers.c): a handshake step that waits for the token
 * parks on one of these, not in the net task. More than one, so that a handshake stuck on a frozen
 * token does not hold up the others behind it; a handful, because the token signs one at a time
 * anyway. Each stack holds a handshake step's deepest path (mbedTLS's TLS 1.3 key schedule, ECDHE,
 * the client certificate's parse and signature check; mbedTLS keeps its numbers on the heap):
 * `status` shows the high-water mark, 3392 bytes on vexpress-a9 after TLS 1.3 and 1.2 handshakes
 * with EC and RSA client certificates (tests/system/test_qemu_https.py), so ~4.8 times that. */
#ifndef APP_TLS_FIBERS
#define APP_TLS_FIBERS 3
#endif
#ifndef APP_TLS_STACK
#define APP_TLS_STACK (16u * 1024u)
#endif

/* Bytes the console task takes per event, so a paste cannot starve other tasks. */
#ifndef APP_CONSOLE_CHUNK
#define APP_CONSOLE_CHUNK 64
#endif

/* Watchdog: several kick periods of slack so a slow but live handler never trips it. */
#ifndef APP_WDT_TIMEOUT_MS
#define APP_WDT_TIMEOUT_MS 8000
#endif
#ifndef APP_WDT_KICK_MS
#define APP_WDT_KICK_MS 1000
#endif

/* Largest RPC message either way: a certificate chain in one attribute fits with room. */
#ifndef P11_MSG_MAX
#define P11_MSG_MAX 16384
#endif

/* A token call that has not answered in this time is a dead link. RSA-2048 key generation in
 * SoftHSM2 takes well under a second; the margin covers a loaded host. */
#ifndef P11_CALL_TIMEOUT_MS
#define P11_CALL_TIMEOUT_MS 5000
#endif

/* After forcing a desynchronised server to drop the line, give the link this long to bring up a
 * fresh one (QEMU's chardev reconnects once a second) before the next handshake. */
#ifndef P11_RESYNC_MS
#define P11_RESYNC_MS 1500
#endif

/* The version byte comes back at once from a live server. */
#ifndef P11_HANDSHAKE_TIMEOUT_MS
#define P11_HANDSHAKE_TIMEOUT_MS 2000
#endif

/* A service that finds the token link down tries to bring it back after this long, doubling the
 * wait after each failed try up to the maximum (firmware/app/core.c). */
#ifndef APP_RELINK_MS
#define APP_RELINK_MS 1000
#endif
#ifndef APP_RELINK_MAX_MS
#define APP_RELINK_MAX_MS 30000
#endif

/* Longest user PIN the appliance holds for re-login (PKCS#11 tokens allow far less in practice). */
#ifndef TOKEN_PIN_MAX
#define TOKEN_PIN_MAX 64
#endif

/* Users' public keys kept imported in the token session (a returning user costs no import
 * round trip when licensed again); each is a small session object. */
#ifndef TOKEN_USER_KEYS
#define TOKEN_USER_KEYS 8
#endif

/* Mechanisms read from the token for `token info`; SoftHSM2 offers about 80. */
/* Longest CKA_ID of an object the appliance names ("signet-slc-new"). */
#ifndef TOKEN_ID_MAX
#define TOKEN_ID_MAX 32
#endif

/* Rounds of find-and-destroy (4 objects each) that clear duplicates under one name: more than
 * any sequence of cut-off replacements can leave, and a bound on a token that never runs out. */
#ifndef TOKEN_DUP_ROUNDS
#define TOKEN_DUP_ROUNDS 8
#endif

/* A pasted armored block: the largest is a response document (16 KiB of XML) as base64 in
 * 64-column lines. */
#ifndef APP_PASTE_MAX
#define APP_PASTE_MAX 24576
#endif
/* One notice from the core to the operator (firmware/app/core.h): the longest is a refused boot
 * login with its advice. */
#ifndef APP_NOTICE_MAX
#define APP_NOTICE_MAX 320
#endif
#ifndef APP_ARMOR_MAX
#define APP_ARMOR_MAX 24576
#endif

/* How often the enrollment state is read again from the token — cluster members share it, so
 * one member's renewal reaches the others this soon — and the SLC's validity checked (the audit
 * log warns once a day). */
/* How often the house task asks firmware/revoke whether the CRL is due (changes are signed at
 * most once a second). */
#ifndef APP_REVOKE_TICK_MS
#define APP_REVOKE_TICK_MS 1000u
#endif
#ifndef APP_STATE_REFRESH_MS
#define APP_STATE_REFRESH_MS (60u * 1000u)
#endif

/* The old audit log's slots (NV keys NV_KEY_AUDIT_BASE...), moved into the ring at boot. */
#ifndef AUDIT_OLD_SLOTS
#define AUDIT_OLD_SLOTS 64
#endif

/* A data object's value: the SLC with its chain is the largest (a few KiB). */
#ifndef TOKEN_DATA_MAX
#define TOKEN_DATA_MAX 12288
#endif

/* Test hooks (crash-safety pauses) exist only where a board's build asks for them. */
#ifndef SIGNET_TEST_HOOKS
#define SIGNET_TEST_HOOKS 0
#endif

#ifndef TOKEN_MECHS_MAX
#define TOKEN_MECHS_MAX 256
#endif

/* lwIP heap: TCP segments being sent; eight connections with full send buffers, or many with a
 * handshake flight or an answer each, fit. */
#ifndef NET_HEAP_SIZE
#define NET_HEAP_SIZE (64 * 1024)
#endif

/* Received frames in flight: a TCP window of four segments for a few connections. */
#ifndef NET_PBUF_POOL
#define NET_PBUF_POOL 24
#endif

/* TCP connections lwIP tracks: the HTTP service's HTTP_CONN_MAX, plus room for closed ones in
 * TIME_WAIT or lingering and for excess clients, which must get a prompt reset instead of a
 * dropped SYN (a client would retry for seconds). About 200 bytes each. */
#ifndef NET_TCP_CONNECTIONS
#define NET_TCP_CONNECTIONS (HTTP_CONN_MAX + 32)
#endif

/* Network task queue: frame and timer events. */
#ifndef APP_NET_QUEUE
#define APP_NET_QUEUE 8
#endif

/* mbedTLS's allocations (crypto/heap.c): a TLS connection holds ~27 KiB (record buffers,
 * session, keys; docs/network.md), a handshake step briefly a little more. HTTP_TLS_SESSIONS
 * idle server sessions (~1.7 MiB), a handshake's worth free for the next (HTTP_TLS_HEAP_NEED),
 * HTTP_CLIENT_MAX client sessions handshaking (~190 KiB) and parsed documents fit. */
#ifndef CRYPTO_HEAP_MAX
#define CRYPTO_HEAP_MAX (2560u * 1024u)
#endif

/* Keys in the token that mbedTLS may sign with (crypto/token_pk.c): TLS now, the SLC later. */
#ifndef TOKEN_PK_MAX
#define TOKEN_PK_MAX 4
#endif

/* The HTTPS certificate (self-signed, P-256): about 500 bytes of DER. */
#ifndef APP_TLS_CERT_MAX
#define APP_TLS_CERT_MAX 2048
#endif

/* HTTP: request head (line + headers) beyond this gets 431. */
#ifndef HTTP_HEAD_MAX
#define HTTP_HEAD_MAX 8192
#endif

/* HTTP: largest request body (enrollment documents are a few KiB); beyond gets 413. */
#ifndef HTTP_BODY_MAX
#define HTTP_BODY_MAX 32768
#endif

/* HTTP: largest response, headers included. */
#ifndef HTTP_OUT_MAX
#define HTTP_OUT_MAX 16384
#endif

/* HTTP: longest request target; beyond gets 414. */
#ifndef HTTP_PATH_MAX
#define HTTP_PATH_MAX 256
#endif

/* HTTP: header fields per request; beyond gets 431. */
#ifndef HTTP_HEADERS_MAX
#define HTTP_HEADERS_MAX 48
#endif

/* HTTP: connections held at once, both ports. An idle one costs its struct (~150 bytes) and an
 * lwIP PCB; buffers and TLS sessions are taken only while a request is read or answered. When
 * full, the idle or slowest connection is closed to admit a new one (net/http.h). */
#ifndef HTTP_CONN_MAX
#define HTTP_CONN_MAX 96
#endif
/* Of those, HTTPS may hold all but this many: port 80 (/health) keeps them. */
#ifndef HTTP_PLAIN_RESERVE
#define HTTP_PLAIN_RESERVE 16
#endif
/* Connections one client address may hold on one port. Behind QEMU's or the host board's user
 * network every forwarded client shares one address (the gateway's), so a client over the cap
 * is not refused: that address's own slowest connection makes room. */
#ifndef HTTP_CONN_PER_ADDR
#define HTTP_CONN_PER_ADDR 48
#endif
/* Request buffers (head + body in, answer out: ~56 KiB each), taken on a request's first byte
 * and given back when the connection is idle again; HTTPS may hold all but HTTP_PLAIN_BUFS. */
#ifndef HTTP_BUFS
#define HTTP_BUFS 10
#endif
#ifndef HTTP_PLAIN_BUFS
#define HTTP_PLAIN_BUFS 2
#endif
/* TLS server sessions at once (made on a connection's first byte), and the crypto heap a new
 * one needs free — its record buffers and a handshake — before it is started; short of either,
 * the slowest session holder is reaped. */
#ifndef HTTP_TLS_SESSIONS
#define HTTP_TLS_SESSIONS 64
#endif
#ifndef HTTP_TLS_HEAP_NEED
#define HTTP_TLS_HEAP_NEED (48u * 1024u)
#endif

#ifndef HTTP_ROUTES_MAX
#define HTTP_ROUTES_MAX 16
#endif

/* HTTP time-outs: the whole head, the whole body, a keep-alive pause, a response being read.
 * Slow clients are dropped, never waited for. */
#ifndef HTTP_HEAD_TIMEOUT_MS
#define HTTP_HEAD_TIMEOUT_MS 10000
#endif
#ifndef HTTP_BODY_TIMEOUT_MS
#define HTTP_BODY_TIMEOUT_MS 30000
#endif
#ifndef HTTP_IDLE_TIMEOUT_MS
#define HTTP_IDLE_TIMEOUT_MS 15000
#endif
#ifndef HTTP_SEND_TIMEOUT_MS
#define HTTP_SEND_TIMEOUT_MS 30000
#endif
/* After an answer that closes the connection, how long a client that is still sending (a body
 * refused with 413) gets to notice before it is reset. */
#ifndef HTTP_LINGER_MS
#define HTTP_LINGER_MS 5000
#endif

/* Port of the plain-HTTP service (only /health is offered without TLS). */
#ifndef HTTP_PLAIN_PORT
#define HTTP_PLAIN_PORT 80
#endif

/* HTTP client (online enrollment, forwarded requests), per request: one document out, one
 * document back, each at most DOC_XML_MAX (crypto/doc.h) plus the HTTP head; the whole exchange
 * within the time-out. HTTP_CLIENT_MAX (net/http_client.h) of these buffers exist. */
#ifndef HTTP_CLIENT_REQUEST_MAX
#define HTTP_CLIENT_REQUEST_MAX (16384 + 1024)
#endif
#ifndef HTTP_CLIENT_RESPONSE_MAX
#define HTTP_CLIENT_RESPONSE_MAX (16384 + 2048)
#endif
#ifndef HTTP_CLIENT_TIMEOUT_MS
#define HTTP_CLIENT_TIMEOUT_MS 30000
#endif

/* Port of the HTTPS service. */
#ifndef HTTP_TLS_PORT
#define HTTP_TLS_PORT 443
#endif

#endif
