/*
 * output.c - wasmctl's output contract (see wasmctl.h) and the formatting
 * its verbs share.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/wasmctl.h"

const char *cli_exit_name(int status) {
    switch (status) {
#define CLI__EXIT_NAME(id, code, name, msg) case code: return name;
        CLI_EXIT_MAP(CLI__EXIT_NAME)
#undef CLI__EXIT_NAME
    default: return "exit";    /* run: the module's own proc_exit code */
    }
}

/* Records a message for the --json document: the first as "error", the rest in "errors". */
static void record(cli *c, const char *msg) {
    if (!c->json)
        return;
    if (!c->error) {
        c->error = strdup(msg);
        return;
    }
    if (strcmp(c->error, msg) == 0)
        return;
    if (!c->errors)
        c->errors = cJSON_CreateArray();
    cJSON_AddItemToArray(c->errors, cJSON_CreateString(msg));
}

static void vreport(cli *c, const char *prefix, const char *fmt, va_list ap) {
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fflush(stdout);
    fprintf(stderr, "%s%s\n", prefix, msg);
    record(c, msg);
}

void cli_error(cli *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(c, "wasmctl: ", fmt, ap);
    va_end(ap);
}

void cli_problem(cli *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(c, "", fmt, ap);
    va_end(ap);
}

void cli_print_line(const cJSON *doc) {
    char *text = cJSON_PrintUnformatted(doc);
    if (text) {
        puts(text);
        free(text);
    }
    fflush(stdout);
}

void cli_print_doc(cli *c, cJSON *doc, int status) {
    if (c->json && doc && !c->printed) {
        cJSON_DeleteItemFromObjectCaseSensitive(doc, "exit");
        cJSON_AddNumberToObject(doc, "exit", status);
        if (c->error && !cJSON_GetObjectItemCaseSensitive(doc, "error"))
            cJSON_AddStringToObject(doc, "error", c->error);
        if (c->errors && !cJSON_GetObjectItemCaseSensitive(doc, "errors")) {
            cJSON_AddItemToObject(doc, "errors", c->errors);
            c->errors = NULL;
        }
        cli_print_line(doc);
        c->printed = true;
    }
    cJSON_Delete(doc);
}

int cli_finish(cli *c, int status) {
    if (c->json && !c->printed) {
        cJSON *doc = cJSON_CreateObject();
        if (doc) {
            cJSON_AddStringToObject(doc, "status", cli_exit_name(status));
            cli_print_doc(c, doc, status);
        }
    }
    fflush(stdout);
    free(c->error);
    c->error = NULL;
    cJSON_Delete(c->errors);
    c->errors = NULL;
    return status;
}

bool cli_color(void) {
    const char *no = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && !(no && no[0]);
}

const char *cli_state_colour(const char *state) {
    if (strcmp(state, "running") == 0)
        return "\033[32m";
    if (strcmp(state, "failed") == 0 || strcmp(state, "crash-looping") == 0)
        return "\033[31m";
    if (strcmp(state, "starting") == 0 || strcmp(state, "stopping") == 0)
        return "\033[33m";
    if (strcmp(state, "stopped") == 0)
        return "\033[2m";
    return "";
}

const char *cli_json_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

double cli_json_num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

void cli_format_ms(double ms, char *buf, size_t size) {
    if (ms < 0)
        snprintf(buf, size, "-");
    else if (ms < 60000)
        snprintf(buf, size, "%.1fs", ms / 1000);
    else if (ms < 3600000)
        snprintf(buf, size, "%dm%02ds", (int)(ms / 60000), (int)(ms / 1000) % 60);
    else
        snprintf(buf, size, "%dh%02dm", (int)(ms / 3600000), (int)(ms / 60000) % 60);
}

void cli_format_bytes(double n, char *buf, size_t size) {
    if (n < 1024)
        snprintf(buf, size, "%.0f B", n);
    else if (n < 1024 * 1024)
        snprintf(buf, size, "%.0f KiB", n / 1024);
    else if (n < 1024.0 * 1024 * 1024)
        snprintf(buf, size, "%.1f MiB", n / (1024 * 1024));
    else
        snprintf(buf, size, "%.2f GiB", n / (1024.0 * 1024 * 1024));
}

void cli_format_time(double t, char *buf, size_t size) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (t > 0 && localtime_r(&tt, &tm))
        strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

bool cli_read_file(const char *path, uint8_t **ret_bytes, size_t *ret_len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t len = 0, cap = 64 * 1024;
    uint8_t *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        uint8_t *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf || err) {
        free(buf);
        errno = err ? err : ENOMEM;
        return false;
    }
    *ret_bytes = buf;
    *ret_len = len;
    return true;
}
