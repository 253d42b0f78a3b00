/*
 * history.c - the versions of each deployed module: which units deploy.c
 * keeps besides the one in use, so that `wasmctl rollback` (and the health
 * gate's automatic rollback) can switch back to them.
 *
 * One file per module, STATE_DIR/modules/.history-NAME: a JSON array of
 * entries, oldest first, rewritten whole (a temporary file renamed over
 * it, so a crash leaves the old list or the new one):
 *
 *   {"deploy": 7, "unit": ".unit-Q3xk9A", "version": "3", "sha256": "..",
 *    "signer": "ops.pub", "time": 1796218780, "source": "deploy",
 *    "outcome": "started"}
 *
 * "deploy" numbers the entries; "unit" is "" once the unit is gone (it
 * failed, or was pruned); "version" and "signer" are "" for an unsigned
 * module; "source" is deploy or rollback; "outcome" is started, "failed
 * to start: ..." or "rolled back: ...".
 *
 * Pruning keeps the unit the link points to and those of the
 * cfg->history_keep most recent other entries; the directories of the
 * others are deleted.  Unit directories no link and no history entry
 * refers to are deleted at start (deploy.c, wd_deploy_load).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/internal.h"

#define HISTORY_PREFIX ".history-"

/* dir/.history-NAME into `path`; false when too long. */
static bool history_path(const char *dir, const char *name, char *path, size_t size) {
    return (size_t)snprintf(path, size, "%s/" HISTORY_PREFIX "%s", dir, name) < size;
}

cJSON *wd_history_read(const char *dir, const char *name) {
    char path[PATH_MAX];
    if (!history_path(dir, name, path, sizeof path))
        return cJSON_CreateArray();
    FILE *fp = fopen(path, "re");
    if (!fp)
        return cJSON_CreateArray();
    char *text = malloc(WD_HISTORY_FILE_MAX + 1);
    size_t n = text ? fread(text, 1, WD_HISTORY_FILE_MAX, fp) : 0;
    fclose(fp);
    cJSON *arr = text ? cJSON_ParseWithLength(text, n) : NULL;
    free(text);
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(arr);
        return cJSON_CreateArray();
    }
    return arr;
}

/* Writes the list atomically (temporary file, fsync, rename); 0 or -errno. */
static int history_write(const char *dir, const char *name, const cJSON *arr) {
    char path[PATH_MAX], tmp[PATH_MAX];
    if (!history_path(dir, name, path, sizeof path) ||
        (size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -ENAMETOOLONG;
    char *text = cJSON_PrintUnformatted(arr);
    if (!text)
        return -ENOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int r = 0;
    if (fd < 0) {
        r = -errno;
    } else {
        size_t len = strlen(text);
        if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0)
            r = errno ? -errno : -EIO;
        close(fd);
        if (r == 0 && rename(tmp, path) < 0)
            r = -errno;
        if (r < 0)
            (void)unlink(tmp);
    }
    free(text);
    return r;
}

/* Deletes a unit directory and its plain files. */
static void delete_unit(const char *dir, const char *unit) {
    char path[PATH_MAX];
    if (!unit[0] || strncmp(unit, ".unit-", 6) != 0 || strchr(unit, '/') ||
        (size_t)snprintf(path, sizeof path, "%s/%s", dir, unit) >= sizeof path)
        return;
    DIR *dp = opendir(path);
    if (dp) {
        struct dirent *de;
        while ((de = readdir(dp)))
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                (void)unlinkat(dirfd(dp), de->d_name, 0);
        closedir(dp);
    }
    (void)rmdir(path);
}

/* The unit the module's link points to, into `out` ("" when none). */
static void current_unit(const char *dir, const char *name, char *out, size_t size) {
    char link[PATH_MAX];
    out[0] = '\0';
    if ((size_t)snprintf(link, sizeof link, "%s/%s", dir, name) >= sizeof link)
        return;
    ssize_t n = readlink(link, out, size - 1);
    out[n > 0 ? n : 0] = '\0';
}

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* True when an entry other than `skip` still names `unit`. */
static bool unit_named(const cJSON *arr, const cJSON *skip, const char *unit) {
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
        if (e != skip && strcmp(str(e, "unit"), unit) == 0)
            return true;
    return false;
}

void wd_history_prune(wd_daemon *d, const char *dir, const char *name, const char *protect) {
    cJSON *arr = wd_history_read(dir, name);
    char cur[NAME_MAX + 1];
    current_unit(dir, name, cur, sizeof cur);
    /* Newest first: the current unit, `protect`, and `keep` others stay. */
    unsigned kept = 0, keep = d->cfg->history_keep;
    bool changed = false;
    for (int i = cJSON_GetArraySize(arr) - 1; i >= 0; i--) {
        cJSON *e = cJSON_GetArrayItem(arr, i);
        const char *unit = str(e, "unit");
        if (!unit[0] || strcmp(unit, cur) == 0 || (protect && strcmp(unit, protect) == 0))
            continue;
        if (kept < keep) {
            kept++;
            continue;
        }
        char gone[NAME_MAX + 1];
        snprintf(gone, sizeof gone, "%s", unit);
        cJSON_ReplaceItemInObjectCaseSensitive(e, "unit", cJSON_CreateString(""));
        changed = true;
        if (!unit_named(arr, NULL, gone) && strcmp(gone, cur) != 0)
            delete_unit(dir, gone);
    }
    /* At most WD_HISTORY_MAX entries are listed. */
    while (cJSON_GetArraySize(arr) > (int)WD_HISTORY_MAX) {
        cJSON *old = cJSON_DetachItemFromArray(arr, 0);
        const char *unit = str(old, "unit");
        if (unit[0] && !unit_named(arr, NULL, unit) && strcmp(unit, cur) != 0)
            delete_unit(dir, unit);
        cJSON_Delete(old);
        changed = true;
    }
    if (changed && history_write(dir, name, arr) < 0)
        fprintf(stderr, "wasmd: %s: cannot write its history\n", name);
    cJSON_Delete(arr);
}

int wd_history_add(wd_daemon *d, const char *dir, const char *name, const wd_history_entry *h) {
    cJSON *arr = wd_history_read(dir, name);
    int next = 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "deploy");
        if (cJSON_IsNumber(n) && n->valueint >= next)
            next = n->valueint + 1;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(arr);
        return -ENOMEM;
    }
    cJSON_AddNumberToObject(o, "deploy", next);
    cJSON_AddStringToObject(o, "unit", h->unit ? h->unit : "");
    cJSON_AddStringToObject(o, "version", h->version ? h->version : "");
    cJSON_AddStringToObject(o, "sha256", h->sha256 ? h->sha256 : "");
    cJSON_AddStringToObject(o, "signer", h->signer ? h->signer : "");
    cJSON_AddNumberToObject(o, "time", (double)time(NULL));
    cJSON_AddStringToObject(o, "source", h->source ? h->source : "deploy");
    cJSON_AddStringToObject(o, "outcome", h->outcome ? h->outcome : "");
    cJSON_AddItemToArray(arr, o);
    int r = history_write(dir, name, arr);
    cJSON_Delete(arr);
    if (r < 0)
        fprintf(stderr, "wasmd: %s: cannot write its history: %s\n", name, strerror(-r));
    return r < 0 ? r : next;
}

void wd_history_set_outcome(const char *dir, const char *name, int deploy, const char *outcome, bool unit_gone) {
    cJSON *arr = wd_history_read(dir, name);
    cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(e, "deploy");
        if (cJSON_IsNumber(n) && n->valueint == deploy) {
            cJSON_ReplaceItemInObjectCaseSensitive(e, "outcome", cJSON_CreateString(outcome));
            if (unit_gone)
                cJSON_ReplaceItemInObjectCaseSensitive(e, "unit", cJSON_CreateString(""));
        }
    }
    if (history_write(dir, name, arr) < 0)
        fprintf(stderr, "wasmd: %s: cannot write its history\n", name);
    cJSON_Delete(arr);
}

cJSON *wd_history_list(const char *dir, const char *name) {
    cJSON *arr = wd_history_read(dir, name);
    char cur[NAME_MAX + 1];
    current_unit(dir, name, cur, sizeof cur);
    /* The newest entry naming the current unit is the one running. */
    bool seen = false;
    for (int i = cJSON_GetArraySize(arr) - 1; i >= 0; i--) {
        cJSON *e = cJSON_GetArrayItem(arr, i);
        bool current = !seen && cur[0] && strcmp(str(e, "unit"), cur) == 0;
        seen = seen || current;
        cJSON_AddBoolToObject(e, "current", current);
    }
    return arr;
}

void wd_history_forget(const char *dir, const char *name) {
    cJSON *arr = wd_history_read(dir, name);
    const cJSON *e;
    cJSON_ArrayForEach(e, arr)
        delete_unit(dir, str(e, "unit"));
    cJSON_Delete(arr);
    char path[PATH_MAX];
    if (history_path(dir, name, path, sizeof path))
        (void)unlink(path);
}

bool wd_history_keeps(const char *dir, const char *unit) {
    DIR *dp = opendir(dir);
    if (!dp)
        return false;
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(dp))) {
        size_t plen = strlen(HISTORY_PREFIX), len = strlen(de->d_name);
        if (strncmp(de->d_name, HISTORY_PREFIX, plen) != 0 || (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0))
            continue;
        cJSON *arr = wd_history_read(dir, de->d_name + plen);
        found = unit_named(arr, NULL, unit);
        cJSON_Delete(arr);
    }
    closedir(dp);
    return found;
}
