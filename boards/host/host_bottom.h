/*
 * boards/host/host_bottom.h — the only door from the host board to the operating system.
 *
 * host_bottom.c alone includes POSIX headers (the Zephyr native_sim split); the board's "top"
 * files implement the hal on these plain-C calls. Returns are 0 / counts or negative errno.
 */
#ifndef HOST_BOTTOM_H
#define HOST_BOTTOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bits returned by hb_poll. */
#define HB_CONSOLE_READY (1u << 0)
#define HB_HSM_READY     (1u << 1) /* readable, or hung up: the next read says which */
#define HB_ETH_READY     (1u << 2) /* frames from the user-mode network are waiting */

#define HB_FRAME_MAX 1514

/* Entry point of the top: called by main() once the command line is parsed. */
void host_top_main(void);

const char *hb_nv_path(void);  /* NULL when --nv was not given */
const char *hb_hsm_path(void); /* NULL when --hsm was not given */

/* Reset bookkeeping carried across re-exec; 0 on a fresh start. */
int hb_reset_reason(void);
int64_t hb_wall_offset(void);

uint64_t hb_monotonic_ms(void);
int64_t hb_realtime_s(void);

/* Wait for input on the console or HSM link, at most timeout_ms. */
unsigned hb_poll(uint32_t timeout_ms);

/* 0 at end of input (the pipe closed), -EAGAIN when nothing is waiting. */
int hb_console_read(void *buf, size_t cap);
int hb_console_write(const void *buf, size_t len);

int hb_hsm_connect(const char *path);
/* 0 when the peer closed the connection. */
int hb_hsm_read(void *buf, size_t cap);
int hb_hsm_write(const void *buf, size_t len);
void hb_hsm_close(void);

/*
 * Ethernet on libslirp, QEMU's user-mode network: the board is 10.0.2.15 (offered by DHCP), the
 * host is 10.0.2.2. Host forwards come from --hostfwd HOSTIP:PORT-GUESTPORT (repeatable).
 */
bool hb_eth_enabled(void);
int hb_eth_open(uint8_t mac[6]);
int hb_eth_recv(void *frame, size_t cap); /* -EAGAIN when none is waiting */
int hb_eth_send(const void *frame, size_t len);

/*
 * Ethernet on libslirp, QEMU's user-mode network: the board is 10.0.2.15 (offered by DHCP), the
 * host is 10.0.2.2. Host forwards come from --hostfwd HOSTIP:PORT-GUESTPORT (repeatable).
 */
bool hb_eth_enabled(void);
int hb_eth_open(uint8_t mac[6]);
int hb_eth_recv(void *frame, size_t cap); /* -EAGAIN when none is waiting */
int hb_eth_send(const void *frame, size_t len);

/* NV file, created at size bytes of 0xFF when absent. */
int hb_nv_open(const char *path, size_t size);
int hb_nv_pread(void *buf, size_t len, uint64_t off);
int hb_nv_pwrite(const void *buf, size_t len, uint64_t off);
/* Tests: true for the program into the audit ring that SIGNET_AUDIT_POWER_CUT=N names (the N+1th
 * since boot); the board then writes part of it and dies, as at a power cut mid-append. */
bool hb_audit_power_cut_due(void);

/*
 * The sealed secret (hal/secret.h): the file NVFILE.autologin, mode 0600. Written to a new
 * temporary file (O_EXCL, O_NOFOLLOW), synced and renamed over the old one, so a crash leaves one
 * or the other. Read: at most cap bytes, -EFBIG when the file is longer, -ENOENT when absent.
 * Remove: overwritten with zeros, synced, unlinked; 0 when there was none. -ENODEV without --nv.
 */
int hb_secret_write(const void *buf, size_t len);
int hb_secret_read(void *buf, size_t cap, size_t *len);
int hb_secret_remove(void);

/* Watchdog: re-arm a one-shot timer that re-executes the board when it expires. */
void hb_watchdog_arm(uint32_t ms);

/* Replace the process with a fresh copy of itself (a reset); never returns. */
_Noreturn void hb_reexec(int reason, int64_t wall_offset);
/* Power off: restore the terminal and exit. */
_Noreturn void hb_exit(int code);

#endif
