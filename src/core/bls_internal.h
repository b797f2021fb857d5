/* Internal hooks of the BLS layer shared with tests (not part of the public API). */
#ifndef TKMS_BLS_INTERNAL_H
#define TKMS_BLS_INTERNAL_H

#include <stddef.h>

/* Declassification hook: the core calls it on the few values derived from secrets that are public
 * by design (KeyGen's "SK != 0" retry bit, a parser's valid/invalid result) right before branching
 * on them. NULL (the default) does nothing; the Valgrind constant-time test points it at
 * VALGRIND_MAKE_MEM_DEFINED so that these intended branches are not reported while every other
 * secret-dependent branch still is (the idea of libsecp256k1's secp256k1_declassify). */
extern void (*tkms_ct_declassify_hook)(const void *p, size_t n);

#endif
