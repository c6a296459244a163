/*
 * firmware/app/core_net.c — the network setting: kept in the NV store, checked, applied.
 * The console's `net set` and the boot (main.c) both come through here.
 */
#include "core.h"

#if SIGNET_HAS_NET
#include <errno.h>
#include <string.h>

#include "lib/ipv4.h"
#include "net/net.h"
#include "net/resolve.h"

/* NV record NV_KEY_NET_CONFIG: version 1, mode (0 DHCP, 1 static), address, mask, gateway
 * (big-endian). */
#define NETCFG_VERSION 1
#define NETCFG_LEN     14

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* NV record NV_KEY_NET_DNS: version 1, count (0: DHCP's), then per server its address and port
 * (big-endian). */
#define NETDNS_VERSION 1
#define NETDNS_LEN(n)  (2 + 6 * (n))

/* Why a static setting cannot work, or NULL. The one check for typed and stored settings. */
static const char *static_config_problem(const struct net_config *c)
{
    int prefix = ipv4_prefix_len(c->mask);
    uint32_t host = c->addr & ~c->mask;

    if (prefix < 1)
        return "netmask is not a prefix length 1..32";
    if (c->addr == 0 || (c->addr >> 24) == 127 || (c->addr >> 28) == 0xe || (c->addr >> 28) == 0xf)
        return "not a unicast address for a host";
    if (prefix <= 30 && (host == 0 || host == ~c->mask))
        return "that is the network's own or broadcast address";
    if (c->gw && ((c->gw & c->mask) != (c->addr & c->mask) || c->gw == c->addr))
        return "the gateway must be another address on the same network";
    return NULL;
}

void app_net_config_load(struct app *app, struct net_config *cfg, bool *bad)
{
    uint8_t rec[NETCFG_LEN];
    size_t len = 0;

    memset(cfg, 0, sizeof(*cfg));
    cfg->dhcp = true;
    *bad = false;
    if (app->nv_status || nvstore_read(&app->nv, NV_KEY_NET_CONFIG, rec, sizeof(rec), &len) != 0)
        return; /* never set: DHCP */
    struct net_config c = {.dhcp = rec[1] == 0};
    if (len != NETCFG_LEN || rec[0] != NETCFG_VERSION || rec[1] > 1) {
        *bad = true;
        return;
    }
    c.addr = get_be32(rec + 2);
    c.mask = get_be32(rec + 6);
    c.gw = get_be32(rec + 10);
    if (!c.dhcp && static_config_problem(&c)) {
        *bad = true;
        return;
    }
    *cfg = c;
}

int app_net_config_set(struct app *app, const struct net_config *c, const char **why)
{
    uint8_t rec[NETCFG_LEN] = {NETCFG_VERSION};

    *why = c->dhcp ? NULL : static_config_problem(c);
    if (*why)
        return -EINVAL;
    rec[1] = c->dhcp ? 0 : 1;
    if (!c->dhcp) {
        put_be32(rec + 2, c->addr);
        put_be32(rec + 6, c->mask);
        put_be32(rec + 10, c->gw);
    }
    *why = "no network interface";
    if (app->net_status)
        return -ENODEV;
    /* Stored first: a setting that would not survive a reboot is not applied either. */
    *why = "could not store the setting (NV store unavailable)";
    if (app->nv_status || nvstore_write(&app->nv, NV_KEY_NET_CONFIG, rec, sizeof(rec)) != 0)
        return -EIO;
    *why = "the interface refused the setting";
    if (net_configure(c) != 0)
        return -EIO;
    return 0;
}
/* Why a DNS server cannot be one, or NULL. */
static const char *dns_server_problem(const struct resolve_server *s)
{
    if (s->addr == 0 || (s->addr >> 28) == 0xe || (s->addr >> 28) == 0xf)
        return "a DNS server is a unicast address";
    if (s->port == 0)
        return "a DNS server's port is 1..65535";
    return NULL;
}

void app_net_dns_load(struct app *app)
{
    uint8_t rec[NETDNS_LEN(RESOLVE_SERVERS)];
    struct resolve_server s[RESOLVE_SERVERS];
    size_t len = 0;

    if (app->nv_status || app->net_status ||
        nvstore_read(&app->nv, NV_KEY_NET_DNS, rec, sizeof(rec), &len) != 0)
        return; /* never set: DHCP's */
    unsigned n = len >= 2 ? rec[1] : 0;
    if (len < 2 || rec[0] != NETDNS_VERSION || n > RESOLVE_SERVERS || len != NETDNS_LEN(n)) {
        app_audit(app, "net set dns: the stored setting is unreadable; using DHCP's servers");
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        s[i].addr = get_be32(rec + 2 + 6 * i);
        s[i].port = (uint16_t)(rec[6 + 6 * i] << 8 | rec[7 + 6 * i]);
        if (dns_server_problem(&s[i]))
            return;
    }
    net_set_dns(s, n);
}

int app_net_dns_set(struct app *app, const struct resolve_server *s, unsigned n, const char **why)
{
    uint8_t rec[NETDNS_LEN(RESOLVE_SERVERS)] = {NETDNS_VERSION, (uint8_t)n};

    *why = "at most two DNS servers";
    if (n > RESOLVE_SERVERS)
        return -EINVAL;
    for (unsigned i = 0; i < n; i++) {
        *why = dns_server_problem(&s[i]);
        if (*why)
            return -EINVAL;
        put_be32(rec + 2 + 6 * i, s[i].addr);
        rec[6 + 6 * i] = (uint8_t)(s[i].port >> 8);
        rec[7 + 6 * i] = (uint8_t)s[i].port;
    }
    *why = "no network interface";
    if (app->net_status)
        return -ENODEV;
    *why = "could not store the setting (NV store unavailable)";
    if (app->nv_status || nvstore_write(&app->nv, NV_KEY_NET_DNS, rec, NETDNS_LEN(n)) != 0)
        return -EIO;
    net_set_dns(s, n);
    return 0;
}
#endif
