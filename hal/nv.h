/*
 * hal/nv.h — the raw non-volatile regions, with NOR-flash rules.
 *
 * A board has two regions: HAL_NV_STORE, for the record store (firmware/store/nvstore.h), and
 * HAL_NV_AUDIT, for the audit ring (firmware/audit/audit.h), so that the ring's erasures never
 * touch the store's banks. Each region is block_count erase blocks of block_size bytes, offsets
 * counted from the region's start. Erasing a block sets every byte to
 * 0xFF; programming can only clear bits, in units of write_align bytes at aligned offsets.
 * A power cut during program or erase may leave the affected unit or block in any state; the record
 * store above (firmware/store/nvstore.h) is what makes updates atomic. Functions return 0 or a
 * negative errno (-EINVAL for a bad range, -EIO for a device error).
 */
#ifndef HAL_NV_H
#define HAL_NV_H

#include <stddef.h>
#include <stdint.h>

enum hal_nv_region { HAL_NV_STORE, HAL_NV_AUDIT };

struct hal_nv_geometry {
    uint32_t block_size;
    uint32_t block_count;
    uint32_t write_align;
};

int hal_nv_open(enum hal_nv_region r, struct hal_nv_geometry *geo);
int hal_nv_read(enum hal_nv_region r, uint32_t offset, void *buf, size_t len);
int hal_nv_program(enum hal_nv_region r, uint32_t offset, const void *buf, size_t len);
int hal_nv_erase(enum hal_nv_region r, uint32_t block);

#endif
