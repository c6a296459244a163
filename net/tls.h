/*
 * net/tls — TLS 1.2 and 1.3 sessions (mbedTLS) over lwIP TCP: server sessions for the HTTP
 * server, client sessions for the HTTP client (net/http_client).
 *
 * One identity: a certificate and a key whose private half is in the token (crypto/token_pk),
 * set once with tls_server_set_identity(). Until then no session can start. Client sessions
 * present the same certificate as their client certificate (what a root's ACL grants) and do not
 * verify the server's certificate: the documents the client fetches are signed and their chains
 * verified by the caller, so the channel needs no server authentication.
 * Client certificates are requested, never required; when one is presented (and the client has
 * proved it holds its key, which the handshake checks) its SHA-256 fingerprint is available —
 * the principal the sub-enrollment ACL names. The chain is not checked here: the ACL is the
 * trust decision; the whole presented chain is available too (tls_conn_peer_chain), for callers
 * that verify it themselves (firmware/identity). A Certificate message with a certificate mbedTLS
 * cannot parse, or with more than HTTP_CLIENT_CHAIN_MAX certificates, is refused
 * (bad_certificate) before mbedTLS processes it. No session is ever resumed (no tickets, no
 * session cache: crypto/mbedtls_config.h), so every connection's client proves its certificate's
 * key in its own handshake and the chain below is always that handshake's.
 *
 * A session owns the ciphertext the TCP connection delivered (tls_conn_input) and acknowledges
 * it to TCP only as the TLS layer consumes it, so the TCP window is the flow control. Writes go
 * straight into the TCP send buffer and say "again later" (0) when it is full. Sessions come from
 * a fixed pool of HTTP_TLS_SESSIONS server and HTTP_CLIENT_MAX client sessions; their buffers from
 * crypto/heap. All calls run in the net task, but for tls_conn_run.
 *
 * Handshake steps may wait for the token (the key's signature, the RNG's reseed). With a runner
 * set (tls_set_runner, by the composition root) they run on the runner's stack instead of the
 * caller's, which may park there until the token answers: tls_conn_handshake then says "waiting"
 * (0), the net task goes on, and the session's wake callback is called (from tls_wake, in the net
 * task) once the result is in, or once a runner is free for a session that found none. A session
 * freed while its steps are parked lives on, cut off from its TCP connection, until they let go.
 */
#ifndef NET_TLS_H
#define NET_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/altcp.h"
#include "mbedtls/pk.h"
#include "net/http.h"

#define TLS_FINGERPRINT_LEN 32

struct tls_conn;

struct tls_stats {
    uint32_t handshakes;         /* completed */
    uint32_t handshake_failures; /* alerts, bad messages, token refusals, out of memory */
    uint32_t client_certs;       /* handshakes in which the client presented a certificate */
    uint32_t client_handshakes;  /* our client sessions: completed */
    uint32_t client_failures;    /* our client sessions: failed handshakes */
    uint32_t token_waits;        /* handshake steps that parked on the runner (the token) */
    uint32_t runner_waits;       /* handshake steps that found no runner free and waited */
    uint32_t waiting_token;      /* now: sessions whose steps are parked on the runner */
    uint32_t waiting_runner;     /* now: sessions waiting for a runner */
};

/*
 * Where handshake steps run. start(ctx, c) runs tls_conn_run(c) on another stack, now: true when
 * taken (done on return, or parked there and finished later), false when no stack is free (c is
 * woken when one is). NULL start, or no runner set: the steps run on the caller's stack.
 */
struct tls_runner {
    bool (*start)(void *ctx, struct tls_conn *c);
    void *ctx;
};
void tls_set_runner(const struct tls_runner *r);

/* The runner's side: run c's handshake steps here (they may park). True when the net task should
 * call tls_wake afterwards (the caller had been told "waiting", or a session waits for a
 * runner). */
bool tls_conn_run(struct tls_conn *c);

/* Net task: call the wake callback of every session whose parked steps finished or that waits for
 * a runner. */
void tls_wake(void);

/* Who to tell that c's handshake can go on (tls_conn_handshake again); net task context. */
void tls_conn_set_wake(struct tls_conn *c, void (*fn)(void *arg), void *arg);

/*
 * Serve with this certificate (DER) and key (kept by reference: it must outlive the server).
 * Once only: -EALREADY after the first success. 0, -EINVAL for a certificate mbedTLS refuses,
 * -ENOMEM.
 */
int tls_server_set_identity(const uint8_t *cert_der, size_t len, mbedtls_pk_context *key);
bool tls_server_ready(void);
void tls_stats(struct tls_stats *out);

/* A server session on this TCP connection, or NULL (no identity yet, pool or heap exhausted). */
struct tls_conn *tls_conn_new(struct altcp_pcb *pcb);
/* A client session (ours is the client side; start it with tls_conn_handshake once TCP is
 * connected), or NULL (no identity yet, pool or heap exhausted). The other calls are shared. */
struct tls_conn *tls_client_conn_new(struct altcp_pcb *pcb);
/* Send close_notify if possible; the caller closes the TCP connection. */
void tls_conn_close_notify(struct tls_conn *c);
/* Release the session; the TCP connection must no longer be used through it. */
void tls_conn_free(struct tls_conn *c);

/* Ciphertext from TCP; the session owns p from here on. */
void tls_conn_input(struct tls_conn *c, struct pbuf *p);

/* Advance the handshake: 1 done, 0 waiting for the peer or for send room, negative failed. */
int tls_conn_handshake(struct tls_conn *c);

/* Is there anything for tls_conn_read: ciphertext queued, or a record mbedTLS holds? */
bool tls_conn_pending(struct tls_conn *c);

/* Plaintext into buf: bytes read, 0 none available now, negative closed or failed. */
int tls_conn_read(struct tls_conn *c, uint8_t *buf, size_t cap);

/* Plaintext out: bytes taken (maybe fewer than len), 0 send buffer full, negative failed. */
int tls_conn_write(struct tls_conn *c, const uint8_t *buf, size_t len);

/* Why the session failed (the last error of handshake, read or write), one line. */
const char *tls_conn_why(const struct tls_conn *c);

/* The client certificate's SHA-256 fingerprint, when one was presented. */
bool tls_conn_peer_fingerprint(const struct tls_conn *c, uint8_t fp[TLS_FINGERPRINT_LEN]);
/* The certificates the client presented, leaf first, as pointers into the session's kept copy
 * (valid until tls_conn_free): how many were written to out[0..max), 0 when none. */
size_t tls_conn_peer_chain(const struct tls_conn *c, struct http_cert out[], size_t max);

#endif
