/*
 * boards/vexpress-a9/pflash.c — the NV region on CFI NOR flash 0 (Intel/Sharp command set).
 *
 * The bank is 32 bits wide, built from two 16-bit chips side by side, so every command is
 * written to both halves (0x00XX00XX) and status is checked in both. Outside a command the part
 * is left in read-array mode, where it reads like memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "hal/nv.h"
#include "hal/secret.h"
#include "signet_config.h"
#include "vexpress.h"

#define CMD(c)          ((uint32_t)(c) | (uint32_t)(c) << 16)
#define FL_READ_ARRAY   CMD(0xff)
#define FL_READ_STATUS  CMD(0x70)
#define FL_CLEAR_STATUS CMD(0x50)
#define FL_PROGRAM      CMD(0x40)
#define FL_ERASE        CMD(0x20)
#define FL_CONFIRM      CMD(0xd0)
#define FL_LOCK_SETUP   CMD(0x60)
#define ST_READY        CMD(0x80)
#define ST_ERRORS       CMD(0x3a) /* erase, program, VPP and lock errors */

/* Each program or erase polls status at most this often before giving up as a device error. */
#define FL_POLL_LIMIT 10000000u

static volatile uint32_t *word_at(uint32_t off)
{
    return (volatile uint32_t *)(uintptr_t)(VE_FLASH0 + off);
}

static int wait_ready(uint32_t off)
{
    uint32_t st = 0;
    int ret = -EIO;

    *word_at(off) = FL_READ_STATUS;
    for (uint32_t i = 0; i < FL_POLL_LIMIT; i++) {
        st = *word_at(off);
        if ((st & ST_READY) == ST_READY) {
            ret = (st & ST_ERRORS) ? -EIO : 0;
            break;
        }
    }
    if (st & ST_ERRORS)
        *word_at(off) = FL_CLEAR_STATUS;
    *word_at(off) = FL_READ_ARRAY;
    return ret;
}

/* Each region's first sector and its sector count. */
static const uint32_t region_first[] = {[HAL_NV_STORE] = 0, [HAL_NV_AUDIT] = VE_AUDIT_FIRST};
static const uint32_t region_blocks[] = {
    [HAL_NV_STORE] = VE_NV_BLOCKS, [HAL_NV_AUDIT] = VE_AUDIT_BLOCKS};

int hal_nv_open(enum hal_nv_region r, struct hal_nv_geometry *geo)
{
    geo->block_size = VE_FLASH_SECTOR;
    geo->block_count = region_blocks[r];
    geo->write_align = 4;
    return 0;
}

/* The flash offset of off in region r, when [off, off + len) lies inside it. */
static bool range_ok(enum hal_nv_region r, uint32_t off, size_t len, uint32_t *at)
{
    uint32_t size = VE_FLASH_SECTOR * region_blocks[r];

    *at = region_first[r] * VE_FLASH_SECTOR + off;
    return len <= size && off <= size - len;
}

int hal_nv_read(enum hal_nv_region r, uint32_t off, void *buf, size_t len)
{
    uint32_t at;

    if (!range_ok(r, off, len, &at))
        return -EINVAL;
    uint8_t *dst = buf;
    for (size_t i = 0; i < len; i++)
        dst[i] = *(volatile uint8_t *)(uintptr_t)(VE_FLASH0 + at + i);
    return 0;
}

static int program_words(uint32_t off, const void *buf, size_t len)
{
    const uint8_t *src = buf;
    int ret = 0;

    for (size_t i = 0; i < len && ret == 0; i += 4) {
        uint32_t w;
        memcpy(&w, src + i, 4);
        if (w == 0xffffffffu)
            continue; /* nothing to clear */
        *word_at(off + (uint32_t)i) = FL_PROGRAM;
        *word_at(off + (uint32_t)i) = w;
        ret = wait_ready(off + (uint32_t)i);
    }
    return ret;
}

int hal_nv_program(enum hal_nv_region r, uint32_t off, const void *buf, size_t len)
{
    uint32_t at;

    if (!range_ok(r, off, len, &at) || off % 4 || len % 4)
        return -EINVAL;
    return program_words(at, buf, len);
}

static int erase_sector(uint32_t block)
{
    uint32_t off = block * VE_FLASH_SECTOR;

    *word_at(off) = FL_LOCK_SETUP; /* clear the block's lock bit; a no-op if unlocked */
    *word_at(off) = FL_CONFIRM;
    int ret = wait_ready(off);
    if (ret)
        return ret;
    *word_at(off) = FL_ERASE;
    *word_at(off) = FL_CONFIRM;
    return wait_ready(off);
}

int hal_nv_erase(enum hal_nv_region r, uint32_t block)
{
    if (block >= region_blocks[r])
        return -EINVAL;
    return erase_sector(region_first[r] + block);
}

/* ---- the sealed secret ---- */

#define SECRET_OFF   (VE_SECRET_BLOCK * VE_FLASH_SECTOR)
#define SECRET_MAGIC 0x53470000u /* "SG" in the high half; the length in the low */

_Static_assert(VE_SECRET_BLOCK >= VE_NV_BLOCKS && VE_SECRET_BLOCK < VE_AUDIT_FIRST,
               "the secret shares a sector with neither the NV store nor the audit ring");

static void wipe(void *p, size_t n)
{
    volatile uint8_t *v = p;
    while (n--)
        *v++ = 0;
}

int hal_secret_store(const void *buf, size_t len)
{
    uint32_t words[HAL_SECRET_MAX / 4];
    int ret = -EINVAL;

    if (len == 0 || len > HAL_SECRET_MAX)
        goto out;
    memset(words, 0xff, sizeof(words));
    memcpy(words, buf, len);
    ret = erase_sector(VE_SECRET_BLOCK);
    if (ret == 0)
        ret = program_words(SECRET_OFF + 4, words, (len + 3) & ~(size_t)3);
    uint32_t header = SECRET_MAGIC | (uint32_t)len;
    if (ret == 0)
        ret = program_words(SECRET_OFF, &header, 4);
out:
    wipe(words, sizeof(words));
    return ret;
}

int hal_secret_load(void *buf, size_t cap, size_t *len)
{
    uint32_t header = *word_at(SECRET_OFF);
    size_t n = header & 0xffffu;
    int ret = -ENOENT;

    *len = 0;
    /* Erased flash, or never written at all: QEMU backs pflash with a file that starts as zeros
     * (a power cut during a store leaves the sector erased: its header is programmed last). */
    if (header == 0xffffffffu || header == 0)
        goto out;
    ret = -EBADMSG;
    if ((header & 0xffff0000u) != SECRET_MAGIC || n == 0 || n > HAL_SECRET_MAX)
        goto out;
    ret = -EFBIG;
    if (n > cap)
        goto out;
    uint8_t *dst = buf;
    for (size_t i = 0; i < n; i++)
        dst[i] = *(volatile uint8_t *)(uintptr_t)(VE_FLASH0 + SECRET_OFF + 4 + i);
    *len = n;
    ret = 0;
out:
    return ret;
}

int hal_secret_wipe(void)
{
    /* Erasing sets every bit: the PIN's bytes are gone, not just unreferenced. */
    return erase_sector(VE_SECRET_BLOCK);
}
