/* Console commands for the network: net show, net set, tls fingerprint. */
#include "core.h"

#if SIGNET_HAS_NET
#include <errno.h>
#include <string.h>

#include "lib/ipv4.h"
#include "net/net.h"
#include "net/tls.h"

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
    } else {
        console_error(con, "usage: net set dhcp | net set static A.B.C.D/PREFIX [GATEWAY]");
        return -1;
    }
    if (app_net_config_set(app, &c, &why) != 0) {
        console_error(con, "%s", why);
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
