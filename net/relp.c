#include "relp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/ipv4.h"
#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/sys.h"
#include "net.h"
#include "resolve.h"
#include "signet_config.h"

#define OPEN_OFFER "relp_version=0\nrelp_software=signet\ncommands=syslog"
#define TXNR_MAX   999999999u
#define FRAME_HEAD 32 /* "TXNR syslog DATALEN " */

static struct {
    bool busy, resolving, opened;
    struct altcp_pcb *pcb;
    uint16_t port;
    const struct relp_events *ev;
    void *ctx;
    uint32_t next_txnr;
    uint32_t unacked; /* syslog frames not answered yet */
    uint32_t deadline;
    size_t in_len;
    char in[RELP_IN_MAX + 1];
} s;
static uint32_t ack_ms = RELP_ACK_MS;

static void resolved(void *ctx, uint32_t addr, const char *why);

/* The session is over: closed() once. ERR_ABRT when called from a callback of this pcb. */
static err_t finish(const char *why)
{
    bool had_pcb = s.pcb != NULL;

    if (!s.busy)
        return ERR_OK;
    if (s.resolving)
        resolve_cancel(resolved, NULL);
    if (had_pcb) {
        struct altcp_pcb *pcb = s.pcb;
        s.pcb = NULL;
        net_pcb_detach(pcb);
        altcp_abort(pcb);
    }
    s.busy = false;
    if (s.ev && s.ev->closed)
        s.ev->closed(s.ctx, why);
    return had_pcb ? ERR_ABRT : ERR_OK;
}

/* One frame, written whole or not at all (the stream must never hold half a frame). */
static err_t write_frame(uint32_t txnr, const char *cmd, const char *data, size_t len)
{
    static char frame[FRAME_HEAD + RELP_MSG_MAX + 1];
    int n = snprintf(frame, sizeof(frame), "%lu %s %lu%s", (unsigned long)txnr, cmd,
                     (unsigned long)len, len ? " " : "");

    if (n < 0 || (size_t)n + len + 1 > sizeof(frame) || altcp_sndbuf(s.pcb) < (size_t)n + len + 1)
        return ERR_MEM;
    memcpy(frame + n, data, len);
    frame[(size_t)n + len] = '\n';
    err_t err = altcp_write(s.pcb, frame, (u16_t)((size_t)n + len + 1), TCP_WRITE_FLAG_COPY);
    if (err == ERR_OK)
        (void)altcp_output(s.pcb); /* queued is sent: TCP retries what it could not send now */
    return err;
}

/* A decimal number of at most 9 digits at *p, then a space or (end_ok) the end of the frame. */
static bool number(const char **p, const char *end, uint32_t *out)
{
    uint32_t v = 0;
    int digits = 0;

    while (*p < end && **p >= '0' && **p <= '9' && digits < 9) {
        v = v * 10 + (uint32_t)(**p - '0');
        (*p)++;
        digits++;
    }
    *out = v;
    return digits > 0 && (*p == end || **p == ' ' || **p == '\n');
}

/* One whole frame at s.in, or 0 when more bytes are needed; -1 for one that is not RELP. */
static int parse_frame(uint32_t *txnr, char cmd[16], const char **data, uint32_t *len,
                       size_t *frame_len)
{
    const char *p = s.in, *end = s.in + s.in_len;
    size_t c = 0;

    if (!memchr(s.in, ' ', s.in_len))
        return s.in_len > FRAME_HEAD ? -1 : 0;
    if (!number(&p, end, txnr) || p == end || *p++ != ' ')
        return -1;
    while (p < end && *p >= 'a' && *p <= 'z' && c < 15)
        cmd[c++] = *p++;
    cmd[c] = '\0';
    if (p == end)
        return s.in_len > FRAME_HEAD ? -1 : 0;
    if (!c || *p++ != ' ')
        return -1;
    const char *digits = p;
    if (!number(&p, end, len))
        return p == end && p - digits < 9 ? 0 : -1;
    if (*len > RELP_IN_MAX - FRAME_HEAD)
        return -1;
    if (*len) {
        if (p == end)
            return 0;
        if (*p++ != ' ')
            return -1;
    }
    if ((size_t)(end - p) < *len + 1)
        return 0;
    *data = p;
    if (p[*len] != '\n')
        return -1;
    *frame_len = (size_t)(p + *len + 1 - s.in);
    return 1;
}

/* What the collector said: answers to our frames, or its closing. */
static err_t take_frames(void)
{
    for (;;) {
        uint32_t txnr = 0, len = 0;
        char cmd[16];
        const char *data = NULL;
        size_t frame_len = 0;
        int ret = parse_frame(&txnr, cmd, &data, &len, &frame_len);
        if (ret == 0)
            return s.in_len >= RELP_IN_MAX ? finish("the collector's frame is too long") : ERR_OK;
        if (ret < 0)
            return finish("the collector's answer is not RELP");
        if (strcmp(cmd, "serverclose") == 0)
            return finish("the collector closed the session");
        if (strcmp(cmd, "rsp") != 0)
            return finish("the collector sent a command a client does not take");
        if (len < 3 || memcmp(data, "200", 3) != 0) {
            char why[96];
            size_t n = 0;
            while (n < len && n < 40 && data[n] >= ' ' && data[n] <= '~')
                n++;
            snprintf(why, sizeof(why), "the collector refused: %.*s", (int)n, data);
            return finish(why);
        }
        memmove(s.in, s.in + frame_len, s.in_len - frame_len);
        s.in_len -= frame_len;
        if (!s.opened) {
            if (txnr != 1)
                return finish("the collector answered a frame before the open");
            s.opened = true;
            s.deadline = 0;
            if (s.ev->opened)
                s.ev->opened(s.ctx);
        } else if (s.unacked) {
            s.unacked--;
            s.deadline = s.unacked ? sys_now() + ack_ms : 0;
            s.ev->acked(s.ctx, txnr);
        } else {
            return finish("the collector answered a frame never sent");
        }
        if (!s.busy)
            return ERR_ABRT; /* a callback ended the session */
    }
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    if (pcb != s.pcb || !s.busy) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (!p || err != ERR_OK) {
        if (p)
            pbuf_free(p);
        return finish("the collector closed the connection");
    }
    altcp_recved(pcb, p->tot_len);
    size_t room = RELP_IN_MAX - s.in_len;
    size_t n = p->tot_len < room ? p->tot_len : room;
    pbuf_copy_partial(p, s.in + s.in_len, (u16_t)n, 0);
    bool over = n < p->tot_len;
    pbuf_free(p);
    s.in_len += n;
    s.in[s.in_len] = '\0';
    err_t ret = take_frames();
    if (ret == ERR_OK && over)
        ret = finish("the collector's frame is too long");
    return ret;
}

static void on_err(void *arg, err_t err)
{
    (void)arg;
    if (!s.busy)
        return;
    s.pcb = NULL; /* lwIP has freed it */
    (void)finish(err == ERR_RST ? "connection refused or reset" : "connection failed");
}

static err_t on_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (pcb != s.pcb || !s.busy || err != ERR_OK)
        return ERR_OK; /* a failed connect arrives through on_err */
    if (write_frame(1, "open", OPEN_OFFER, sizeof(OPEN_OFFER) - 1) != ERR_OK)
        return finish("cannot send the RELP open");
    s.next_txnr = 2;
    return ERR_OK;
}

static int connect_to(uint32_t addr, const char **why)
{
    ip_addr_t ip;

    ip_addr_set_ip4_u32_val(ip, lwip_htonl(addr));
    err_t err = altcp_connect(s.pcb, &ip, s.port, on_connected);
    *why = err == ERR_RTE ? "cannot connect: no route" : "cannot connect: out of memory";
    return err == ERR_OK ? 0 : -EIO;
}

static void resolved(void *ctx, uint32_t addr, const char *why)
{
    (void)ctx;
    if (!s.busy || !s.resolving)
        return;
    s.resolving = false;
    if (!why && connect_to(addr, &why) == 0)
        return;
    (void)finish(why);
}

int relp_connect(const char *host, uint16_t port, const struct relp_events *ev, void *ctx,
                 const char **why)
{
    uint32_t addr = 0;

    *why = "a session is open already";
    if (s.busy)
        return -EBUSY;
    memset(&s, 0, sizeof(s));
    *why = "out of network memory";
    s.pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!s.pcb)
        return -ENOMEM;
    altcp_recv(s.pcb, on_recv);
    altcp_err(s.pcb, on_err);
    s.port = port;
    s.ev = ev;
    s.ctx = ctx;
    s.busy = true;
    s.deadline = sys_now() + RELP_OPEN_MS;
    int ret = ipv4_parse(host, &addr) == 0 ? 1 : resolve_start(host, &addr, resolved, NULL, why);
    if (ret == 0) {
        s.resolving = true;
        return 0;
    }
    if (ret > 0)
        ret = connect_to(addr, why);
    if (ret < 0) {
        s.busy = false;
        net_pcb_detach(s.pcb);
        altcp_abort(s.pcb);
        s.pcb = NULL;
    }
    return ret < 0 ? ret : 0;
}

int relp_send(const char *msg, size_t len, uint32_t *txnr)
{
    if (!s.busy || !s.opened || !s.pcb)
        return -ENOTCONN;
    if (s.unacked >= RELP_WINDOW || len > RELP_MSG_MAX)
        return -EAGAIN;
    if (write_frame(s.next_txnr, "syslog", msg, len) != ERR_OK)
        return -EAGAIN;
    *txnr = s.next_txnr;
    s.next_txnr = s.next_txnr == TXNR_MAX ? 1 : s.next_txnr + 1;
    if (!s.unacked++)
        s.deadline = sys_now() + ack_ms;
    return 0;
}

void relp_abort(void)
{
    struct altcp_pcb *pcb = s.pcb;

    if (s.resolving)
        resolve_cancel(resolved, NULL);
    s.pcb = NULL;
    s.busy = false;
    if (pcb) {
        net_pcb_detach(pcb);
        altcp_abort(pcb); /* from inside one of its callbacks too: take_frames says ERR_ABRT */
    }
}

bool relp_busy(void)
{
    return s.busy;
}

void relp_tick(uint32_t now_ms)
{
    if (s.busy && s.deadline && (int32_t)(now_ms - s.deadline) >= 0)
        (void)finish(s.opened ? "the collector did not answer in time"
                              : "the collector did not open a session in time");
}

#if SIGNET_TEST_HOOKS
void relp_test_ack_timeout(uint32_t ms)
{
    ack_ms = ms ? ms : RELP_ACK_MS;
}
#endif
