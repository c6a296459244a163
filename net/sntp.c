#include "sntp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "lib/ipv4.h"
#include "lib/ntp.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/udp.h"
#include "resolve.h"

/* One server's part of a round. */
struct ask {
    bool done;
    char host[HOSTNAME_MAX + 1];
    uint16_t port;
    ip_addr_t ip;
    struct udp_pcb *pcb;
    uint64_t nonce;
    int64_t t1_ms;     /* our clock when the request left */
    uint32_t sent_at;  /* sys_now() then, for the round trip */
    uint32_t deadline; /* for the answer, once sent */
    struct sntp_sample *out;
};

static struct {
    bool busy;
    unsigned n;
    uint32_t deadline;
    sntp_done_fn done;
    void *ctx;
    struct ask ask[SNTP_SERVERS];
    struct sntp_sample samples[SNTP_SERVERS];
} round_;

int sntp_parse_server(const char *spec, char host[HOSTNAME_MAX + 1], uint16_t *port)
{
    return hostname_parse_server(spec, host, port, NTP_PORT);
}

/* Our clock in Unix ms. The RTC counts whole seconds; the middle of the second is the best
 * guess at where in it we are, so a reading is within half a second either way. */
static int64_t local_ms(void)
{
    int64_t s = 0;
    (void)hal_clock_wall_get(&s);
    return s * 1000 + 500;
}

static void drop_pcb(struct ask *a)
{
    if (a->pcb) {
        udp_remove(a->pcb);
        a->pcb = NULL;
    }
}

static void fail(struct ask *a, const char *what)
{
    a->done = true;
    a->out->ok = false;
    snprintf(a->out->why, sizeof(a->out->why), "%s:%u: %s", a->host, (unsigned)a->port, what);
    drop_pcb(a);
}

static void finish_if_done(void)
{
    for (unsigned i = 0; i < round_.n; i++)
        if (!round_.ask[i].done)
            return;
    round_.busy = false;
    round_.done(round_.ctx, round_.samples, round_.n);
}

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                    u16_t port)
{
    struct ask *a = arg;
    uint8_t b[NTP_PACKET_LEN];
    struct ntp_answer ans;
    char kiss[5];
    const char *why;

    if (!round_.busy || a->done || pcb != a->pcb || !ip_addr_eq(addr, &a->ip) || port != a->port) {
        pbuf_free(p);
        return; /* not from the server asked: whoever sent it, keep waiting */
    }
    uint32_t now = sys_now();
    size_t len = pbuf_copy_partial(p, b, sizeof(b), 0);
    pbuf_free(p);
    int r = ntp_parse(b, len, a->nonce, &ans, kiss, &why);
    if (r == -2)
        return;
    if (r < 0) {
        char what[96];
        snprintf(what, sizeof(what), kiss[0] ? "%s, code %s" : "%s", why, kiss);
        fail(a, what);
        finish_if_done();
        return;
    }
    int64_t offset, delay;
    ntp_offset(&ans, a->t1_ms, a->t1_ms + (int64_t)(uint32_t)(now - a->sent_at), &offset, &delay);
    a->done = true;
    drop_pcb(a);
    if (delay < 0 || delay > SNTP_DELAY_MAX_MS) {
        fail(a, "the answer took too long to be used (its round trip is over 1 s)");
    } else {
        a->out->ok = true;
        a->out->offset_ms = offset;
        a->out->delay_ms = delay;
        a->out->stratum = ans.stratum;
    }
    finish_if_done();
}

static void send_request(struct ask *a)
{
    uint8_t req[NTP_PACKET_LEN];

    a->pcb = udp_new_ip_type(IPADDR_TYPE_V4);
    if (!a->pcb) {
        fail(a, "out of network memory");
        return;
    }
    udp_recv(a->pcb, on_recv, a);
    a->nonce = (uint64_t)LWIP_RAND() << 32 | LWIP_RAND();
    ntp_request(a->nonce, req);
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, NTP_PACKET_LEN, PBUF_RAM);
    if (!p) {
        fail(a, "out of network memory");
        return;
    }
    memcpy(p->payload, req, NTP_PACKET_LEN);
    a->t1_ms = local_ms();
    a->sent_at = sys_now();
    a->deadline = a->sent_at + SNTP_ANSWER_MS;
    err_t err = udp_sendto(a->pcb, p, &a->ip, a->port);
    pbuf_free(p);
    if (err != ERR_OK)
        fail(a, err == ERR_RTE ? "no route" : "could not send the request");
}

static void resolved(void *ctx, uint32_t addr, const char *why)
{
    struct ask *a = ctx;

    if (!round_.busy || a->done)
        return;
    if (why) {
        a->done = true;
        a->out->ok = false;
        snprintf(a->out->why, sizeof(a->out->why), "%s", why);
        finish_if_done();
        return;
    }
    ip_addr_set_ip4_u32_val(a->ip, lwip_htonl(addr));
    send_request(a);
    finish_if_done();
}

int sntp_poll(const char (*servers)[SNTP_SPEC_MAX], unsigned n, sntp_done_fn done, void *ctx)
{
    if (round_.busy)
        return -EBUSY;
    if (n == 0 || n > SNTP_SERVERS)
        return -EINVAL;
    memset(&round_, 0, sizeof(round_));
    for (unsigned i = 0; i < n; i++)
        if (sntp_parse_server(servers[i], round_.ask[i].host, &round_.ask[i].port) != 0)
            return -EINVAL;
    round_.busy = true;
    round_.n = n;
    round_.done = done;
    round_.ctx = ctx;
    round_.deadline = sys_now() + SNTP_ROUND_MS;
    for (unsigned i = 0; i < n; i++) {
        struct ask *a = &round_.ask[i];
        uint32_t addr = 0;
        const char *why;
        a->out = &round_.samples[i];
        a->deadline = round_.deadline;
        int r =
            ipv4_parse(a->host, &addr) == 0 ? 1 : resolve_start(a->host, &addr, resolved, a, &why);
        if (r == 1) {
            ip_addr_set_ip4_u32_val(a->ip, lwip_htonl(addr));
            send_request(a);
        } else if (r < 0) {
            a->done = true;
            snprintf(a->out->why, sizeof(a->out->why), "%s", why);
        }
    }
    return 0; /* even if every server failed already: done() comes from sntp_tick */
}

void sntp_tick(uint32_t now_ms)
{
    if (!round_.busy)
        return;
    for (unsigned i = 0; i < round_.n; i++) {
        struct ask *a = &round_.ask[i];
        bool late = (int32_t)(now_ms - (a->pcb ? a->deadline : round_.deadline)) >= 0;
        if (a->done || !late)
            continue;
        resolve_cancel(resolved, a);
        fail(a, "no answer in time");
    }
    finish_if_done();
}
