/* lib/crc32 — IEEE 802.3 CRC-32 (the zlib polynomial), for integrity checks of NV data. */
#ifndef CRC32_H
#define CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
