/*
 * lz - an LZ77 compressor with hash chains, and its decompressor, over
 * generated text: the branchy, memory-heavy profile of real compressors
 * (gzip's deflate without the Huffman stage).
 *
 *   lz [ROUNDS]       compresses and decompresses ROUNDS different inputs
 *                     of INPUT_BYTES each
 *
 * The input is text made of words drawn from a generated vocabulary with a
 * skewed distribution, so that it has the repetition of real text.  The
 * compressor looks up the last MAX_CHAIN positions with the same 3-byte
 * hash in a window of WINDOW bytes and takes the longest match (lazy: a
 * match is deferred by one byte when the next position has a longer one).
 * Output format: a flag byte per 8 items; a literal is one byte, a match
 * three (put_match: length - 3, then distance - 1 in 16 bits).  Every round is
 * decompressed and compared with the input (exit 1 on a difference); the
 * checksum line has the total compressed size and an FNV-1a hash of all
 * compressed bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ROUNDS 32
#define INPUT_BYTES (256 * 1024)
#define WINDOW 32768            /* match distance: 1..WINDOW (15 bits) */
#define MIN_MATCH 3
#define MAX_MATCH 258           /* length - MIN_MATCH fits in a byte */
#define HASH_BITS 15
#define MAX_CHAIN 48
#define VOCAB 2000

static uint32_t rng_state = 0x2545f491u;

static uint32_t rng(void)          /* xorshift32 */
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* ---- Input: words with a skewed distribution ----------------------------- */

static char vocab[VOCAB][12];
static uint8_t vocab_len[VOCAB];

static void make_vocab(void)
{
    static const char letters[] = "etaoinshrdlcumwfgypbvkjxqz";
    for (int i = 0; i < VOCAB; i++) {
        int n = 2 + (int)(rng() % 9);
        for (int k = 0; k < n; k++) {
            uint32_t r = rng() % 1000;
            /* frequent letters more often: the square pulls towards the front */
            vocab[i][k] = letters[(r * r) / 1000 * 26 / 1000];
        }
        vocab_len[i] = (uint8_t)n;
    }
}

static void make_input(uint8_t *buf, size_t n)
{
    size_t i = 0;
    int col = 0;
    while (i < n) {
        uint32_t r = rng() % 1024;
        int w = (int)((r * r) / 1024 * VOCAB / 1024); /* small indices much more often */
        for (int k = 0; k < vocab_len[w] && i < n; k++)
            buf[i++] = (uint8_t)vocab[w][k];
        col += vocab_len[w] + 1;
        if (i < n) {
            uint32_t p = rng() % 32;
            buf[i++] = (uint8_t)(col > 70 ? '\n' : p == 0 ? ',' : p == 1 ? '.' : ' ');
            if (col > 70)
                col = 0;
        }
    }
}

/* ---- Compressor ------------------------------------------------------------ */

static int32_t head[1 << HASH_BITS];  /* last position with that hash, or -1 */
static int32_t prev[INPUT_BYTES];     /* previous position with the same hash, or -1 */

static uint32_t hash3(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static void insert(const uint8_t *in, size_t n, size_t pos)
{
    if (pos + MIN_MATCH > n)
        return;
    uint32_t h = hash3(in + pos);
    prev[pos] = head[h];
    head[h] = (int32_t)pos;
}

/* Longest match for position pos: its length (0 if < MIN_MATCH), distance in *ret_dist. */
static size_t longest(const uint8_t *in, size_t n, size_t pos, size_t *ret_dist)
{
    if (pos + MIN_MATCH > n)
        return 0;
    size_t best = 0, limit = n - pos < MAX_MATCH ? n - pos : MAX_MATCH;
    int32_t cand = head[hash3(in + pos)];
    for (int chain = 0; cand >= 0 && chain < MAX_CHAIN; chain++) {
        size_t c = (size_t)cand;
        if (pos - c > WINDOW)
            break;
        if (in[c + best] == in[pos + best]) {
            size_t len = 0;
            while (len < limit && in[c + len] == in[pos + len])
                len++;
            if (len > best) {
                best = len;
                *ret_dist = pos - c;
                if (len == limit)
                    break;
            }
        }
        cand = prev[c];
    }
    return best >= MIN_MATCH ? best : 0;
}

typedef struct out {
    uint8_t *buf;
    size_t len;
    size_t flag_at;     /* index of the current flag byte */
    int nitems;         /* items under it so far */
} out;

static void item(out *o, int is_match)
{
    if (o->nitems == 8 || o->len == 0) {
        o->flag_at = o->len;
        o->buf[o->len++] = 0;
        o->nitems = 0;
    }
    if (is_match)
        o->buf[o->flag_at] |= (uint8_t)(1u << o->nitems);
    o->nitems++;
}

static void put_literal(out *o, uint8_t c)
{
    item(o, 0);
    o->buf[o->len++] = c;
}

/* A match: length - MIN_MATCH in one byte, distance - 1 in two (little-endian). */
static void put_match(out *o, size_t len, size_t dist)
{
    item(o, 1);
    o->buf[o->len++] = (uint8_t)(len - MIN_MATCH);
    o->buf[o->len++] = (uint8_t)(dist - 1);
    o->buf[o->len++] = (uint8_t)((dist - 1) >> 8);
}

static size_t compress(const uint8_t *in, size_t n, uint8_t *dst)
{
    out o = { dst, 0, 0, 0 };
    memset(head, 0xff, sizeof head);
    size_t pos = 0;
    while (pos < n) {
        size_t dist = 0, len = longest(in, n, pos, &dist);
        if (len && len < MAX_MATCH && pos + 1 < n) {
            /* lazy matching: a longer match one byte later wins */
            insert(in, n, pos);
            size_t dist2 = 0, len2 = longest(in, n, pos + 1, &dist2);
            if (len2 > len) {
                put_literal(&o, in[pos]);
                pos++;
                len = len2;
                dist = dist2;
            } else {
                put_match(&o, len, dist);
                for (size_t k = 1; k < len; k++)
                    insert(in, n, pos + k);
                pos += len;
                continue;
            }
        }
        if (len) {
            put_match(&o, len, dist);
            for (size_t k = 0; k < len; k++)
                insert(in, n, pos + k);
            pos += len;
        } else {
            put_literal(&o, in[pos]);
            insert(in, n, pos);
            pos++;
        }
    }
    return o.len;
}

/* Returns the decompressed length, or 0 on a malformed stream. */
static size_t decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    size_t i = 0, len = 0;
    while (i < n) {
        uint8_t flags = src[i++];
        for (int k = 0; k < 8 && i < n; k++) {
            if (flags & (1u << k)) {
                if (i + 3 > n)
                    return 0;
                size_t l = (size_t)src[i] + MIN_MATCH;
                size_t d = ((size_t)src[i + 1] | (size_t)src[i + 2] << 8) + 1;
                i += 3;
                if (d > len || len + l > cap)
                    return 0;
                for (size_t j = 0; j < l; j++, len++)   /* may overlap: byte by byte */
                    dst[len] = dst[len - d];
            } else {
                if (len == cap)
                    return 0;
                dst[len++] = src[i++];
            }
        }
    }
    return len;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : DEFAULT_ROUNDS;
    uint8_t *in = malloc(INPUT_BYTES);
    uint8_t *packed = malloc(INPUT_BYTES + INPUT_BYTES / 8 + 16);
    uint8_t *back = malloc(INPUT_BYTES);
    if (!in || !packed || !back)
        return 1;
    make_vocab();
    uint64_t total = 0, h = 14695981039346656037ull;
    for (long r = 0; r < rounds; r++) {
        make_input(in, INPUT_BYTES);
        size_t n = compress(in, INPUT_BYTES, packed);
        size_t m = decompress(packed, n, back, INPUT_BYTES);
        if (m != INPUT_BYTES || memcmp(in, back, INPUT_BYTES) != 0) {
            printf("lz: round %ld: decompressed data differs\n", r);
            return 1;
        }
        total += n;
        for (size_t i = 0; i < n; i++)
            h = (h ^ packed[i]) * 1099511628211ull;
    }
    printf("lz rounds=%ld in=%lu out=%llu ratio=%.3f hash=%016llx\n", rounds, (unsigned long)rounds * INPUT_BYTES,
           (unsigned long long)total, rounds ? (double)total / ((double)rounds * INPUT_BYTES) : 0.0,
           (unsigned long long)h);
    return 0;
}
