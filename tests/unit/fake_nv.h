/*
 * tests/unit/fake_nv — NOR flash in RAM with power-cut injection (the MCUboot simulator idea).
 *
 * Units of work are one 4-byte program or one block erase. fake_nv_cut_after(n) lets n units
 * complete; the next one is torn (a program clears only some of its bits, an erase resets only
 * part of the block) and the power stays off (both regions share the counter): every call fails
 * with -EIO until fake_nv_power_on().
 */
#ifndef FAKE_NV_H
#define FAKE_NV_H

#include <stdint.h>

#define FAKE_NV_BLOCK  4096u
#define FAKE_NV_BLOCKS 2u
/* The audit region: small, so that tests go round the ring quickly. */
#define FAKE_AUDIT_BLOCKS 6u

extern uint8_t fake_nv_mem[FAKE_NV_BLOCK * FAKE_NV_BLOCKS];
extern uint8_t fake_audit_mem[FAKE_NV_BLOCK * FAKE_AUDIT_BLOCKS];
extern uint32_t fake_nv_units; /* units completed since the last reset of the counter */

void fake_nv_reset(uint32_t seed); /* all 0xFF, power on, no cut armed */
void fake_nv_cut_after(uint32_t units);
void fake_nv_power_on(void);
int fake_nv_powered(void);

#endif
