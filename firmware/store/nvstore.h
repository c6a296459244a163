/*
 * firmware/store/nvstore — small key/value records in the NV region, replaced atomically.
 *
 * Two erase blocks are used as banks. Records are appended to the active bank, each protected by a
 * CRC; the newest valid record of a key wins. When the bank is full (or a torn write left it
 * dirty) the live records are copied to the other bank, whose header, written last, makes it
 * active. A power cut at any instant therefore leaves every key with its old or its new value.
 * Keys are 1..0xFFFE; values are 1..NVSTORE_VALUE_MAX bytes. Returns 0 or a negative errno.
 */
#ifndef NVSTORE_H
#define NVSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/nv.h"
#include "signet_config.h"

struct nvstore_entry {
    uint16_t key;
    uint16_t len;
    uint32_t offset; /* of the record header within the active bank */
};

struct nvstore {
    struct hal_nv_geometry geo;
    uint32_t active;     /* bank index, 0 or 1 */
    uint32_t generation; /* of the active bank */
    uint32_t write_off;  /* next free offset in the active bank */
    bool dirty;          /* bytes after write_off are not erased: compact before appending */
    bool formatted;      /* mount found no valid bank and started an empty one */
    size_t nkeys;
    struct nvstore_entry index[NVSTORE_KEYS_MAX];
    uint32_t compactions;
    uint8_t scratch[NVSTORE_VALUE_MAX];
};

/* Find the newest valid bank and index it; formats an empty store if there is none. */
int nvstore_mount(struct nvstore *s);

/* -ENOENT when absent, -ENOBUFS (with *len set) when cap is too small, -EIO on a CRC mismatch. */
int nvstore_read(struct nvstore *s, uint16_t key, void *buf, size_t cap, size_t *len);

/* Replace the value of key atomically. -ENOSPC when the store cannot hold it. */
int nvstore_write(struct nvstore *s, uint16_t key, const void *val, size_t len);

int nvstore_delete(struct nvstore *s, uint16_t key);

/* Bytes of the active bank in use, including superseded records. */
uint32_t nvstore_used(const struct nvstore *s);

#endif
