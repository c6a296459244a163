/*
 * crypto/p11/p11_unsupported.h — the PKCS#11 calls the appliance never makes.
 *
 * CK_FUNCTION_LIST must hold a callable pointer for every function; these answer
 * CKR_FUNCTION_NOT_SUPPORTED without touching the link. Included once, by p11_client.c.
 */
#ifndef P11_UNSUPPORTED_H
#define P11_UNSUPPORTED_H

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define UNSUPPORTED(name, ...)                                                                     \
    static CK_RV unsupported_##name(__VA_ARGS__)                                                   \
    {                                                                                              \
        return CKR_FUNCTION_NOT_SUPPORTED;                                                         \
    }

UNSUPPORTED(GetSlotInfo, CK_SLOT_ID a, CK_SLOT_INFO_PTR b)
UNSUPPORTED(GetMechanismInfo, CK_SLOT_ID a, CK_MECHANISM_TYPE b, CK_MECHANISM_INFO_PTR c)
UNSUPPORTED(InitToken, CK_SLOT_ID a, CK_UTF8CHAR_PTR b, CK_ULONG c, CK_UTF8CHAR_PTR d)
UNSUPPORTED(InitPIN, CK_SESSION_HANDLE a, CK_UTF8CHAR_PTR b, CK_ULONG c)
UNSUPPORTED(CloseAllSessions, CK_SLOT_ID a)
UNSUPPORTED(GetSessionInfo, CK_SESSION_HANDLE a, CK_SESSION_INFO_PTR b)
UNSUPPORTED(GetOperationState, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c)
UNSUPPORTED(SetOperationState, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_OBJECT_HANDLE d,
            CK_OBJECT_HANDLE e)
UNSUPPORTED(CopyObject, CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ATTRIBUTE_PTR c, CK_ULONG d,
            CK_OBJECT_HANDLE_PTR e)
UNSUPPORTED(GetObjectSize, CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b, CK_ULONG_PTR c)
UNSUPPORTED(EncryptUpdate, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
            CK_ULONG_PTR e)
UNSUPPORTED(EncryptFinal, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c)
UNSUPPORTED(DecryptUpdate, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
            CK_ULONG_PTR e)
UNSUPPORTED(DecryptFinal, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c)
UNSUPPORTED(DigestInit, CK_SESSION_HANDLE a, CK_MECHANISM_PTR b)
UNSUPPORTED(Digest, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d, CK_ULONG_PTR e)
UNSUPPORTED(DigestUpdate, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c)
UNSUPPORTED(DigestKey, CK_SESSION_HANDLE a, CK_OBJECT_HANDLE b)
UNSUPPORTED(DigestFinal, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c)
UNSUPPORTED(SignUpdate, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c)
UNSUPPORTED(SignFinal, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG_PTR c)
UNSUPPORTED(SignRecoverInit, CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c)
UNSUPPORTED(SignRecover, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
            CK_ULONG_PTR e)
UNSUPPORTED(VerifyUpdate, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c)
UNSUPPORTED(VerifyFinal, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c)
UNSUPPORTED(VerifyRecoverInit, CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c)
UNSUPPORTED(VerifyRecover, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
            CK_ULONG_PTR e)
UNSUPPORTED(DigestEncryptUpdate, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
            CK_ULONG_PTR e)
UNSUPPORTED(DecryptDigestUpdate, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
            CK_ULONG_PTR e)
UNSUPPORTED(SignEncryptUpdate, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
            CK_ULONG_PTR e)
UNSUPPORTED(DecryptVerifyUpdate, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c, CK_BYTE_PTR d,
            CK_ULONG_PTR e)
UNSUPPORTED(DeriveKey, CK_SESSION_HANDLE a, CK_MECHANISM_PTR b, CK_OBJECT_HANDLE c,
            CK_ATTRIBUTE_PTR d, CK_ULONG e, CK_OBJECT_HANDLE_PTR f)
UNSUPPORTED(SeedRandom, CK_SESSION_HANDLE a, CK_BYTE_PTR b, CK_ULONG c)
UNSUPPORTED(GetFunctionStatus, CK_SESSION_HANDLE a)
UNSUPPORTED(CancelFunction, CK_SESSION_HANDLE a)
UNSUPPORTED(WaitForSlotEvent, CK_FLAGS a, CK_SLOT_ID_PTR b, CK_VOID_PTR c)

#undef UNSUPPORTED
#pragma GCC diagnostic pop

#endif
