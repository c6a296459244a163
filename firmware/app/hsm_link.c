/*
 * firmware/app/hsm_link.c — the token link's transport: p11_client's byte stream over the HSM UART.
 *
 * The composition root's half of crypto/p11: the client encodes and decodes PKCS#11-RPC, this file
 * gives it HAL_UART_HSM, the board clock and a way to wait (docs/hsm-link.md). In the token task's
 * fiber (token_task.c) that wait parks the fiber; a call from any other task while it is parked
 * mid-call first lets the fiber's job finish with the link (hsm_enter).
 */
#include "firmware/app/app.h"

#include "crypto/p11/p11_client.h"
#include "hal/board.h"
#include "hal/clock.h"
#include "hal/uart.h"
#include "hal/wdt.h"

/* The fiber parked in the link's wait, mid-call: nobody else may use the link until it lets go. */
static struct k_task *holder;

/* Outside a fiber (boot, or a plain task's synchronous call): idle the board for a moment. That
 * blocks the task that called, so the watchdog is kicked here; waits are bounded by their
 * deadlines, so that cannot hide a hang. */
static void idle_a_moment(uint64_t now, uint64_t deadline_ms)
{
    hal_wdt_kick();
    uint32_t irq = hal_irq_save();
    hal_board_idle((uint32_t)(deadline_ms - now < 50 ? deadline_ms - now : 50));
    hal_irq_restore(irq);
}

/*
 * p11_client calls this first thing in every call. A call from anyone but the holder would write
 * into the middle of the holder's exchange (the stream answers in order) and reuse the client's
 * buffers under it: let the holder's job go on until it has finished with the link. The caller
 * waits as a synchronous call always has; the job's own deadlines bound it.
 */
static void hsm_enter(void *ctx)
{
    (void)ctx;
    while (holder && k_current_fiber() != holder) {
        if (k_fiber_run(holder) != 0)
            break; /* not parked after all, or we are another fiber: nothing to wait for */
        if (holder)
            idle_a_moment(hal_clock_ms(), hal_clock_ms() + 50);
    }
}

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
 * Wait a moment (at most 50 ms) unless the deadline has passed; false once it has. In the token
 * task's fiber the wait parks the fiber: the scheduler runs the other tasks and resumes it on its
 * next pass (the HSM UART's interrupt ends the idle), and the watchdog is the house task's to kick,
 * as ever. Elsewhere the board idles here as before.
 */
static bool hsm_wait(void *ctx, uint64_t deadline_ms)
{
    uint64_t now = hal_clock_ms();

    (void)ctx;
    if (now >= deadline_ms)
        return false;
    if (k_in_fiber()) {
        holder = k_current_fiber();
        (void)k_fiber_wait(deadline_ms - now < 50 ? deadline_ms : now + 50);
        holder = NULL;
        return true;
    }
    idle_a_moment(now, deadline_ms);
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
    .enter = hsm_enter,
};

void app_hsm_link_setup(void)
{
    p11_client_set_transport(&hsm_transport);
}
