/*
 * The p11 client's pipelined signature (p11_client_sign: C_SignInit and C_Sign in one write)
 * against a scripted server on a fake transport (its own stream, clock and wait): answers that
 * arrive in pieces, late, out of step or too long; and C_SetPIN's encoding.
 */
#include "crypto/p11/p11_client.h"

#include <errno.h>

#include "crypto/p11/p11_wire.h"
#include "signet_config.h"
#include "unit.h"

/* ---- the scripted server ---- */

static uint8_t to_client[8192]; /* what the server has said and the client not yet read */
static size_t said, heard;
static uint32_t codes[8]; /* request codes of the frames written, in order */
static size_t ncodes;
static bool answer_version = true;
static uint8_t last_req[512]; /* the body of the last request the test answers itself */
static size_t last_req_len;

static uint64_t now_ms = 1000;
static uint32_t idle_calls;
static void (*idle_hook)(void); /* called as the client waits, after time advanced */
static int opens;
static bool refuse_open;
static bool eof; /* the peer has hung up: cleared by the next open */

static int fake_open(void *ctx)
{
    (void)ctx;
    if (refuse_open)
        return -ECONNREFUSED;
    eof = false;
    opens++;
    return 0;
}

static void fake_close(void *ctx)
{
    (void)ctx;
    said = heard = 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* One answer frame for request code, its body a call with one byte array (or none). */
static size_t frame(uint8_t *out, uint32_t code, enum p11_call call, const char *data, size_t dlen,
                    size_t body_pad)
{
    struct p11w w;

    p11w_init(&w, out + 12, 2048);
    p11w_begin(&w, call, data ? "ay" : "");
    if (data)
        p11w_byte_array(&w, data, dlen);
    put32(out, code);
    put32(out + 4, 0);
    put32(out + 8, (uint32_t)(w.len + body_pad));
    return 12 + w.len + body_pad;
}

static void say(const uint8_t *b, size_t n)
{
    memcpy(to_client + said, b, n);
    said += n;
}

/* Requests the test answers itself are recorded; the handshake's are answered at once. */
static int fake_write_all(void *ctx, const uint8_t *b, size_t len)
{
    uint8_t out[64];

    (void)ctx;
    if (len == 1) {
        if (answer_version)
            say((const uint8_t *)"\0", 1);
        return 0;
    }
    for (size_t at = 0; at + 12 <= len; at += 12 + be32(b + at + 8)) {
        uint32_t code = be32(b + at), call = be32(b + at + 12);
        if (call == P11_CALL_Initialize || call == P11_CALL_Finalize)
            say(out, frame(out, code, (enum p11_call)call, NULL, 0, 0));
        else if (ncodes < 8) {
            codes[ncodes++] = code;
            size_t blen = be32(b + at + 8);
            last_req_len = blen < sizeof(last_req) ? blen : 0;
            memcpy(last_req, b + at + 12, last_req_len);
        }
    }
    return 0;
}

static int fake_read(void *ctx, uint8_t *buf, size_t cap)
{
    size_t n = said - heard < cap ? said - heard : cap;

    (void)ctx;
    if (n == 0 && eof)
        return -EPIPE; /* the peer hung up once all it said was read */
    memcpy(buf, to_client + heard, n);
    heard += n;
    return (int)n;
}

static uint64_t fake_now_ms(void *ctx)
{
    (void)ctx;
    return now_ms;
}

/* "Sleeps" by advancing time 10 ms, as if the next timer woke the board. */
static bool fake_wait(void *ctx, uint64_t deadline_ms)
{
    (void)ctx;
    if (now_ms >= deadline_ms)
        return false;
    idle_calls++;
    now_ms += deadline_ms - now_ms < 10 ? deadline_ms - now_ms : 10;
    if (idle_hook)
        idle_hook();
    return true;
}

/* The transport's enter hook: how often, and how much of a call had gone out when it ran. */
static unsigned enters;
static size_t ncodes_at_enter;
static void fake_enter(void *ctx)
{
    (void)ctx;
    enters++;
    ncodes_at_enter = ncodes;
}

static const struct p11_transport fake_transport = {
    .open = fake_open,
    .close = fake_close,
    .write_all = fake_write_all,
    .read = fake_read,
    .now_ms = fake_now_ms,
    .wait = fake_wait,
    .enter = fake_enter,
};

/* The two answers to the last pair sent: an OK init and a signature "SIG". */
static size_t pair_answers(uint8_t *out)
{
    size_t n = frame(out, codes[ncodes - 2], P11_CALL_SignInit, NULL, 0, 0);
    return n + frame(out + n, codes[ncodes - 1], P11_CALL_Sign, "SIG", 3, 0);
}

static CK_MECHANISM mech = {CKM_SHA256_RSA_PKCS, NULL, 0};
static uint8_t sig[64];
static CK_ULONG sig_len;

static void start(void)
{
    CK_FUNCTION_LIST_PTR f;

    answer_version = true;
    refuse_open = false;
    eof = false;
    idle_hook = NULL;
    p11_client_get_function_list(&f);
    f->C_Finalize(NULL);
    f->C_Initialize(NULL);
    said = heard = ncodes = 0;
    memset(sig, 0, sizeof(sig));
    sig_len = sizeof(sig);
}

static CK_RV sign_pair(void)
{
    return p11_client_sign(1, &mech, 2, (const CK_BYTE *)"data", 4, sig, &sig_len);
}

/* What the server says while the client waits: script[] from the next wait on, `step` bytes per
 * wait (0: all at once). Made once the pair is written (its request codes are known then). */
static uint8_t script[4096];
static size_t script_len, script_at, script_step;
static size_t (*script_make)(uint8_t *out);

static void say_script(void)
{
    if (script_make) {
        script_len = script_make(script);
        script_at = 0;
        script_make = NULL;
    }
    size_t n = script_len - script_at;
    if (script_step && n > script_step)
        n = script_step;
    say(script + script_at, n);
    script_at += n;
}

static void script_start(size_t (*make)(uint8_t *out), size_t step)
{
    script_make = make;
    script_step = step;
    script_len = script_at = 0;
    idle_hook = say_script;
}

TEST(a_signature_is_one_write_and_its_answers_may_come_in_pieces)
{
    struct p11_link_stats after;

    start();
    script_start(pair_answers, 5);
    CHECK_EQ(sign_pair(), CKR_OK);
    CHECK_EQ(ncodes, 2); /* C_SignInit and C_Sign, in one write */
    CHECK_EQ(sig_len, 3);
    CHECK(memcmp(sig, "SIG", 3) == 0);
    p11_client_stats(&after);
    CHECK(after.up);
}

/* hsm_link.c makes a caller wait in enter for a call parked elsewhere: it must come before the
 * call has written anything. */
TEST(every_call_enters_before_it_touches_the_link)
{
    CK_FUNCTION_LIST_PTR f;

    start();
    p11_client_get_function_list(&f);
    enters = 0;
    ncodes_at_enter = 99;
    script_start(pair_answers, 0);
    CHECK_EQ(sign_pair(), CKR_OK);
    CHECK_EQ(enters, 1);
    CHECK_EQ(ncodes_at_enter, 0);
    CHECK_EQ(f->C_Finalize(NULL), CKR_OK);
    CHECK_EQ(enters, 2);
    CHECK_EQ(f->C_Initialize(NULL), CKR_OK);
}

static size_t say_nothing(uint8_t *out)
{
    (void)out;
    return 0;
}

TEST(no_answer_in_time_fails_the_signature_and_downs_the_link)
{
    struct p11_link_stats before, after;

    start();
    p11_client_stats(&before);
    script_start(say_nothing, 0);
    uint64_t t0 = now_ms;
    CHECK_EQ(sign_pair(), CKR_DEVICE_ERROR);
    CHECK(now_ms - t0 >= P11_CALL_TIMEOUT_MS);
    CHECK(now_ms - t0 <= P11_CALL_TIMEOUT_MS + 10);
    p11_client_stats(&after);
    CHECK(!after.up);
    CHECK_EQ(after.timeouts, before.timeouts + 1);
}

static size_t wrong_code(uint8_t *out)
{
    return frame(out, codes[ncodes - 1] + 7, P11_CALL_SignInit, NULL, 0, 0);
}

static size_t too_long(uint8_t *out)
{
    size_t n = frame(out, codes[ncodes - 2], P11_CALL_SignInit, NULL, 0, 0);
    /* The second frame's header claims far more than any answer may carry; only it is sent. */
    (void)frame(out + n, codes[ncodes - 1], P11_CALL_Sign, "SIG", 3, 1u << 20);
    return n + 12;
}

static size_t not_a_signature(uint8_t *out)
{
    size_t n = frame(out, codes[ncodes - 2], P11_CALL_SignInit, NULL, 0, 0);
    return n + frame(out + n, codes[ncodes - 1], P11_CALL_GenerateRandom, "SIG", 3, 0);
}

TEST(answers_out_of_step_or_too_long_are_refused)
{
    struct p11_link_stats st;

    /* Another request's code. */
    start();
    script_start(wrong_code, 0);
    CHECK_EQ(sign_pair(), CKR_DEVICE_ERROR);

    /* A body longer than any answer (the rest is never waited for). */
    start();
    script_start(too_long, 0);
    uint64_t t0 = now_ms;
    CHECK_EQ(sign_pair(), CKR_DEVICE_ERROR);
    CHECK(now_ms - t0 < P11_CALL_TIMEOUT_MS);

    /* A well-framed answer that is not a signature: refused, the link stays in step. */
    start();
    script_start(not_a_signature, 0);
    CHECK_EQ(sign_pair(), CKR_DEVICE_ERROR);
    p11_client_stats(&st);
    CHECK(st.up);
}

/* The server's answer to the last request: OK with no arguments, or an error. */
static CK_RV set_pin_answer;
static bool set_pin_answered;

static void answer_set_pin(void)
{
    uint8_t out[64];
    struct p11w w;

    if (!ncodes || set_pin_answered)
        return;
    set_pin_answered = true;
    p11w_init(&w, out + 12, sizeof(out) - 12);
    if (set_pin_answer == CKR_OK) {
        p11w_begin(&w, P11_CALL_SetPIN, "");
    } else {
        p11w_begin(&w, P11_CALL_ERROR, "u");
        p11w_ulong(&w, set_pin_answer);
    }
    put32(out, codes[ncodes - 1]);
    put32(out + 4, 0);
    put32(out + 8, (uint32_t)w.len);
    say(out, 12 + w.len);
}

/* p11-kit's call table: C_SetPIN is call 15, "uayay" (session, old PIN, new PIN), answer "". */
TEST(set_pin_sends_the_session_and_both_pins)
{
    CK_FUNCTION_LIST_PTR f;
    uint8_t want[128];
    struct p11w w;

    start();
    p11_client_get_function_list(&f);
    idle_hook = answer_set_pin;
    set_pin_answer = CKR_OK;
    set_pin_answered = false;
    CHECK_EQ(f->C_SetPIN(7, (CK_UTF8CHAR_PTR) "123456", 6, (CK_UTF8CHAR_PTR) "24681357", 8),
             CKR_OK);
    p11w_init(&w, want, sizeof(want));
    p11w_begin(&w, P11_CALL_SetPIN, "uayay");
    p11w_ulong(&w, 7);
    p11w_byte_array(&w, "123456", 6);
    p11w_byte_array(&w, "24681357", 8);
    CHECK_EQ(last_req_len, w.len);
    CHECK(memcmp(last_req, want, w.len) == 0);

    /* The token's refusal comes back as it is, the link still up. */
    ncodes = 0;
    set_pin_answer = CKR_PIN_INCORRECT;
    set_pin_answered = false;
    CHECK_EQ(f->C_SetPIN(7, (CK_UTF8CHAR_PTR) "999999", 6, (CK_UTF8CHAR_PTR) "24681357", 8),
             CKR_PIN_INCORRECT);
    struct p11_link_stats st;
    p11_client_stats(&st);
    CHECK(st.up);
    idle_hook = NULL;
}

/* The server's answer to the last request: random bytes "RAND", once. */
static bool random_answered;

static void answer_random(void)
{
    uint8_t out[64];
    struct p11w w;

    if (!ncodes || random_answered)
        return;
    random_answered = true;
    p11w_init(&w, out + 12, sizeof(out) - 12);
    p11w_begin(&w, P11_CALL_GenerateRandom, "ay");
    p11w_byte_array(&w, "RAND", 4);
    put32(out, codes[ncodes - 1]);
    put32(out + 4, 0);
    put32(out + 8, (uint32_t)w.len);
    say(out, 12 + w.len);
}

TEST(an_answer_that_never_comes_fails_the_call_within_the_time_out)
{
    CK_FUNCTION_LIST_PTR f;
    struct p11_link_stats before, after;
    uint8_t rnd[4];

    start();
    p11_client_get_function_list(&f);
    p11_client_stats(&before);
    uint64_t sent = now_ms;
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_DEVICE_ERROR);
    CHECK(now_ms - sent >= P11_CALL_TIMEOUT_MS);
    CHECK(now_ms - sent <= P11_CALL_TIMEOUT_MS + 10);
    p11_client_stats(&after);
    CHECK(!after.up);
    CHECK_EQ(after.timeouts, before.timeouts + 1);
}

/* A header for the last request claiming a body one byte longer than any message. */
static void answer_too_long(void)
{
    uint8_t hdr[12];

    if (!ncodes || random_answered)
        return;
    random_answered = true;
    put32(hdr, codes[ncodes - 1]);
    put32(hdr + 4, 0);
    put32(hdr + 8, P11_MSG_MAX + 1);
    say(hdr, sizeof(hdr));
}

TEST(a_frame_longer_than_any_message_is_refused_and_downs_the_link)
{
    CK_FUNCTION_LIST_PTR f;
    struct p11_link_stats before, after;
    uint8_t rnd[4] = {0};

    start();
    p11_client_get_function_list(&f);
    idle_hook = answer_too_long;
    random_answered = false;
    p11_client_stats(&before);
    uint64_t sent = now_ms;
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_DEVICE_ERROR);
    CHECK(now_ms - sent < P11_CALL_TIMEOUT_MS); /* refused at the header, not waited out */
    p11_client_stats(&after);
    CHECK(!after.up);
    CHECK_EQ(after.connects, before.connects + 1);
    CHECK_EQ(after.failures, before.failures + 1);
    CHECK_EQ(after.timeouts, before.timeouts);
    CHECK(memcmp(rnd, "\0\0\0\0", 4) == 0);
}

TEST(the_next_call_after_the_peer_hangs_up_reconnects)
{
    CK_FUNCTION_LIST_PTR f;
    struct p11_link_stats first, lost, again;
    uint8_t rnd[4];

    start();
    p11_client_get_function_list(&f);
    idle_hook = answer_random;
    random_answered = false;
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_OK);
    p11_client_stats(&first);
    int opened = opens;
    eof = true;
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_DEVICE_ERROR);
    p11_client_stats(&lost);
    CHECK(!lost.up);
    CHECK_EQ(lost.failures, first.failures + 1);
    memset(rnd, 0, sizeof(rnd));
    random_answered = false;
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_OK);
    CHECK(memcmp(rnd, "RAND", 4) == 0);
    CHECK_EQ(opens, opened + 1);
    p11_client_stats(&again);
    CHECK(again.up);
    CHECK_EQ(again.generation, first.generation + 1);
    idle_hook = NULL;
}

/* A frozen token: the version byte never comes. One piece of work waits for that once; its
 * other calls fail at once; the next piece of work waits for the resync and tries again. */
TEST(after_a_failed_reconnect_the_rest_of_the_work_fails_at_once)
{
    CK_FUNCTION_LIST_PTR f;
    struct p11_link_stats before, after;
    uint8_t rnd[4];

    start();
    p11_client_get_function_list(&f);
    p11_client_stats(&before);
    answer_version = false;
    uint64_t t0 = now_ms;
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_DEVICE_ERROR);
    CHECK(now_ms - t0 >= P11_HANDSHAKE_TIMEOUT_MS);
    int opened = opens;
    uint64_t t1 = now_ms;
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_DEVICE_ERROR);
    CHECK_EQ(now_ms, t1);    /* no wait, */
    CHECK_EQ(opens, opened); /* and the link was not touched */
    p11_client_stats(&after);
    CHECK_EQ(after.failed_at_once, before.failed_at_once + 1);
    CHECK_EQ(after.connects, before.connects);

    answer_version = true;
    ncodes = 0; /* the resync's zeros are not requests to answer */
    random_answered = false;
    idle_hook = answer_random;
    p11_client_begin_work();
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_OK);
    CHECK(now_ms - t1 >= P11_RESYNC_MS); /* it let the resync happen first */
    CHECK(memcmp(rnd, "RAND", 4) == 0);
    CHECK_EQ(opens, opened + 1);
    idle_hook = NULL;
}

TEST(no_transport_fails_calls_without_waiting)
{
    CK_FUNCTION_LIST_PTR f;
    uint8_t rnd[4];

    start();
    p11_client_get_function_list(&f);
    p11_client_set_transport(NULL);
    uint64_t before = now_ms;
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_DEVICE_ERROR);
    CHECK_EQ(now_ms, before);
    p11_client_set_transport(&fake_transport);
    idle_hook = answer_random;
    random_answered = false;
    CHECK_EQ(f->C_GenerateRandom(1, rnd, 4), CKR_OK);
    idle_hook = NULL;
}

int main(void)
{
    p11_client_set_transport(&fake_transport);
    RUN(a_signature_is_one_write_and_its_answers_may_come_in_pieces);
    RUN(every_call_enters_before_it_touches_the_link);
    RUN(no_answer_in_time_fails_the_signature_and_downs_the_link);
    RUN(answers_out_of_step_or_too_long_are_refused);
    RUN(set_pin_sends_the_session_and_both_pins);
    RUN(an_answer_that_never_comes_fails_the_call_within_the_time_out);
    RUN(a_frame_longer_than_any_message_is_refused_and_downs_the_link);
    RUN(the_next_call_after_the_peer_hangs_up_reconnects);
    RUN(after_a_failed_reconnect_the_rest_of_the_work_fails_at_once);
    RUN(no_transport_fails_calls_without_waiting);
    return unit_summary();
}
