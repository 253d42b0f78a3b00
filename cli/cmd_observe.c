/*
 * cmd_observe.c - the verbs that watch modules: logs.
 *
 * With --json, logs prints JSON Lines: one object per log line, and a last
 * status document only when something went wrong (the daemon went away
 * during -f, an unknown module).
 */
#include <stdio.h>
#include <string.h>

#include "cli/wasmctl.h"
#include "daemon/proto.h"

/* One log line: as is, or {"module","line"} with --json. */
static void print_log_line(const cli *c, const char *module, const char *line) {
    if (!c->json) {
        puts(line);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, WD_F_MODULE, module);
    cJSON_AddStringToObject(o, WD_F_LINE, line);
    cli_print_line(o);
    cJSON_Delete(o);
}

int cmd_logs(cli *c) {
    cJSON *req = cli_request_new(WD_VERB_LOGS);
    if (req) {
        cJSON_AddStringToObject(req, WD_F_NAME, c->args[0]);
        if (c->lines >= 0)
            cJSON_AddNumberToObject(req, WD_F_LINES, (double)c->lines);
        if (c->follow)
            cJSON_AddBoolToObject(req, WD_F_FOLLOW, true);
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
    const cJSON *line;
    cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(r, WD_F_LINES))
        if (cJSON_IsString(line))
            print_log_line(c, c->args[0], line->valuestring);
    cJSON_Delete(r);
    fflush(stdout);
    c->printed = true;         /* the lines are the output */
    if (c->follow) {
        /* Until the daemon closes the connection (an error: it stopped) or we are interrupted. */
        while ((r = cli_receive(c, &conn, &status))) {
            print_log_line(c, c->args[0], cli_json_str(r, WD_F_LINE));
            cJSON_Delete(r);
        }
        c->printed = false;    /* the end of the stream gets its status document */
    }
    cli_conn_close(&conn);
    return status;
}
