/*
 * crypto/p11/p11_client.c — the client side of p11-kit's RPC: framing, version byte, calls.
 *
 * Frame (rpc-transport.c): a 12-byte header of three big-endian u32 — a request code the server
 * echoes, the length of an options area (we send none), the length of the body — then the body.
 */
#include "p11_client.h"

#include <errno.h>
#include <string.h>

#include "crypto/p11/p11_wire.h"
#include "signet_config.h"

#define FRAME_HDR        12u
#define PROTOCOL_VERSION 0u
/* Room ahead of a request for one small pipelined frame (C_SignInit before C_Sign). */
#define LEAD_FRAME_MAX 256u
struct p11_link {
    bool initialized; /* C_Initialize called and not finalized */
    bool up;
    uint64_t retry_at;     /* no new handshake before this: the peer is resetting */
    bool reconnect_failed; /* since the last p11_client_begin_work: fail calls at once */
    uint32_t code;         /* request code of the last frame sent; never 0 */
    struct p11_link_stats stats;
    uint8_t tx[FRAME_HDR + LEAD_FRAME_MAX + FRAME_HDR + P11_MSG_MAX];
    uint8_t rx[P11_MSG_MAX];
};

/* One link per board: PKCS#11 functions take no context argument. */
static struct p11_link link;

/* ---- the transport: until the composition root supplies one, the token is not there ---- */

static int no_open(void *ctx)
{
    (void)ctx;
    return -ENODEV;
}

static void no_close(void *ctx)
{
    (void)ctx;
}

static int no_write_all(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    (void)p;
    (void)n;
    return -EPIPE;
}

static int no_read(void *ctx, uint8_t *p, size_t cap)
{
    (void)ctx;
    (void)p;
    (void)cap;
    return -EPIPE;
}

static uint64_t no_now_ms(void *ctx)
{
    (void)ctx;
    return 0;
}

static bool no_wait(void *ctx, uint64_t deadline_ms)
{
    (void)ctx;
    (void)deadline_ms;
    return false;
}

static const struct p11_transport no_transport = {
    .open = no_open,
    .close = no_close,
    .write_all = no_write_all,
    .read = no_read,
    .now_ms = no_now_ms,
    .wait = no_wait,
};

static const struct p11_transport *transport = &no_transport;

void p11_client_set_transport(const struct p11_transport *t)
{
    transport = t ? t : &no_transport;
    link.reconnect_failed = false; /* another link: worth trying */
}

static void t_close(void)
{
    transport->close(transport->ctx);
}

static int t_write_all(const uint8_t *p, size_t n)
{
    return transport->write_all(transport->ctx, p, n);
}

static int t_read(uint8_t *p, size_t cap)
{
    return transport->read(transport->ctx, p, cap);
}

static uint64_t t_now(void)
{
    return transport->now_ms(transport->ctx);
}

/* Before a call looks at the link's state or buffers: nobody else is half-way through a call. */
static void t_enter(void)
{
    if (transport->enter)
        transport->enter(transport->ctx);
}

/* False once the deadline has passed; otherwise waits a moment (the transport says how). */
static bool t_wait(uint64_t deadline)
{
    return transport->wait(transport->ctx, deadline);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void link_down(void)
{
    if (link.up)
        link.stats.failures++;
    link.up = false;
    link.stats.up = false;
    t_close();
}

/* Read exactly len bytes before the deadline. 0, -ETIMEDOUT or -EPIPE. */
static int read_exact(uint8_t *dst, size_t len, uint64_t deadline)
{
    size_t got = 0;

    while (got < len) {
        int n = t_read(dst + got, len - got);
        if (n < 0)
            return -EPIPE;
        if (n > 0)
            got += (size_t)n;
        else if (!t_wait(deadline))
            return -ETIMEDOUT;
    }
    return 0;
}

static void wait_until(uint64_t deadline)
{
    while (t_wait(deadline))
        ;
}

static CK_RV transport_error(int err)
{
    if (err == -ETIMEDOUT)
        link.stats.timeouts++;
    link_down();
    return CKR_DEVICE_ERROR;
}

static uint32_t next_code(void)
{
    link.code = link.code + 1 ? link.code + 1 : 1;
    return link.code;
}

/* Fill in the header of a frame whose body of body_len bytes follows it. */
static void frame_header(uint8_t *frame, uint32_t code, size_t body_len)
{
    put_u32(frame, code);
    put_u32(frame + 4, 0);
    put_u32(frame + 8, (uint32_t)body_len);
}

/* Wait for the answer to request code and leave its body in link.rx for r. */
static CK_RV frame_recv(uint32_t code, uint64_t deadline, struct p11r *r)
{
    uint8_t hdr[FRAME_HDR];
    int ret = read_exact(hdr, sizeof(hdr), deadline);

    if (ret)
        return transport_error(ret);
    uint32_t got = get_u32(hdr), olen = get_u32(hdr + 4), dlen = get_u32(hdr + 8);
    /* Anything but our own code means the stream is out of step: only a new connection fixes it. */
    if (got != code || olen > sizeof(link.rx) || dlen > sizeof(link.rx))
        return transport_error(-EPROTO);
    if (olen) {
        ret = read_exact(link.rx, olen, deadline); /* options: unused, discarded */
        if (ret)
            return transport_error(ret);
    }
    ret = read_exact(link.rx, dlen, deadline);
    if (ret)
        return transport_error(ret);
    p11r_init(r, link.rx, dlen);
    return CKR_OK;
}

/* Send the body already written at link.tx + FRAME_HDR and wait for the answer's body. */
static CK_RV exchange(size_t body_len, struct p11r *r)
{
    uint32_t code = next_code();
    int ret;

    frame_header(link.tx, code, body_len);
    link.stats.calls++;
    ret = t_write_all(link.tx, FRAME_HDR + body_len);
    if (ret)
        return transport_error(ret);
    return frame_recv(code, t_now() + P11_CALL_TIMEOUT_MS, r);
}

/*
 * A server that lost step with us is still reading some frame. A run of zero bytes longer than
 * any frame ends whatever it was reading and then forms an empty message, which it refuses by
 * dropping the connection; the link (QEMU's reconnecting chardev, or a real line driver) then
 * brings up a fresh server that starts with the version byte again.
 */
static void send_resync(void)
{
    static const uint8_t zeros[256];

    for (size_t sent = 0; sent < P11_MSG_MAX + 2 * FRAME_HDR; sent += sizeof(zeros))
        if (t_write_all(zeros, sizeof(zeros)) != 0)
            break;
}

static CK_RV version_exchange(void)
{
    uint8_t version = PROTOCOL_VERSION;
    int ret;

    t_close(); /* drop anything left from an earlier connection */
    if (transport->open(transport->ctx) != 0)
        return CKR_DEVICE_ERROR;
    ret = t_write_all(&version, 1);
    if (ret == 0)
        ret = read_exact(&version, 1, t_now() + P11_HANDSHAKE_TIMEOUT_MS);
    if (ret == -ETIMEDOUT) {
        link.stats.timeouts++;
        send_resync();
        link.retry_at = t_now() + P11_RESYNC_MS;
    }
    if (ret != 0 || version != PROTOCOL_VERSION) {
        t_close();
        return CKR_DEVICE_ERROR;
    }
    return CKR_OK;
}

void p11_client_begin_work(void)
{
    link.reconnect_failed = false;
}

static CK_RV handshake(void)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    /* This piece of work has tried the link and found it dead: its other calls fail at once
     * rather than each wait out the time-outs again (a frozen peer cost a job 7 s per attempt). */
    if (link.reconnect_failed) {
        link.stats.failed_at_once++;
        return CKR_DEVICE_ERROR;
    }
    /* A resync is under way: wait for it (at most P11_RESYNC_MS) rather than fail a call that
     * could succeed a moment later. */
    wait_until(link.retry_at);
    rv = version_exchange();
    if (rv != CKR_OK) {
        link.reconnect_failed = true;
        return rv;
    }
    link.up = true;
    /* The server-side C_Initialize: our handshake string, no reserved argument. */
    p11w_init(&w, link.tx + FRAME_HDR, P11_MSG_MAX);
    p11w_begin(&w, P11_CALL_Initialize, "ayyay");
    p11w_byte_array(&w, P11_HANDSHAKE, sizeof(P11_HANDSHAKE) - 1);
    p11w_byte(&w, 0);
    p11w_byte_array(&w, "", 1);
    rv = exchange(w.len, &r);
    if (rv == CKR_OK)
        rv = p11r_begin(&r, P11_CALL_Initialize, "");
    if (rv == CKR_OK && !p11r_done(&r))
        rv = CKR_DEVICE_ERROR;
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
        link_down();
        link.reconnect_failed = true;
        return CKR_DEVICE_ERROR;
    }
    link.stats.connects++;
    link.stats.generation++;
    link.stats.up = true;
    return CKR_OK;
}

/* ---- call plumbing shared by every C_* function ---- */

static CK_RV call_begin(struct p11w *w, enum p11_call call, const char *sig)
{
    t_enter();
    if (!link.initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (!link.up && handshake() != CKR_OK)
        return CKR_DEVICE_ERROR;
    p11w_init(w, link.tx + FRAME_HDR, P11_MSG_MAX);
    p11w_begin(w, call, sig);
    return CKR_OK;
}

/* Send the request; on CKR_OK, r is positioned at the answer's arguments. */
static CK_RV call_run(struct p11w *w, struct p11r *r, enum p11_call call, const char *sig)
{
    CK_RV rv;

    if (w->failed)
        return CKR_ARGUMENTS_BAD; /* too large for a message, or not encodable */
    rv = exchange(w->len, r);
    if (rv != CKR_OK)
        return rv;
    return p11r_begin(r, call, sig);
}

/*
 * A well-formed answer is consumed exactly. A malformed one is refused, but the frame around it
 * was read whole, so the stream is still in step and the link stays up.
 */
static CK_RV call_end(struct p11r *r, CK_RV rv)
{
    if (r->failed || (rv == CKR_OK && !p11r_done(r))) {
        link.stats.malformed++;
        return CKR_DEVICE_ERROR;
    }
    return rv;
}

/* ---- general ---- */

static CK_RV p11_Initialize(CK_VOID_PTR args)
{
    (void)args;
    if (link.initialized)
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    /* The link is opened by the first call that needs it: a token that is not there yet must
     * not hold up whoever initialises the library (the console, at boot). */
    link.initialized = true;
    link.reconnect_failed = false;
    return CKR_OK;
}

static CK_RV p11_Finalize(CK_VOID_PTR reserved)
{
    struct p11w w;
    struct p11r r;

    if (reserved)
        return CKR_ARGUMENTS_BAD;
    t_enter();
    if (!link.initialized)
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    if (link.up) {
        p11w_init(&w, link.tx + FRAME_HDR, P11_MSG_MAX);
        p11w_begin(&w, P11_CALL_Finalize, "");
        if (call_run(&w, &r, P11_CALL_Finalize, "") == CKR_OK)
            (void)call_end(&r, CKR_OK);
    }
    link.initialized = false;
    link.up = false;
    link.stats.up = false;
    t_close();
    return CKR_OK;
}

static CK_RV p11_GetInfo(CK_INFO_PTR info)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!info)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_GetInfo, "");
    if (rv == CKR_OK)
        rv = call_run(&w, &r, P11_CALL_GetInfo, "vsusv");
    if (rv != CKR_OK)
        return rv;
    p11r_version(&r, &info->cryptokiVersion);
    p11r_space_string(&r, info->manufacturerID, sizeof(info->manufacturerID));
    info->flags = p11r_ulong(&r);
    p11r_space_string(&r, info->libraryDescription, sizeof(info->libraryDescription));
    p11r_version(&r, &info->libraryVersion);
    return call_end(&r, CKR_OK);
}

static CK_RV p11_GetSlotList(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!count)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_GetSlotList, "yfu");
    if (rv != CKR_OK)
        return rv;
    p11w_byte(&w, present);
    p11w_ulong_buffer(&w, list ? *count : 0);
    rv = call_run(&w, &r, P11_CALL_GetSlotList, "au");
    if (rv != CKR_OK)
        return rv;
    return call_end(&r, p11r_ulong_array(&r, list, count));
}

static CK_RV p11_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR ti)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!ti)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_GetTokenInfo, "u");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, slot);
    rv = call_run(&w, &r, P11_CALL_GetTokenInfo, "ssssuuuuuuuuuuuvvs");
    if (rv != CKR_OK)
        return rv;
    p11r_space_string(&r, ti->label, sizeof(ti->label));
    p11r_space_string(&r, ti->manufacturerID, sizeof(ti->manufacturerID));
    p11r_space_string(&r, ti->model, sizeof(ti->model));
    p11r_space_string(&r, ti->serialNumber, sizeof(ti->serialNumber));
    ti->flags = p11r_ulong(&r);
    ti->ulMaxSessionCount = p11r_ulong(&r);
    ti->ulSessionCount = p11r_ulong(&r);
    ti->ulMaxRwSessionCount = p11r_ulong(&r);
    ti->ulRwSessionCount = p11r_ulong(&r);
    ti->ulMaxPinLen = p11r_ulong(&r);
    ti->ulMinPinLen = p11r_ulong(&r);
    ti->ulTotalPublicMemory = p11r_ulong(&r);
    ti->ulFreePublicMemory = p11r_ulong(&r);
    ti->ulTotalPrivateMemory = p11r_ulong(&r);
    ti->ulFreePrivateMemory = p11r_ulong(&r);
    p11r_version(&r, &ti->hardwareVersion);
    p11r_version(&r, &ti->firmwareVersion);
    p11r_space_string(&r, ti->utcTime, sizeof(ti->utcTime));
    return call_end(&r, CKR_OK);
}

static CK_RV p11_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!count)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_GetMechanismList, "ufu");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, slot);
    p11w_ulong_buffer(&w, list ? *count : 0);
    rv = call_run(&w, &r, P11_CALL_GetMechanismList, "au");
    if (rv != CKR_OK)
        return rv;
    return call_end(&r, p11r_ulong_array(&r, list, count));
}

/* ---- sessions ---- */

static CK_RV p11_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                             CK_SESSION_HANDLE_PTR session)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    (void)app;
    if (notify || !session)
        return CKR_ARGUMENTS_BAD; /* callbacks cannot cross the link */
    rv = call_begin(&w, P11_CALL_OpenSession, "uu");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, slot);
    p11w_ulong(&w, flags);
    rv = call_run(&w, &r, P11_CALL_OpenSession, "u");
    if (rv != CKR_OK)
        return rv;
    *session = p11r_ulong(&r);
    return call_end(&r, CKR_OK);
}

/* The calls whose request is just a session (or another single ulong) and whose answer is empty. */
static CK_RV call_ulongs(enum p11_call call, const char *sig, const CK_ULONG *v, size_t n)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv = call_begin(&w, call, sig);

    if (rv != CKR_OK)
        return rv;
    for (size_t i = 0; i < n; i++)
        p11w_ulong(&w, v[i]);
    rv = call_run(&w, &r, call, "");
    if (rv != CKR_OK)
        return rv;
    return call_end(&r, CKR_OK);
}

static CK_RV p11_CloseSession(CK_SESSION_HANDLE session)
{
    return call_ulongs(P11_CALL_CloseSession, "u", &session, 1);
}

static CK_RV p11_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
                       CK_ULONG pin_len)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv = call_begin(&w, P11_CALL_Login, "uuay");

    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    p11w_ulong(&w, user);
    p11w_byte_array(&w, pin, pin_len);
    rv = call_run(&w, &r, P11_CALL_Login, "");
    /* The PIN sat in the transmit buffer: wipe it now rather than at the next call. */
    memset(link.tx, 0, FRAME_HDR + w.len);
    if (rv != CKR_OK)
        return rv;
    return call_end(&r, CKR_OK);
}

/* The session's user changes their own PIN; both PINs travel, and are wiped, as C_Login's. */
static CK_RV p11_SetPIN(CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
                        CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv = call_begin(&w, P11_CALL_SetPIN, "uayay");

    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    p11w_byte_array(&w, old_pin, old_len);
    p11w_byte_array(&w, new_pin, new_len);
    rv = call_run(&w, &r, P11_CALL_SetPIN, "");
    memset(link.tx, 0, FRAME_HDR + w.len);
    if (rv != CKR_OK)
        return rv;
    return call_end(&r, CKR_OK);
}

static CK_RV p11_Logout(CK_SESSION_HANDLE session)
{
    return call_ulongs(P11_CALL_Logout, "u", &session, 1);
}

/* ---- objects ---- */

static CK_RV call_template_handle(enum p11_call call, const char *sig, CK_SESSION_HANDLE session,
                                  const CK_ULONG *extra, size_t nextra, CK_ATTRIBUTE_PTR t,
                                  CK_ULONG n, CK_OBJECT_HANDLE_PTR out)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if ((n && !t) ||
        (out == NULL && call != P11_CALL_SetAttributeValue && call != P11_CALL_FindObjectsInit))
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, call, sig);
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    for (size_t i = 0; i < nextra; i++)
        p11w_ulong(&w, extra[i]);
    p11w_template(&w, t, n);
    rv = call_run(&w, &r, call, out ? "u" : "");
    if (rv != CKR_OK)
        return rv;
    if (out)
        *out = p11r_ulong(&r);
    return call_end(&r, CKR_OK);
}

static CK_RV p11_CreateObject(CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR t, CK_ULONG n,
                              CK_OBJECT_HANDLE_PTR obj)
{
    return call_template_handle(P11_CALL_CreateObject, "uaA", session, NULL, 0, t, n, obj);
}

static CK_RV p11_DestroyObject(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj)
{
    CK_ULONG v[2] = {session, obj};
    return call_ulongs(P11_CALL_DestroyObject, "uu", v, 2);
}

static CK_RV p11_GetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj,
                                   CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (n == 0 || !t)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_GetAttributeValue, "uufA");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    p11w_ulong(&w, obj);
    p11w_attr_buffer(&w, t, n);
    rv = call_run(&w, &r, P11_CALL_GetAttributeValue, "aAu");
    if (rv != CKR_OK)
        return rv;
    CK_RV fill = p11r_attr_values(&r, t, n);
    CK_RV server = p11r_ulong(&r);
    return call_end(&r, server != CKR_OK ? server : fill);
}

static CK_RV p11_SetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE obj,
                                   CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    return call_template_handle(P11_CALL_SetAttributeValue, "uuaA", session, &obj, 1, t, n, NULL);
}

static CK_RV p11_FindObjectsInit(CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    return call_template_handle(P11_CALL_FindObjectsInit, "uaA", session, NULL, 0, t, n, NULL);
}

static CK_RV p11_FindObjects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE_PTR objs, CK_ULONG max,
                             CK_ULONG_PTR count)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!objs || !count)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_FindObjects, "ufu");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    p11w_ulong_buffer(&w, max);
    rv = call_run(&w, &r, P11_CALL_FindObjects, "au");
    if (rv != CKR_OK)
        return rv;
    *count = max;
    rv = p11r_ulong_array(&r, objs, count);
    return call_end(&r, rv);
}

static CK_RV p11_FindObjectsFinal(CK_SESSION_HANDLE session)
{
    return call_ulongs(P11_CALL_FindObjectsFinal, "u", &session, 1);
}

/* ---- crypto operations ---- */

static CK_RV call_init(enum p11_call call, CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech,
                       CK_OBJECT_HANDLE key)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!mech)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, call, "uMu");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    if (!p11w_mechanism(&w, mech))
        return CKR_MECHANISM_PARAM_INVALID;
    p11w_ulong(&w, key);
    rv = call_run(&w, &r, call, "");
    if (rv != CKR_OK)
        return rv;
    return call_end(&r, CKR_OK);
}

/* Sign, Encrypt, Decrypt: data in, bytes out, with PKCS#11's size-query convention. */
static CK_RV call_data(enum p11_call call, CK_SESSION_HANDLE session, CK_BYTE_PTR in,
                       CK_ULONG in_len, CK_BYTE_PTR out, CK_ULONG_PTR out_len)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if ((!in && in_len) || !out_len)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, call, "uayfy");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    p11w_byte_array(&w, in ? in : (CK_BYTE_PTR) "", in_len);
    p11w_byte_buffer(&w, out ? *out_len : 0);
    rv = call_run(&w, &r, call, "ay");
    if (rv != CKR_OK)
        return rv;
    return call_end(&r, p11r_byte_array(&r, out, out_len));
}

static CK_RV p11_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    return call_init(P11_CALL_SignInit, s, m, k);
}

static CK_RV p11_Sign(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig,
                      CK_ULONG_PTR sl)
{
    return call_data(P11_CALL_Sign, s, d, dl, sig, sl);
}

static CK_RV p11_VerifyInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    return call_init(P11_CALL_VerifyInit, s, m, k);
}

static CK_RV p11_Verify(CK_SESSION_HANDLE session, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR sig,
                        CK_ULONG sl)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if ((!d && dl) || !sig)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_Verify, "uayay");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    p11w_byte_array(&w, d ? d : (CK_BYTE_PTR) "", dl);
    p11w_byte_array(&w, sig, sl);
    rv = call_run(&w, &r, P11_CALL_Verify, "");
    if (rv != CKR_OK)
        return rv;
    return call_end(&r, CKR_OK);
}

static CK_RV p11_EncryptInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    return call_init(P11_CALL_EncryptInit, s, m, k);
}

static CK_RV p11_Encrypt(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR out,
                         CK_ULONG_PTR ol)
{
    return call_data(P11_CALL_Encrypt, s, d, dl, out, ol);
}

static CK_RV p11_DecryptInit(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k)
{
    return call_init(P11_CALL_DecryptInit, s, m, k);
}

static CK_RV p11_Decrypt(CK_SESSION_HANDLE s, CK_BYTE_PTR d, CK_ULONG dl, CK_BYTE_PTR out,
                         CK_ULONG_PTR ol)
{
    return call_data(P11_CALL_Decrypt, s, d, dl, out, ol);
}

/* ---- keys ---- */

static CK_RV p11_GenerateKey(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR t,
                             CK_ULONG n, CK_OBJECT_HANDLE_PTR key)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!mech || !key || (n && !t))
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_GenerateKey, "uMaA");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    if (!p11w_mechanism(&w, mech))
        return CKR_MECHANISM_PARAM_INVALID;
    p11w_template(&w, t, n);
    rv = call_run(&w, &r, P11_CALL_GenerateKey, "u");
    if (rv != CKR_OK)
        return rv;
    *key = p11r_ulong(&r);
    return call_end(&r, CKR_OK);
}

static CK_RV p11_GenerateKeyPair(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech,
                                 CK_ATTRIBUTE_PTR pub_t, CK_ULONG pub_n, CK_ATTRIBUTE_PTR priv_t,
                                 CK_ULONG priv_n, CK_OBJECT_HANDLE_PTR pub,
                                 CK_OBJECT_HANDLE_PTR priv)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!mech || !pub || !priv || (pub_n && !pub_t) || (priv_n && !priv_t))
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_GenerateKeyPair, "uMaAaA");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    if (!p11w_mechanism(&w, mech))
        return CKR_MECHANISM_PARAM_INVALID;
    p11w_template(&w, pub_t, pub_n);
    p11w_template(&w, priv_t, priv_n);
    rv = call_run(&w, &r, P11_CALL_GenerateKeyPair, "uu");
    if (rv != CKR_OK)
        return rv;
    *pub = p11r_ulong(&r);
    *priv = p11r_ulong(&r);
    return call_end(&r, CKR_OK);
}

static CK_RV p11_WrapKey(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech,
                         CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key, CK_BYTE_PTR out,
                         CK_ULONG_PTR out_len)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!mech || !out_len)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_WrapKey, "uMuufy");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    if (!p11w_mechanism(&w, mech))
        return CKR_MECHANISM_PARAM_INVALID;
    p11w_ulong(&w, wrapping);
    p11w_ulong(&w, key);
    p11w_byte_buffer(&w, out ? *out_len : 0);
    rv = call_run(&w, &r, P11_CALL_WrapKey, "ay");
    if (rv != CKR_OK)
        return rv;
    return call_end(&r, p11r_byte_array(&r, out, out_len));
}

static CK_RV p11_UnwrapKey(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech,
                           CK_OBJECT_HANDLE unwrapping, CK_BYTE_PTR wrapped, CK_ULONG wrapped_len,
                           CK_ATTRIBUTE_PTR t, CK_ULONG n, CK_OBJECT_HANDLE_PTR key)
{
    struct p11w w;
    struct p11r r;
    CK_RV rv;

    if (!mech || !wrapped || !key || (n && !t))
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_UnwrapKey, "uMuayaA");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    if (!p11w_mechanism(&w, mech))
        return CKR_MECHANISM_PARAM_INVALID;
    p11w_ulong(&w, unwrapping);
    p11w_byte_array(&w, wrapped, wrapped_len);
    p11w_template(&w, t, n);
    rv = call_run(&w, &r, P11_CALL_UnwrapKey, "u");
    if (rv != CKR_OK)
        return rv;
    *key = p11r_ulong(&r);
    return call_end(&r, CKR_OK);
}

static CK_RV p11_GenerateRandom(CK_SESSION_HANDLE session, CK_BYTE_PTR out, CK_ULONG len)
{
    struct p11w w;
    struct p11r r;
    CK_ULONG got = len;
    CK_RV rv;

    if (!out && len)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_GenerateRandom, "ufy");
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    p11w_byte_buffer(&w, len);
    rv = call_run(&w, &r, P11_CALL_GenerateRandom, "ay");
    if (rv != CKR_OK)
        return rv;
    rv = p11r_byte_array(&r, out, &got);
    /* Fewer random bytes than asked for would silently weaken whatever uses them. */
    if (rv == CKR_OK && got != len)
        rv = CKR_DEVICE_ERROR;
    return call_end(&r, rv);
}

/* Write one request frame (header + body) at *pos; false when it does not fit or encode. */
static bool pipeline_frame(uint8_t **pos, struct p11w *w, uint32_t *code)
{
    if (w->failed)
        return false;
    *code = next_code();
    frame_header(*pos, *code, w->len);
    *pos += FRAME_HDR + w->len;
    return true;
}

/*
 * C_SignInit and C_Sign in one write: the server handles frames strictly in order, so the second
 * waits behind the first and both answers come back in turn. One round trip instead of two, on
 * the path every certificate and license takes.
 */
CK_RV p11_client_sign(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key,
                      const CK_BYTE *data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
    uint32_t code_init, code_sign;
    uint8_t *pos = link.tx, *end = link.tx + sizeof(link.tx);
    struct p11w w;
    struct p11r r;
    CK_RV rv, rv_init;

    if (!mech || !data || !sig || !sig_len)
        return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_SignInit, "uMu"); /* connects if need be */
    if (rv != CKR_OK)
        return rv;
    p11w_ulong(&w, session);
    if (!p11w_mechanism(&w, mech))
        return CKR_MECHANISM_PARAM_INVALID;
    p11w_ulong(&w, key);
    if (!pipeline_frame(&pos, &w, &code_init))
        return CKR_ARGUMENTS_BAD;
    p11w_init(&w, pos + FRAME_HDR, (size_t)(end - pos) - FRAME_HDR);
    p11w_begin(&w, P11_CALL_Sign, "uayfy");
    p11w_ulong(&w, session);
    p11w_byte_array(&w, data, len);
    p11w_byte_buffer(&w, *sig_len);
    if (!pipeline_frame(&pos, &w, &code_sign))
        return CKR_ARGUMENTS_BAD;
    link.stats.calls += 2;
    if (t_write_all(link.tx, (size_t)(pos - link.tx)) != 0)
        return transport_error(-EPIPE);
    uint64_t deadline = t_now() + P11_CALL_TIMEOUT_MS;
    rv = frame_recv(code_init, deadline, &r);
    if (rv != CKR_OK)
        return rv;
    rv_init = call_end(&r, p11r_begin(&r, P11_CALL_SignInit, ""));
    rv = frame_recv(code_sign, deadline, &r);
    if (rv != CKR_OK)
        return rv;
    rv = p11r_begin(&r, P11_CALL_Sign, "ay");
    if (rv == CKR_OK)
        rv = p11r_byte_array(&r, sig, sig_len);
    rv = call_end(&r, rv);
    /* If the init failed, the sign failed because of it: report the cause. */
    return rv_init != CKR_OK ? rv_init : rv;
}

CK_RV p11_client_wrap_destroy(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech,
                              const CK_OBJECT_HANDLE *wrapping, CK_ULONG n, CK_OBJECT_HANDLE key,
                              CK_BYTE_PTR const *out, CK_ULONG_PTR const *out_len, bool *destroyed)
{
    uint32_t codes[P11_PIPELINE_WRAPS + 1];
    uint8_t *pos, *end = link.tx + sizeof(link.tx);
    struct p11w w;
    struct p11r r;
    CK_RV rv, first = CKR_OK;

    *destroyed = false;
    if (!mech || !wrapping || n == 0 || n > P11_PIPELINE_WRAPS || !out || !out_len)
        return CKR_ARGUMENTS_BAD;
    for (CK_ULONG i = 0; i < n; i++)
        if (!out[i] || !out_len[i])
            return CKR_ARGUMENTS_BAD;
    rv = call_begin(&w, P11_CALL_WrapKey, "uMuufy"); /* connects if need be */
    if (rv != CKR_OK)
        return rv;
    pos = link.tx;
    for (CK_ULONG i = 0; i <= n; i++) {
        p11w_init(&w, pos + FRAME_HDR, (size_t)(end - pos) - FRAME_HDR);
        if (i < n) {
            p11w_begin(&w, P11_CALL_WrapKey, "uMuufy");
            p11w_ulong(&w, session);
            if (!p11w_mechanism(&w, mech))
                return CKR_MECHANISM_PARAM_INVALID;
            p11w_ulong(&w, wrapping[i]);
            p11w_ulong(&w, key);
            p11w_byte_buffer(&w, *out_len[i]);
        } else {
            p11w_begin(&w, P11_CALL_DestroyObject, "uu");
            p11w_ulong(&w, session);
            p11w_ulong(&w, key);
        }
        if (!pipeline_frame(&pos, &w, &codes[i]))
            return CKR_ARGUMENTS_BAD;
    }
    link.stats.calls += (uint32_t)n + 1;
    if (t_write_all(link.tx, (size_t)(pos - link.tx)) != 0)
        return transport_error(-EPIPE);
    uint64_t deadline = t_now() + P11_CALL_TIMEOUT_MS;
    for (CK_ULONG i = 0; i < n; i++) {
        rv = frame_recv(codes[i], deadline, &r);
        if (rv != CKR_OK)
            return rv; /* the link is down: so is the session, and the key with it */
        rv = p11r_begin(&r, P11_CALL_WrapKey, "ay");
        if (rv == CKR_OK)
            rv = p11r_byte_array(&r, out[i], out_len[i]);
        rv = call_end(&r, rv);
        if (first == CKR_OK)
            first = rv;
    }
    rv = frame_recv(codes[n], deadline, &r);
    if (rv != CKR_OK)
        return rv;
    rv = call_end(&r, p11r_begin(&r, P11_CALL_DestroyObject, ""));
    *destroyed = rv == CKR_OK;
    return first != CKR_OK ? first : rv;
}

/* ---- the function list ---- */

#include "p11_unsupported.h"

static CK_RV p11_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list);

static CK_FUNCTION_LIST function_list = {
    .version = {2, 40},
    .C_Initialize = p11_Initialize,
    .C_Finalize = p11_Finalize,
    .C_GetInfo = p11_GetInfo,
    .C_GetFunctionList = p11_GetFunctionList,
    .C_GetSlotList = p11_GetSlotList,
    .C_GetSlotInfo = unsupported_GetSlotInfo,
    .C_GetTokenInfo = p11_GetTokenInfo,
    .C_GetMechanismList = p11_GetMechanismList,
    .C_GetMechanismInfo = unsupported_GetMechanismInfo,
    .C_InitToken = unsupported_InitToken,
    .C_InitPIN = unsupported_InitPIN,
    .C_SetPIN = p11_SetPIN,
    .C_OpenSession = p11_OpenSession,
    .C_CloseSession = p11_CloseSession,
    .C_CloseAllSessions = unsupported_CloseAllSessions,
    .C_GetSessionInfo = unsupported_GetSessionInfo,
    .C_GetOperationState = unsupported_GetOperationState,
    .C_SetOperationState = unsupported_SetOperationState,
    .C_Login = p11_Login,
    .C_Logout = p11_Logout,
    .C_CreateObject = p11_CreateObject,
    .C_CopyObject = unsupported_CopyObject,
    .C_DestroyObject = p11_DestroyObject,
    .C_GetObjectSize = unsupported_GetObjectSize,
    .C_GetAttributeValue = p11_GetAttributeValue,
    .C_SetAttributeValue = p11_SetAttributeValue,
    .C_FindObjectsInit = p11_FindObjectsInit,
    .C_FindObjects = p11_FindObjects,
    .C_FindObjectsFinal = p11_FindObjectsFinal,
    .C_EncryptInit = p11_EncryptInit,
    .C_Encrypt = p11_Encrypt,
    .C_EncryptUpdate = unsupported_EncryptUpdate,
    .C_EncryptFinal = unsupported_EncryptFinal,
    .C_DecryptInit = p11_DecryptInit,
    .C_Decrypt = p11_Decrypt,
    .C_DecryptUpdate = unsupported_DecryptUpdate,
    .C_DecryptFinal = unsupported_DecryptFinal,
    .C_DigestInit = unsupported_DigestInit,
    .C_Digest = unsupported_Digest,
    .C_DigestUpdate = unsupported_DigestUpdate,
    .C_DigestKey = unsupported_DigestKey,
    .C_DigestFinal = unsupported_DigestFinal,
    .C_SignInit = p11_SignInit,
    .C_Sign = p11_Sign,
    .C_SignUpdate = unsupported_SignUpdate,
    .C_SignFinal = unsupported_SignFinal,
    .C_SignRecoverInit = unsupported_SignRecoverInit,
    .C_SignRecover = unsupported_SignRecover,
    .C_VerifyInit = p11_VerifyInit,
    .C_Verify = p11_Verify,
    .C_VerifyUpdate = unsupported_VerifyUpdate,
    .C_VerifyFinal = unsupported_VerifyFinal,
    .C_VerifyRecoverInit = unsupported_VerifyRecoverInit,
    .C_VerifyRecover = unsupported_VerifyRecover,
    .C_DigestEncryptUpdate = unsupported_DigestEncryptUpdate,
    .C_DecryptDigestUpdate = unsupported_DecryptDigestUpdate,
    .C_SignEncryptUpdate = unsupported_SignEncryptUpdate,
    .C_DecryptVerifyUpdate = unsupported_DecryptVerifyUpdate,
    .C_GenerateKey = p11_GenerateKey,
    .C_GenerateKeyPair = p11_GenerateKeyPair,
    .C_WrapKey = p11_WrapKey,
    .C_UnwrapKey = p11_UnwrapKey,
    .C_DeriveKey = unsupported_DeriveKey,
    .C_SeedRandom = unsupported_SeedRandom,
    .C_GenerateRandom = p11_GenerateRandom,
    .C_GetFunctionStatus = unsupported_GetFunctionStatus,
    .C_CancelFunction = unsupported_CancelFunction,
    .C_WaitForSlotEvent = unsupported_WaitForSlotEvent,
};

static CK_RV p11_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
    if (!list)
        return CKR_ARGUMENTS_BAD;
    *list = &function_list;
    return CKR_OK;
}

CK_RV p11_client_get_function_list(CK_FUNCTION_LIST_PTR_PTR list)
{
    return p11_GetFunctionList(list);
}

void p11_client_stats(struct p11_link_stats *out)
{
    *out = link.stats;
}
