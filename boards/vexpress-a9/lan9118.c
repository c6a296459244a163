/*
 * boards/vexpress-a9/lan9118.c — the motherboard's SMSC LAN9118 Ethernet controller (hal/eth.h).
 *
 * The chip has no DMA: frames move through 32-bit FIFO ports, each with a status FIFO beside it.
 * RX is interrupt-driven: the RX status FIFO level interrupt fires when a frame has arrived; the
 * handler masks it and notifies, and hal_eth_recv() unmasks it only once it finds the FIFO empty,
 * so frames that wait unread never raise it again. TX is written straight into the FIFO.
 *
 * QEMU models the chip only when a NIC is configured (-nic ...,model=lan9118); otherwise the
 * address is unmapped and a read aborts, so the first read goes through probe_read32().
 * Byte order: the FIFOs carry frame bytes little-endian in each word, the CPU's own order.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "hal/board.h"
#include "hal/eth.h"
#include "vexpress.h"

/* System control and status registers (offsets from VE_ETH). */
#define RX_DATA_FIFO   0x00u /* 0x00-0x1c alias one port; one address is enough */
#define TX_DATA_FIFO   0x20u
#define RX_STATUS_FIFO 0x40u
#define TX_STATUS_FIFO 0x48u
#define ID_REV         0x50u
#define IRQ_CFG        0x54u
#define INT_STS        0x58u
#define INT_EN         0x5cu
#define BYTE_TEST      0x64u
#define FIFO_INT       0x68u
#define RX_CFG         0x6cu
#define TX_CFG         0x70u
#define HW_CFG         0x74u
#define RX_FIFO_INF    0x7cu
#define TX_FIFO_INF    0x80u
#define PMT_CTRL       0x84u
#define MAC_CSR_CMD    0xa4u
#define MAC_CSR_DATA   0xa8u
#define E2P_CMD        0xb0u

/* Reads this pattern in any bus width or byte order that works; anything else is no chip. */
#define BYTE_TEST_PATTERN 0x87654321u

#define IRQ_CFG_TYPE (1u << 0) /* push-pull, not open-drain */
#define IRQ_CFG_POL  (1u << 4) /* active high: the GIC samples the line as a high level */
#define IRQ_CFG_EN   (1u << 8)

#define INT_RSFL (1u << 3)  /* RX status FIFO above its FIFO_INT level */
#define INT_PHY  (1u << 18) /* the PHY's own interrupt source register has a bit set */
#define INT_ALL  0xffffffffu

/* FIFO_INT: RX status level 0 = interrupt as soon as one frame is in; TX levels as after reset. */
#define FIFO_INT_VALUE 0x48000000u

#define RX_CFG_DUMP    (1u << 15) /* empty both RX FIFOs; the way back in step after a mismatch */
#define TX_CFG_TX_ON   (1u << 1)
#define HW_CFG_SRST    (1u << 0)
#define PMT_CTRL_READY (1u << 0)
#define E2P_CMD_BUSY   (1u << 31) /* also while the MAC address loads from EEPROM after reset */

/* RX_FIFO_INF / TX_FIFO_INF fields. */
#define RX_INF_STATUS_USED(v) (((v) >> 16) & 0xffu)
#define RX_INF_DATA_USED(v)   (0xffffu & (v)) /* bytes */
#define TX_INF_STATUS_USED(v) (((v) >> 16) & 0xffu)
#define TX_INF_DATA_FREE(v)   (0xffffu & (v)) /* bytes */

/* RX status word. */
#define RX_STS_LEN(s)     (((s) >> 16) & 0x3fffu) /* includes the 4-byte FCS */
#define RX_STS_FILTER_BAD (1u << 30)
#define RX_STS_ERROR      (1u << 15) /* summary of CRC, length, runt, too-long, collision, MII */

/* TX command words: one buffer per frame, so both first and last segment. */
#define TX_CMD_A_FIRST    (1u << 13)
#define TX_CMD_A_LAST     (1u << 12)
#define TX_CMD_LEN(n)     (0x7ffu & (uint32_t)(n))
#define TX_CMD_WORDS_SIZE 8u

/* MAC control registers, reached indirectly through MAC_CSR_CMD / MAC_CSR_DATA. */
#define MAC_CR       1u
#define MAC_ADDRH    2u
#define MAC_ADDRL    3u
#define MAC_MII_ACC  6u
#define MAC_MII_DATA 7u
#define CSR_BUSY     (1u << 31)
#define CSR_READ     (1u << 30)

/* MAC_CR: no promiscuous mode (reset leaves it on), so only our unicast and broadcast come in. */
#define MAC_CR_RXEN (1u << 2)
#define MAC_CR_TXEN (1u << 3)
#define MAC_CR_FDPX (1u << 20)

/* The internal PHY sits at MII address 1; IEEE 802.3 clause 22 registers plus SMSC's own. */
#define MII_ACC_BUSY      (1u << 0)
#define MII_ACC_WRITE     (1u << 1)
#define MII_ACC(reg)      (1u << 11 | (uint32_t)(reg) << 6)
#define PHY_BSR           1u
#define PHY_ANAR          4u
#define PHY_ANLPAR        5u
#define PHY_INT_SRC       29u /* read-to-clear */
#define PHY_INT_MASK      30u
#define BSR_LINK          (1u << 2)
#define AN_FULL_DUPLEX    (1u << 8 | 1u << 6) /* 100BASE-TX and 10BASE-T full duplex */
#define PHY_INT_LINK_DOWN (1u << 4)
#define PHY_INT_AN_DONE   (1u << 6)

/* Polls of a busy or ready bit before the chip counts as dead. A register read takes at least
 * ~100 ns on the real bus; under QEMU every bit is already clear on the first read. Reset and
 * the EEPROM load take milliseconds; a MAC CSR cycle takes under a microsecond and an MII frame
 * about 30 us, and those are also polled from the interrupt handler, so their bounds are short. */
#define RESET_POLL_LIMIT 1000000u
#define CSR_POLL_LIMIT   1000u
#define MII_POLL_LIMIT   1000u

#define ETH_HDR 14u
#define FCS_LEN 4u

/* Used when the chip reports no usable MAC (no EEPROM): locally administered, unicast. */
static const uint8_t fallback_mac[6] = {0x02, 0x53, 0x49, 0x47, 0x4e, 0x01};

struct lan9118 {
    bool open;
    bool link;
    uint32_t int_en; /* shadow of INT_EN; changed only with interrupts masked */
    uint8_t mac[6];
    hal_eth_notify_fn notify;
    void *notify_ctx;
};

static struct lan9118 eth;

static uint32_t rd(uint32_t off)
{
    return mmio_read(VE_ETH + off);
}

static void wr(uint32_t off, uint32_t v)
{
    mmio_write(VE_ETH + off, v);
}

/* The chip needs a short gap before some writes are visible to reads (its read-after-write
 * rules); a harmless read of BYTE_TEST is the gap. */
static void settle(void)
{
    (void)rd(BYTE_TEST);
}

static int wait_bits(uint32_t off, uint32_t mask, uint32_t want, uint32_t limit)
{
    for (uint32_t i = 0; i < limit; i++)
        if ((rd(off) & mask) == want)
            return 0;
    return -EIO;
}

/* MAC CSR and MII access: callers mask interrupts, because the handler uses them too. */
static int mac_read(uint32_t reg, uint32_t *out)
{
    if (wait_bits(MAC_CSR_CMD, CSR_BUSY, 0, CSR_POLL_LIMIT))
        return -EIO;
    wr(MAC_CSR_CMD, CSR_BUSY | CSR_READ | reg);
    settle();
    if (wait_bits(MAC_CSR_CMD, CSR_BUSY, 0, CSR_POLL_LIMIT))
        return -EIO;
    *out = rd(MAC_CSR_DATA);
    return 0;
}

static int mac_write(uint32_t reg, uint32_t v)
{
    if (wait_bits(MAC_CSR_CMD, CSR_BUSY, 0, CSR_POLL_LIMIT))
        return -EIO;
    wr(MAC_CSR_DATA, v);
    wr(MAC_CSR_CMD, CSR_BUSY | reg);
    settle();
    return wait_bits(MAC_CSR_CMD, CSR_BUSY, 0, CSR_POLL_LIMIT);
}

static int mii_wait(void)
{
    uint32_t acc = MII_ACC_BUSY;

    for (uint32_t i = 0; i < MII_POLL_LIMIT && (acc & MII_ACC_BUSY); i++)
        if (mac_read(MAC_MII_ACC, &acc))
            return -EIO;
    return (acc & MII_ACC_BUSY) ? -EIO : 0;
}

static int phy_read(uint32_t reg, uint32_t *out)
{
    if (mii_wait() || mac_write(MAC_MII_ACC, MII_ACC(reg) | MII_ACC_BUSY) || mii_wait() ||
        mac_read(MAC_MII_DATA, out))
        return -EIO;
    *out &= 0xffffu;
    return 0;
}

static int phy_write(uint32_t reg, uint32_t v)
{
    if (mii_wait() || mac_write(MAC_MII_DATA, v) ||
        mac_write(MAC_MII_ACC, MII_ACC(reg) | MII_ACC_WRITE | MII_ACC_BUSY))
        return -EIO;
    return mii_wait();
}

/* Read the link from the PHY and set the MAC's duplex to what autonegotiation agreed. The link
 * bit latches low (IEEE 802.3 22.2.4.2.13): the first read reports a drop since the last one. */
static bool phy_link_update(void)
{
    uint32_t bsr = 0, anar = 0, anlpar = 0, cr = 0;

    if (phy_read(PHY_BSR, &bsr) || phy_read(PHY_BSR, &bsr))
        return false;
    if (!(bsr & BSR_LINK))
        return false;
    if (phy_read(PHY_ANAR, &anar) == 0 && phy_read(PHY_ANLPAR, &anlpar) == 0 &&
        mac_read(MAC_CR, &cr) == 0) {
        uint32_t want = (anar & anlpar & AN_FULL_DUPLEX) ? cr | MAC_CR_FDPX : cr & ~MAC_CR_FDPX;
        if (want != cr)
            (void)mac_write(MAC_CR, want);
    }
    return true;
}

static void lan9118_isr(void *ctx)
{
    struct lan9118 *e = ctx;
    uint32_t pending = rd(INT_STS) & e->int_en;
    uint32_t src;

    if (pending & INT_RSFL) {
        /* Frames wait: stay quiet until hal_eth_recv() has emptied the FIFO. */
        e->int_en &= ~INT_RSFL;
        wr(INT_EN, e->int_en);
        wr(INT_STS, INT_RSFL);
    }
    if (pending & INT_PHY) {
        (void)phy_read(PHY_INT_SRC, &src); /* reading it is what clears the PHY's request */
        wr(INT_STS, INT_PHY);
        e->link = phy_link_update();
    }
    settle(); /* let the line drop before the GIC is told we are done */
    if (pending && e->notify)
        e->notify(e->notify_ctx);
}

static bool mac_usable(const uint8_t m[6])
{
    static const uint8_t zero[6];

    return !(m[0] & 1u) && memcmp(m, zero, sizeof(zero)) != 0; /* unicast, set */
}

static int chip_reset(void)
{
    wr(HW_CFG, HW_CFG_SRST);
    settle();
    if (wait_bits(HW_CFG, HW_CFG_SRST, 0, RESET_POLL_LIMIT) ||
        wait_bits(PMT_CTRL, PMT_CTRL_READY, PMT_CTRL_READY, RESET_POLL_LIMIT) ||
        wait_bits(E2P_CMD, E2P_CMD_BUSY, 0, RESET_POLL_LIMIT))
        return -EIO;
    return 0;
}

static int mac_address_setup(uint8_t mac[6])
{
    uint32_t lo = 0, hi = 0;

    if (mac_read(MAC_ADDRL, &lo) || mac_read(MAC_ADDRH, &hi))
        return -EIO;
    for (int i = 0; i < 4; i++)
        mac[i] = (uint8_t)(lo >> (8 * i));
    mac[4] = (uint8_t)hi;
    mac[5] = (uint8_t)(hi >> 8);
    if (mac_usable(mac))
        return 0;
    memcpy(mac, fallback_mac, 6);
    lo = (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 | (uint32_t)mac[3] << 24;
    hi = (uint32_t)mac[4] | (uint32_t)mac[5] << 8;
    return mac_write(MAC_ADDRL, lo) || mac_write(MAC_ADDRH, hi) ? -EIO : 0;
}

/* Everything after the probe; interrupts are masked by the caller. */
static int chip_setup(void)
{
    uint32_t src;
    int ret = chip_reset();

    if (ret == 0)
        ret = mac_address_setup(eth.mac);
    if (ret == 0)
        ret = mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN);
    if (ret == 0)
        ret = phy_write(PHY_INT_MASK, PHY_INT_LINK_DOWN | PHY_INT_AN_DONE);
    if (ret == 0)
        ret = phy_read(PHY_INT_SRC, &src); /* forget the events of the reset itself */
    if (ret)
        return ret;
    eth.link = phy_link_update();
    wr(TX_CFG, TX_CFG_TX_ON);
    wr(RX_CFG, 0); /* frames start at the first word, end padded to a word, no offset */
    wr(FIFO_INT, FIFO_INT_VALUE);
    wr(INT_STS, INT_ALL);
    eth.int_en = INT_RSFL | INT_PHY;
    wr(INT_EN, eth.int_en);
    /* Only now may the GIC listen: the pin is active-low until IRQ_CFG makes it active-high
     * push-pull, so before that it idles at the level the GIC takes for "asserted" and would
     * interrupt without end (QEMU models exactly that). */
    wr(IRQ_CFG, IRQ_CFG_EN | IRQ_CFG_POL | IRQ_CFG_TYPE);
    return 0;
}

int hal_eth_open(uint8_t mac[6])
{
    uint32_t test = 0, irq;
    int ret = 0;

    if (!eth.open) {
        if (probe_read32(VE_ETH + BYTE_TEST, &test) || test != BYTE_TEST_PATTERN)
            return -ENODEV;
        /* LAN9115-9118 share this register set; the revision in the low half does not matter. */
        uint32_t chip = rd(ID_REV) >> 16;
        if (chip < 0x0115u || chip > 0x0118u)
            return -ENODEV;
        irq = hal_irq_save();
        ret = chip_setup();
        hal_irq_restore(irq);
        if (ret)
            return ret;
        eth.open = true;
        gic_attach(VE_IRQ_ETH, lan9118_isr, &eth);
    }
    memcpy(mac, eth.mac, 6);
    return 0;
}

bool hal_eth_link_up(void)
{
    return eth.open && eth.link;
}

void hal_eth_set_notify(hal_eth_notify_fn fn, void *ctx)
{
    uint32_t irq = hal_irq_save();
    eth.notify = fn;
    eth.notify_ctx = ctx;
    hal_irq_restore(irq);
}

/* Called when the status FIFO looked empty: unmask the RX interrupt unless a frame slipped in.
 * The stale request is cleared before the last look, so a frame arriving after that look raises
 * it afresh and interrupts the moment it is unmasked. */
static bool rx_rearm_if_empty(void)
{
    uint32_t irq = hal_irq_save();
    bool empty;

    wr(INT_STS, INT_RSFL);
    settle();
    empty = RX_INF_STATUS_USED(rd(RX_FIFO_INF)) == 0;
    if (empty) {
        eth.int_en |= INT_RSFL;
        wr(INT_EN, eth.int_en);
    }
    hal_irq_restore(irq);
    return empty;
}

static void rx_drain(uint32_t words)
{
    while (words--)
        (void)rd(RX_DATA_FIFO);
}

int hal_eth_recv(void *frame, size_t cap)
{
    uint8_t *dst = frame;
    uint32_t inf, status, len, words;
    size_t n, got = 0;

    if (!eth.open)
        return -EAGAIN;
    inf = rd(RX_FIFO_INF);
    if (RX_INF_STATUS_USED(inf) == 0) {
        if (rx_rearm_if_empty())
            return -EAGAIN;
        inf = rd(RX_FIFO_INF);
    }
    status = rd(RX_STATUS_FIFO);
    len = RX_STS_LEN(status);
    words = (len + 3u) / 4u;
    if (words * 4u > RX_INF_DATA_USED(inf)) {
        /* The status promises more data than the FIFO holds: we are out of step with the chip.
         * Start both FIFOs afresh rather than hand out a frame stitched from two. */
        wr(RX_CFG, RX_CFG_DUMP);
        settle();
        return -EIO;
    }
    /* The data words are read (or skipped) whatever the verdict, so the next frame starts on
     * its own first word. Skipping by reading works for every length; QEMU's RX_DP_CTRL
     * fast-forward does not keep its FIFO count in step, so it is not used. */
    if ((status & (RX_STS_ERROR | RX_STS_FILTER_BAD)) || len < ETH_HDR + FCS_LEN) {
        rx_drain(words);
        return -EIO;
    }
    n = len - FCS_LEN;
    if (n > cap || n > HAL_ETH_FRAME_MAX) {
        rx_drain(words);
        return -EMSGSIZE;
    }
    for (uint32_t i = 0; i < words; i++) {
        uint32_t w = rd(RX_DATA_FIFO);
        size_t take = n - got < 4 ? n - got : 4; /* the FCS bytes at the end are dropped */
        memcpy(dst + got, &w, take);
        got += take;
    }
    return (int)n;
}

/* TX statuses are only popped, so their FIFO never fills and stalls the transmitter; a frame
 * the wire lost is TCP's to resend, as with any NIC. */
static void tx_reap(void)
{
    for (uint32_t used = TX_INF_STATUS_USED(rd(TX_FIFO_INF)); used; used--)
        (void)rd(TX_STATUS_FIFO);
}

int hal_eth_send(const void *frame, size_t len)
{
    const uint8_t *src = frame;

    if (!eth.open)
        return -ENODEV;
    if (len > HAL_ETH_FRAME_MAX)
        return -EMSGSIZE;
    if (len < ETH_HDR)
        return -EINVAL;
    tx_reap();
    if (TX_INF_DATA_FREE(rd(TX_FIFO_INF)) < TX_CMD_WORDS_SIZE + ((len + 3u) & ~3u))
        return -EAGAIN;
    wr(TX_DATA_FIFO, TX_CMD_A_FIRST | TX_CMD_A_LAST | TX_CMD_LEN(len));
    wr(TX_DATA_FIFO, TX_CMD_LEN(len)); /* B: the frame length; tag 0, nobody reads it back */
    for (size_t off = 0; off < len; off += 4) {
        uint32_t w = 0;
        memcpy(&w, src + off, len - off < 4 ? len - off : 4); /* the tail word is zero-padded */
        wr(TX_DATA_FIFO, w);
    }
    return 0;
}
