/* The handshake is stepped here and its state read, to keep chain verification off client
 * certificates (tls_conn_handshake). */
#define MBEDTLS_ALLOW_PRIVATE_ACCESS

#include "tls.h"

#include <errno.h>
#include <string.h>

#include "crypto/rng.h"
#include "lwip/pbuf.h"
#include "mbedtls/platform.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "net/http_client.h"
#include "signet_config.h"

struct tls_conn {
    bool used;
    bool client; /* our side is the client (net/http_client) */
    bool has_peer;
    bool cert_checked; /* the client's Certificate message was checked (check_client_cert) */
    int last_err;      /* the mbedTLS error that ended the session, for tls_conn_why */
    /* Handshake steps on the runner's stack (tls_set_runner): away while they run there (parked on
     * the token, or about to return), then their result kept in away_ret until the owner's next
     * tls_conn_handshake. */
    bool away;
    bool away_done;
    bool parked;      /* the runner returned to us while away: tls_conn_run asks for a wake */
    bool want_runner; /* no runner was free: woken when one is */
    bool dying;       /* freed while away: the runner frees it when it lets go */
    int away_ret;
    void (*wake)(void *arg);
    void *wake_arg;
    struct altcp_pcb *pcb;
    struct pbuf *rx; /* ciphertext received, not yet consumed by mbedTLS */
    mbedtls_ssl_context ssl;
    uint8_t peer_fp[TLS_FINGERPRINT_LEN];
};

/* Server sessions in [0, HTTP_TLS_SESSIONS), client sessions after them: neither side can
 * starve the other. */
static struct tls_conn pool[HTTP_TLS_SESSIONS + HTTP_CLIENT_MAX];
static mbedtls_ssl_config conf, client_conf;
static mbedtls_x509_crt own_cert;
static bool ready;
static struct tls_stats stats;
static struct tls_runner runner;

/* ALPN: we speak HTTP/1.1 only; clients offering h2 as well settle on it. */
static const char *alpn[] = {"http/1.1", NULL};

/* What both sides share: our certificate and token key, the token's RNG, TLS 1.2 and 1.3,
 * HTTP/1.1 by ALPN. */
static int config_side(mbedtls_ssl_config *c, int endpoint, mbedtls_pk_context *key)
{
    if (mbedtls_ssl_config_defaults(c, endpoint, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
        mbedtls_ssl_conf_own_cert(c, &own_cert, key) != 0 ||
        mbedtls_ssl_conf_alpn_protocols(c, alpn) != 0)
        return -ENOMEM;
    mbedtls_ssl_conf_rng(c, rng_random, NULL);
    mbedtls_ssl_conf_min_tls_version(c, MBEDTLS_SSL_VERSION_TLS1_2);
    return 0;
}

int tls_server_set_identity(const uint8_t *cert_der, size_t len, mbedtls_pk_context *key)
{
    int ret;

    if (ready)
        return -EALREADY;
    mbedtls_x509_crt_init(&own_cert);
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_config_init(&client_conf);
    ret = mbedtls_x509_crt_parse_der(&own_cert, cert_der, len);
    if (ret != 0) {
        ret = -EINVAL;
        goto fail;
    }
    if (config_side(&conf, MBEDTLS_SSL_IS_SERVER, key) != 0 ||
        config_side(&client_conf, MBEDTLS_SSL_IS_CLIENT, key) != 0) {
        ret = -ENOMEM;
        goto fail;
    }
    /* Ask for a client certificate, do not insist: the ACL decides who may do what. */
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    /* As a client we prove who we are and trust nothing about the server: what comes back is a
     * signed document whose chain the caller verifies (net/http_client.h). */
    mbedtls_ssl_conf_authmode(&client_conf, MBEDTLS_SSL_VERIFY_NONE);
    ready = true;
    return 0;
fail:
    mbedtls_ssl_config_free(&client_conf);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&own_cert);
    return ret;
}

bool tls_server_ready(void)
{
    return ready;
}

void tls_stats(struct tls_stats *out)
{
    *out = stats;
    out->waiting_token = out->waiting_runner = 0;
    for (size_t i = 0; i < HTTP_TLS_SESSIONS + HTTP_CLIENT_MAX; i++) {
        out->waiting_token += pool[i].used && pool[i].away;
        out->waiting_runner += pool[i].used && pool[i].want_runner;
    }
}

void tls_set_runner(const struct tls_runner *r)
{
    runner = r ? *r : (struct tls_runner){0};
}

void tls_conn_set_wake(struct tls_conn *c, void (*fn)(void *arg), void *arg)
{
    c->wake = fn;
    c->wake_arg = arg;
}

/* mbedTLS BIO: hand over queued ciphertext, and only now open the TCP window for it. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tls_conn *c = ctx;

    if (!c->rx || !c->pcb)
        return MBEDTLS_ERR_SSL_WANT_READ;
    u16_t n = (u16_t)(len < c->rx->tot_len ? len : c->rx->tot_len);
    n = pbuf_copy_partial(c->rx, buf, n, 0);
    c->rx = pbuf_free_header(c->rx, n);
    altcp_recved(c->pcb, n);
    return n;
}

/* mbedTLS BIO: as much as the TCP send buffer takes; the rest when it has room again. */
static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    struct tls_conn *c = ctx;

    if (!c->pcb) /* freed while its handshake waited for the token (tls_conn_free) */
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    u16_t room = altcp_sndbuf(c->pcb);
    u16_t n = (u16_t)(len < room ? len : room);

    if (n == 0)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    err_t err = altcp_write(c->pcb, buf, n, TCP_WRITE_FLAG_COPY);
    if (err == ERR_MEM)
        return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (err != ERR_OK)
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    return n;
}

/* A session from pool[first, end) with this configuration. */
static struct tls_conn *conn_new(struct altcp_pcb *pcb, bool client, size_t first, size_t end)
{
    if (!ready)
        return NULL;
    for (size_t i = first; i < end; i++) {
        struct tls_conn *c = &pool[i];
        if (c->used)
            continue;
        memset(c, 0, sizeof(*c));
        mbedtls_ssl_init(&c->ssl);
        if (mbedtls_ssl_setup(&c->ssl, client ? &client_conf : &conf) != 0) {
            mbedtls_ssl_free(&c->ssl);
            if (client)
                stats.client_failures++;
            else
                stats.handshake_failures++;
            return NULL;
        }
        c->used = true;
        c->client = client;
        c->pcb = pcb;
        mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
        return c;
    }
    return NULL;
}

struct tls_conn *tls_conn_new(struct altcp_pcb *pcb)
{
    return conn_new(pcb, false, 0, HTTP_TLS_SESSIONS);
}

struct tls_conn *tls_client_conn_new(struct altcp_pcb *pcb)
{
    return conn_new(pcb, true, HTTP_TLS_SESSIONS, HTTP_TLS_SESSIONS + HTTP_CLIENT_MAX);
}

void tls_conn_close_notify(struct tls_conn *c)
{
    (void)mbedtls_ssl_close_notify(&c->ssl);
    (void)altcp_output(c->pcb);
}

void tls_conn_free(struct tls_conn *c)
{
    if (!c || !c->used)
        return;
    if (c->rx)
        pbuf_free(c->rx);
    c->rx = NULL;
    if (c->away) {
        /* The runner's stack is inside mbedTLS with this session, parked on the token: the
         * session lives on, cut off from its connection and owner, until tls_conn_run ends. */
        c->dying = true;
        c->pcb = NULL;
        c->wake = NULL;
        return;
    }
    mbedtls_ssl_free(&c->ssl);
    memset(c, 0, sizeof(*c));
}

void tls_conn_input(struct tls_conn *c, struct pbuf *p)
{
    if (c->rx)
        pbuf_cat(c->rx, p);
    else
        c->rx = p;
}

static void note_peer(struct tls_conn *c)
{
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&c->ssl);

    if (!peer || !peer->raw.p)
        return;
    if (mbedtls_sha256(peer->raw.p, peer->raw.len, c->peer_fp, 0) != 0)
        return;
    c->has_peer = true;
    if (!c->client)
        stats.client_certs++;
}

/* mbedTLS's record layer (library/ssl_misc.h, not in its public headers): the client's
 * Certificate message is read ahead with it and kept for the handshake (check_client_cert). */
int mbedtls_ssl_read_record(mbedtls_ssl_context *ssl, unsigned update_hs_digest);
int mbedtls_ssl_flush_output(mbedtls_ssl_context *ssl);

/* Big-endian length of n bytes, as TLS messages carry them. */
static size_t be(const uint8_t *p, size_t n)
{
    size_t v = 0;

    for (size_t i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/*
 * Does every certificate in this Certificate message body parse? TLS 1.2: certificate_list<3>
 * of cert<3>; TLS 1.3: a request context<1>, then certificate_list<3> of cert<3> with
 * extensions<2> after each. *count: how many there are.
 */
static bool certs_parse(const uint8_t *msg, size_t len, bool tls13, size_t *count)
{
    size_t off = 0;

    *count = 0;
    if (tls13) {
        if (len < 1 || (size_t)msg[0] > len - 1)
            return false;
        off = 1 + msg[0];
    }
    if (len - off < 3 || be(msg + off, 3) != len - off - 3)
        return false;
    off += 3;
    while (off < len) {
        mbedtls_x509_crt crt;
        size_t n;
        int ret;

        if (len - off < 3)
            return false;
        n = be(msg + off, 3);
        off += 3;
        if (n == 0 || n > len - off)
            return false;
        mbedtls_x509_crt_init(&crt);
        ret = mbedtls_x509_crt_parse_der(&crt, msg + off, n);
        mbedtls_x509_crt_free(&crt);
        if (ret != 0)
            return false;
        off += n;
        if (tls13) {
            if (len - off < 2 || be(msg + off, 2) > len - off - 2)
                return false;
            off += 2 + be(msg + off, 2);
        }
        (*count)++;
    }
    return true;
}

/*
 * Before mbedTLS processes the client's Certificate message. mbedTLS keeps a certificate it
 * cannot parse (an unknown signature algorithm) as an empty entry in the chain and then runs
 * chain verification over it, which compares its absent names: undefined behaviour on input
 * anyone can send. And there is nothing to verify against: no CA is configured, the ACL's
 * fingerprints are the trust decision. So the message is read here first (mbedTLS keeps it for
 * the handshake step that follows) and every certificate in it must parse. Over TLS 1.3 a
 * presented chain is then taken as it is, without chain verification; TLS 1.2 mbedTLS cannot
 * read without verifying, which is safe once every certificate parses. The CertificateVerify
 * message still proves that the client holds the key. A chain longer than anyone may use
 * (HTTP_CLIENT_CHAIN_MAX: firmware/identity takes the leaf and three intermediates) is refused
 * too, rather than parsed and kept for nothing. 0 go on, MBEDTLS_ERR_SSL_WANT_READ
 * wait, MBEDTLS_ERR_SSL_BAD_CERTIFICATE refused, another mbedTLS error failed.
 */
static int check_client_cert(struct tls_conn *c)
{
    bool tls13 = c->ssl.tls_version == MBEDTLS_SSL_VERSION_TLS1_3;
    size_t count;
    int ret;

    if (c->cert_checked)
        return 0;
    /* Our flight first, as the step would send it (TLS 1.3 sends at the start of a step). */
    ret = mbedtls_ssl_flush_output(&c->ssl);
    if (ret != 0)
        return ret;
    /* The digest is updated here or in mbedTLS's own read, as the step would have: once. */
    ret = mbedtls_ssl_read_record(&c->ssl, tls13 ? 0 : 1);
    if (ret != 0)
        return ret;
    c->ssl.keep_current_message = 1;
    c->cert_checked = true;
    if (c->ssl.in_msgtype != MBEDTLS_SSL_MSG_HANDSHAKE ||
        c->ssl.in_msg[0] != MBEDTLS_SSL_HS_CERTIFICATE)
        return 0; /* not a certificate: the step refuses it without verifying anything */
    if (c->ssl.in_hslen < 4 || c->ssl.in_hslen > c->ssl.in_msglen ||
        !certs_parse(c->ssl.in_msg + 4, c->ssl.in_hslen - 4, tls13, &count) ||
        count > HTTP_CLIENT_CHAIN_MAX)
        return MBEDTLS_ERR_SSL_BAD_CERTIFICATE;
    if (tls13 && count > 0)
        mbedtls_ssl_set_hs_authmode(&c->ssl, MBEDTLS_SSL_VERIFY_NONE);
    return 0;
}

/* The handshake, step by step, to check the client's certificate before mbedTLS sees it. */
static int handshake_steps(struct tls_conn *c)
{
    int ret = 0;

    while (ret == 0 && !mbedtls_ssl_is_handshake_over(&c->ssl)) {
        if (!c->client && c->ssl.state == MBEDTLS_SSL_CLIENT_CERTIFICATE) {
            ret = check_client_cert(c);
            if (ret == MBEDTLS_ERR_SSL_BAD_CERTIFICATE)
                mbedtls_ssl_send_alert_message(&c->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL,
                                               MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
            if (ret)
                break;
        }
        ret = mbedtls_ssl_handshake_step(&c->ssl);
    }
    return ret;
}

bool tls_conn_run(struct tls_conn *c)
{
    bool wake = false;

    c->away_ret = handshake_steps(c);
    /* The flight out now, not when the owner is woken: the client is waiting for it. */
    if (c->pcb && c->parked)
        (void)altcp_output(c->pcb);
    c->away = false;
    c->away_done = true;
    wake = c->parked;
    c->parked = false;
    if (c->dying) {
        if (!c->client)
            stats.handshake_failures++; /* its connection went while the token was asked */
        mbedtls_ssl_free(&c->ssl);
        memset(c, 0, sizeof(*c));
        wake = false;
    }
    /* The runner is free again once this returns: a session that found none busy tries again. */
    for (size_t i = 0; !wake && i < HTTP_TLS_SESSIONS + HTTP_CLIENT_MAX; i++)
        wake = pool[i].used && pool[i].want_runner;
    return wake;
}

void tls_wake(void)
{
    for (size_t i = 0; i < HTTP_TLS_SESSIONS + HTTP_CLIENT_MAX; i++) {
        struct tls_conn *c = &pool[i];
        if (c->used && !c->dying && (c->away_done || c->want_runner) && c->wake)
            c->wake(c->wake_arg);
    }
}

/*
 * The steps, on the runner's stack when there is one: STEPS_AWAY while they are away (waiting for
 * the token there, or for a runner to be free), else what they ended with (0 or an mbedTLS error).
 */
#define STEPS_AWAY 1 /* never an mbedTLS result: those are 0 or negative */

static int steps_somewhere(struct tls_conn *c)
{
    if (c->away)
        return STEPS_AWAY;
    if (c->away_done) {
        c->away_done = false;
        /* They stopped for the peer, or for send room: what came since (its event found them
         * away) goes through the steps now, or it would wait for the next event. */
        if (c->away_ret != MBEDTLS_ERR_SSL_WANT_READ && c->away_ret != MBEDTLS_ERR_SSL_WANT_WRITE)
            return c->away_ret;
    }
    if (!runner.start)
        return handshake_steps(c);
    bool waited = c->want_runner;
    c->away = true;
    c->want_runner = false;
    if (!runner.start(runner.ctx, c)) {
        c->away = false;
        c->want_runner = true;
        stats.runner_waits += !waited; /* once per wait, not per look */
        return STEPS_AWAY;
    }
    if (c->away) {
        c->parked = true;
        stats.token_waits++;
        return STEPS_AWAY;
    }
    c->away_done = false;
    return c->away_ret;
}

int tls_conn_handshake(struct tls_conn *c)
{
    int ret = steps_somewhere(c);

    if (ret == STEPS_AWAY)
        return 0;
    (void)altcp_output(c->pcb);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    if (ret != 0) {
        c->last_err = ret;
        if (c->client)
            stats.client_failures++;
        else
            stats.handshake_failures++;
        return -EPROTO;
    }
    if (c->client)
        stats.client_handshakes++;
    else
        stats.handshakes++;
    note_peer(c);
    return 1;
}

bool tls_conn_pending(struct tls_conn *c)
{
    return c->rx || mbedtls_ssl_check_pending(&c->ssl);
}

int tls_conn_read(struct tls_conn *c, uint8_t *buf, size_t cap)
{
    int ret = mbedtls_ssl_read(&c->ssl, buf, cap);

    if (ret > 0)
        return ret;
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    /* 0 is mbedTLS's end of stream (a TLS 1.2 peer closing without close_notify). */
    c->last_err = ret ? ret : MBEDTLS_ERR_SSL_CONN_EOF;
    return -EPIPE; /* close_notify, a fatal alert or a bad record: the session is over */
}

int tls_conn_write(struct tls_conn *c, const uint8_t *buf, size_t len)
{
    int ret = mbedtls_ssl_write(&c->ssl, buf, len);

    (void)altcp_output(c->pcb);
    if (ret >= 0)
        return ret;
    if (ret == MBEDTLS_ERR_SSL_WANT_WRITE || ret == MBEDTLS_ERR_SSL_WANT_READ)
        return 0;
    c->last_err = ret;
    return -EPIPE;
}

const char *tls_conn_why(const struct tls_conn *c)
{
    switch (c->last_err) {
    case 0:
        return "TLS session still open";
    case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
        return "the peer closed the TLS session";
    case MBEDTLS_ERR_SSL_CONN_EOF:
        return "the peer closed the connection";
    case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
        return "the peer sent a TLS alert";
    case MBEDTLS_ERR_SSL_INVALID_RECORD:
    case MBEDTLS_ERR_SSL_DECODE_ERROR:
    case MBEDTLS_ERR_SSL_UNEXPECTED_RECORD:
    case MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE:
        return "the peer does not speak TLS (malformed record or message)";
    case MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION:
        return "no common TLS version";
    case MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE:
        return "TLS handshake failed (no common parameters?)";
    case MBEDTLS_ERR_SSL_ALLOC_FAILED:
        return "out of TLS memory";
    case MBEDTLS_ERR_SSL_BAD_CERTIFICATE:
        return "the client certificate is malformed (or its chain too long)";
    default:
        return "TLS failed (bad message, or the token did not sign)";
    }
}

bool tls_conn_peer_fingerprint(const struct tls_conn *c, uint8_t fp[TLS_FINGERPRINT_LEN])
{
    if (!c || !c->has_peer)
        return false;
    memcpy(fp, c->peer_fp, TLS_FINGERPRINT_LEN);
    return true;
}

size_t tls_conn_peer_chain(const struct tls_conn *c, struct http_cert out[], size_t max)
{
    size_t n = 0;

    if (!c || !c->has_peer)
        return 0;
    for (const mbedtls_x509_crt *crt = mbedtls_ssl_get_peer_cert(&c->ssl);
         crt && crt->raw.p && n < max; crt = crt->next)
        out[n++] = (struct http_cert){crt->raw.p, crt->raw.len};
    return n;
}
