/*
 * firmware/token/token_selftest — exercise every PKCS#11 call the appliance uses, end to end.
 *
 * Works only with session objects (CKA_TOKEN false) and destroys what it creates, so it changes
 * nothing in the token. Needs a logged-in token. report() is called once per step.
 */
#ifndef TOKEN_SELFTEST_H
#define TOKEN_SELFTEST_H

#include "firmware/token/token.h"

typedef void (*token_report_fn)(void *ctx, const char *step, CK_RV rv);

/* Returns the number of failed steps. */
int token_selftest(struct token *t, token_report_fn report, void *ctx);

#endif
