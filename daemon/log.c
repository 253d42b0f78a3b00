/*
 * log.c - a bounded ring buffer of log lines, one per instance.
 *
 * Each line is one allocation: its time, its stream and its text
 * (wd_log_line), so a line costs its text plus 9 bytes and a pointer.  The
 * ring owns its lines.  When full, a new line replaces the oldest; a line
 * that cannot be allocated (out of memory) is dropped, since losing a log
 * line must not stop the instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/internal.h"

/* Names: the stream's wire name, and the tag shown before the text ("" for stdout). */
static const struct {
    const char *name, *tag;
} streams[] = {
    [WD_STREAM_STDOUT] = { "stdout", "" },
    [WD_STREAM_STDERR] = { "stderr", "stderr" },
    [WD_STREAM_EVENT]  = { "event",  "wasmd" },
    [WD_STREAM_DEBUG]  = { "log",    "debug" },
    [WD_STREAM_INFO]   = { "log",    "info" },
    [WD_STREAM_WARN]   = { "log",    "warn" },
    [WD_STREAM_ERROR]  = { "log",    "error" },
};

wd_stream wd_stream_parse(const char *tag) {
    for (size_t i = 0; i < sizeof streams / sizeof streams[0]; i++)
        if (strcmp(tag, streams[i].tag) == 0 || (i == WD_STREAM_STDOUT && strcmp(tag, "stdout") == 0))
            return (wd_stream)i;
    return WD_STREAM_EVENT;
}

const char *wd_stream_name(wd_stream s) {
    return (unsigned)s < sizeof streams / sizeof streams[0] ? streams[s].name : "event";
}

const char *wd_stream_level(wd_stream s) {
    return s >= WD_STREAM_DEBUG && s <= WD_STREAM_ERROR ? streams[s].tag : NULL;
}

const char *wd_log_format(const wd_log_line *l, char *buf, size_t size) {
    if (l->stream == WD_STREAM_STDOUT)
        snprintf(buf, size, "%s", l->text);
    else
        snprintf(buf, size, "[%s] %s", streams[l->stream].tag, l->text);
    return buf;
}

int64_t wd_realtime_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

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
    wd_log_line **lines = realloc(log->lines, (size_t)n * sizeof *lines);
    if (!lines)
        return false;
    log->lines = lines;
    log->nslots = n;
    return true;
}

const wd_log_line *wd_log_push(wd_log *log, int64_t time_us, wd_stream stream, const char *text) {
    if (log->cap == 0)
        return NULL;
    if (log->count < log->cap && !log_reserve(log))
        return NULL;
    size_t len = strlen(text);
    wd_log_line *l = malloc(sizeof *l + len + 1);
    if (!l)
        return NULL;
    l->time_us = time_us;
    l->stream = (uint8_t)stream;
    memcpy(l->text, text, len + 1);
    uint32_t slot = (log->head + log->count) % log->cap;
    if (log->count == log->cap) {
        free(log->lines[log->head]);
        log->head = (log->head + 1) % log->cap;
    } else {
        log->count++;
    }
    log->lines[slot] = l;
    return l;
}

const wd_log_line *wd_log_get(const wd_log *log, uint32_t i) {
    if (i >= log->count)
        return NULL;
    return log->lines[(log->head + i) % log->cap];
}
