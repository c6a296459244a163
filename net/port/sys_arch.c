/* net/port/sys_arch.c — what lwIP needs from the platform with NO_SYS: time, asserts, randomness.
 */
#include "lwip/opt.h"

#include "lwip/sys.h"
#include "net/net_port.h"

#include "hal/board.h"
#include "hal/clock.h"
#include "hal/uart.h"

static uint32_t rand_state = 0x9e3779b9u;

u32_t sys_now(void)
{
    return (u32_t)hal_clock_ms();
}

void net_port_assert(const char *msg, const char *file, int line)
{
    static const char head[] = "\r\nFATAL: lwIP assertion failed: ";
    (void)file;
    (void)line;
    (void)hal_uart_write_all(HAL_UART_CONSOLE, head, sizeof(head) - 1);
    for (const char *p = msg; *p; p++)
        (void)hal_uart_write_all(HAL_UART_CONSOLE, p, 1);
    hal_board_reset(HAL_RESET_FAULT);
}

void net_port_seed(const uint8_t *seed, size_t len)
{
    for (size_t i = 0; i < len; i++)
        rand_state = (rand_state ^ seed[i]) * 0x01000193u; /* FNV-1a mixing */
    if (rand_state == 0)
        rand_state = 0x9e3779b9u;
}

/* xorshift32: enough to make ports and sequence numbers unguessable once seeded from the token;
 * TLS takes its randomness from the token directly, never from here. */
uint32_t net_port_rand(void)
{
    rand_state ^= rand_state << 13;
    rand_state ^= rand_state >> 17;
    rand_state ^= rand_state << 5;
    return rand_state;
}
