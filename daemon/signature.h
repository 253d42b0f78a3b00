/*
 * signature.h - detached signatures in minisign's format, checked with
 * libsodium (signature.c).  Separate from internal.h so that the unit test
 * (tests/unit/test_signature.c) links it alone.
 *
 * A public key (/etc/wasmd/trusted.d/NAME.pub, as `minisign -G` writes it):
 *
 *   untrusted comment: minisign public key 1DDEF66DDB6D739D
 *   RWSdc23bbfbeHQxu...        base64 of "Ed" + key id (8 bytes) + Ed25519 key (32)
 *
 * A signature (MODULE.wasm.minisig, as `minisign -S` writes it):
 *
 *   untrusted comment: ...
 *   RUSdc23b...               base64 of "ED" (prehashed: the file's BLAKE2b-512
 *                             is signed) or "Ed" (legacy: the file itself) +
 *                             key id (8) + Ed25519 signature (64)
 *   trusted comment: module:ticker version:3
 *   lpwSQsL9...               base64 of an Ed25519 signature of the signature
 *                             (64 bytes) followed by the trusted comment
 *
 * wasmd reads two fields of the trusted comment, space- or tab-separated
 * KEY:VALUE words: module:NAME (the module it was signed for) and
 * version:V (numbers separated by dots, compared number by number).
 *
 * Everything here is pure (no daemon state): buffers in, verdict out.
 * Messages go to `why` (WD_SIG_WHY_MAX bytes).
 */
#ifndef WASMD_DAEMON_SIGNATURE_H
#define WASMD_DAEMON_SIGNATURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WD_SIG_WHY_MAX      256u
#define WD_SIG_COMMENT_MAX  1024u   /* bytes of a trusted comment */
#define WD_SIG_MAX_KEYS     64u     /* public keys read from the trusted directory */
#define WD_SIG_FILE_MAX     4096u   /* bytes of a .pub or .minisig file */

typedef struct wd_pubkey {
    uint8_t id[8];
    uint8_t key[32];
    char name[64];               /* the file it came from, for messages ("ops.pub") */
} wd_pubkey;

typedef struct wd_minisig {
    bool prehashed;              /* "ED": BLAKE2b-512 of the file is signed */
    uint8_t key_id[8];
    uint8_t sig[64];
    char trusted[WD_SIG_COMMENT_MAX + 1];
    uint8_t global_sig[64];
} wd_minisig;

/* Parses a public key file's text; false with the reason in `why`. */
bool wd_sig_parse_pubkey(const char *text, wd_pubkey *ret, char *why);
/* Parses a signature file's text; false with the reason in `why`. */
bool wd_sig_parse(const char *text, wd_minisig *ret, char *why);
/*
 * Checks `sig` over `data` against the keys: its key id must be one of
 * them, and both the file's signature and the trusted comment's must
 * verify.  The key that signed, or NULL with the reason in `why`.
 */
const wd_pubkey *wd_sig_verify(const wd_minisig *sig, const wd_pubkey *keys, size_t nkeys, const uint8_t *data,
                               size_t len, char *why);
/* The value of KEY:VALUE in a trusted comment, copied into `out`; false when absent. */
bool wd_sig_comment_field(const char *trusted, const char *key, char *out, size_t size);
/* True for a version of numbers separated by dots ("3", "1.2.10"). */
bool wd_sig_version_valid(const char *v);
/* <0, 0, >0 as version a is older than, equal to or newer than b (both valid). */
int wd_sig_version_compare(const char *a, const char *b);
/*
 * Reads every *.pub of `dir` into keys (at most WD_SIG_MAX_KEYS); a bad
 * file is skipped with a line on stderr.  The number read, or -errno when
 * the directory cannot be read (-ENOENT: it does not exist).
 */
int wd_sig_load_keys(const char *dir, wd_pubkey *keys, size_t max);

#endif /* WASMD_DAEMON_SIGNATURE_H */
