/*
 * lib/tlv — tag (1 byte), length (2 bytes, big-endian), value: the encoding of the
 * appliance's records in the token (configuration, SLC store). Reading is cursor-and-end: every
 * length is checked against what is left, so a damaged record is refused, never over-read.
 */
#ifndef TLV_H
#define TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLV_VALUE_MAX 0xffff

/* Append one item; 0, or -ENOSPC (nothing written) / -EINVAL (value over TLV_VALUE_MAX). */
int tlv_put(uint8_t *buf, size_t cap, size_t *len, uint8_t tag, const void *value, size_t n);

struct tlv_reader {
    const uint8_t *p, *end;
    bool bad; /* a truncated item was met: the record is damaged */
};

void tlv_reader_init(struct tlv_reader *r, const uint8_t *buf, size_t len);
/* The next item; false at the end or on damage (then r->bad). */
bool tlv_next(struct tlv_reader *r, uint8_t *tag, const uint8_t **value, size_t *n);

#endif
