#include "tls.h"

#include <errno.h>
#include <string.h>

#include "crypto/rng.h"
#include "lwip/pbuf.h"
#include "mbedtls/sha256.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"
#include "signet_config.h"

struct tls_conn {
    bool used;
    bool has_peer;
    struct altcp_pcb *pcb;
    struct pbuf *rx; /* ciphertext received, not yet consumed by mbedTLS */
    mbedtls_ssl_context ssl;
    uint8_t peer_fp[TLS_FINGERPRINT_LEN];
};

static struct tls_conn pool[HTTP_CONN_MAX];
static mbedtls_ssl_config conf;
static mbedtls_x509_crt own_cert;
static bool ready;
static struct tls_stats stats;

/* ALPN: we speak HTTP/1.1 only; clients offering h2 as well settle on it. */
static const char *alpn[] = {"http/1.1", NULL};

int tls_server_set_identity(const uint8_t *cert_der, size_t len, mbedtls_pk_context *key)
{
    int ret;

    if (ready)
        return -EALREADY;
    mbedtls_x509_crt_init(&own_cert);
    mbedtls_ssl_config_init(&conf);
    ret = mbedtls_x509_crt_parse_der(&own_cert, cert_der, len);
    if (ret != 0) {
        ret = -EINVAL;
        goto fail;
    }
    if (mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
        mbedtls_ssl_conf_own_cert(&conf, &own_cert, key) != 0 ||
        mbedtls_ssl_conf_alpn_protocols(&conf, alpn) != 0) {
        ret = -ENOMEM;
        goto fail;
    }
    mbedtls_ssl_conf_rng(&conf, rng_random, NULL);
    /* Ask for a client certificate, do not insist: the ACL decides who may do what. */
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_min_tls_version(&conf, MBEDTLS_SSL_VERSION_TLS1_2);
    ready = true;
    return 0;
fail:
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

struct tls_conn *tls_conn_new(struct altcp_pcb *pcb)
{
    if (!ready)
        return NULL;
    for (size_t i = 0; i < HTTP_CONN_MAX; i++) {
        struct tls_conn *c = &pool[i];
        if (c->used)
            continue;
        memset(c, 0, sizeof(*c));
        mbedtls_ssl_init(&c->ssl);
        if (mbedtls_ssl_setup(&c->ssl, &conf) != 0) {
            mbedtls_ssl_free(&c->ssl);
            stats.handshake_failures++;
            return NULL;
        }
        c->used = true;
        c->pcb = pcb;
        mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
        return c;
    }
    return NULL;
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
    stats.client_certs++;
}

int tls_conn_handshake(struct tls_conn *c)
{
    int ret = mbedtls_ssl_handshake(&c->ssl);

    (void)altcp_output(c->pcb);
    if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    if (ret != 0) {
        stats.handshake_failures++;
        return -EPROTO;
    }
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
    return -EPIPE;
}

bool tls_conn_peer_fingerprint(const struct tls_conn *c, uint8_t fp[TLS_FINGERPRINT_LEN])
{
    if (!c || !c->has_peer)
        return false;
    memcpy(fp, c->peer_fp, TLS_FINGERPRINT_LEN);
    return true;
}
