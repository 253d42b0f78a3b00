/*
 * cmd_remote.c - the verbs of remote deploys' bookkeeping: history (the
 * versions kept of a deployed module), rollback (switch back to one) and
 * fleet status (the desired-state document the daemon follows).
 *
 * Exit status: see the table in wasmctl.h (and wasmctl(1)).
 */
#include <stdio.h>
#include <string.h>

#include "cli/wasmctl.h"
#include "daemon/proto.h"

/* One line per version: number, current mark, version, time, source, unit kept, signer, hash, outcome. */
static void print_history(const cli *c, const cJSON *r) {
    (void)c;
    printf("%-4s %-1s %-10s %-19s %-8s %-5s %-12s %-16s %s\n", "#", "", "VERSION", "TIME", "SOURCE", "KEPT",
           "SIGNER", "SHA256", "OUTCOME");
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(r, WD_F_HISTORY)) {
        char when[32] = "-";
        cli_format_time(cli_json_num(e, "time"), when, sizeof when);
        const char *version = cli_json_str(e, "version"), *signer = cli_json_str(e, "signer");
        printf("%-4.0f %-1s %-10s %-19s %-8s %-5s %-12s %-16.16s %s\n", cli_json_num(e, "deploy"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "current")) ? "*" : "",
               version[0] ? version : "-", when, cli_json_str(e, "source"),
               cli_json_str(e, "unit")[0] ? "yes" : "no", signer[0] ? signer : "unsigned", cli_json_str(e, "sha256"),
               cli_json_str(e, "outcome"));
    }
}

int cmd_history(cli *c) {
    cJSON *req = cli_request_new(WD_VERB_HISTORY);
    if (req)
        cJSON_AddStringToObject(req, WD_F_NAME, c->args[0]);
    return cli_simple(c, req, print_history);
}

/* "ticker: running" once the kept version has started. */
static void print_rolled_back(const cli *c, const cJSON *r) {
    (void)c;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(r, WD_F_INSTANCE);
    printf("%s: %s\n", cli_json_str(in, WD_F_NAME), cli_json_str(in, WD_F_STATE));
}

int cmd_rollback(cli *c) {
    cJSON *req = cli_request_new(WD_VERB_ROLLBACK);
    if (req) {
        cJSON_AddStringToObject(req, WD_F_NAME, c->args[0]);
        if (c->to)
            cJSON_AddStringToObject(req, WD_F_TO, c->to);
    }
    return cli_simple(c, req, print_rolled_back);
}

/* The last poll, the document's version, then one line per module and its convergence. */
static void print_fleet(const cli *c, const cJSON *r) {
    (void)c;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(r, WD_F_FLEET);
    char when[32] = "never";
    cli_format_time(cli_json_num(f, "last_poll"), when, sizeof when);
    printf("url:       %s\n", cli_json_str(f, "url"));
    printf("last poll: %s: %s\n", when, cli_json_str(f, "result"));
    printf("version:   %s\n", cli_json_str(f, "version")[0] ? cli_json_str(f, "version") : "-");
    printf("%-20s %s\n", "MODULE", "STATE");
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(f, "modules"))
        printf("%-20s %s\n", cli_json_str(m, "name"), cli_json_str(m, "state"));
}

int cmd_fleet(cli *c) {
    if (strcmp(c->args[0], "status") != 0) {
        cli_error(c, "fleet: unknown subcommand \"%s\" (usage: wasmctl %s)", c->args[0], c->verb->usage);
        return EXIT_USAGE;
    }
    cJSON *req = cli_request_new(WD_VERB_FLEET);
    if (req)
        cJSON_AddStringToObject(req, WD_F_OP, "status");
    return cli_simple(c, req, print_fleet);
}
