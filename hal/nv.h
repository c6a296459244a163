/*
 * hal/nv.h — the raw non-volatile region, with NOR-flash rules.
 *
 * The region is block_count erase blocks of block_size bytes. Erasing a block sets every byte to
 * 0xFF; programming can only clear bits, in units of write_align bytes at aligned offsets.
 * A power cut during program or erase may leave the affected unit or block in any state; the record
 * store above (firmware/store/nvstore.h) is what makes updates atomic. Functions return 0 or a
 * negative errno (-EINVAL for a bad range, -EIO for a device error).
 */
#ifndef HAL_NV_H
#define HAL_NV_H

#include <stddef.h>
#include <stdint.h>

struct hal_nv_geometry {
    uint32_t block_size;
    uint32_t block_count;
    uint32_t write_align;
};

int hal_nv_open(struct hal_nv_geometry *geo);
int hal_nv_read(uint32_t offset, void *buf, size_t len);
int hal_nv_program(uint32_t offset, const void *buf, size_t len);
int hal_nv_erase(uint32_t block);

#endif
