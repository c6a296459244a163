/* Console commands for the network: net show, net set, net resolve, tls fingerprint. */
#include "core.h"

#if SIGNET_HAS_NET
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ipv4.h"
#include "net/net.h"
#include "net/resolve.h"
#include "net/tls.h"

/* Who may read GET /metrics, as config metrics set it. */
static void print_metrics(struct console *con)
{
    uint8_t fp[32];
    char text[APP_FP_TEXT_LEN + 1];

    switch (app_metrics_mode(fp)) {
    case APP_METRICS_OPEN:
        console_puts(con, "metrics:   GET /metrics open to anyone, on port 80 only\n");
        break;
    case APP_METRICS_HTTPS:
        app_format_fingerprint(fp, text);
        console_printf(con, "metrics:   GET /metrics over HTTPS only, to the client %s\n", text);
        break;
    case APP_METRICS_OFF:
        console_puts(con, "metrics:   off\n");
        break;
    }
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
    struct resolve_server dns[RESOLVE_SERVERS];
    bool from_dhcp;
    unsigned n = resolve_servers(dns, &from_dhcp);
    console_puts(con, "dns:       ");
    for (unsigned i = 0; i < n; i++) {
        char a[IPV4_TEXT_MAX + 1];
        ipv4_format(dns[i].addr, a);
        console_printf(con, i ? ", %s" : "%s", a);
        if (dns[i].port != RESOLVE_DNS_PORT)
            console_printf(con, ":%u", (unsigned)dns[i].port);
    }
    console_puts(con, n ? (from_dhcp ? " (from DHCP)\n" : " (set)\n")
                        : (from_dhcp ? "none (DHCP gave none)\n" : "none\n"));
    print_metrics(con);
    console_printf(con, "frames:    %lu in, %lu out, %lu dropped\n", (unsigned long)ni.rx_frames,
                   (unsigned long)ni.tx_frames, (unsigned long)ni.rx_dropped);
    return 0;
}

/* "A.B.C.D[:PORT][,A.B.C.D[:PORT]]" into s; the count, or -1. */
static int parse_dns_list(char *list, struct resolve_server s[RESOLVE_SERVERS])
{
    unsigned n = 0;

    for (char *item = list; item; n++) {
        char *next = strchr(item, ',');
        if (next)
            *next++ = '\0';
        char *colon = strchr(item, ':');
        unsigned long port = RESOLVE_DNS_PORT;
        if (colon) {
            char *end;
            *colon++ = '\0';
            port = strtoul(colon, &end, 10);
            if (*colon < '1' || *colon > '9' || *end || port > 65535)
                return -1;
        }
        if (n == RESOLVE_SERVERS || ipv4_parse(item, &s[n].addr) != 0)
            return -1;
        s[n].port = (uint16_t)port;
        item = next;
    }
    return (int)n;
}

static int net_set_dns_cmd(struct console *con, char *arg)
{
    struct app *app = con->user;
    struct resolve_server s[RESOLVE_SERVERS];
    const char *why;
    char shown[64];
    int n = strcmp(arg, "dhcp") == 0 ? 0 : -1;

    snprintf(shown, sizeof(shown), "%s", arg);
    if (n < 0)
        n = parse_dns_list(arg, s);
    if (n < 0) {
        console_error(con, "bad DNS servers '%s' (want A.B.C.D[:PORT][,A.B.C.D[:PORT]] or dhcp)",
                      shown);
        return -1;
    }
    if (app_net_dns_set(app, s, (unsigned)n, &why) != 0) {
        console_error(con, "%s", why);
        app_audit(app, "net set dns %s: refused: %s", shown, why);
        return -1;
    }
    app_audit(app, "net set dns %s", shown);
    console_printf(con, n ? "dns: %s\n" : "dns: from DHCP\n", shown);
    return 0;
}

static int cmd_net_set(struct console *con, int argc, char **argv)
{
    struct app *app = con->user;
    struct net_config c = {0};
    const char *why;

    if (argc == 2 && strcmp(argv[0], "dns") == 0)
        return net_set_dns_cmd(con, argv[1]);
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
        console_error(con, "usage: net set dhcp | net set static A.B.C.D/PREFIX [GATEWAY] | "
                           "net set dns A.B.C.D[:PORT][,A.B.C.D[:PORT]]|dhcp");
        return -1;
    }
    if (app_net_config_set(app, &c, &why) != 0) {
        console_error(con, "%s", why);
        return -1;
    }
    console_puts(con, c.dhcp ? "network: DHCP\n" : "network: static address set\n");
    return 0;
}

static void resolve_answer(void *ctx, uint32_t addr, const char *why)
{
    struct console *con = ctx;

    if (why) {
        console_error(con, "%s", why);
    } else {
        char a[IPV4_TEXT_MAX + 1];
        ipv4_format(addr, a);
        console_printf(con, "%s\n", a);
    }
    console_release(con);
}

/* A diagnostic: what the URLs' names resolve to, as http_client will see it. */
static int cmd_net_resolve(struct console *con, int argc, char **argv)
{
    struct app *app = con->user;
    uint32_t addr = 0;
    const char *why;

    (void)argc;
    if (app->net_status) {
        console_error(con, "no network interface");
        return -1;
    }
    if (ipv4_parse(argv[0], &addr) == 0) {
        resolve_answer(con, addr, NULL);
        return 0;
    }
    int ret = resolve_start(argv[0], &addr, resolve_answer, con, &why);
    if (ret < 0) {
        console_error(con, "%s", why);
        return -1;
    }
    if (ret == 1)
        resolve_answer(con, addr, NULL); /* known already: answered within the command */
    else
        console_hold(con);
    return 0;
}

/* time ntp SERVER[,SERVER...] | off | confirm: the clock decides which certificates are valid,
 * so every change, refusal and step is audited. */
static int cmd_time_ntp(struct console *con, int argc, char **argv)
{
    struct app *app = con->user;
    const char *why;
    char line[512];

    (void)argc;
    if (strcmp(argv[0], "confirm") == 0) {
        if (app_time_ntp_confirm(app, &why) != 0) {
            console_error(con, "%s", why);
            app_audit(app, "time ntp confirm: refused: %s", why);
            return -1;
        }
        app_time_describe(line, sizeof(line));
        console_printf(con, "time ntp: stepped as confirmed\nntp:       %s\n", line);
        return 0;
    }
    if (app_time_ntp_set(app, argv[0], &why) != 0) {
        console_error(con, "%s", why);
        app_audit(app, "time ntp %.300s: refused: %s", argv[0], why);
        return -1;
    }
    app_audit(app, "time ntp %s", argv[0]);
    console_printf(con, strcmp(argv[0], "off") == 0 ? "time ntp: off\n" : "time ntp: asking %s\n",
                   argv[0]);
    return 0;
}

static int cmd_config_metrics(struct console *con, int argc, char **argv)
{
    struct app *app = con->user;
    enum app_metrics_mode mode;
    uint8_t fp[32] = {0};
    const char *why;

    if (argc == 1 && strcmp(argv[0], "open") == 0) {
        mode = APP_METRICS_OPEN;
    } else if (argc == 1 && strcmp(argv[0], "off") == 0) {
        mode = APP_METRICS_OFF;
    } else if (argc == 2 && strcmp(argv[0], "https") == 0 &&
               acl_parse_fingerprint(argv[1], fp) == 0) {
        mode = APP_METRICS_HTTPS;
    } else {
        console_error(con, "usage: config metrics open | https FINGERPRINT | off (the scraper's "
                           "certificate, SHA-256 in hex)");
        return -1;
    }
    if (app_metrics_set(app, mode, fp, &why) != 0) {
        console_error(con, "%s", why);
        app_audit(app, "config metrics %s: refused: %s", argv[0], why);
        return -1;
    }
    char text[APP_FP_TEXT_LEN + 1];
    app_format_fingerprint(fp, text);
    app_audit(app, "config metrics %s%s%s", argv[0], mode == APP_METRICS_HTTPS ? " " : "",
              mode == APP_METRICS_HTTPS ? text : "");
    print_metrics(con);
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
    {"net set", "dhcp | static A.B.C.D/PREFIX [GATEWAY] | dns A.B.C.D[:PORT][,...]|dhcp",
     "address by DHCP or fixed; DNS servers by DHCP or these (kept in NV)", cmd_net_set, 1, 3,
     CONSOLE_NEEDS_LOGIN},
    {"net resolve", "NAME", "look a host name up as URLs' names are", cmd_net_resolve, 1, 1,
     CONSOLE_QUICK},
    {"time ntp", "SERVER[,SERVER[,SERVER]] | off | confirm",
     "network time from these servers (HOST[:PORT]); confirm a step over a day", cmd_time_ntp, 1, 1,
     CONSOLE_NEEDS_LOGIN | CONSOLE_QUICK},
    {"config metrics", "open | https FINGERPRINT | off",
     "who may read GET /metrics: anyone on port 80 (default), one HTTPS client, nobody",
     cmd_config_metrics, 1, 2, CONSOLE_NEEDS_LOGIN},
    {"tls fingerprint", "", "SHA-256 fingerprint of the HTTPS certificate", cmd_tls_fingerprint, 0,
     0, 0},
};
const unsigned app_net_cmd_count = sizeof(app_net_cmds) / sizeof(app_net_cmds[0]);
#endif
