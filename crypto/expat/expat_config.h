/*
 * crypto/expat/expat_config.h — how Signet builds expat 2.5 (the parser under crypto/doc), the
 * same on both boards. xmlparse.c, xmlrole.c and xmltok.c include it first as <expat_config.h>;
 * the Makefile puts crypto/expat/ ahead of the system directories for those three files only,
 * so that a host's own /usr/include/.../expat_config.h (libexpat1-dev) is never used instead.
 * tests/unit/test_doc.c checks the features expat reports against the choices below.
 *
 * The documents are small, fixed-schema and untrusted; crypto/doc refuses any DOCTYPE from the
 * StartDoctypeDecl handler before an internal subset is read. So every optional feature below
 * that only serves DTDs, namespaces or streaming is left out: less code to attack, less flash.
 * Anything not defined here is off.
 */
#ifndef SIGNET_EXPAT_CONFIG_H
#define SIGNET_EXPAT_CONFIG_H

/* Both boards (x86-64, Cortex-A9) are little-endian; expat's UTF-16 tables depend on it. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BYTEORDER 4321
#else
#define BYTEORDER 1234
#endif

/*
 * XML_DTD off: no parameter entities, no external DTD subset, no
 * XML_SetParamEntityParsing/XML_UseForeignDTD. We refuse DOCTYPE outright (XML 1.0 §2.8 makes
 * it optional), so nothing a DTD enables can be used. Note that expat 2.5's billion-laughs
 * accounting (XML_SetBillionLaughsAttackProtection*) only exists with XML_DTD; without it the
 * defence against entity expansion is that no entity can ever be declared — the DOCTYPE refusal,
 * which the unit tests check with an entity bomb. (expat 2.5 has no XML_GE switch; 2.6 added it.)
 *
 * XML_NS off: the documents have no namespaces. "xmlns" and "p:Name" are then plain names, which
 * crypto/doc refuses as unknown attributes and elements.
 *
 * XML_CONTEXT_BYTES undefined: XML_Parse then tokenizes the caller's buffer in place instead of
 * copying the whole document (up to DOC_XML_MAX) into a parser buffer first, and the
 * XML_GetInputContext API, which we do not use, is compiled out. (Defining it as 0 would not do
 * the same: the copy path depends on its being undefined.)
 *
 * XML_MIN_SIZE on: the tokenizer is compiled once, for all encodings, instead of once per
 * encoding family (UTF-8/Latin-1, UTF-16LE, UTF-16BE); the cost is an indirect call per byte,
 * nothing at DOC_XML_MAX. UTF-16 input never reaches expat anyway (crypto/doc refuses NUL bytes
 * and byte-order marks of UTF-16 first).
 *
 * XML_LARGE_SIZE, XML_ATTR_INFO, XML_UNICODE off: 16 KiB documents need no 64-bit positions,
 * attribute offsets are unused, and the handlers want UTF-8.
 */
#define XML_MIN_SIZE 1

/*
 * Entropy. expat keys its SipHash tables (attribute names, element types) with a salt; left at
 * 0, it gathers one itself from getrandom, /dev/urandom or the clock and process id — none of
 * which the bare-metal board has. crypto/doc always sets a non-zero salt with XML_SetHashSalt
 * before parsing (from the token-seeded RNG once it is seeded), so expat's own gathering never
 * runs. XML_POOR_ENTROPY only lets it compile without a source; its clock and process id calls
 * become constants below, and the clock "fails", so that if the gathering were ever reached, the
 * assertion beside the call in expat stops the parse (a fault reset on the appliance) instead of
 * hashing with a guessable salt.
 *
 * Diagnostics. expat reads EXPAT_*_DEBUG environment variables and then prints to stderr. The
 * appliance has neither, and on the host board a stray variable must not change what the parser
 * does or prints: getenv finds nothing and fprintf writes nothing. These are function-like
 * macros defined after the C library's own headers, so only expat's calls are affected, and no
 * clock, process id, environment or stdio symbol is linked for code that never runs.
 */
#define XML_POOR_ENTROPY 1

#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

#define getpid()             0
#define gettimeofday(tv, tz) (-1)
#define getenv(name)         ((char *)0)
#define fprintf(stream, ...) 0

#endif
