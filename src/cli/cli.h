/* tkms command line: shared helpers for sub-command implementations (hex, args, exit codes). */
#ifndef TKMS_CLI_H
#define TKMS_CLI_H

#include <stddef.h>
#include <stdint.h>

/* Exit codes of the stable command contract (DESIGN.md §4). */
enum { CLI_OK = 0, CLI_REJECT = 1, CLI_USAGE = 2 };

/* A sub-command: argv[0] is the sub-command's own name. Returns an exit code. */
typedef int (*cli_cmd_fn)(int argc, char **argv);

/* The commands, dispatched by main.c. Each is defined in one cmd_*.c file and linked in
 * unconditionally (src/cli/CMakeLists.txt links every library they need). */
int cmd_selftest(int argc, char **argv);  /* cmd_bls.c */
int cmd_bls(int argc, char **argv);       /* cmd_bls.c */
int cmd_h2c(int argc, char **argv);       /* cmd_bls.c */
int cmd_tbls(int argc, char **argv);      /* cmd_tbls.c */
int cmd_app_key(int argc, char **argv);   /* cmd_tbls.c */
int cmd_ibe(int argc, char **argv);       /* cmd_ibe.c */
int cmd_tlock(int argc, char **argv);     /* cmd_ibe.c */
int cmd_seal(int argc, char **argv);      /* cmd_ibe.c */
int cmd_unseal(int argc, char **argv);    /* cmd_ibe.c */
int cmd_mnemonic(int argc, char **argv);  /* cmd_wallet.c */
int cmd_derive(int argc, char **argv);    /* cmd_wallet.c */
int cmd_data(int argc, char **argv);      /* cmd_data.c */
int cmd_group(int argc, char **argv);     /* cmd_group.c */
int cmd_node(int argc, char **argv);      /* cmd_node.c */
int cmd_cluster(int argc, char **argv);   /* cmd_cluster.c */
int cmd_committee(int argc, char **argv); /* cmd_committee.c */
int cmd_sign(int argc, char **argv);      /* cmd_sign.c */
int cmd_attest(int argc, char **argv);    /* cmd_attest.c */
int cmd_app(int argc, char **argv);       /* cmd_app.c */
int cmd_key(int argc, char **argv);       /* cmd_key.c */
int cmd_exec(int argc, char **argv);      /* cmd_key.c */

/* Prints "tkms: <msg>" on stderr and returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Looks up "--name VALUE" in argv (also "--name=VALUE"); returns NULL if absent. */
const char *cli_opt(int argc, char **argv, const char *name);
/* Whether the bare flag "--name" is present. */
int cli_flag(int argc, char **argv, const char *name);
/* Checks that every "--x" in argv is one of the NULL-terminated allowed names (flags end with '!'
 * meaning "takes no value"). Prints a usage error and returns 0 on an unknown option. */
int cli_check_opts(int argc, char **argv, const char *const *allowed);

/* Decodes hex (optional 0x prefix, any case) into out; *out_len gets the length. Returns 1 on
 * success, 0 if not hex or longer than cap. */
int cli_hex_decode(uint8_t *out, size_t *out_len, size_t cap, const char *hex);
/* Decodes hex that must be exactly len bytes. */
int cli_hex_exact(uint8_t *out, size_t len, const char *hex);
/* Prints bytes as lowercase hex followed by a newline. */
void cli_print_hex(const uint8_t *buf, size_t len);
/* Writes lowercase hex of buf into out (2*len+1 bytes). */
void cli_hex_encode(char *out, const uint8_t *buf, size_t len);

/* Reads a whole file (or stdin for "-") into a malloc'd buffer; NUL-terminated. Returns NULL on
 * error with a message on stderr. max bounds the size. */
uint8_t *cli_read_file(const char *path, size_t *len, size_t max);
/* Reads one line of hex from a secret file (mode checked loosely), strips whitespace. */
int cli_read_secret_hex(uint8_t *out, size_t len, const char *path);
/* Same for a secret of variable length (min..max bytes) into a malloc'd buffer; the caller wipes
 * and frees it. Returns NULL after printing. "-" reads stdin. */
uint8_t *cli_read_secret_hex_alloc(size_t *len, size_t min, size_t max, const char *path);
/* Secrets never go on the command line (other local users see argv in ps and /proc/PID/cmdline,
 * and it lands in shell history). If argv holds the removed option old (as "old" or "old=..."),
 * prints that it was removed in favour of repl FILE and returns 1. */
int cli_removed_secret_opt(int argc, char **argv, const char *old, const char *repl);

#endif
