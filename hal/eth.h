/*
 * hal/eth.h — the Ethernet MAC.
 *
 * Frames are whole Ethernet II frames without FCS. Received frames wait in the driver until read;
 * the notify callback runs in interrupt context when one arrives or the link changes. Transmit
 * copies the frame out before returning. Functions return 0 / a length, or a negative errno
 * (-EAGAIN: nothing to read or no room to send; -EMSGSIZE: frame larger than the buffer or MTU;
 * -EIO: a damaged frame was discarded). After -EMSGSIZE or -EIO from recv, more frames may wait.
 * A driver may stay silent about new frames until recv has returned -EAGAIN once.
 */
#ifndef HAL_ETH_H
#define HAL_ETH_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define HAL_ETH_FRAME_MAX 1514

typedef void (*hal_eth_notify_fn)(void *ctx);

int hal_eth_open(uint8_t mac[6]);
bool hal_eth_link_up(void);
void hal_eth_set_notify(hal_eth_notify_fn fn, void *ctx);
int hal_eth_recv(void *frame, size_t cap);
int hal_eth_send(const void *frame, size_t len);

#endif
