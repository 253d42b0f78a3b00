/*
 * log.c - a bounded ring buffer of text lines, one per instance.
 *
 * The ring owns copies of its lines.  When full, a new line replaces the
 * oldest; a line that cannot be copied (out of memory) is dropped, since
 * losing a log line must not stop the instance.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/internal.h"

/* Slots allocated first; the array doubles as lines come, up to the ring's capacity. */
#define LOG_FIRST_SLOTS 16u

int wd_log_init(wd_log *log, uint32_t cap) {
    memset(log, 0, sizeof *log);
    log->cap = cap;
    return 0;
}

void wd_log_free(wd_log *log) {
    if (!log)
        return;
    for (uint32_t i = 0; i < log->count; i++)
        free(log->lines[(log->head + i) % log->cap]);
    free(log->lines);
    memset(log, 0, sizeof *log);
}

/*
 * Room for one more line before the ring is full: the slot array grows
 * while count < cap, and head stays 0 until the ring first fills, so a
 * plain realloc keeps the lines in order.  False when it cannot grow.
 */
static bool log_reserve(wd_log *log) {
    if (log->count < log->nslots)
        return true;
    uint32_t n = log->nslots ? log->nslots * 2 : LOG_FIRST_SLOTS;
    if (n > log->cap || n < log->nslots)
        n = log->cap;
    char **lines = realloc(log->lines, (size_t)n * sizeof *lines);
    if (!lines)
        return false;
    log->lines = lines;
    log->nslots = n;
    return true;
}

void wd_log_push(wd_log *log, const char *line) {
    if (log->cap == 0)
        return;
    if (log->count < log->cap && !log_reserve(log))
        return;
    char *copy = strdup(line);
    if (!copy)
        return;
    uint32_t slot = (log->head + log->count) % log->cap;
    if (log->count == log->cap) {
        free(log->lines[log->head]);
        log->head = (log->head + 1) % log->cap;
    } else {
        log->count++;
    }
    log->lines[slot] = copy;
}

const char *wd_log_get(const wd_log *log, uint32_t i) {
    if (i >= log->count)
        return NULL;
    return log->lines[(log->head + i) % log->cap];
}
