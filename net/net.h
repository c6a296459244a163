/*
 * net/net — the appliance's IPv4 interface: lwIP (NO_SYS) over hal_eth.
 *
 * net_init() brings the interface up with DHCP or a static address; net_configure() switches. The
 * firmware calls net_input() when the driver reports frames, and again while it returns true, and
 * net_tick() every NET_TICK_MS to run lwIP's timers. Everything runs in one task, so lwIP needs no
 * locking.
 */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stdint.h>

#define NET_TICK_MS 100

/* Frames net_input() takes per call. Few: a frame may complete a request whose handler takes a
 * while, and the token task's parked fiber is resumed only between events, so a token answer that
 * arrived meanwhile waits for the whole batch (the token idles). */
#ifndef NET_RX_BUDGET
#define NET_RX_BUDGET 4
#endif

struct net_info {
    bool up;    /* interface up and link up */
    bool dhcp;  /* address from DHCP */
    bool bound; /* has an address */
    uint8_t mac[6];
    uint32_t addr, mask, gw; /* host byte order */
    uint32_t rx_frames, tx_frames, rx_dropped;
};

/* How the interface gets its address: DHCP (the default), or these fixed values. */
struct net_config {
    bool dhcp;
    uint32_t addr, mask, gw; /* host byte order; ignored with dhcp */
};

/* Bring the interface up with this configuration (NULL: DHCP). -ENODEV without a device. */
int net_init(const struct net_config *cfg);
/* Switch to another configuration at once (a static address replaces a lease, and back). */
int net_configure(const struct net_config *cfg);
/* Take waiting frames; true when the budget ran out first and it should be called again. */
bool net_input(void);
void net_tick(void);
void net_info(struct net_info *out);

/* The DNS servers to ask (net/resolve.h): the operator's (n 1..RESOLVE_SERVERS), or n 0 for
 * those DHCP gives, asked for again at once. */
struct resolve_server;
void net_set_dns(const struct resolve_server *s, unsigned n);

/* No more callbacks (arg, recv, sent, poll, err) for this connection: it is being closed or
 * aborted by its owner (the HTTP server and client, the RELP client). */
struct altcp_pcb;
void net_pcb_detach(struct altcp_pcb *pcb);

#endif
