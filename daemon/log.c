/*
 * log.c - a bounded ring buffer of text lines, one per instance.
 *
 * The ring owns copies of its lines.  When full, a new line replaces the
 * oldest; a line that cannot be copied (out of memory) is dropped, since
 * losing a log line must not stop the instance.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/internal.h"

int wd_log_init(wd_log *log, uint32_t cap) {
    memset(log, 0, sizeof *log);
    if (cap == 0)
        return 0;
    log->lines = calloc(cap, sizeof *log->lines);
    if (!log->lines)
        return -ENOMEM;
    log->cap = cap;
    return 0;
}

void wd_log_free(wd_log *log) {
    if (!log)
        return;
    for (uint32_t i = 0; i < log->cap; i++)
        free(log->lines[i]);
    free(log->lines);
    memset(log, 0, sizeof *log);
}

void wd_log_push(wd_log *log, const char *line) {
    if (log->cap == 0)
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
