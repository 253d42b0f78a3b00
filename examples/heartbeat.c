/*
 * heartbeat.c - an example reactor: no main, no loop.  wasmd calls
 * wasmd_init once, which arms a timer; wasmd then calls wasmd_on_timer
 * every 500 ms, and wasmd_shutdown when the module is stopped.  Between
 * beats the module costs nothing: it is not running at all.
 *
 * Build (see sdk/GUIDE.md):
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 heartbeat.c -o heartbeat.wasm
 */
#include <stdio.h>

#include "../sdk/wasmd.h"

#define BEAT_TIMER 1
#define BEAT_MS 500

static unsigned beats;

WASMD_EXPORT(WASMD_EXPORT_INIT)
int32_t wasmd_init(void) {
    int32_t e = wasmd_timer_start(BEAT_TIMER, BEAT_MS, 1);
    if (e != WASMD_OK) {
        char msg[96];
        snprintf(msg, sizeof msg, "cannot start the timer: %s", wasmd_strerror(e));
        wasmd_log_str(WASMD_LOG_ERROR, msg);
        return 1; /* the daemon marks the module failed */
    }
    wasmd_log_str(WASMD_LOG_INFO, "heartbeat: every 500 ms");
    return 0;
}

WASMD_EXPORT(WASMD_EXPORT_ON_TIMER)
void wasmd_on_timer(uint32_t id) {
    if (id != BEAT_TIMER)
        return;
    beats++;
    /* stdout works too: each line goes to the module's log. */
    printf("beat %u\n", beats);
    fflush(stdout);
}

WASMD_EXPORT(WASMD_EXPORT_SHUTDOWN)
void wasmd_shutdown(void) {
    char msg[64];
    snprintf(msg, sizeof msg, "heartbeat: stopping after %u beats", beats);
    wasmd_log_str(WASMD_LOG_INFO, msg);
}
