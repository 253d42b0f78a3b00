/*
 * json - a JSON tokenizer and recursive-descent parser over generated
 * documents: the byte-at-a-time branching, string handling and pointer-
 * chasing of a real configuration or message parser.
 *
 *   json [ROUNDS]     generates, parses, walks and re-serializes ROUNDS
 *                     different documents of about DOC_BYTES each
 *
 * Each round generates a document (nested objects and arrays, strings with
 * escapes including \uXXXX, integers, decimals with exponents, true, false,
 * null), parses it into a tree of nodes allocated from an arena, computes a
 * digest of the tree (kinds, key and string hashes, numbers), writes the
 * tree back out compactly, parses that again and checks that both digests
 * agree (exit 1 otherwise).  Numbers are parsed by hand into an integer
 * mantissa and a decimal exponent, so the checksum does not depend on the
 * C library's strtod.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ROUNDS 64
#define DOC_BYTES (192 * 1024)
#define MAX_DEPTH 64
#define MAX_NODES (DOC_BYTES / 2)

static uint32_t rng_state = 0x1234567u;

static uint32_t rng(void)          /* xorshift32 */
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* ---- Generating a document ------------------------------------------------- */

typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static void put(buf *b, char c)
{
    if (b->len < b->cap)
        b->p[b->len] = c;
    b->len++;
}

static void puts_n(buf *b, const char *s)
{
    while (*s)
        put(b, *s++);
}

static const char *const words[] = {
    "id", "name", "value", "sensor", "temperature", "unit", "ts", "tags", "enabled", "config",
    "limits", "gpio", "line", "bus", "address", "period_ms", "samples", "label", "owner", "state",
};
#define NWORDS (sizeof words / sizeof words[0])

static void gen_string(buf *b)
{
    put(b, '"');
    int n = (int)(rng() % 12);
    for (int i = 0; i < n; i++) {
        uint32_t r = rng() % 40;
        if (r == 0) {
            puts_n(b, "\\n");
        } else if (r == 1) {
            puts_n(b, "\\\"");
        } else if (r == 2) {
            char u[8];
            snprintf(u, sizeof u, "\\u%04x", (unsigned)(0x20 + rng() % 0x7e0));
            puts_n(b, u);
        } else if (r < 8) {
            puts_n(b, words[rng() % NWORDS]);
        } else {
            put(b, (char)('a' + r % 26));
        }
    }
    put(b, '"');
}

static void gen_number(buf *b)
{
    char t[40];
    uint32_t r = rng() % 4;
    long v = (long)(rng() % 100000) - 20000;
    if (r == 0)
        snprintf(t, sizeof t, "%ld", v);
    else if (r == 1)
        snprintf(t, sizeof t, "%ld.%03u", v, (unsigned)(rng() % 1000));
    else if (r == 2)
        snprintf(t, sizeof t, "%lde%d", v, (int)(rng() % 10) - 5);
    else
        snprintf(t, sizeof t, "%u", (unsigned)(rng() % 256));
    puts_n(b, t);
}

static void gen_value(buf *b, int depth, size_t budget);

static void gen_container(buf *b, int depth, size_t budget, int object)
{
    put(b, object ? '{' : '[');
    int n = 1 + (int)(rng() % (depth < 3 ? 8 : 5));
    for (int i = 0; i < n && b->len < budget; i++) {
        if (i)
            put(b, ',');
        if (rng() % 4 == 0)
            put(b, ' ');
        if (object) {
            put(b, '"');
            puts_n(b, words[rng() % NWORDS]);
            put(b, '"');
            put(b, ':');
        }
        gen_value(b, depth + 1, budget);
    }
    put(b, object ? '}' : ']');
}

static void gen_value(buf *b, int depth, size_t budget)
{
    uint32_t r = rng() % 16;
    if (depth < 6 && r < (depth < 2 ? 16u : 6u))
        gen_container(b, depth, budget, (int)(rng() % 3 != 0));
    else if (r < 10)
        gen_string(b);
    else if (r < 14)
        gen_number(b);
    else
        puts_n(b, r == 14 ? (rng() % 2 ? "true" : "false") : "null");
}

/* A top-level array of values until the document is DOC_BYTES long. */
static size_t gen_document(char *dst, size_t cap)
{
    buf b = { dst, 0, cap };
    put(&b, '[');
    for (int i = 0; b.len < DOC_BYTES - 4096; i++) {
        if (i)
            puts_n(&b, ",\n");
        gen_container(&b, 1, DOC_BYTES - 4096, 1);
    }
    put(&b, ']');
    return b.len < cap ? b.len : 0;
}

/* ---- The tree and the parser ----------------------------------------------- */

enum kind { K_NULL, K_FALSE, K_TRUE, K_NUMBER, K_STRING, K_ARRAY, K_OBJECT };

typedef struct node {
    uint8_t kind;
    uint32_t key;          /* offset of the key in the string arena (object members), or 0 */
    uint32_t keylen;
    uint32_t str, len;     /* K_STRING: the decoded bytes in the string arena */
    int64_t mant;          /* K_NUMBER: mant * 10^exp */
    int32_t exp;
    struct node *child, *next;
} node;

typedef struct parser {
    const char *p, *end;
    node *nodes;
    size_t nnodes;
    char *strs;            /* decoded strings, UTF-8 */
    size_t nstrs;
    int depth;
    int error;
} parser;

static node *new_node(parser *ps, enum kind k)
{
    if (ps->nnodes == MAX_NODES) {
        ps->error = 1;
        return NULL;
    }
    node *n = &ps->nodes[ps->nnodes++];
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)k;
    return n;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r'))
        ps->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A string at ps->p (the opening quote), decoded into the arena; its offset and length. */
static int parse_string(parser *ps, uint32_t *ret_off, uint32_t *ret_len)
{
    if (ps->p >= ps->end || *ps->p != '"')
        return ps->error = 1, 0;
    ps->p++;
    size_t start = ps->nstrs;
    while (ps->p < ps->end && *ps->p != '"') {
        char c = *ps->p++;
        if (c != '\\') {
            ps->strs[ps->nstrs++] = c;
            continue;
        }
        if (ps->p >= ps->end)
            return ps->error = 1, 0;
        c = *ps->p++;
        switch (c) {
        case 'n': ps->strs[ps->nstrs++] = '\n'; break;
        case 't': ps->strs[ps->nstrs++] = '\t'; break;
        case 'r': ps->strs[ps->nstrs++] = '\r'; break;
        case 'b': ps->strs[ps->nstrs++] = '\b'; break;
        case 'f': ps->strs[ps->nstrs++] = '\f'; break;
        case '"': case '\\': case '/': ps->strs[ps->nstrs++] = c; break;
        case 'u': {
            unsigned cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = ps->p < ps->end ? hexval(*ps->p++) : -1;
                if (h < 0)
                    return ps->error = 1, 0;
                cp = cp << 4 | (unsigned)h;
            }
            if (cp < 0x80) {
                ps->strs[ps->nstrs++] = (char)cp;
            } else if (cp < 0x800) {
                ps->strs[ps->nstrs++] = (char)(0xc0 | cp >> 6);
                ps->strs[ps->nstrs++] = (char)(0x80 | (cp & 0x3f));
            } else {
                ps->strs[ps->nstrs++] = (char)(0xe0 | cp >> 12);
                ps->strs[ps->nstrs++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                ps->strs[ps->nstrs++] = (char)(0x80 | (cp & 0x3f));
            }
            break;
        }
        default:
            return ps->error = 1, 0;
        }
    }
    if (ps->p >= ps->end)
        return ps->error = 1, 0;
    ps->p++;
    *ret_off = (uint32_t)start;
    *ret_len = (uint32_t)(ps->nstrs - start);
    return 1;
}

static node *parse_number(parser *ps)
{
    node *n = new_node(ps, K_NUMBER);
    if (!n)
        return NULL;
    int neg = 0, digits = 0;
    int64_t mant = 0;
    int32_t exp = 0;
    if (*ps->p == '-') {
        neg = 1;
        ps->p++;
    }
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        mant = mant * 10 + (*ps->p++ - '0');
        digits++;
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            mant = mant * 10 + (*ps->p++ - '0');
            exp--;
            digits++;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        int eneg = 0, e = 0;
        if (ps->p < ps->end && (*ps->p == '-' || *ps->p == '+'))
            eneg = *ps->p++ == '-';
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            e = e * 10 + (*ps->p++ - '0');
        exp += eneg ? -e : e;
    }
    if (!digits) {
        ps->error = 1;
        return NULL;
    }
    /* canonical form, so that 1.500 and 15e-1 agree: no trailing zeros in the mantissa */
    while (mant != 0 && mant % 10 == 0) {
        mant /= 10;
        exp++;
    }
    if (mant == 0)
        exp = 0;
    n->mant = neg ? -mant : mant;
    n->exp = exp;
    return n;
}

static int literal(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

static node *parse_value(parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end || ps->error) {
        ps->error = 1;
        return NULL;
    }
    char c = *ps->p;
    if (c == '{' || c == '[') {
        int object = c == '{';
        char close = object ? '}' : ']';
        if (++ps->depth > MAX_DEPTH) {
            ps->error = 1;
            return NULL;
        }
        node *n = new_node(ps, object ? K_OBJECT : K_ARRAY);
        if (!n)
            return NULL;
        ps->p++;
        skip_ws(ps);
        node **tail = &n->child;
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return n;
        }
        for (;;) {
            uint32_t key = 0, keylen = 0;
            if (object) {
                skip_ws(ps);
                if (!parse_string(ps, &key, &keylen))
                    return NULL;
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p++ != ':') {
                    ps->error = 1;
                    return NULL;
                }
            }
            node *v = parse_value(ps);
            if (!v)
                return NULL;
            v->key = key;
            v->keylen = keylen;
            *tail = v;
            tail = &v->next;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') {
                ps->p++;
                continue;
            }
            if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                ps->depth--;
                return n;
            }
            ps->error = 1;
            return NULL;
        }
    }
    if (c == '"') {
        node *n = new_node(ps, K_STRING);
        if (n && !parse_string(ps, &n->str, &n->len))
            return NULL;
        return n;
    }
    if (c == '-' || (c >= '0' && c <= '9'))
        return parse_number(ps);
    if (literal(ps, "true"))
        return new_node(ps, K_TRUE);
    if (literal(ps, "false"))
        return new_node(ps, K_FALSE);
    if (literal(ps, "null"))
        return new_node(ps, K_NULL);
    ps->error = 1;
    return NULL;
}

/* ---- Digest and writer ------------------------------------------------------ */

static uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 1099511628211ull;
}

static uint64_t mix_bytes(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = mix(h, (uint8_t)s[i]);
    return h;
}

static uint64_t digest(const parser *ps, const node *n, uint64_t h)
{
    for (; n; n = n->next) {
        h = mix(h, n->kind);
        h = mix_bytes(h, ps->strs + n->key, n->keylen);
        switch (n->kind) {
        case K_NUMBER: h = mix(mix(h, (uint64_t)n->mant), (uint64_t)(int64_t)n->exp); break;
        case K_STRING: h = mix_bytes(h, ps->strs + n->str, n->len); break;
        case K_ARRAY:
        case K_OBJECT: h = mix(digest(ps, n->child, h), 0xff); break;
        default: break;
        }
    }
    return h;
}

static void write_string(buf *b, const char *s, size_t n)
{
    put(b, '"');
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"' || c == '\\') {
            put(b, '\\');
            put(b, c);
        } else if (c == '\n') {
            puts_n(b, "\\n");
        } else {
            put(b, c);
        }
    }
    put(b, '"');
}

static void write_value(buf *b, const parser *ps, const node *n)
{
    char t[48];
    switch (n->kind) {
    case K_NULL: puts_n(b, "null"); break;
    case K_FALSE: puts_n(b, "false"); break;
    case K_TRUE: puts_n(b, "true"); break;
    case K_NUMBER:
        snprintf(t, sizeof t, "%lld", (long long)n->mant);
        puts_n(b, t);
        if (n->exp) {
            snprintf(t, sizeof t, "e%d", (int)n->exp);
            puts_n(b, t);
        }
        break;
    case K_STRING: write_string(b, ps->strs + n->str, n->len); break;
    default: {
        int object = n->kind == K_OBJECT;
        put(b, object ? '{' : '[');
        for (const node *c = n->child; c; c = c->next) {
            if (c != n->child)
                put(b, ',');
            if (object) {
                write_string(b, ps->strs + c->key, c->keylen);
                put(b, ':');
            }
            write_value(b, ps, c);
        }
        put(b, object ? '}' : ']');
    }
    }
}

static node *parse(parser *ps, const char *text, size_t len)
{
    ps->p = text;
    ps->end = text + len;
    ps->nnodes = 0;
    ps->nstrs = 1; /* offset 0: the empty key */
    ps->depth = 0;
    ps->error = 0;
    node *root = parse_value(ps);
    skip_ws(ps);
    if (ps->p != ps->end)
        ps->error = 1;
    return ps->error ? NULL : root;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : DEFAULT_ROUNDS;
    size_t cap = 2 * DOC_BYTES;
    char *doc = malloc(cap), *out = malloc(cap);
    parser a = { 0 }, b = { 0 };
    a.nodes = malloc(MAX_NODES * sizeof(node));
    b.nodes = malloc(MAX_NODES * sizeof(node));
    a.strs = malloc(cap);
    b.strs = malloc(cap);
    if (!doc || !out || !a.nodes || !b.nodes || !a.strs || !b.strs)
        return 1;
    uint64_t h = 14695981039346656037ull, bytes = 0, nodes = 0;
    for (long r = 0; r < rounds; r++) {
        size_t len = gen_document(doc, cap);
        node *root = len ? parse(&a, doc, len) : NULL;
        if (!root) {
            printf("json: round %ld: the generated document does not parse\n", r);
            return 1;
        }
        uint64_t d1 = digest(&a, root, 14695981039346656037ull);
        buf w = { out, 0, cap };
        write_value(&w, &a, root);
        node *again = w.len <= cap ? parse(&b, out, w.len) : NULL;
        if (!again || digest(&b, again, 14695981039346656037ull) != d1 || b.nnodes != a.nnodes) {
            printf("json: round %ld: the re-serialized document differs\n", r);
            return 1;
        }
        h = mix(h, d1);
        bytes += len;
        nodes += a.nnodes;
    }
    printf("json rounds=%ld bytes=%llu nodes=%llu digest=%016llx\n", rounds, (unsigned long long)bytes,
           (unsigned long long)nodes, (unsigned long long)h);
    return 0;
}
