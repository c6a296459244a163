#include "fake_nv.h"

#include <errno.h>
#include <string.h>

#include "hal/nv.h"

uint8_t fake_nv_mem[FAKE_NV_BLOCK * FAKE_NV_BLOCKS];
uint8_t fake_audit_mem[FAKE_NV_BLOCK * FAKE_AUDIT_BLOCKS];
uint32_t fake_nv_units;
static int64_t cut_left = -1; /* units allowed before the cut; -1: never */
static int powered = 1;
static uint32_t rng = 1;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

void fake_nv_reset(uint32_t seed)
{
    memset(fake_nv_mem, 0xff, sizeof(fake_nv_mem));
    memset(fake_audit_mem, 0xff, sizeof(fake_audit_mem));
    fake_nv_units = 0;
    cut_left = -1;
    powered = 1;
    rng = seed ? seed : 1;
}

void fake_nv_cut_after(uint32_t units)
{
    cut_left = units;
}

void fake_nv_power_on(void)
{
    powered = 1;
    cut_left = -1;
}

int fake_nv_powered(void)
{
    return powered;
}

/* True when this unit is the one the power cut tears. */
static int unit_torn(void)
{
    if (cut_left < 0)
        return 0;
    if (cut_left == 0) {
        powered = 0;
        return 1;
    }
    cut_left--;
    return 0;
}

static uint8_t *region_mem(enum hal_nv_region r)
{
    return r == HAL_NV_AUDIT ? fake_audit_mem : fake_nv_mem;
}

static size_t region_size(enum hal_nv_region r)
{
    return r == HAL_NV_AUDIT ? sizeof(fake_audit_mem) : sizeof(fake_nv_mem);
}

int hal_nv_open(enum hal_nv_region r, struct hal_nv_geometry *geo)
{
    if (!powered)
        return -EIO;
    geo->block_size = FAKE_NV_BLOCK;
    geo->block_count = r == HAL_NV_AUDIT ? FAKE_AUDIT_BLOCKS : FAKE_NV_BLOCKS;
    geo->write_align = 4;
    return 0;
}

static int range_ok(enum hal_nv_region r, uint32_t off, size_t len)
{
    return len <= region_size(r) && off <= region_size(r) - len;
}

int hal_nv_read(enum hal_nv_region r, uint32_t off, void *buf, size_t len)
{
    if (!powered)
        return -EIO;
    if (!range_ok(r, off, len))
        return -EINVAL;
    memcpy(buf, region_mem(r) + off, len);
    return 0;
}

int hal_nv_program(enum hal_nv_region r, uint32_t off, const void *buf, size_t len)
{
    const uint8_t *src = buf;

    if (!powered)
        return -EIO;
    if (!range_ok(r, off, len) || off % 4 || len % 4)
        return -EINVAL;
    for (size_t i = 0; i < len; i += 4) {
        uint8_t *dst = region_mem(r) + off + i;
        if (unit_torn()) {
            /* Only some of the bits that should clear did. */
            for (int b = 0; b < 4; b++)
                dst[b] &= (uint8_t)(src[i + b] | (uint8_t)next_rand());
            return -EIO;
        }
        for (int b = 0; b < 4; b++)
            dst[b] &= src[i + b];
        fake_nv_units++;
    }
    return 0;
}

int hal_nv_erase(enum hal_nv_region r, uint32_t block)
{
    if (!powered)
        return -EIO;
    if ((size_t)(block + 1) * FAKE_NV_BLOCK > region_size(r))
        return -EINVAL;
    uint8_t *base = region_mem(r) + block * FAKE_NV_BLOCK;
    if (unit_torn()) {
        memset(base, 0xff, next_rand() % FAKE_NV_BLOCK); /* a prefix got erased */
        return -EIO;
    }
    memset(base, 0xff, FAKE_NV_BLOCK);
    fake_nv_units++;
    return 0;
}
