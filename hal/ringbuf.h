/*
 * hal/ringbuf.h — single-producer single-consumer byte ring shared by UART drivers.
 *
 * One side may run in an interrupt handler: head is written only by the producer and tail only by
 * the consumer, each a single aligned word store, so no lock is needed on a single core. The size
 * must be a power of two.
 */
#ifndef HAL_RINGBUF_H
#define HAL_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

/* Keeps the compiler from moving the data access across the index update; one core needs no more.
 */
#define RINGBUF_BARRIER() __asm__ volatile("" ::: "memory")

struct ringbuf {
    uint8_t *buf;
    uint32_t size;          /* power of two */
    volatile uint32_t head; /* next write, free-running */
    volatile uint32_t tail; /* next read, free-running */
};

static inline void ringbuf_init(struct ringbuf *r, uint8_t *buf, uint32_t size)
{
    r->buf = buf;
    r->size = size;
    r->head = 0;
    r->tail = 0;
}

static inline uint32_t ringbuf_used(const struct ringbuf *r)
{
    return r->head - r->tail;
}

static inline uint32_t ringbuf_free(const struct ringbuf *r)
{
    return r->size - ringbuf_used(r);
}

static inline int ringbuf_put(struct ringbuf *r, uint8_t c)
{
    if (ringbuf_free(r) == 0)
        return -1;
    r->buf[r->head & (r->size - 1)] = c;
    RINGBUF_BARRIER();
    r->head = r->head + 1;
    return 0;
}

static inline int ringbuf_get(struct ringbuf *r, uint8_t *c)
{
    if (ringbuf_used(r) == 0)
        return -1;
    *c = r->buf[r->tail & (r->size - 1)];
    RINGBUF_BARRIER();
    r->tail = r->tail + 1;
    return 0;
}

static inline size_t ringbuf_write(struct ringbuf *r, const uint8_t *src, size_t len)
{
    size_t n = 0;
    while (n < len && ringbuf_put(r, src[n]) == 0)
        n++;
    return n;
}

static inline size_t ringbuf_read(struct ringbuf *r, uint8_t *dst, size_t cap)
{
    size_t n = 0;
    while (n < cap && ringbuf_get(r, &dst[n]) == 0)
        n++;
    return n;
}

#endif
