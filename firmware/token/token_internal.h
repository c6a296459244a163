/*
 * firmware/token/token_internal.h — what token.c shares with the other files of firmware/token
 * (token_wrap.c, and token_test.c in test builds). Not for use outside the module: everything here
 * assumes a live session.
 */
#ifndef TOKEN_INTERNAL_H
#define TOKEN_INTERNAL_H

#include "token.h"

typedef CK_RV (*token_op)(struct token *t, void *arg);

/* Run op on a good session; if the link failed under it, once more on a fresh one. */
CK_RV token_with_session(struct token *t, token_op op, void *arg);

/* Did this CK_RV come from losing the link (or the session with it)? */
bool token_link_lost(CK_RV rv);

/* All objects of a class named id (CKA_ID; CKA_LABEL for CKO_DATA), up to max. */
CK_RV token_find_by_id(struct token *t, CK_OBJECT_CLASS cls, const char *id, CK_OBJECT_HANDLE *out,
                       CK_ULONG max, CK_ULONG *n);

/* k->priv (and k->alg) looked up once per epoch; k->pub reset to CK_INVALID_HANDLE when it is.
 * Not found: CKR_OK with k->epoch != t->epoch. */
CK_RV token_lookup_key(struct token *t, struct token_key *k);

/* Drop the cached users' keys of an older epoch: they are not trusted any more. */
CK_RV token_user_keys_expire(struct token *t);

#endif
