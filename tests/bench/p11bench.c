/*
 * tests/bench/p11bench.c — the same signing loop as the firmware's `key bench`, through any
 * PKCS#11 module: SoftHSM2 loaded directly, or p11-kit's own client module talking to the same
 * `p11-kit server`. Finds the SLC key by CKA_ID, then C_SignInit + C_Sign N times.
 *
 *   p11bench MODULE PIN N     prints "N signatures in MS ms: RATE/s"
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, CK_RV rv)
{
    fprintf(stderr, "p11bench: %s failed: 0x%lx\n", what, (unsigned long)rv);
    exit(1);
}

int main(int argc, char **argv)
{
    CK_C_GetFunctionList get;
    CK_FUNCTION_LIST_PTR f;
    CK_SLOT_ID slots[8];
    CK_ULONG nslots = 8, found = 0;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE q[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_ID, "signet-slc", 10}};
    CK_MECHANISM m = {CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_BYTE sig[512];
    CK_RV rv;

    if (argc != 4) {
        fprintf(stderr, "usage: p11bench MODULE PIN N\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW);
    if (!lib || !(get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList"))) {
        fprintf(stderr, "p11bench: cannot load %s\n", argv[1]);
        return 1;
    }
    long n = atol(argv[3]);
    if ((rv = get(&f)) || (rv = f->C_Initialize(NULL)))
        die("C_Initialize", rv);
    if ((rv = f->C_GetSlotList(CK_TRUE, slots, &nslots)) || nslots == 0)
        die("C_GetSlotList", rv);
    if ((rv = f->C_OpenSession(slots[0], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s)))
        die("C_OpenSession", rv);
    if ((rv = f->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR)argv[2], strlen(argv[2]))))
        die("C_Login", rv);
    if ((rv = f->C_FindObjectsInit(s, q, 2)) || (rv = f->C_FindObjects(s, &key, 1, &found)) ||
        (rv = f->C_FindObjectsFinal(s)) || found != 1)
        die("finding the SLC key", rv);
    double t0 = now_ms();
    for (long i = 0; i < n; i++) {
        CK_ULONG len = sizeof(sig);
        if ((rv = f->C_SignInit(s, &m, key)) ||
            (rv = f->C_Sign(s, (CK_BYTE_PTR) "signet bench", 12, sig, &len)))
            die("signing", rv);
    }
    double ms = now_ms() - t0;
    printf("%ld signatures in %.0f ms: %.0f/s\n", n, ms, n * 1000.0 / ms);
    f->C_Finalize(NULL);
    return 0;
}
