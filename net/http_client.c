#include "http_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/altcp_tcp.h"
#include "lwip/sys.h"
#include "signet_config.h"

static struct {
    bool busy;
    struct altcp_pcb *pcb;
    http_client_done_fn done;
    void *ctx;
    uint32_t deadline;
    size_t out_len, out_sent;
    char out[HTTP_CLIENT_REQUEST_MAX];
    size_t in_len;
    char in[HTTP_CLIENT_RESPONSE_MAX + 1];
} cl;

/* No more callbacks for this connection: it is being closed or aborted. */
static void detach(struct altcp_pcb *pcb)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_err(pcb, NULL);
}

/* End the exchange: close, then report exactly once. ERR_ABRT if the connection had to be
 * aborted (what a receive callback must then return). */
static err_t finish(int status, const char *body, size_t len, const char *why)
{
    struct altcp_pcb *pcb = cl.pcb;
    err_t ret = ERR_OK;

    cl.pcb = NULL;
    if (pcb) {
        detach(pcb);
        if (altcp_close(pcb) != ERR_OK) {
            altcp_abort(pcb);
            ret = ERR_ABRT;
        }
    }
    /* busy until done() returns: the body lives in our buffer. */
    cl.done(cl.ctx, status, body, len, why);
    cl.busy = false;
    return ret;
}

static bool name_is(const char *p, const char *end, const char *want)
{
    size_t n = strlen(want);
    if ((size_t)(end - p) < n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != want[i])
            return false;
    }
    return true;
}

/*
 * Status line and Content-Length of the answer so far. 1 complete (status, body set), 0 not
 * yet, -1 malformed. At EOF an answer without Content-Length ends where the data ends.
 */
static int parse_answer(bool eof, int *status, const char **body, size_t *len)
{
    char *head_end = NULL;
    for (size_t i = 0; i + 3 < cl.in_len; i++)
        if (memcmp(cl.in + i, "\r\n\r\n", 4) == 0) {
            head_end = cl.in + i + 4;
            break;
        }
    if (!head_end)
        return eof ? -1 : 0;
    const char *p = cl.in;
    if (cl.in_len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || p[9] < '1' || p[9] > '5' ||
        p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return -1;
    *status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    long clen = -1;
    for (p = strstr(cl.in, "\r\n"); p && p + 2 < head_end; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (name_is(line, head_end, "content-length:")) {
            const char *v = line + 15;
            while (*v == ' ' || *v == '\t')
                v++;
            clen = 0;
            for (; *v >= '0' && *v <= '9'; v++) {
                clen = clen * 10 + (*v - '0');
                if (clen > HTTP_CLIENT_RESPONSE_MAX)
                    return -1;
            }
        }
    }
    size_t have = cl.in_len - (size_t)(head_end - cl.in);
    if (clen < 0) {
        if (!eof)
            return 0;
        clen = (long)have;
    }
    if (have < (size_t)clen)
        return eof ? -1 : 0;
    *body = head_end;
    *len = (size_t)clen;
    return 1;
}

static err_t check_answer(bool eof)
{
    int status = 0;
    const char *body = NULL;
    size_t len = 0;
    int r = parse_answer(eof, &status, &body, &len);

    if (r < 0)
        return finish(0, NULL, 0, "the server's answer is not HTTP/1.x with a body we can read");
    if (r > 0)
        return finish(status, body, len, "");
    return ERR_OK;
}

static void flush(void)
{
    size_t left = cl.out_len - cl.out_sent, room = altcp_sndbuf(cl.pcb);
    size_t n = left < room ? left : room;

    if (n && altcp_write(cl.pcb, cl.out + cl.out_sent, (u16_t)n, TCP_WRITE_FLAG_COPY) == ERR_OK) {
        cl.out_sent += n;
        altcp_output(cl.pcb);
    }
}

static err_t on_recv(void *arg, struct altcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    if (!cl.busy || pcb != cl.pcb) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (!p || err != ERR_OK) {
        if (p)
            pbuf_free(p);
        return check_answer(true);
    }
    altcp_recved(pcb, p->tot_len);
    if (p->tot_len > HTTP_CLIENT_RESPONSE_MAX - cl.in_len) {
        pbuf_free(p);
        return finish(0, NULL, 0, "the server's answer is too large");
    }
    pbuf_copy_partial(p, cl.in + cl.in_len, p->tot_len, 0);
    cl.in_len += p->tot_len;
    cl.in[cl.in_len] = '\0';
    pbuf_free(p);
    return check_answer(false);
}

static err_t on_sent(void *arg, struct altcp_pcb *pcb, u16_t len)
{
    (void)arg;
    (void)len;
    if (cl.busy && pcb == cl.pcb && cl.out_sent < cl.out_len)
        flush();
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    (void)arg;
    if (!cl.busy)
        return;
    cl.pcb = NULL; /* lwIP has freed it */
    (void)finish(0, NULL, 0, err == ERR_RST ? "connection refused or reset" : "connection failed");
}

static err_t on_connected(void *arg, struct altcp_pcb *pcb, err_t err)
{
    (void)arg;
    (void)pcb;
    if (err == ERR_OK)
        flush();
    return ERR_OK;
}

/* "http://A.B.C.D[:PORT][/PATH]" */
static int parse_url(const char *url, ip_addr_t *ip, uint16_t *port, const char **path,
                     const char **why)
{
    char host[16];
    size_t n = 0;
    int dots = 0;

    *why = "the URL must be http://A.B.C.D[:PORT][/PATH] (an IPv4 address: no name lookup)";
    if (strncmp(url, "http://", 7) != 0)
        return -EINVAL;
    const char *p = url + 7;
    for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
        if (n == sizeof(host) - 1)
            return -EINVAL;
        dots += *p == '.';
        host[n++] = *p;
    }
    host[n] = '\0';
    if (dots != 3 || !ip4addr_aton(host, ip_2_ip4(ip)))
        return -EINVAL;
    IP_SET_TYPE(ip, IPADDR_TYPE_V4);
    *port = 80;
    if (*p == ':') {
        unsigned long v = 0;
        const char *d = ++p;
        for (; *p >= '0' && *p <= '9' && v <= 65535; p++)
            v = v * 10 + (unsigned long)(*p - '0');
        if (p == d || v == 0 || v > 65535)
            return -EINVAL;
        *port = (uint16_t)v;
    }
    if (*p && *p != '/')
        return -EINVAL;
    *path = *p ? p : NULL;
    return 0;
}

int http_client_post(const char *url, const char *path_default, const char *content_type,
                     const char *body, size_t len, http_client_done_fn done, void *ctx,
                     const char **why)
{
    ip_addr_t ip;
    uint16_t port;
    const char *path;
    int ret;

    *why = "another request is still in flight";
    if (cl.busy)
        return -EBUSY;
    ret = parse_url(url, &ip, &port, &path, why);
    if (ret)
        return ret;
    if (!path || strcmp(path, "/") == 0)
        path = path_default;
    int head = snprintf(cl.out, sizeof(cl.out),
                        "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
                        "Content-Length: %u\r\nConnection: close\r\n\r\n",
                        path, url + 7, content_type, (unsigned)len);
    *why = "the request is too large";
    if (head < 0 || (size_t)head + len > sizeof(cl.out))
        return -EINVAL;
    memcpy(cl.out + head, body, len);
    cl.out_len = (size_t)head + len;
    cl.out_sent = cl.in_len = 0;
    *why = "out of network memory";
    cl.pcb = altcp_tcp_new_ip_type(IPADDR_TYPE_V4);
    if (!cl.pcb)
        return -ENOMEM;
    cl.busy = true;
    cl.done = done;
    cl.ctx = ctx;
    cl.deadline = sys_now() + HTTP_CLIENT_TIMEOUT_MS;
    altcp_recv(cl.pcb, on_recv);
    altcp_sent(cl.pcb, on_sent);
    altcp_err(cl.pcb, on_err);
    if (altcp_connect(cl.pcb, &ip, port, on_connected) != ERR_OK) {
        altcp_abort(cl.pcb);
        cl.pcb = NULL;
        cl.busy = false;
        *why = "cannot connect (no route?)";
        return -EIO;
    }
    return 0;
}

void http_client_tick(uint32_t now_ms)
{
    if (cl.busy && cl.pcb && (int32_t)(now_ms - cl.deadline) >= 0) {
        struct altcp_pcb *pcb = cl.pcb;
        cl.pcb = NULL;
        detach(pcb);
        altcp_abort(pcb);
        (void)finish(0, NULL, 0, "no answer in time");
    }
}
