/*
 * mutate.c - deterministic mutation testing of the engine, for `make check`.
 *
 *   mutate [-n MUTANTS] FILE.wasm...
 *
 * Feeds every file, and MUTANTS mutants of each (truncated, bytes flipped,
 * bytes inserted or removed, LEB128 counts blown up), to the fuzz entry
 * point of fuzz_module.c.  The mutations are seeded from the file's index,
 * so a failure reproduces.  Run it under AddressSanitizer: the test is that
 * nothing crashes, leaks or reads out of bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

extern struct fuzz_stats {
    unsigned long loaded, instantiated, calls;
} fuzz_stats;

static uint64_t rng_state;

static uint32_t rng(void) {
    /* xorshift64*: small, deterministic, good enough to pick mutations. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap) {
    int rounds = 1 + rng() % 4;
    for (int r = 0; r < rounds && len > 0; r++) {
        size_t at = rng() % len;
        switch (rng() % 6) {
        case 0: /* truncate */
            len = at;
            break;
        case 1: /* flip a bit */
            buf[at] ^= (uint8_t)(1u << (rng() % 8));
            break;
        case 2: /* random byte */
            buf[at] = (uint8_t)rng();
            break;
        case 3: /* a huge LEB128 count: ff ff ff ff 0f */
            if (len + 4 <= cap) {
                memmove(buf + at + 4, buf + at, len - at);
                memcpy(buf + at, "\xff\xff\xff\xff", 4);
                buf[at + 4] = 0x0f;
                len += 4;
            }
            break;
        case 4: /* remove a byte */
            memmove(buf + at, buf + at + 1, len - at - 1);
            len--;
            break;
        default: /* duplicate a byte */
            if (len < cap) {
                memmove(buf + at + 1, buf + at, len - at);
                len++;
            }
            break;
        }
    }
    return len;
}

int main(int argc, char **argv) {
    int mutants = 20, first = 1;
    if (argc > 2 && strcmp(argv[1], "-n") == 0) {
        mutants = atoi(argv[2]);
        first = 3;
    }
    long inputs = 0;
    for (int i = first; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            fprintf(stderr, "mutate: cannot open %s\n", argv[i]);
            return 1;
        }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        size_t cap = (size_t)n + 64;
        uint8_t *orig = malloc(cap), *buf = malloc(cap);
        if (!orig || !buf || fread(orig, 1, (size_t)n, f) != (size_t)n) {
            fprintf(stderr, "mutate: cannot read %s\n", argv[i]);
            return 1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(orig, (size_t)n);
        rng_state = 0x9e3779b97f4a7c15ull ^ (uint64_t)i;
        for (int k = 0; k < mutants; k++) {
            memcpy(buf, orig, (size_t)n);
            size_t len = mutate(buf, (size_t)n, cap);
            LLVMFuzzerTestOneInput(buf, len);
        }
        inputs += 1 + mutants;
        free(orig);
        free(buf);
    }
    printf("mutate: %ld inputs from %d files: %lu loaded, %lu instantiated, %lu calls; no crash\n",
           inputs, argc - first, fuzz_stats.loaded, fuzz_stats.instantiated, fuzz_stats.calls);
    /* The originals are valid modules: if none loads, the test tested nothing. */
    return fuzz_stats.loaded > 0 ? 0 : 1;
}
