/* Helpers shared by the wallet unit tests: vector loading (TKMS_VECTORS) and hex conversion. */
#ifndef TKMS_WALLET_TEST_H
#define TKMS_WALLET_TEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Loads TKMS_VECTORS/rel as JSON; fails the test (abort) when missing or malformed. */
json_t *wt_load_json(const char *rel);
/* Reads TKMS_VECTORS/rel into a malloc'd buffer. */
uint8_t *wt_load_file(const char *rel, size_t *len);
/* Decodes hex into a malloc'd buffer (aborts on bad hex); *len gets the length. */
uint8_t *wt_unhex(const char *hex, size_t *len);
/* Decodes hex that must be exactly len bytes into out (aborts otherwise). */
void wt_unhex_exact(uint8_t *out, size_t len, const char *hex);
/* Lowercase hex of buf in a static rotating buffer (up to 4 live results, 512 bytes each). */
const char *wt_hex(const uint8_t *buf, size_t len);
/* The string member key of object o (aborts if absent). */
const char *wt_str(json_t *o, const char *key);

#endif
