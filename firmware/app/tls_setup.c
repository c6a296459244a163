/*
 * firmware/app/tls_setup.c — the HTTPS server's identity, made and kept in the token.
 *
 * On the first login the token gets a P-256 key pair for TLS (sensitive, never extractable,
 * sign only) and a self-signed certificate for it, stored as a certificate object beside the key;
 * on later boots both are found again, so the fingerprint operators recorded stays valid. Cluster
 * members sharing a token share the identity. P-256 because TLS 1.3 needs RSA-PSS from an RSA key,
 * which mbedTLS can only compute with the private key in memory; ECDSA it lets us hand to the
 * token (crypto/token_pk).
 */
#include "core.h"

#include <errno.h>
#include <string.h>

#include "crypto/rng.h"
#include "crypto/token_pk.h"
#include "crypto/spki.h"
#include "crypto/x509.h"
#include "hal/clock.h"
#include "mbedtls/sha256.h"
#include "net/net_port.h"
#include "net/tls.h"

#define TLS_CERT_LABEL "Signet TLS certificate"
#define TLS_CERT_DAYS                                                                              \
    3650 /* a self-signed identity: its fingerprint, not its dates, is trusted                     \
          */

/* The token task's own fiber: a token job (the TLS set-up, a job's own client session) may call
 * the token directly. Anywhere else but a handshake fiber the call would wait where nothing may
 * wait on the token: it fails at once instead. */
static bool on_token_fiber(struct app *app)
{
    return k_current_fiber() == &app->token_task.task;
}

/* The RNG's reseed (crypto/rng): in a handshake step it is asked for on a handshake fiber, which
 * waits for the token there (tls_fibers.h); in a token job directly. Anywhere else (the net task
 * parsing a document, whose expat salt draws from the RNG) it fails at once rather than wait for
 * the token there: the draw fails, its caller copes (doc_salt falls back), and the next draw on
 * a fiber reseeds. */
static int token_entropy(void *ctx, uint8_t *out, size_t len)
{
    struct app *app = ctx;
    struct tls_fiber *f = app_tls_fiber_current(app);
    CK_RV rv = CKR_FUNCTION_FAILED;

    if (f)
        rv = app_tls_fiber_random(f, out, len);
    else if (on_token_fiber(app))
        rv = token_random(&app->token, out, len);
    return rv == CKR_OK ? 0 : -EIO;
}

/* A handshake's signature: on a handshake fiber through its token job, or in a token job; never
 * in the net task. */
static int tls_sign(void *ctx, const uint8_t *digest, size_t len, uint8_t rs[TOKEN_PK_P256_RS])
{
    struct app *app = ctx;
    struct tls_fiber *f = app_tls_fiber_current(app);
    size_t n = TOKEN_PK_P256_RS;
    CK_RV rv = CKR_FUNCTION_FAILED;

    if (f)
        rv = app_tls_fiber_sign(f, digest, len, rs, &n);
    else if (on_token_fiber(app))
        rv = token_sign_digest(&app->token, &app->token.tls, digest, len, rs, &n);

    app->tls_token_signs++;
    return rv == CKR_OK ? 0 : -EIO;
}

/* Does the stored certificate still belong to the key in the token? */
static bool cert_matches_key(const uint8_t *der, size_t len, const uint8_t *spki, size_t spki_len)
{
    struct x509_info info;
    const char *why;

    return x509_read(der, len, &info, &why) == 0 && info.spki_len == spki_len &&
           memcmp(info.spki, spki, spki_len) == 0;
}

static int tls_cert_sign(void *ctx, const uint8_t *tbs, size_t len, uint8_t *sig, size_t cap,
                         size_t *sig_len)
{
    struct app *app = ctx;
    *sig_len = cap;
    return token_sign(&app->token, &app->token.tls, tbs, len, sig, sig_len) == CKR_OK ? 0 : -EIO;
}

/* A self-signed certificate for the TLS key, stored in the token beside it. */
static int make_cert(struct app *app, const uint8_t *spki, size_t spki_len, uint8_t *der,
                     size_t cap, size_t *len)
{
    struct x509_profile p = {0};
    struct x509_info info;
    int64_t now = 0;
    const char *why;
    int ret;

    /* Serial numbers: 16 random bytes from the token, positive (docs/architecture.md). */
    if (rng_random(NULL, p.serial, sizeof(p.serial)) != 0 || hal_clock_wall_get(&now) != 0)
        return -EIO;
    x509_serial_fix(p.serial);
    p.cn = "Signet appliance";
    p.org = "Signet";
    /* As every certificate of the hierarchy (docs/certificates.md "Backdating"): clients whose
     * clocks run a few minutes behind take it. */
    p.not_before = enroll_time_at(now - X509_BACKDATE_SECS);
    p.not_after = enroll_time_at(now + (int64_t)TLS_CERT_DAYS * 86400);
    p.spki = spki;
    p.spki_len = spki_len;
    p.server_auth = true;
    struct x509_issuer self = {X509_KEY_EC, NULL, 0, spki, spki_len, tls_cert_sign, app};
    ret = x509_build(&p, &self, der, cap, len);
    if (ret)
        return ret;
    /* PKCS#11 wants the subject name beside the certificate. */
    if (x509_read(der, *len, &info, &why) != 0 ||
        token_cert_write(&app->token, TOKEN_TLS_ID, TLS_CERT_LABEL, der, *len, info.subject,
                         info.subject_len) != CKR_OK)
        return -EIO;
    return 0;
}

int app_tls_setup(struct app *app, const char **why)
{
    uint8_t point[65], spki[128], der[APP_TLS_CERT_MAX];
    size_t point_len = 0, spki_len = 0, len = 0;
    bool found = false, created = false;
    enum token_key_alg alg;
    CK_RV rv;
    int ret;

    *why = "";
    if (tls_server_ready())
        return 0;
    rng_set_source(token_entropy, app);
    if (rng_init() != 0) {
        *why = "the token's random generator did not answer";
        return -EIO;
    }
    /* lwIP's own generator (TCP sequence numbers, ports) gets token entropy too. */
    uint8_t seed[16];
    if (rng_random(NULL, seed, sizeof(seed)) == 0)
        net_port_seed(seed, sizeof(seed));
    rv = token_find_key(&app->token, &app->token.tls, &found, &alg);
    if (rv == CKR_OK && !found) {
        rv = token_generate_key(&app->token, &app->token.tls, TOKEN_P256, false);
        created = true;
    } else if (rv == CKR_OK && alg != TOKEN_P256) {
        *why = "the token's TLS key is not P-256";
        return -EINVAL;
    }
    if (rv == CKR_OK)
        rv = token_ec_point(&app->token, &app->token.tls, point, sizeof(point), &point_len);
    if (rv != CKR_OK) {
        *why = token_rv_name(rv);
        return -EIO;
    }
    mbedtls_pk_free(&app->tls_pk);
    mbedtls_pk_init(&app->tls_pk);
    ret = token_pk_p256(&app->tls_pk, point, point_len, tls_sign, app);
    if (ret) {
        *why = "the token's TLS public key is not a P-256 point";
        return ret;
    }
    rv = token_cert_read(&app->token, TOKEN_TLS_ID, der, sizeof(der), &len);
    if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL) {
        *why = token_rv_name(rv);
        return -EIO;
    }
    if (spki_from_p256(point, point_len, spki, sizeof(spki), &spki_len) != 0) {
        *why = "the token's TLS public key is not a P-256 point";
        return -EINVAL;
    }
    if (rv != CKR_OK || len == 0 || !cert_matches_key(der, len, spki, spki_len)) {
        ret = make_cert(app, spki, spki_len, der, sizeof(der), &len);
        if (ret) {
            *why = "could not create and store the TLS certificate";
            return ret;
        }
        created = true;
    }
    ret = tls_server_set_identity(der, len, &app->tls_pk);
    if (ret) {
        *why = "mbedTLS refused the certificate";
        return ret;
    }
    (void)mbedtls_sha256(der, len, app->tls_fp, 0);
    app->tls_created = created;
    return 0;
}
