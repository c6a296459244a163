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
#endif
