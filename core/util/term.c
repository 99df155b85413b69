#include "util/term.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"

/* One bar at a time is drawn (nodes run one after another); a nested
 * counter falls back to log lines. */
struct aigtatt_progress {
    char label[64];
    uint64_t total;
    _Atomic uint64_t done;
    _Atomic uint64_t failed;
    double start;
    double last_draw;
    int bar; /* drawn as a bar (terminal) rather than log lines */
    char note[128]; /* the node's own figures (loss, lr), under draw_lock */
};

static int plain_mode = -1;
static aigtatt_progress *active;
static pthread_mutex_t draw_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void aigtatt_progress_set_mode(int plain) { plain_mode = plain; }

static void fmt_eta(double s, char *buf, size_t n)
{
    if (s < 0 || s > 1e7) {
        snprintf(buf, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

static void format_line(aigtatt_progress *p, char *line, size_t n, int with_bar)
{
    uint64_t done = atomic_load(&p->done), failed = atomic_load(&p->failed);
    uint64_t count = done + failed;
    double el = now_s() - p->start;
    double rate = el > 0 ? (double)count / el : 0;
    char eta[32] = "";
    if (p->total && rate > 0)
        fmt_eta((double)(p->total - (count < p->total ? count : p->total)) / rate, eta, sizeof eta);
    else
        fmt_eta(-1, eta, sizeof eta);
    /* done / failed / remaining: what someone paying per item watches */
    char fail[96] = "";
    if (failed && p->total)
        snprintf(fail, sizeof fail, " (%llu done, %llu failed, %llu left)", (unsigned long long)done,
                 (unsigned long long)failed, (unsigned long long)(count < p->total ? p->total - count : 0));
    else if (failed)
        snprintf(fail, sizeof fail, " (%llu failed)", (unsigned long long)failed);
    if (p->total) {
        char bar[32] = "";
        if (with_bar) {
            int w = 24, fill = (int)((double)w * (double)count / (double)p->total);
            if (fill > w)
                fill = w;
            bar[0] = '[';
            for (int i = 0; i < w; i++)
                bar[1 + i] = i < fill ? '#' : '.';
            bar[w + 1] = ']';
            bar[w + 2] = ' ';
            bar[w + 3] = '\0';
        }
        snprintf(line, n, "%s %s%llu/%llu%s %.1f/s ETA %s%s%s", p->label, bar,
                 (unsigned long long)count, (unsigned long long)p->total, fail, rate, eta,
                 p->note[0] ? " | " : "", p->note);
    } else {
        snprintf(line, n, "%s %llu%s %.1f/s%s%s", p->label, (unsigned long long)count, fail, rate,
                 p->note[0] ? " | " : "", p->note);
    }
}

void aigtatt_term_clear_line(void)
{
    if (active && active->bar)
        fputs("\r\033[K", stderr);
}

void aigtatt_term_redraw(void)
{
    if (active && active->bar) {
        char line[384];
        format_line(active, line, sizeof line, 1);
        fputs(line, stderr);
        fflush(stderr);
    }
}

aigtatt_progress *aigtatt_progress_begin(const char *label, uint64_t total)
{
    static aigtatt_progress dummy; /* for OOM: counts are dropped */
    aigtatt_progress *p = calloc(1, sizeof *p);
    if (!p)
        return &dummy;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "working");
    p->total = total;
    p->start = p->last_draw = now_s();
    int plain = plain_mode >= 0 ? plain_mode : !isatty(STDERR_FILENO);
    pthread_mutex_lock(&draw_lock);
    if (!plain && !active) {
        p->bar = 1;
        active = p;
    }
    pthread_mutex_unlock(&draw_lock);
    return p;
}

void aigtatt_progress_add(aigtatt_progress *p, uint64_t done, uint64_t failed)
{
    if (!p || p->label[0] == '\0')
        return;
    atomic_fetch_add(&p->done, done);
    atomic_fetch_add(&p->failed, failed);
    double t = now_s();
    /* Bars redraw ten times a second; log lines every ten seconds. */
    double every = p->bar ? 0.1 : 10.0;
    if (t - p->last_draw < every)
        return;
    pthread_mutex_lock(&draw_lock);
    if (t - p->last_draw >= every) {
        p->last_draw = t;
        char line[384];
        if (p->bar) {
            format_line(p, line, sizeof line, 1);
            fprintf(stderr, "\r\033[K%s", line);
            fflush(stderr);
        } else {
            format_line(p, line, sizeof line, 0);
            pthread_mutex_unlock(&draw_lock);
            aigtatt_log(AIGTATT_LOG_INFO, "%s", line);
            return;
        }
    }
    pthread_mutex_unlock(&draw_lock);
}

void aigtatt_progress_note(aigtatt_progress *p, const char *text)
{
    if (!p || p->label[0] == '\0')
        return;
    pthread_mutex_lock(&draw_lock);
    snprintf(p->note, sizeof p->note, "%s", text ? text : "");
    pthread_mutex_unlock(&draw_lock);
}

void aigtatt_progress_end(aigtatt_progress *p)
{
    if (!p || p->label[0] == '\0')
        return;
    char line[384];
    pthread_mutex_lock(&draw_lock);
    format_line(p, line, sizeof line, 0);
    if (p->bar) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    if (active == p)
        active = NULL;
    pthread_mutex_unlock(&draw_lock);
    aigtatt_log(AIGTATT_LOG_INFO, "%s, done in %.1f s", line, now_s() - p->start);
    free(p);
}
