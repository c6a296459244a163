/*
 * firmware/signet_defaults.h — limits shared by every board, each with its reason.
 *
 * A board's signet_config.h defines what differs for it and includes this file last; anything it
 * left undefined takes the value here (the lwIP opt.h / lwipopts.h arrangement).
 */
#ifndef SIGNET_DEFAULTS_H
#define SIGNET_DEFAULTS_H

/* Longest console line: a 64-column PEM line or "time set" with room to spare; longer is refused.
 */
#ifndef CONSOLE_LINE_MAX
#define CONSOLE_LINE_MAX 256
#endif

/* Most words in a console line: the longest command has a handful. */
#ifndef CONSOLE_ARGS_MAX
#define CONSOLE_ARGS_MAX 16
#endif

/* Command tables the console can hold: one per firmware module that adds commands. */
#ifndef CONSOLE_GROUPS_MAX
#define CONSOLE_GROUPS_MAX 8
#endif

/* Distinct NV keys: network settings and a few counters; the audit log keeps its own ring. */
#ifndef NVSTORE_KEYS_MAX
#define NVSTORE_KEYS_MAX 32
#endif

/* Largest NV value; also the size of the store's copy buffer. */
#ifndef NVSTORE_VALUE_MAX
#define NVSTORE_VALUE_MAX 1024
#endif

/* Largest flash write unit any board reports. */
#ifndef NVSTORE_WRITE_ALIGN_MAX
#define NVSTORE_WRITE_ALIGN_MAX 8
#endif

/* Console task queue: one pending "bytes waiting" event is enough, a few absorb bursts. */
#ifndef APP_CONSOLE_QUEUE
#define APP_CONSOLE_QUEUE 4
#endif

/* Housekeeping task queue: watchdog kick and later periodic jobs. */
#ifndef APP_HOUSE_QUEUE
#define APP_HOUSE_QUEUE 8
#endif

/* Bytes the console task takes per event, so a paste cannot starve other tasks. */
#ifndef APP_CONSOLE_CHUNK
#define APP_CONSOLE_CHUNK 64
#endif

/* Watchdog: several kick periods of slack so a slow but live handler never trips it. */
#ifndef APP_WDT_TIMEOUT_MS
#define APP_WDT_TIMEOUT_MS 8000
#endif
#ifndef APP_WDT_KICK_MS
#define APP_WDT_KICK_MS 1000
#endif

#endif
