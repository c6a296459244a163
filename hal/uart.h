/*
 * hal/uart.h — byte-stream serial ports.
 *
 * HAL_UART_CONSOLE is the operator console; HAL_UART_HSM is the link to the token. Received bytes
 * are buffered in a ring by the board's interrupt handler; when the ring is full further bytes are
 * held back (hardware flow control, or the peer's socket) or, on a plain wire, counted as overruns.
 * Writes are queued in a transmit ring and never block, except hal_uart_write_all.
 * The notify callback runs in interrupt context: it may only post kernel events.
 */
#ifndef HAL_UART_H
#define HAL_UART_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

enum hal_uart_id { HAL_UART_CONSOLE = 0, HAL_UART_HSM = 1, HAL_UART_COUNT };

struct hal_uart_stats {
    uint32_t rx_bytes;
    uint32_t tx_bytes;
    uint32_t rx_overruns; /* bytes lost because the ring was full */
};

typedef void (*hal_uart_notify_fn)(void *ctx);

/* Open the port; the HSM port may fail (-ENODEV, -ECONNREFUSED) and can be retried later. */
int hal_uart_open(enum hal_uart_id id);
void hal_uart_close(enum hal_uart_id id);
bool hal_uart_is_open(enum hal_uart_id id);

/* Called (in interrupt context) whenever new bytes arrive or the link goes down. */
void hal_uart_set_notify(enum hal_uart_id id, hal_uart_notify_fn fn, void *ctx);

/* Copy up to cap buffered bytes into buf; returns the count (0 when none) or a negative errno
 * (-EPIPE when the link is down). */
int hal_uart_read(enum hal_uart_id id, void *buf, size_t cap);

/* Queue up to len bytes; returns the count queued (possibly 0) or a negative errno. */
int hal_uart_write(enum hal_uart_id id, const void *buf, size_t len);

/* Queue all len bytes, waiting for transmit space; returns 0 or a negative errno. */
int hal_uart_write_all(enum hal_uart_id id, const void *buf, size_t len);

void hal_uart_stats(enum hal_uart_id id, struct hal_uart_stats *out);

#endif
