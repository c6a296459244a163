/*
 * firmware/app/tls_fibers — where HTTPS handshake steps run: net/tls's runner.
 *
 * APP_TLS_FIBERS fiber tasks, each with its own stack. net/tls hands a session's handshake steps
 * to a free one (k_fiber_call: at once, on that stack). A step that needs the token — the TLS
 * key's signature, or an RNG reseed — submits the fiber's own token job (token_task.h) and parks
 * the fiber until the job is done; the net task meanwhile serves everything else. A step that needs
 * no token returns at once, as if it had run in the net task. Each fiber's job and its buffers are
 * the fiber's own: one handshake's request never sees another's.
 */
#ifndef TLS_FIBERS_H
#define TLS_FIBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/app/token_task.h"
#include "firmware/kernel/kernel.h"
#include "firmware/token/token.h"
#include "signet_config.h"

struct app;
struct tls_conn;

struct tls_fiber {
    struct k_task task;
    struct k_event queue[1]; /* never posted to: work comes by k_fiber_call */
    struct k_fiber fiber;
    struct app *app;
    struct tls_conn *conn; /* whose steps run here; NULL when free */
    struct token_job job;  /* the token call a step waits for, run by the token task */
    bool random;           /* the job draws random bytes (else: signs digest) */
    const uint8_t *digest; /* in the parked fiber's stack, as out is */
    size_t digest_len;
    uint8_t *out;
    size_t out_len; /* in: room; out: bytes written */
    CK_RV rv;
    uint32_t runs;
    uint32_t token_calls;
    _Alignas(16) uint8_t stack[APP_TLS_STACK];
};

/* Create the fibers and make them net/tls's runner (after the net task exists). */
void app_tls_fibers_start(struct app *app);

/* The handshake fiber running now, or NULL (any other task or fiber). */
struct tls_fiber *app_tls_fiber_current(struct app *app);

/* From the handshake fiber f: the token signs digest with the TLS key (r || s into rs, *rs_len in:
 * room, out: length) or draws len random bytes; f parks until the token task has done it. */
CK_RV app_tls_fiber_sign(struct tls_fiber *f, const uint8_t *digest, size_t len, uint8_t *rs,
                         size_t *rs_len);
CK_RV app_tls_fiber_random(struct tls_fiber *f, uint8_t *out, size_t len);

#endif
