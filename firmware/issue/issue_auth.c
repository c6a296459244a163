/*
 * firmware/issue/issue_auth.c — who may ask for what: the ACL decision for sub-enrollment and the
 * user a request is for, from the caller the adapter's transport names (issue.h, struct
 * issue_caller). The adapters only say who is asking; the decision is taken here.
 */
#include "issue.h"

#include <errno.h>

int issue_granted(const struct issue *is, const struct issue_caller *caller, const char **why)
{
    *why = "";
    if (caller->console)
        return 0;
    if (!caller->fp) {
        *why = "not granted: present a TLS client certificate granted on the root (acl grant)";
        return -EPERM;
    }
    if (!acl_find(is->acl, caller->fp)) {
        *why = "not granted";
        return -EPERM;
    }
    return 0;
}

int issue_who(struct issue *is, const struct issue_caller *caller, const struct x509_cert *fwd,
              size_t fwd_n, const x509_time *now, struct identity_user *user, const char **why)
{
    *why = "not authenticated";
    if (caller->console || !caller->fp)
        return -EACCES;
    return identity_who(is->identity, is->acl, caller->chain, caller->chain_n, caller->fp, fwd,
                        fwd_n, now, user, why);
}
