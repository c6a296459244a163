/* Console commands for the network: net show, net set, tls fingerprint. */
#include "core.h"

#if SIGNET_HAS_NET
#include <errno.h>
#include <string.h>

#include "lib/ipv4.h"
#include "net/net.h"
#include "net/tls.h"

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

static void print_ip(struct console *con, const char *label, uint32_t a)
{
    char text[IPV4_TEXT_MAX + 1];
    ipv4_format(a, text);
    console_printf(con, "%s%s\n", label, text);
}

static int cmd_net_show(struct console *con, int argc, char **argv)
{
    struct app *app = con->user;
    struct net_info ni;

    (void)argc;
    (void)argv;
    if (app->net_status == -ENODEV) {
        console_puts(con, "interface: none (no network device attached)\n");
        return 0;
    }
    if (app->net_status) {
        console_printf(con, "interface: failed to start (%d)\n", app->net_status);
        return 0;
    }
    net_info(&ni);
    console_printf(con, "interface: %s, mac %02x:%02x:%02x:%02x:%02x:%02x\n", ni.up ? "up" : "down",
                   ni.mac[0], ni.mac[1], ni.mac[2], ni.mac[3], ni.mac[4], ni.mac[5]);
    console_printf(con, "address:   %s\n",
                   ni.bound ? (ni.dhcp ? "DHCP" : "static") : "none yet (DHCP in progress)");
    if (ni.bound) {
        print_ip(con, "ip:        ", ni.addr);
        print_ip(con, "netmask:   ", ni.mask);
        print_ip(con, "gateway:   ", ni.gw);
    }
    console_printf(con, "frames:    %lu in, %lu out, %lu dropped\n", (unsigned long)ni.rx_frames,
                   (unsigned long)ni.tx_frames, (unsigned long)ni.rx_dropped);
    return 0;
}

static int cmd_net_set(struct console *con, int argc, char **argv)
{
    struct app *app = con->user;
    struct net_config c = {0};
    uint8_t rec[NETCFG_LEN] = {NETCFG_VERSION};
    const char *why;

    if (argc == 1 && strcmp(argv[0], "dhcp") == 0) {
        c.dhcp = true;
    } else if ((argc == 2 || argc == 3) && strcmp(argv[0], "static") == 0) {
        if (ipv4_parse_cidr(argv[1], &c.addr, &c.mask) != 0) {
            console_error(con, "bad address '%s' (want A.B.C.D/PREFIX)", argv[1]);
            return -1;
        }
        if (argc == 3 && ipv4_parse(argv[2], &c.gw) != 0) {
            console_error(con, "bad gateway '%s' (want A.B.C.D)", argv[2]);
            return -1;
        }
        why = static_config_problem(&c);
        if (why) {
            console_error(con, "%s", why);
            return -1;
        }
        rec[1] = 1;
        put_be32(rec + 2, c.addr);
        put_be32(rec + 6, c.mask);
        put_be32(rec + 10, c.gw);
    } else {
        console_error(con, "usage: net set dhcp | net set static A.B.C.D/PREFIX [GATEWAY]");
        return -1;
    }
    if (app->net_status) {
        console_error(con, "no network interface");
        return -1;
    }
    /* Stored first: a setting that would not survive a reboot is not applied either. */
    if (app->nv_status || nvstore_write(&app->nv, NV_KEY_NET_CONFIG, rec, sizeof(rec)) != 0) {
        console_error(con, "could not store the setting (NV store unavailable)");
        return -1;
    }
    if (net_configure(&c) != 0) {
        console_error(con, "the interface refused the setting");
        return -1;
    }
    console_puts(con, c.dhcp ? "network: DHCP\n" : "network: static address set\n");
    return 0;
}

static int cmd_tls_fingerprint(struct console *con, int argc, char **argv)
{
    struct app *app = con->user;
    char fp[APP_FP_TEXT_LEN + 1];

    (void)argc;
    (void)argv;
    if (!tls_server_ready()) {
        console_error(con, "no TLS certificate yet (login creates or loads it)");
        return -1;
    }
    app_format_fingerprint(app->tls_fp, fp);
    console_printf(con, "SHA-256 %s\n", fp);
    return 0;
}

const struct console_cmd app_net_cmds[] = {
    {"net show", "", "network interface, address, counters", cmd_net_show, 0, 0, CONSOLE_QUICK},
    {"net set", "dhcp | static A.B.C.D/PREFIX [GATEWAY]", "address by DHCP or fixed (kept in NV)",
     cmd_net_set, 1, 3, CONSOLE_NEEDS_LOGIN},
    {"tls fingerprint", "", "SHA-256 fingerprint of the HTTPS certificate", cmd_tls_fingerprint, 0,
     0, 0},
};
const unsigned app_net_cmd_count = sizeof(app_net_cmds) / sizeof(app_net_cmds[0]);
#endif
