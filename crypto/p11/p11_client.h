/*
 * crypto/p11/p11_client — PKCS#11 over a byte stream to the token, as a CK_FUNCTION_LIST.
 *
 * Pure PKCS#11-RPC encoding and decoding: the stream, the clock and the way to wait come from a
 * struct p11_transport the caller supplies (on the appliance firmware/app/hsm_link.c, over the
 * HSM UART); this module names no board service.
 *
 * The peer is stock `p11-kit server` (protocol version 0, p11-kit 0.24). Calls are synchronous:
 * each writes one request and waits for its answer, at most
 * P11_CALL_TIMEOUT_MS, in the transport's wait. Any transport failure, time-out or
 * malformed answer returns CKR_DEVICE_ERROR and marks the link down; the next call reconnects and
 * renegotiates by itself. The server keeps sessions and login per connection, so after a reconnect
 * session handles are stale (CKR_SESSION_HANDLE_INVALID): re-opening and logging in again is the
 * caller's job. Single-threaded: one call at a time.
 */
#ifndef P11_CLIENT_H
#define P11_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

struct p11_link_stats {
    bool up;
    uint32_t connects; /* successful handshakes */
    uint32_t calls;
    uint32_t failures; /* calls lost to the link (timeout, EOF, malformed answer) */
    uint32_t timeouts;
    uint32_t malformed;  /* answers refused as malformed (the link stayed up) */
    uint32_t generation; /* increments with every new connection: sessions older than this died */
    uint32_t
        failed_at_once; /* calls refused without the link: a reconnect had failed (begin_work) */
};

/*
 * The byte stream to the token. Every function is given ctx. The client opens it on first use
 * and closes it (then opens it again) whenever the link goes down.
 */
struct p11_transport {
    void *ctx;
    int (*open)(void *ctx);   /* 0 or a negative errno; may fail now and succeed later */
    void (*close)(void *ctx); /* also drops whatever was received and not read */
    int (*write_all)(void *ctx, const uint8_t *p, size_t n); /* 0 or a negative errno */
    int (*read)(void *ctx, uint8_t *p, size_t cap); /* never waits: bytes read, 0, -errno */
    uint64_t (*now_ms)(void *ctx);                  /* a monotonic clock */
    /* Wait a moment for input, never past deadline_ms; false (at once) once it has passed. */
    bool (*wait)(void *ctx, uint64_t deadline_ms);
    /* Optional (NULL: none). Called first by every call that may use the link, before the client
     * looks at its own state: the link's owner may make the caller wait here until a call left
     * waiting elsewhere (another context, firmware/app/hsm_link.c) has finished with the link. */
    void (*enter)(void *ctx);
};

/*
 * Use t (kept by pointer: it must outlive its use) for the link; NULL: no token, every call that
 * needs the link fails with CKR_DEVICE_ERROR. Set it before C_Initialize.
 */
void p11_client_set_transport(const struct p11_transport *t);

CK_RV p11_client_get_function_list(CK_FUNCTION_LIST_PTR_PTR list);

/*
 * A new piece of work begins (on the appliance: a token job). Once an attempt to reconnect has
 * failed, every later call fails at once with CKR_DEVICE_ERROR, without touching the link, until
 * this is called: a piece of work meets a dead link's time-outs once, not at each of its calls.
 * The first call after it may again wait for a resync under way and try the link once more.
 */
void p11_client_begin_work(void);

/*
 * C_SignInit + C_Sign pipelined in one round trip (an extension: same results as the two calls).
 * sig must be given (no size query); *sig_len is its capacity on entry.
 */
CK_RV p11_client_sign(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key,
                      const CK_BYTE *data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len);

/* Most wraps p11_client_wrap_destroy pipelines ahead of its destroy. */
#define P11_PIPELINE_WRAPS 2

/*
 * C_WrapKey of key under each of wrapping[0..n-1] (1 <= n <= P11_PIPELINE_WRAPS), then
 * C_DestroyObject(key), pipelined in one round trip (an extension: same results as the calls
 * one by one; the destroy is sent whatever the wraps answer). out[i] must be given, *out_len[i]
 * is its capacity on entry. Returns the first failing wrap's CK_RV, else the destroy's;
 * *destroyed says the token confirmed the destroy (when not, the caller still owns key).
 */
CK_RV p11_client_wrap_destroy(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech,
                              const CK_OBJECT_HANDLE *wrapping, CK_ULONG n, CK_OBJECT_HANDLE key,
                              CK_BYTE_PTR const *out, CK_ULONG_PTR const *out_len, bool *destroyed);
void p11_client_stats(struct p11_link_stats *out);

#endif
