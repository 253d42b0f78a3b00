/*
 * cmd_observe.c - the verbs that watch modules: logs, top, metrics.
 *
 * logs: every line with its time (the daemon's clock when it was logged)
 * and stream.  Human form "2026-12-02 13:00:00.123 [stderr] text" (local
 * time; with no NAME each text is prefixed with "module: "), or with
 * `-o cat` the text alone.  With --json, JSON Lines: one object per line,
 * {"time","time_us","module","stream","level" (stream log),"message","line"},
 * and a last status document only when something went wrong (the daemon
 * went away during -f, an unknown module).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/wasmctl.h"
#include "daemon/proto.h"

/* ---- Times: --since and --until ------------------------------------------ */

/* Seconds in a unit of a relative time ("5m", "10 min ago"); 0 for an unknown unit. */
static double unit_seconds(const char *u, size_t len) {
    static const struct {
        const char *name;
        double s;
    } units[] = {
        { "s", 1 }, { "sec", 1 }, { "secs", 1 }, { "second", 1 }, { "seconds", 1 },
        { "m", 60 }, { "min", 60 }, { "mins", 60 }, { "minute", 60 }, { "minutes", 60 },
        { "h", 3600 }, { "hour", 3600 }, { "hours", 3600 },
        { "d", 86400 }, { "day", 86400 }, { "days", 86400 },
        { "w", 604800 }, { "week", 604800 }, { "weeks", 604800 },
        { "ms", 0.001 }, { "msec", 0.001 },
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strlen(units[i].name) == len && strncmp(u, units[i].name, len) == 0)
            return units[i].s;
    return 0;
}

/* "5m", "1h 30min", "10 min": seconds; false when it is not such a span. */
static bool parse_span(const char *s, double *ret) {
    double total = 0;
    bool any = false;
    while (*s) {
        while (*s == ' ')
            s++;
        if (!*s)
            break;
        char *end;
        errno = 0;
        double n = strtod(s, &end);
        if (end == s || errno || n < 0 || *s == '-' || *s == '+')
            return false;
        s = end;
        while (*s == ' ')
            s++;
        const char *u = s;
        while (isalpha((unsigned char)*s))
            s++;
        double unit = s == u ? 1 : unit_seconds(u, (size_t)(s - u));
        if (unit == 0)
            return false;
        total += n * unit;
        any = true;
    }
    *ret = total;
    return any;
}

/* The local midnight `days_from_today` days away, as Unix seconds. */
static double midnight(int days_from_today) {
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mday += days_from_today;
    tm.tm_isdst = -1;
    return (double)mktime(&tm);
}

/*
 * A time as --since and --until take it, into Unix microseconds:
 *   "2026-12-02 13:00:00", "2026-12-02T13:00:00.5", "2026-12-02", "13:00"
 *   (local time, or UTC with a trailing "Z", or with an offset "+01:00"),
 *   "@1234" (Unix seconds), "now", "today", "yesterday", "tomorrow",
 *   "-5m", "+1h" (from now), "10 min ago", "2h30m ago".
 * False when it is none of those.
 */
static bool parse_time(const char *text, double *ret_us) {
    char s[128];
    snprintf(s, sizeof s, "%s", text);
    /* Trim blanks. */
    char *p = s;
    while (*p == ' ')
        p++;
    size_t len = strlen(p);
    while (len > 0 && p[len - 1] == ' ')
        p[--len] = '\0';
    struct timespec now_ts;
    clock_gettime(CLOCK_REALTIME, &now_ts);
    double now = (double)now_ts.tv_sec + now_ts.tv_nsec / 1e9, secs, span;
    char *end;

    if (p[0] == '@') {
        errno = 0;
        secs = strtod(p + 1, &end);
        if (end == p + 1 || *end || errno)
            return false;
    } else if (strcmp(p, "now") == 0) {
        secs = now;
    } else if (strcmp(p, "today") == 0) {
        secs = midnight(0);
    } else if (strcmp(p, "yesterday") == 0) {
        secs = midnight(-1);
    } else if (strcmp(p, "tomorrow") == 0) {
        secs = midnight(1);
    } else if ((p[0] == '-' || p[0] == '+') && parse_span(p + 1, &span)) {
        secs = p[0] == '-' ? now - span : now + span;
    } else if (len > 4 && strcmp(p + len - 4, " ago") == 0) {
        p[len - 4] = '\0';
        if (!parse_span(p, &span))
            return false;
        secs = now - span;
    } else {
        /* A date and/or a time of day. */
        struct tm tm = { 0 };
        int y = 0, mo = 0, d = 0, h = 0, mi = 0, n = 0;
        double sec = 0;
        const char *q = p;
        bool have_date = sscanf(q, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3;
        if (have_date) {
            q += n;
            if (*q == 'T' || *q == ' ')
                q++;
        }
        if (*q && *q != 'Z' && *q != '+' && *q != '-') {
            n = 0;
            if (sscanf(q, "%2d:%2d%n", &h, &mi, &n) != 2)
                return false;
            q += n;
            if (*q == ':') {
                errno = 0;
                sec = strtod(q + 1, &end);
                if (end == q + 1 || errno || sec < 0 || sec >= 61)
                    return false;
                q = end;
            }
        }
        if (!have_date && h == 0 && mi == 0 && q == p)
            return false;
        if (h > 23 || mi > 59 || (have_date && (mo < 1 || mo > 12 || d < 1 || d > 31)))
            return false;
        bool utc = false;
        long offset = 0;
        if (*q == 'Z') {
            utc = true;
            q++;
        } else if (*q == '+' || *q == '-') {
            int oh = 0, om = 0;
            if (sscanf(q + 1, "%2d:%2d%n", &oh, &om, &n) == 2 || sscanf(q + 1, "%2d%2d%n", &oh, &om, &n) == 2) {
                utc = true;
                offset = (oh * 3600L + om * 60L) * (*q == '-' ? -1 : 1);
                q += 1 + n;
            } else {
                return false;
            }
        }
        if (*q)
            return false;
        time_t today = (time_t)now;
        if (utc)
            gmtime_r(&today, &tm);
        else
            localtime_r(&today, &tm);
        if (have_date) {
            tm.tm_year = y - 1900;
            tm.tm_mon = mo - 1;
            tm.tm_mday = d;
        }
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = 0;
        tm.tm_isdst = -1;
        time_t t = utc ? timegm(&tm) - offset : mktime(&tm);
        if (t == (time_t)-1)
            return false;
        secs = (double)t + sec;
    }
    *ret_us = floor(secs * 1e6);
    return true;
}

/* ---- logs --------------------------------------------------------------------- */

typedef enum log_output { OUTPUT_SHORT, OUTPUT_CAT } log_output;

/* One entry: "TIME [module: ][tag] text", or with --json one object. */
static void print_entry(const cli *c, log_output out, bool with_module, const cJSON *e) {
    double us = cli_json_num(e, WD_F_TIME_US);
    const char *stream = cli_json_str(e, WD_F_STREAM), *level = cli_json_str(e, WD_F_LEVEL);
    const char *module = cli_json_str(e, WD_F_MODULE), *message = cli_json_str(e, WD_F_MESSAGE);
    time_t secs = (time_t)floor(us / 1e6);
    long frac = (long)(us - (double)secs * 1e6);
    struct tm tm;
    char when[64];
    if (c->json) {
        gmtime_r(&secs, &tm);
        size_t n = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(when + n, sizeof when - n, ".%06ldZ", frac);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "time", when);
        cJSON_AddNumberToObject(o, WD_F_TIME_US, us);
        cJSON_AddStringToObject(o, WD_F_MODULE, module);
        cJSON_AddStringToObject(o, WD_F_STREAM, stream);
        if (level[0])
            cJSON_AddStringToObject(o, WD_F_LEVEL, level);
        cJSON_AddStringToObject(o, WD_F_MESSAGE, message);
        cJSON_AddStringToObject(o, WD_F_LINE, message); /* the field of earlier versions */
        cli_print_line(o);
        cJSON_Delete(o);
        return;
    }
    /* The tag logs always showed: none for stdout, [stderr], [wasmd] for events, [info]... */
    const char *tag = strcmp(stream, "stdout") == 0 ? NULL
                      : strcmp(stream, "event") == 0 ? "wasmd"
                      : level[0]                     ? level
                                                     : stream;
    if (out == OUTPUT_SHORT) {
        localtime_r(&secs, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        printf("%s.%03ld ", when, frac / 1000);
    }
    if (with_module)
        printf("%s: ", module);
    if (tag)
        printf("[%s] ", tag);
    puts(message);
}

/* The --output of logs: short (with times, the default) or cat (the text alone). */
static bool parse_output(cli *c, log_output *ret) {
    const char *o = c->output ? c->output : "short";
    if (strcmp(o, "short") == 0)
        *ret = OUTPUT_SHORT;
    else if (strcmp(o, "cat") == 0)
        *ret = OUTPUT_CAT;
    else {
        cli_error(c, "logs: --output %s: expected short or cat", o);
        return false;
    }
    return true;
}

/* True when something accepts connections on the daemon's socket. */
static bool socket_answers(const char *path) {
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path)
        return false;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* The seconds between two tries of logs -f --retry to reach the daemon again. */
#define RETRY_INTERVAL_S 1

/*
 * logs -f --retry after the daemon went away: waits until its socket
 * answers, then follows again from just after `last_us` (every line it
 * still has from then on, so none is printed twice).  EXIT_OK with the
 * stream in *conn, or the status of a failure.
 */
static int reconnect(cli *c, const char *name, log_output out, double *last_us, cli_conn *conn) {
    fprintf(stderr, "wasmctl: waiting for wasmd to come back (--retry)\n");
    do {
        /* First a pause: a daemon shutting down may still accept a connection it will not serve. */
        struct timespec ts = { .tv_sec = RETRY_INTERVAL_S };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    } while (!socket_answers(c->socket));
    /* The daemon is back: the error that ended the last stream no longer stands. */
    free(c->error);
    c->error = NULL;
    cJSON *req = cli_request_new(WD_VERB_LOGS);
    if (req) {
        if (name)
            cJSON_AddStringToObject(req, WD_F_NAME, name);
        cJSON_AddBoolToObject(req, WD_F_ENTRIES, true);
        cJSON_AddBoolToObject(req, WD_F_FOLLOW, true);
        if (*last_us >= 0)
            cJSON_AddNumberToObject(req, WD_F_SINCE_US, *last_us + 1);
    }
    cJSON *r;
    int status = cli_call(c, req, NULL, 0, true, conn, &r);
    cJSON_Delete(req);
    if (status != EXIT_OK)
        return status;
    status = cli_response_status(c, r);
    if (status == EXIT_OK) {
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, WD_F_ENTRIES)) {
            print_entry(c, out, !name, e);
            *last_us = cli_json_num(e, WD_F_TIME_US);
        }
    }
    cJSON_Delete(r);
    fflush(stdout);
    if (status != EXIT_OK)
        cli_conn_close(conn);
    return status;
}

int cmd_logs(cli *c) {
    const char *name = c->nargs > 0 ? c->args[0] : NULL;
    log_output out;
    double since = 0, until = 0;
    if (!parse_output(c, &out))
        return EXIT_USAGE;
    if (c->since && !parse_time(c->since, &since)) {
        cli_error(c, "logs: --since %s: expected a time such as \"2026-12-02 13:00:00\", an ISO 8601 time, "
                     "\"-5m\", \"10 min ago\", \"today\" or \"@UNIXSECONDS\"", c->since);
        return EXIT_USAGE;
    }
    if (c->until && !parse_time(c->until, &until)) {
        cli_error(c, "logs: --until %s: expected a time such as \"2026-12-02 13:00:00\", an ISO 8601 time, "
                     "\"-5m\", \"10 min ago\", \"today\" or \"@UNIXSECONDS\"", c->until);
        return EXIT_USAGE;
    }
    if (c->until && c->follow) {
        cli_error(c, "logs: --until and -f exclude each other");
        return EXIT_USAGE;
    }
    if (c->retry && !c->follow) {
        cli_error(c, "logs: --retry goes with -f");
        return EXIT_USAGE;
    }
    cJSON *req = cli_request_new(WD_VERB_LOGS);
    if (req) {
        if (name)
            cJSON_AddStringToObject(req, WD_F_NAME, name);
        cJSON_AddBoolToObject(req, WD_F_ENTRIES, true);
        if (c->lines >= 0)
            cJSON_AddNumberToObject(req, WD_F_LINES, (double)c->lines);
        if (c->follow)
            cJSON_AddBoolToObject(req, WD_F_FOLLOW, true);
        if (c->since)
            cJSON_AddNumberToObject(req, WD_F_SINCE_US, since);
        if (c->until)
            cJSON_AddNumberToObject(req, WD_F_UNTIL_US, until);
    }
    cli_conn conn;
    cJSON *r;
    int status = cli_call(c, req, NULL, 0, c->follow, &conn, &r);
    cJSON_Delete(req);
    if (status != EXIT_OK)
        return status;
    status = cli_response_status(c, r);
    if (status != EXIT_OK) {
        cli_print_doc(c, r, status);
        cli_conn_close(&conn);
        return status;
    }
    double last_us = -1;       /* the time of the last line printed */
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, WD_F_ENTRIES)) {
        print_entry(c, out, !name, e);
        last_us = cli_json_num(e, WD_F_TIME_US);
    }
    cJSON_Delete(r);
    fflush(stdout);
    c->printed = true;         /* the lines are the output */
    while (c->follow) {
        /* Until the daemon closes the connection (an error: it stopped) or we are interrupted. */
        while ((r = cli_receive(c, &conn, &status))) {
            const cJSON *entry = cJSON_GetObjectItemCaseSensitive(r, WD_F_ENTRY);
            if (cJSON_IsObject(entry)) {
                print_entry(c, out, !name, entry);
                last_us = cli_json_num(entry, WD_F_TIME_US);
                fflush(stdout);
            }
            cJSON_Delete(r);
        }
        cli_conn_close(&conn);
        if (!c->retry || status != EXIT_UNREACHABLE)
            break;
        /* --retry: wait for the daemon to answer again, then go on after the last line printed. */
        do
            status = reconnect(c, name, out, &last_us, &conn);
        while (status == EXIT_UNREACHABLE); /* it went away again before answering */
        if (status != EXIT_OK)
            break;
    }
    c->printed = c->printed && !c->follow; /* a stream that ended gets its status document */
    cli_conn_close(&conn);
    return status;
}

/* ---- top ---------------------------------------------------------------------- */

/* The default seconds between two refreshes of top on a terminal. */
#define TOP_INTERVAL_S 2.0

/* "1.2G", "345M", "12k", "950": a count in four columns or so. */
static void format_count(double n, char *buf, size_t size) {
    if (n < 0)
        snprintf(buf, size, "-");
    else if (n < 10000)
        snprintf(buf, size, "%.0f", n);
    else if (n < 10e6)
        snprintf(buf, size, "%.0fk", n / 1e3);
    else if (n < 10e9)
        snprintf(buf, size, "%.0fM", n / 1e6);
    else
        snprintf(buf, size, "%.1fG", n / 1e9);
}

static double mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* CPU time (µs) of `name` in the previous snapshot, or -1. */
static double previous_cpu(const cJSON *prev, const char *name) {
    const cJSON *in;
    cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(prev, WD_F_INSTANCES))
        if (strcmp(cli_json_str(in, WD_F_NAME), name) == 0)
            return cli_json_num(in, WD_F_CPU_US);
    return -1;
}

/* One table: a summary line, then a row per module; CPU% against `prev` taken `elapsed_us` earlier. */
static void print_top(const cJSON *r, const cJSON *prev, double elapsed_us, bool colour) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(r, WD_F_INSTANCES), *in;
    int n = cJSON_GetArraySize(list), active = 0;
    double used = 0, budget = 0;
    cJSON_ArrayForEach(in, list) {
        const char *st = cli_json_str(in, WD_F_STATE);
        active += strcmp(st, "running") == 0 || strcmp(st, "waiting") == 0;
        used = cli_json_num(in, WD_F_MEMORY_BUDGET_USED);
        budget = cli_json_num(in, WD_F_MEMORY_BUDGET);
    }
    char u[32], b[32];
    cli_format_bytes(used > 0 ? used : 0, u, sizeof u);
    cli_format_bytes(budget > 0 ? budget : 0, b, sizeof b);
    printf("wasmd: %d module%s, %d running or waiting; memory %s of %s budget\n", n, n == 1 ? "" : "s", active, u, b);
    if (colour)
        fputs("\033[1;7m", stdout);
    printf("%-20s %-13s %8s %4s %6s %8s %7s %7s %10s %10s %6s %s", "NAME", "STATE", "UPTIME", "RST", "CPU%",
           "CPU", "FUEL", "SLICES", "MEMORY", "LIMIT", "EVENTS", "HARDWARE");
    if (colour)
        fputs("\033[0m", stdout);
    putchar('\n');
    cJSON_ArrayForEach(in, list) {
        const char *name = cli_json_str(in, WD_F_NAME), *state = cli_json_str(in, WD_F_STATE);
        double cpu = cli_json_num(in, WD_F_CPU_US), before = prev ? previous_cpu(prev, name) : -1;
        char up[32], cputime[32], share[16], fuel[16], slices[16], mem[32], limit[32];
        double uptime = cli_json_num(in, WD_F_UPTIME_MS);
        cli_format_ms(uptime > 0 ? uptime : -1, up, sizeof up);
        cli_format_ms(cpu / 1000, cputime, sizeof cputime);
        if (before >= 0 && elapsed_us > 0 && cpu >= before)
            snprintf(share, sizeof share, "%.1f", (cpu - before) * 100 / elapsed_us);
        else
            snprintf(share, sizeof share, "-");
        format_count(cli_json_num(in, WD_F_FUEL_USED), fuel, sizeof fuel);
        format_count(cli_json_num(in, WD_F_SLICES_TOTAL), slices, sizeof slices);
        cli_format_bytes(cli_json_num(in, WD_F_MEMORY), mem, sizeof mem);
        cli_format_bytes(cli_json_num(in, WD_F_MEMORY_LIMIT), limit, sizeof limit);
        const char *sc = colour ? cli_state_colour(state) : "";
        printf("%-20s %s%-13s%s %8s %4.0f %6s %8s %7s %7s %10s %10s %6.0f ", name, sc, state, sc[0] ? "\033[0m" : "", up, cli_json_num(in, WD_F_RESTARTS), share, cputime, fuel, slices, mem,
               limit, cli_json_num(in, WD_F_EVENTS_QUEUED));
        const cJSON *hw = cJSON_GetObjectItemCaseSensitive(in, WD_F_HARDWARE), *item;
        int nhw = cJSON_GetArraySize(hw);
        cJSON_ArrayForEach(item, hw) {
            /* The first thing held, in short ("gpio led"), and how many more. */
            if (cJSON_IsString(item)) {
                const char *colon = strchr(item->valuestring, ':');
                printf("%.*s", colon ? (int)(colon - item->valuestring) : (int)strlen(item->valuestring),
                       item->valuestring);
                if (nhw > 1)
                    printf(" +%d", nhw - 1);
                break;
            }
        }
        if (nhw == 0)
            putchar('-');
        putchar('\n');
    }
}

int cmd_top(cli *c) {
    bool live = !c->json && isatty(STDOUT_FILENO);
    bool colour = live && cli_color();
    double interval = c->interval_s > 0 ? c->interval_s : TOP_INTERVAL_S;
    cJSON *prev = NULL;
    double prev_at = 0;
    for (;;) {
        cJSON *r, *req = cli_request_new(WD_VERB_LIST);
        int status = cli_call(c, req, NULL, 0, false, NULL, &r);
        cJSON_Delete(req);
        if (status != EXIT_OK) {
            cJSON_Delete(prev);
            return status;
        }
        double at = mono_us();
        status = cli_response_status(c, r);
        if (status != EXIT_OK || c->json) {
            cJSON_Delete(prev);
            cli_print_doc(c, r, status); /* --json: the list's document, every figure in it */
            return status;
        }
        if (live)
            fputs("\033[H\033[2J", stdout); /* home, clear */
        print_top(r, prev, at - prev_at, colour);
        fflush(stdout);
        cJSON_Delete(prev);
        prev = r;
        prev_at = at;
        if (!live)
            break;
        struct timespec ts = { .tv_sec = (time_t)interval,
                               .tv_nsec = (long)((interval - (double)(time_t)interval) * 1e9) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    cJSON_Delete(prev);
    return EXIT_OK;
}

/* ---- metrics ------------------------------------------------------------------ */

static void print_metrics(const cli *c, const cJSON *r) {
    (void)c;
    fputs(cli_json_str(r, WD_F_TEXT), stdout);
}

int cmd_metrics(cli *c) {
    return cli_simple(c, cli_request_new(WD_VERB_METRICS), print_metrics);
}
