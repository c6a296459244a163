/*
 * firmware/token/token_test.c — test builds only (SIGNET_TEST_HOOKS): what the console's test
 * commands ask of the token module and production code never needs.
 */
#include "token.h"

#if SIGNET_TEST_HOOKS
#include "token_internal.h"

struct count_arg {
    CK_ULONG secret, pub;
};

static CK_RV count_class(struct token *t, CK_OBJECT_CLASS cls, CK_ULONG *count)
{
    static const CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE q[] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_TOKEN, (void *)(uintptr_t)&no, 1},
    };
    CK_OBJECT_HANDLE h[16];
    CK_ULONG n = 0;
    CK_RV rv = t->f->C_FindObjectsInit(t->session, q, 2);

    *count = 0;
    while (rv == CKR_OK) {
        rv = t->f->C_FindObjects(t->session, h, 16, &n);
        if (rv != CKR_OK || n == 0)
            break;
        *count += n;
    }
    CK_RV fin = t->f->C_FindObjectsFinal(t->session);
    return rv != CKR_OK ? rv : fin;
}

static CK_RV op_count(struct token *t, void *arg)
{
    struct count_arg *c = arg;
    CK_RV rv = token_user_keys_expire(t); /* stale cache entries would be counted as cached */

    if (rv == CKR_OK)
        rv = count_class(t, CKO_SECRET_KEY, &c->secret);
    if (rv == CKR_OK)
        rv = count_class(t, CKO_PUBLIC_KEY, &c->pub);
    return rv;
}

CK_RV token_test_session_objects(struct token *t, unsigned *secret_keys, unsigned *public_keys,
                                 unsigned *cached)
{
    struct count_arg c = {0, 0};
    CK_RV rv = token_with_session(t, op_count, &c);

    *secret_keys = (unsigned)c.secret;
    *public_keys = (unsigned)c.pub;
    *cached = 0;
    for (size_t i = 0; i < TOKEN_USER_KEYS; i++)
        *cached += t->user_keys[i].epoch == t->epoch;
    return rv;
}
#endif
