/*
 * mix - three small kernels typical of daemon-side code:
 *   - CRC-32 (IEEE 802.3, table-driven, one byte at a time) over a buffer;
 *   - a tokenizer: a switch-based state machine over generated source-like
 *     text (identifiers, numbers, strings, comments, operators);
 *   - an integer matrix multiply (u32, wrapping).
 *
 *   mix [ROUNDS]      runs each kernel ROUNDS times (each round sees
 *                     slightly different data, so none can be hoisted)
 *
 * Checks CRC-32 against the standard "123456789" vector first, then prints
 * one checksum line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ROUNDS 50
#define CRC_BYTES (256 * 1024)
#define TEXT_BYTES (256 * 1024)
#define MAT 160

static uint32_t rng_state = 0x9e3779b9u;

static uint32_t rng(void)          /* xorshift32 */
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* ---- CRC-32 ------------------------------------------------------------ */

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* ---- Tokenizer ----------------------------------------------------------- */

enum { T_IDENT, T_NUMBER, T_STRING, T_COMMENT, T_OP, T_NEWLINE, T_KINDS };

/* Appends source-like text to buf until it is full. */
static void gen_text(char *buf, size_t size)
{
    static const char *const words[] = {
        "if", "while", "return", "count", "buffer_len", "x", "y2", "state", "next_token", "_tmp",
    };
    static const char ops[] = "+-*/=<>(){};,.&|!";
    size_t n = 0;
    char piece[64];

    while (n < size - 1) {
        uint32_t r = rng();
        int len;
        switch (r % 16) {
        case 0: case 1: case 2: case 3: case 4:
            len = snprintf(piece, sizeof piece, "%s", words[(r >> 8) % 10]);
            break;
        case 5: case 6: case 7:
            len = snprintf(piece, sizeof piece, "%u", (unsigned)(r >> 12));
            break;
        case 8:
            len = snprintf(piece, sizeof piece, "\"s%u \\\" q\"", (unsigned)(r >> 20));
            break;
        case 9:
            len = snprintf(piece, sizeof piece, "/* c%u */", (unsigned)(r >> 24));
            break;
        case 10:
            len = snprintf(piece, sizeof piece, "\n");
            break;
        default:
            piece[0] = ops[(r >> 8) % (sizeof ops - 1)];
            len = 1;
            break;
        }
        if (r & 0x10000)
            piece[len++] = ' ';
        if (n + (size_t)len >= size - 1)
            break;
        memcpy(buf + n, piece, (size_t)len);
        n += (size_t)len;
    }
    memset(buf + n, ' ', size - 1 - n);
    buf[size - 1] = '\0';
}

static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* Counts tokens of each kind and hashes their lengths. */
static uint32_t tokenize(const char *s, uint32_t counts[T_KINDS])
{
    enum { S_START, S_IDENT, S_NUMBER, S_STRING, S_STRING_ESC, S_SLASH, S_COMMENT, S_COMMENT_STAR }
        state = S_START;
    uint32_t hash = 0, start = 0;

    for (uint32_t i = 0;; i++) {
        int c = (unsigned char)s[i];
        switch (state) {
        case S_START:
        start_again:
            start = i;
            if (c == '\0')
                return hash;
            if (is_alpha(c))
                state = S_IDENT;
            else if (is_digit(c))
                state = S_NUMBER;
            else if (c == '"')
                state = S_STRING;
            else if (c == '/')
                state = S_SLASH;
            else if (c == '\n')
                counts[T_NEWLINE]++;
            else if (c != ' ')
                counts[T_OP]++, hash = hash * 31 + (uint32_t)c;
            break;
        case S_IDENT:
            if (is_alpha(c) || is_digit(c))
                break;
            counts[T_IDENT]++;
            hash = hash * 31 + (i - start) + 1000;
            state = S_START;
            goto start_again;
        case S_NUMBER:
            if (is_digit(c))
                break;
            counts[T_NUMBER]++;
            hash = hash * 31 + (i - start) + 2000;
            state = S_START;
            goto start_again;
        case S_STRING:
            if (c == '\\')
                state = S_STRING_ESC;
            else if (c == '"') {
                counts[T_STRING]++;
                hash = hash * 31 + (i - start) + 3000;
                state = S_START;
            } else if (c == '\0')
                return hash;
            break;
        case S_STRING_ESC:
            state = c == '\0' ? S_START : S_STRING;
            if (c == '\0')
                goto start_again;
            break;
        case S_SLASH:
            if (c == '*') {
                state = S_COMMENT;
                break;
            }
            counts[T_OP]++;
            hash = hash * 31 + '/';
            state = S_START;
            goto start_again;
        case S_COMMENT:
            if (c == '*')
                state = S_COMMENT_STAR;
            else if (c == '\0')
                return hash;
            break;
        case S_COMMENT_STAR:
            if (c == '/') {
                counts[T_COMMENT]++;
                hash = hash * 31 + (i - start) + 4000;
                state = S_START;
            } else if (c == '\0')
                return hash;
            else if (c != '*')
                state = S_COMMENT;
            break;
        }
    }
}

/* ---- Matrix multiply ----------------------------------------------------- */

static uint32_t ma[MAT][MAT], mb[MAT][MAT], mc[MAT][MAT];

static void matmul(void)
{
    for (int i = 0; i < MAT; i++) {
        for (int j = 0; j < MAT; j++)
            mc[i][j] = 0;
        for (int k = 0; k < MAT; k++) {
            uint32_t aik = ma[i][k];
            for (int j = 0; j < MAT; j++)
                mc[i][j] += aik * mb[k][j];
        }
    }
}

int main(int argc, char **argv)
{
    unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : DEFAULT_ROUNDS;

    crc_init();
    if (crc32(0, (const uint8_t *)"123456789", 9) != 0xcbf43926u) {
        fprintf(stderr, "mix: CRC-32 self-test failed\n");
        return 1;
    }

    static uint8_t data[CRC_BYTES];
    static char text[TEXT_BYTES];
    for (size_t i = 0; i < CRC_BYTES; i++)
        data[i] = (uint8_t)rng();
    gen_text(text, TEXT_BYTES);
    for (int i = 0; i < MAT; i++)
        for (int j = 0; j < MAT; j++) {
            ma[i][j] = rng() & 0xffff;
            mb[i][j] = rng() & 0xffff;
        }

    uint32_t crc = 0, tok = 0, mat = 0;
    uint32_t counts[T_KINDS] = {0};
    for (unsigned r = 0; r < rounds; r++) {
        /* CRC: 4 passes per round, each over slightly changed data. */
        for (int p = 0; p < 4; p++) {
            data[(r * 4 + (unsigned)p) % CRC_BYTES] ^= (uint8_t)crc;
            crc = crc32(crc, data, CRC_BYTES);
        }
        /* Tokenizer: 4 passes per round; change one character each time. */
        for (int p = 0; p < 4; p++) {
            size_t at = (crc + (uint32_t)p * 7919u) % (TEXT_BYTES - 1);
            text[at] = " a1/\"*"[(crc >> 8) % 6];
            tok = tok * 31 + tokenize(text, counts);
        }
        /* Matrix: feed the previous product back into A. */
        matmul();
        ma[r % MAT][(r * 7) % MAT] ^= mc[MAT - 1][MAT - 1];
        for (int i = 0; i < MAT; i++)
            for (int j = 0; j < MAT; j++)
                mat = mat * 31 + mc[i][j];
    }

    printf("mix %u crc=%08x tok=%08x ident=%u number=%u string=%u comment=%u op=%u nl=%u mat=%08x\n",
           rounds, (unsigned)crc, (unsigned)tok, (unsigned)counts[T_IDENT],
           (unsigned)counts[T_NUMBER], (unsigned)counts[T_STRING], (unsigned)counts[T_COMMENT],
           (unsigned)counts[T_OP], (unsigned)counts[T_NEWLINE], (unsigned)mat);
    return 0;
}
