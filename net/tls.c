#include "tls.h"

#include <errno.h>
#include <string.h>

#include "crypto/rng.h"
#include "lwip/pbuf.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "net/http_client.h"
#include "signet_config.h"

struct tls_conn {
    bool used;
    bool client; /* our side is the client (net/http_client) */
    bool has_peer;
    int last_err; /* the mbedTLS error that ended the session, for tls_conn_why */
    struct altcp_pcb *pcb;
    struct pbuf *rx; /* ciphertext received, not yet consumed by mbedTLS */
    mbedtls_ssl_context ssl;
    uint8_t peer_fp[TLS_FINGERPRINT_LEN];
};

/* Server sessions in [0, HTTP_CONN_MAX), client sessions after them: neither side can starve
 * the other. */
static struct tls_conn pool[HTTP_CONN_MAX + HTTP_CLIENT_MAX];
static mbedtls_ssl_config conf, client_conf;
static mbedtls_x509_crt own_cert;
static bool ready;
static struct tls_stats stats;

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
}

/* mbedTLS BIO: hand over queued ciphertext, and only now open the TCP window for it. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    struct tls_conn *c = ctx;

    if (!c->rx)
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
    return conn_new(pcb, false, 0, HTTP_CONN_MAX);
}

struct tls_conn *tls_client_conn_new(struct altcp_pcb *pcb)
{
    return conn_new(pcb, true, HTTP_CONN_MAX, HTTP_CONN_MAX + HTTP_CLIENT_MAX);
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

int tls_conn_handshake(struct tls_conn *c)
{
    int ret = mbedtls_ssl_handshake(&c->ssl);

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
