/*
 * signature.c - minisign signatures, verified with libsodium: Ed25519
 * (crypto_sign_verify_detached), BLAKE2b-512 for the prehashed variant
 * (crypto_generichash), base64 with sodium_base642bin.  The format is in
 * signature.h.  Nothing here is hand-written cryptography: this file only
 * takes the files apart and hands the bytes to libsodium.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "daemon/signature.h"

#define UNTRUSTED_PREFIX "untrusted comment:"
#define TRUSTED_PREFIX   "trusted comment: "

/* The next line of `*p` into `line` (without its '\n' or "\r\n"); false at the end or when too long. */
static bool next_line(const char **p, char *line, size_t size) {
    if (!**p)
        return false;
    const char *nl = strchr(*p, '\n');
    size_t len = nl ? (size_t)(nl - *p) : strlen(*p);
    if (len > 0 && (*p)[len - 1] == '\r')
        len--;
    if (len >= size)
        return false;
    memcpy(line, *p, len);
    line[len] = '\0';
    *p = nl ? nl + 1 : *p + strlen(*p);
    return true;
}

/* Decodes a base64 line into exactly `want` bytes; false otherwise. */
static bool base64_exact(const char *text, uint8_t *out, size_t want) {
    size_t len = 0;
    uint8_t buf[128];
    if (sodium_base642bin(buf, sizeof buf, text, strlen(text), NULL, &len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    if (len != want)
        return false;
    memcpy(out, buf, want);
    return true;
}

bool wd_sig_parse_pubkey(const char *text, wd_pubkey *ret, char *why) {
    const char *p = text;
    char line[256];
    uint8_t raw[42];
    memset(ret, 0, sizeof *ret);
    if (!next_line(&p, line, sizeof line) || strncmp(line, UNTRUSTED_PREFIX, strlen(UNTRUSTED_PREFIX)) != 0) {
        snprintf(why, WD_SIG_WHY_MAX, "not a minisign public key: the first line is not an untrusted comment");
        return false;
    }
    if (!next_line(&p, line, sizeof line) || !base64_exact(line, raw, sizeof raw)) {
        snprintf(why, WD_SIG_WHY_MAX, "not a minisign public key: the second line is not 42 bytes of base64");
        return false;
    }
    if (raw[0] != 'E' || raw[1] != 'd') {
        snprintf(why, WD_SIG_WHY_MAX, "unsupported public key algorithm (not Ed25519)");
        return false;
    }
    memcpy(ret->id, raw + 2, 8);
    memcpy(ret->key, raw + 10, 32);
    return true;
}

bool wd_sig_parse(const char *text, wd_minisig *ret, char *why) {
    const char *p = text;
    char line[WD_SIG_COMMENT_MAX + 64];
    uint8_t raw[74];
    memset(ret, 0, sizeof *ret);
    if (!next_line(&p, line, sizeof line) || strncmp(line, UNTRUSTED_PREFIX, strlen(UNTRUSTED_PREFIX)) != 0) {
        snprintf(why, WD_SIG_WHY_MAX, "not a minisign signature: the first line is not an untrusted comment");
        return false;
    }
    if (!next_line(&p, line, sizeof line) || !base64_exact(line, raw, sizeof raw)) {
        snprintf(why, WD_SIG_WHY_MAX, "not a minisign signature: the second line is not 74 bytes of base64");
        return false;
    }
    if (raw[0] == 'E' && raw[1] == 'D') {
        ret->prehashed = true;
    } else if (raw[0] == 'E' && raw[1] == 'd') {
        ret->prehashed = false;
    } else {
        snprintf(why, WD_SIG_WHY_MAX, "unsupported signature algorithm (neither Ed nor ED)");
        return false;
    }
    memcpy(ret->key_id, raw + 2, 8);
    memcpy(ret->sig, raw + 10, 64);
    if (!next_line(&p, line, sizeof line) || strncmp(line, TRUSTED_PREFIX, strlen(TRUSTED_PREFIX)) != 0) {
        snprintf(why, WD_SIG_WHY_MAX, "not a minisign signature: the third line is not a trusted comment");
        return false;
    }
    if (strlen(line) - strlen(TRUSTED_PREFIX) > WD_SIG_COMMENT_MAX) {
        snprintf(why, WD_SIG_WHY_MAX, "trusted comment longer than %u bytes", WD_SIG_COMMENT_MAX);
        return false;
    }
    memcpy(ret->trusted, line + strlen(TRUSTED_PREFIX), strlen(line) - strlen(TRUSTED_PREFIX) + 1);
    if (!next_line(&p, line, sizeof line) || !base64_exact(line, ret->global_sig, sizeof ret->global_sig)) {
        snprintf(why, WD_SIG_WHY_MAX, "not a minisign signature: the fourth line is not 64 bytes of base64");
        return false;
    }
    return true;
}

/* "1DDEF66DDB6D739D": a key id as minisign prints it (little-endian, upper-case hex). */
static void key_id_hex(const uint8_t id[8], char out[17]) {
    for (int i = 0; i < 8; i++)
        snprintf(out + 2 * i, 3, "%02X", id[7 - i]);
}

const wd_pubkey *wd_sig_verify(const wd_minisig *sig, const wd_pubkey *keys, size_t nkeys, const uint8_t *data,
                               size_t len, char *why) {
    const wd_pubkey *key = NULL;
    for (size_t i = 0; i < nkeys && !key; i++)
        if (memcmp(keys[i].id, sig->key_id, 8) == 0)
            key = &keys[i];
    if (!key) {
        char id[17];
        key_id_hex(sig->key_id, id);
        snprintf(why, WD_SIG_WHY_MAX, "signed with key %s, which is not a trusted key", id);
        return NULL;
    }
    int bad;
    if (sig->prehashed) {
        uint8_t hash[crypto_generichash_BYTES_MAX];
        crypto_generichash(hash, sizeof hash, data, len, NULL, 0);
        bad = crypto_sign_verify_detached(sig->sig, hash, sizeof hash, key->key);
    } else {
        bad = crypto_sign_verify_detached(sig->sig, data, len, key->key);
    }
    if (bad) {
        snprintf(why, WD_SIG_WHY_MAX, "the signature does not match the module (key %s)", key->name);
        return NULL;
    }
    /* The trusted comment is signed together with the signature. */
    size_t clen = strlen(sig->trusted);
    uint8_t global[64 + WD_SIG_COMMENT_MAX];
    memcpy(global, sig->sig, 64);
    memcpy(global + 64, sig->trusted, clen);
    if (crypto_sign_verify_detached(sig->global_sig, global, 64 + clen, key->key)) {
        snprintf(why, WD_SIG_WHY_MAX, "the trusted comment's signature does not verify (key %s)", key->name);
        return NULL;
    }
    return key;
}

bool wd_sig_comment_field(const char *trusted, const char *key, char *out, size_t size) {
    size_t klen = strlen(key);
    const char *p = trusted;
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t wlen = strcspn(p, " \t");
        if (wlen > klen && strncmp(p, key, klen) == 0 && p[klen] == ':') {
            size_t vlen = wlen - klen - 1;
            if (vlen >= size)
                return false;
            memcpy(out, p + klen + 1, vlen);
            out[vlen] = '\0';
            return true;
        }
        p += wlen;
    }
    return false;
}

bool wd_sig_version_valid(const char *v) {
    bool digit = false;
    for (; *v; v++) {
        if (*v >= '0' && *v <= '9') {
            digit = true;
        } else if (*v == '.' && digit) {
            digit = false;
        } else {
            return false;
        }
    }
    return digit;
}

int wd_sig_version_compare(const char *a, const char *b) {
    while (*a || *b) {
        unsigned long long x = strtoull(a, (char **)&a, 10), y = strtoull(b, (char **)&b, 10);
        if (x != y)
            return x < y ? -1 : 1;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
    return 0;
}

/* Reads a small text file (at most WD_SIG_FILE_MAX bytes) into `buf`; false when it cannot. */
static bool read_small(int dirfd, const char *name, char *buf, size_t size) {
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0 || (size_t)n >= size - 1)
        return false;
    buf[n] = '\0';
    return true;
}

int wd_sig_load_keys(const char *dir, wd_pubkey *keys, size_t max) {
    DIR *dp = opendir(dir);
    if (!dp)
        return -errno;
    size_t n = 0;
    struct dirent *de;
    char text[WD_SIG_FILE_MAX + 1], why[WD_SIG_WHY_MAX];
    while ((de = readdir(dp)) && n < max) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len <= 4 || strcmp(de->d_name + len - 4, ".pub") != 0)
            continue;
        if (!read_small(dirfd(dp), de->d_name, text, sizeof text)) {
            fprintf(stderr, "wasmd: %s/%s: cannot read it (ignored)\n", dir, de->d_name);
            continue;
        }
        if (!wd_sig_parse_pubkey(text, &keys[n], why)) {
            fprintf(stderr, "wasmd: %s/%s: %s (ignored)\n", dir, de->d_name, why);
            continue;
        }
        if ((size_t)snprintf(keys[n].name, sizeof keys[n].name, "%s", de->d_name) >= sizeof keys[n].name) {
            fprintf(stderr, "wasmd: %s/%s: file name too long (ignored)\n", dir, de->d_name);
            continue;
        }
        n++;
    }
    closedir(dp);
    return (int)n;
}
