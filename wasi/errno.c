/*
 * errno.c - WASI errno names, and the translation from Linux errno values.
 */
#include <errno.h>

#include "internal.h"

static const struct {
    const char *name;
    uint16_t wasi;
    int host;                  /* 0: no Linux counterpart */
} errno_table[] = {
#define WASI__ERRNO_ROW(name, value, host) { #name, value, host },
    WASI_ERRNO_MAP(WASI__ERRNO_ROW)
#undef WASI__ERRNO_ROW
};

#define ERRNO_TABLE_LEN (sizeof errno_table / sizeof errno_table[0])

const char *wasi_errno_name(uint16_t e) {
    /* The table is in value order, so the value is the index. */
    return e < ERRNO_TABLE_LEN ? errno_table[e].name : "unknown";
}

uint16_t wasi_errno_from_host(int host_errno) {
    /* Linux spells some errors twice; WASI has one name for each. */
    if (host_errno == EWOULDBLOCK)
        host_errno = EAGAIN;
    if (host_errno == EDEADLOCK)
        host_errno = EDEADLK;
    if (host_errno == EOPNOTSUPP)
        host_errno = ENOTSUP;
    for (size_t i = 0; i < ERRNO_TABLE_LEN; i++)
        if (errno_table[i].host != 0 && errno_table[i].host == host_errno)
            return errno_table[i].wasi;
    /* An error WASI has no name for: the guest still learns that something failed. */
    return WASI_EIO;
}
