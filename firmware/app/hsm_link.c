/*
 * firmware/app/hsm_link.c — the token link's transport: p11_client's byte stream over the HSM UART.
 *
 * The composition root's half of crypto/p11: the client encodes and decodes PKCS#11-RPC, this file
 * gives it HAL_UART_HSM, the board clock and a way to wait (docs/hsm-link.md).
 */
#include "firmware/app/app.h"

#include "crypto/p11/p11_client.h"
#include "hal/board.h"
#include "hal/clock.h"
#include "hal/uart.h"
#include "hal/wdt.h"

static int hsm_open(void *ctx)
{
    (void)ctx;
    return hal_uart_open(HAL_UART_HSM);
}

static void hsm_close(void *ctx)
{
    (void)ctx;
    hal_uart_close(HAL_UART_HSM);
}

static int hsm_write_all(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    return hal_uart_write_all(HAL_UART_HSM, p, n);
}

static int hsm_read(void *ctx, uint8_t *p, size_t cap)
{
    (void)ctx;
    return hal_uart_read(HAL_UART_HSM, p, cap);
}

static uint64_t hsm_now_ms(void *ctx)
{
    (void)ctx;
    return hal_clock_ms();
}

/*
 * Idle the board for a moment (at most 50 ms) unless the deadline has passed; false once it has.
 * The call that waits blocks whichever task called it, so the watchdog is kicked here; waits are
 * bounded by their deadlines, so that cannot hide a hang. This is the step before the token link
 * becomes its own task, which will take the waiting out of every handler (and this kick with it).
 */
static bool hsm_wait(void *ctx, uint64_t deadline_ms)
{
    uint64_t now = hal_clock_ms();

    (void)ctx;
    if (now >= deadline_ms)
        return false;
    hal_wdt_kick();
    uint32_t irq = hal_irq_save();
    hal_board_idle((uint32_t)(deadline_ms - now < 50 ? deadline_ms - now : 50));
    hal_irq_restore(irq);
    return true;
}

static const struct p11_transport hsm_transport = {
    .ctx = NULL,
    .open = hsm_open,
    .close = hsm_close,
    .write_all = hsm_write_all,
    .read = hsm_read,
    .now_ms = hsm_now_ms,
    .wait = hsm_wait,
};

void app_hsm_link_setup(void)
{
    p11_client_set_transport(&hsm_transport);
}
