#include "resolve.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/hostname.h"
#include "lib/ipv4.h"
#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"

/* One lookup. busy from resolve_start until done() was called, or the deadline passed. */
struct lookup {
    bool busy;
    bool starting; /* inside resolve_start: lwIP may answer before dns_gethostbyname returns */
    bool answered; /* starting: lwIP answered (addr if ok, else why) */
    bool ok;
    int rcode; /* the server's response code seen for this name; -1: no answer seen */
    uint32_t addr;
    uint32_t deadline;
    resolve_done_fn done; /* NULL: cancelled */
    void *ctx;
    char name[RESOLVE_NAME_MAX + 1];
    char why[RESOLVE_NAME_MAX + 160];
};

static struct lookup lookups[RESOLVE_MAX];
static struct resolve_server own[RESOLVE_SERVERS]; /* the operator's */
static unsigned own_count;                         /* 0: DHCP's */

int resolve_name_check(const char *name, size_t len)
{
    return hostname_check(name, len) == 0 ? 0 : -EINVAL;
}

/* Put the servers to ask into lwIP: DHCP may have written its own over the operator's. */
static void apply_own(void)
{
    for (unsigned i = 0; own_count && i < RESOLVE_SERVERS; i++) {
        ip_addr_t a;
        ip_addr_set_ip4_u32_val(a, lwip_htonl(i < own_count ? own[i].addr : 0));
        dns_setserver((u8_t)i, i < own_count ? &a : NULL);
    }
}

void resolve_set_servers(const struct resolve_server *s, unsigned n)
{
    own_count = n > RESOLVE_SERVERS ? RESOLVE_SERVERS : n;
    memcpy(own, s, own_count * sizeof(own[0]));
    if (own_count) {
        apply_own();
        return;
    }
    /* Back to DHCP's: forget the operator's; the next lease (net_configure asks for one) brings
     * DHCP's servers again. */
    for (u8_t i = 0; i < RESOLVE_SERVERS; i++)
        dns_setserver(i, NULL);
}

unsigned resolve_servers(struct resolve_server out[RESOLVE_SERVERS], bool *from_dhcp)
{
    unsigned n = 0;

    *from_dhcp = own_count == 0;
    if (own_count) {
        memcpy(out, own, own_count * sizeof(own[0]));
        return own_count;
    }
    for (u8_t i = 0; i < RESOLVE_SERVERS; i++) {
        const ip_addr_t *a = dns_getserver(i);
        if (!ip_addr_isany(a)) {
            out[n].addr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(a)));
            out[n++].port = RESOLVE_DNS_PORT;
        }
    }
    return n;
}

uint16_t resolve_server_port(uint8_t idx)
{
    return own_count && idx < own_count ? own[idx].port : RESOLVE_DNS_PORT;
}

/* Which configured server sent this (address and port), or -1. */
static int server_of(uint32_t addr, uint16_t port)
{
    struct resolve_server s[RESOLVE_SERVERS];
    bool dhcp;
    unsigned n = resolve_servers(s, &dhcp);

    for (unsigned i = 0; i < n; i++)
        if (s[i].addr == addr && s[i].port == port)
            return (int)i;
    return -1;
}

/* Does the question at q[0..len) name exactly `name` (case-insensitive, no compression)? */
static bool question_is(const uint8_t *q, size_t len, const char *name)
{
    size_t i = 0, j = 0;

    while (i < len && q[i]) {
        size_t n = q[i++];
        if (n > 63 || n > len - i)
            return false;
        if (j && name[j++] != '.')
            return false;
        for (size_t k = 0; k < n; k++, i++, j++) {
            char a = (char)q[i], b = name[j];
            if (!b)
                return false;
            if (a >= 'A' && a <= 'Z')
                a = (char)(a - 'A' + 'a');
            if (b >= 'A' && b <= 'Z')
                b = (char)(b - 'A' + 'a');
            if (a != b)
                return false;
        }
    }
    return i < len && name[j] == '\0';
}

/*
 * Every IPv4 packet, before lwIP: a DNS answer from a configured server is noted against the
 * lookup of the name it answers, so that a failure can name the server's response code (lwIP
 * only says "no address"). Only the reason text comes from here, never an address, so a forged
 * packet can change no outcome. The packet is never taken.
 */
int resolve_peek_input(struct pbuf *p, struct netif *inp)
{
    uint8_t b[60 + 8 + 12 + RESOLVE_NAME_MAX + 2];
    (void)inp;

    if (p->tot_len < 20 + 8 + 12)
        return 0;
    u16_t got = pbuf_copy_partial(p, b, sizeof(b), 0);
    size_t ihl = (size_t)(b[0] & 0x0f) * 4;
    if ((b[0] >> 4) != 4 || ihl < 20 || b[9] != 17 || got < ihl + 8 + 12)
        return 0;
    uint32_t src = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
    uint16_t sport = (uint16_t)(b[ihl] << 8 | b[ihl + 1]);
    const uint8_t *dns = b + ihl + 8;
    if (server_of(src, sport) < 0 || !(dns[2] & 0x80))
        return 0;
    for (size_t i = 0; i < RESOLVE_MAX; i++) {
        struct lookup *l = &lookups[i];
        if (l->busy && question_is(dns + 12, got - ihl - 8 - 12, l->name))
            l->rcode = dns[3] & 0x0f;
    }
    return 0;
}

static const char *servers_text(char *buf, size_t cap)
{
    struct resolve_server s[RESOLVE_SERVERS];
    bool dhcp;
    unsigned n = resolve_servers(s, &dhcp);
    size_t used = 0;

    buf[0] = '\0';
    for (unsigned i = 0; i < n && used < cap; i++) {
        char a[IPV4_TEXT_MAX + 1];
        ipv4_format(s[i].addr, a);
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", a);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* Why the lookup failed, in l->why. */
static void explain(struct lookup *l, bool timed_out)
{
    char servers[2 * (IPV4_TEXT_MAX + 2)];
    const char *what;

    servers_text(servers, sizeof(servers));
    switch (l->rcode) {
    case -1:
        what =
            timed_out ? "no answer in time from the DNS server" : "no answer from the DNS server";
        break;
    case 0:
        what = "the name has no IPv4 address, says the DNS server";
        break;
    case 2:
        what = "the DNS server failed to answer (SERVFAIL)";
        break;
    case 3:
        what = "no such name (NXDOMAIN), says the DNS server";
        break;
    case 5:
        what = "the DNS server refused the query";
        break;
    default:
        what = "the DNS server answered with an error";
        break;
    }
    snprintf(l->why, sizeof(l->why), "cannot resolve %s: %s (%s)", l->name, what, servers);
}

static void finish(struct lookup *l, uint32_t addr, bool ok)
{
    resolve_done_fn done = l->done;

    l->busy = false;
    if (done)
        done(l->ctx, addr, ok ? NULL : l->why);
}

static void found(const char *name, const ip_addr_t *ip, void *arg)
{
    struct lookup *l = arg;

    /* Ours only if still wanted for that name: a lookup that timed out may have been reused. */
    if (!l->busy || strcmp(name, l->name) != 0)
        return;
    l->ok = ip && IP_IS_V4(ip);
    l->addr = l->ok ? lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(ip))) : 0;
    if (!l->ok)
        explain(l, false);
    if (l->starting) {
        l->answered = true; /* resolve_start reports it */
        return;
    }
    finish(l, l->addr, l->ok);
}

int resolve_start(const char *name, uint32_t *addr, resolve_done_fn done, void *ctx,
                  const char **why)
{
    struct lookup *l = NULL;
    size_t len = strlen(name);
    struct resolve_server s[RESOLVE_SERVERS];
    bool dhcp;

    *why = "not a host name (letters, digits, hyphens and dots, at most 253)";
    if (resolve_name_check(name, len) != 0)
        return -EINVAL;
    if (resolve_servers(s, &dhcp) == 0) {
        *why =
            dhcp ? "no DNS server: DHCP gave none (set one with `net set dns`)" : "no DNS server";
        return -EHOSTUNREACH;
    }
    for (size_t i = 0; i < RESOLVE_MAX && !l; i++)
        if (!lookups[i].busy)
            l = &lookups[i];
    *why = "busy: the most name lookups at once are in flight";
    if (!l)
        return -EBUSY;
    memcpy(l->name, name, len + 1);
    l->busy = l->starting = true;
    l->answered = false;
    l->rcode = -1;
    l->done = done;
    l->ctx = ctx;
    l->deadline = sys_now() + RESOLVE_TIMEOUT_MS;
    apply_own();
    ip_addr_t ip;
    err_t err = dns_gethostbyname(name, &ip, found, l);
    l->starting = false;
    if (err == ERR_OK) {
        l->busy = false;
        *addr = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&ip)));
        return 1;
    }
    if (err == ERR_INPROGRESS && l->answered) {
        l->busy = false;
        *addr = l->addr;
        *why = l->why;
        return l->ok ? 1 : -EHOSTUNREACH;
    }
    if (err == ERR_INPROGRESS)
        return 0;
    l->busy = false;
    *why = err == ERR_MEM ? "busy: the most name lookups at once are in flight"
                          : "the name lookup could not start";
    return err == ERR_MEM ? -EBUSY : -EHOSTUNREACH;
}

void resolve_cancel(resolve_done_fn done, const void *ctx)
{
    for (size_t i = 0; i < RESOLVE_MAX; i++)
        if (lookups[i].busy && lookups[i].done == done && lookups[i].ctx == ctx)
            lookups[i].done = NULL;
}

void resolve_tick(uint32_t now_ms)
{
    apply_own();
    for (size_t i = 0; i < RESOLVE_MAX; i++) {
        struct lookup *l = &lookups[i];
        if (!l->busy || (int32_t)(now_ms - l->deadline) < 0)
            continue;
        explain(l, true);
        finish(l, 0, false);
    }
}
