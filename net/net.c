#include "net.h"

#include <errno.h>
#include <string.h>

#include "hal/eth.h"
#include "resolve.h"
#include "sntp.h"
#include "lwip/altcp.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

/* One interface per board. */
static struct netif eth_netif;
static bool started;
static bool using_dhcp;
static uint32_t rx_frames, tx_frames, rx_dropped;
static uint8_t frame[HAL_ETH_FRAME_MAX];

static err_t eth_output(struct netif *nif, struct pbuf *p)
{
    (void)nif;
    /* The driver wants one contiguous frame; pbuf chains are flattened here. */
    if (p->tot_len > sizeof(frame))
        return ERR_BUF;
    if (pbuf_copy_partial(p, frame, p->tot_len, 0) != p->tot_len)
        return ERR_BUF;
    if (hal_eth_send(frame, p->tot_len) != 0)
        return ERR_IF;
    tx_frames++;
    return ERR_OK;
}

static err_t eth_netif_init(struct netif *nif)
{
    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->output = etharp_output;
    nif->linkoutput = eth_output;
    nif->mtu = 1500;
    nif->hwaddr_len = 6;
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

int net_configure(const struct net_config *cfg)
{
    if (!started)
        return -ENODEV;
    if (cfg->dhcp) {
        if (!using_dhcp) {
            netif_set_addr(&eth_netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4);
            if (dhcp_start(&eth_netif) != ERR_OK)
                return -ENOMEM;
        }
        using_dhcp = true;
        return 0;
    }
    ip4_addr_t a, m, g;
    ip4_addr_set_u32(&a, lwip_htonl(cfg->addr));
    ip4_addr_set_u32(&m, lwip_htonl(cfg->mask));
    ip4_addr_set_u32(&g, lwip_htonl(cfg->gw));
    if (using_dhcp)
        dhcp_release_and_stop(&eth_netif); /* give the lease back: the address is ours now */
    using_dhcp = false;
    netif_set_addr(&eth_netif, &a, &m, &g);
    return 0;
}

int net_init(const struct net_config *cfg)
{
    static const struct net_config dhcp = {.dhcp = true};
    uint8_t mac[6];
    int ret = hal_eth_open(mac);

    if (ret)
        return ret;
    lwip_init();
    if (!netif_add(&eth_netif, NULL, NULL, NULL, NULL, eth_netif_init, ethernet_input))
        return -ENOMEM;
    memcpy(eth_netif.hwaddr, mac, 6);
    netif_set_default(&eth_netif);
    netif_set_up(&eth_netif);
    if (hal_eth_link_up())
        netif_set_link_up(&eth_netif);
    started = true;
    return net_configure(cfg ? cfg : &dhcp);
}

/* The driver notifies on link changes too; lwIP learns of them here (DHCP restarts on link-up). */
static void follow_link(void)
{
    bool up = hal_eth_link_up();

    if (up && !netif_is_link_up(&eth_netif))
        netif_set_link_up(&eth_netif);
    else if (!up && netif_is_link_up(&eth_netif))
        netif_set_link_down(&eth_netif);
}

bool net_input(void)
{
    if (!started)
        return false;
    follow_link();
    /* Bounded per call so a flood cannot starve the other tasks; the caller comes back for the
     * rest. A driver may stay silent until it has been read dry, so "the rest" must not wait
     * for another notification. */
    for (int i = 0; i < NET_RX_BUDGET; i++) {
        int n = hal_eth_recv(frame, sizeof(frame));
        if (n == -EMSGSIZE || n == -EIO) {
            rx_dropped++; /* that frame is gone; the next may be fine */
            continue;
        }
        if (n < 0)
            return false;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_POOL);
        if (!p) {
            rx_dropped++;
            continue;
        }
        pbuf_take(p, frame, (u16_t)n);
        if (eth_netif.input(p, &eth_netif) != ERR_OK) {
            pbuf_free(p);
            rx_dropped++;
            continue;
        }
        rx_frames++;
    }
    return true;
}

void net_tick(void)
{
    if (!started)
        return;
    sys_check_timeouts();
    resolve_tick(sys_now());
    sntp_tick(sys_now());
}

void net_set_dns(const struct resolve_server *s, unsigned n)
{
    resolve_set_servers(s, n);
    /* Back to DHCP's servers: ask for them now rather than at the lease's renewal. */
    if (!n && started && using_dhcp && dhcp_supplied_address(&eth_netif))
        (void)dhcp_renew(&eth_netif);
}

void net_info(struct net_info *out)
{
    memset(out, 0, sizeof(*out));
    if (!started)
        return;
    out->up = netif_is_up(&eth_netif) && netif_is_link_up(&eth_netif);
    out->dhcp = using_dhcp;
    out->bound = !ip4_addr_isany_val(*netif_ip4_addr(&eth_netif));
    memcpy(out->mac, eth_netif.hwaddr, 6);
    out->addr = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&eth_netif)));
    out->mask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&eth_netif)));
    out->gw = lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(&eth_netif)));
    out->rx_frames = rx_frames;
    out->tx_frames = tx_frames;
    out->rx_dropped = rx_dropped;
}

void net_pcb_detach(struct altcp_pcb *pcb)
{
    altcp_arg(pcb, NULL);
    altcp_recv(pcb, NULL);
    altcp_sent(pcb, NULL);
    altcp_poll(pcb, NULL, 0);
    altcp_err(pcb, NULL);
}
