/* tkmsd: structured JSON logs on stderr, one object per line (never secrets). */
#include "tkmsd.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int g_level = TLOG_INFO;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static const char *g_node = "";

void log_set_level(const char *name) {
    if (!name) return;
    if (!strcmp(name, "debug")) g_level = TLOG_DEBUG;
    else if (!strcmp(name, "info")) g_level = TLOG_INFO;
    else if (!strcmp(name, "warn")) g_level = TLOG_WARN;
    else if (!strcmp(name, "error")) g_level = TLOG_ERROR;
}

void log_set_node(const char *node_id) { g_node = node_id; }

int log_enabled(int level) { return level >= g_level; }

void log_json(int level, const char *event, json_t *fields) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < g_level) {
        json_decref(fields);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_string(when));
    json_object_set_new(o, "level", json_string(names[level]));
    json_object_set_new(o, "event", json_string(event));
    if (g_node[0]) json_object_set_new(o, "node", json_string(g_node));
    if (fields) json_object_update(o, fields);
    json_decref(fields);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) return;
    pthread_mutex_lock(&g_mu);
    fputs(s, stderr);
    fputc('\n', stderr);
    fflush(stderr);
    pthread_mutex_unlock(&g_mu);
    free(s);
}

void logf_(int level, const char *event, const char *fmt, ...) {
    if (level < g_level) return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_json(level, event, json_pack("{s:s}", "msg", msg));
}

int log_sample(log_sampler *ls, double rate, double burst, uint64_t *suppressed) {
    uint64_t now = node_mono_ms();
    pthread_mutex_lock(&ls->mu);
    if (!ls->last_ms) ls->tokens = burst;
    else if (now > ls->last_ms) ls->tokens += (double)(now - ls->last_ms) * rate / 1000.0;
    if (ls->tokens > burst) ls->tokens = burst;
    ls->last_ms = now;
    int ok = ls->tokens >= 1.0;
    if (ok) {
        ls->tokens -= 1.0;
        *suppressed = ls->suppressed;
        ls->suppressed = 0;
    } else {
        ls->suppressed++;
    }
    pthread_mutex_unlock(&ls->mu);
    return ok;
}
