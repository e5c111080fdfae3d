/* Metrics registry and Prometheus text rendering (include/ganglion/metrics.h). */
#include "ganglion/metrics.h"
#include "ganglion/error.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { K_COUNTER, K_GAUGE, K_HISTOGRAM } kind_t;

struct gn_series {
    struct family *fam;
    char *labels;               /* rendered: key="value",... (empty for none) */
    atomic_uint_fast64_t count; /* counter value; histogram count */
    _Atomic double value;       /* gauge value; histogram sum */
    atomic_uint_fast64_t *buckets;
    struct gn_series *next;
};

struct family {
    char *name, *help;
    kind_t kind;
    double *bounds;
    size_t n_bounds;
    struct gn_series *series, *last;
    struct family *next;
};

typedef struct collector {
    void (*fn)(gn_metrics_t *, void *);
    void *arg;
    struct collector *next;
} collector_t;

struct gn_metrics {
    pthread_mutex_t mu;
    struct family *families, *last;
    collector_t *collectors;
};

int gn_metrics_new(gn_metrics_t **out)
{
    gn_metrics_t *m = calloc(1, sizeof(*m));
    if (!m)
        return GN_ENOMEM;
    pthread_mutex_init(&m->mu, NULL);
    *out = m;
    return 0;
}

void gn_metrics_free(gn_metrics_t *m)
{
    if (!m)
        return;
    for (struct family *f = m->families, *nf; f; f = nf) {
        nf = f->next;
        for (struct gn_series *s = f->series, *ns; s; s = ns) {
            ns = s->next;
            free(s->labels);
            free(s->buckets);
            free(s);
        }
        free(f->name);
        free(f->help);
        free(f->bounds);
        free(f);
    }
    for (collector_t *c = m->collectors, *nc; c; c = nc) {
        nc = c->next;
        free(c);
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s || isdigit((unsigned char)*s))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && !(colon && *s == ':'))
            return false;
    return true;
}

/* key="value",... from NULL-terminated pairs; NULL for a bad key. */
static char *render_labels(va_list ap)
{
    size_t cap = 64, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    out[0] = '\0';
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (!v || !valid_name(k, false)) {
            free(out);
            return NULL;
        }
        size_t need = len + strlen(k) + 2 * strlen(v) + 6;
        if (need > cap) {
            cap = need * 2;
            char *n = realloc(out, cap);
            if (!n) {
                free(out);
                return NULL;
            }
            out = n;
        }
        len += (size_t)sprintf(out + len, "%s%s=\"", len ? "," : "", k);
        for (const char *p = v; *p; p++) { /* the format's three escapes */
            if (*p == '\\' || *p == '"')
                out[len++] = '\\', out[len++] = *p;
            else if (*p == '\n')
                out[len++] = '\\', out[len++] = 'n';
            else
                out[len++] = *p;
        }
        out[len++] = '"';
        out[len] = '\0';
    }
    return out;
}

static struct gn_series *get_series(gn_metrics_t *m, kind_t kind, const char *name,
                                    const char *help, const double *bounds, size_t n_bounds,
                                    va_list ap)
{
    if (!valid_name(name, true))
        return NULL;
    char *labels = render_labels(ap);
    if (!labels)
        return NULL;
    pthread_mutex_lock(&m->mu);
    struct family *f = m->families;
    while (f && strcmp(f->name, name) != 0)
        f = f->next;
    struct gn_series *s = NULL;
    if (f && f->kind != kind)
        goto done;
    if (!f) {
        f = calloc(1, sizeof(*f));
        if (!f)
            goto done;
        f->name = strdup(name);
        f->help = strdup(help ? help : "");
        f->kind = kind;
        if (kind == K_HISTOGRAM && n_bounds) {
            f->bounds = malloc(n_bounds * sizeof(double));
            if (f->bounds)
                memcpy(f->bounds, bounds, n_bounds * sizeof(double));
            f->n_bounds = n_bounds;
        }
        if (m->last)
            m->last->next = f;
        else
            m->families = f;
        m->last = f;
    }
    for (s = f->series; s; s = s->next)
        if (strcmp(s->labels, labels) == 0)
            goto done;
    s = calloc(1, sizeof(*s));
    if (!s)
        goto done;
    s->fam = f;
    s->labels = labels;
    labels = NULL;
    if (kind == K_HISTOGRAM)
        s->buckets = calloc(f->n_bounds + 1, sizeof(*s->buckets));
    if (f->last)
        f->last->next = s;
    else
        f->series = s;
    f->last = s;
done:
    pthread_mutex_unlock(&m->mu);
    free(labels);
    return s;
}

gn_counter_t *gn_metrics_counter(gn_metrics_t *m, const char *name, const char *help, ...)
{
    va_list ap;
    va_start(ap, help);
    struct gn_series *s = get_series(m, K_COUNTER, name, help, NULL, 0, ap);
    va_end(ap);
    return s;
}

gn_gauge_t *gn_metrics_gauge(gn_metrics_t *m, const char *name, const char *help, ...)
{
    va_list ap;
    va_start(ap, help);
    struct gn_series *s = get_series(m, K_GAUGE, name, help, NULL, 0, ap);
    va_end(ap);
    return s;
}

gn_histogram_t *gn_metrics_histogram(gn_metrics_t *m, const char *name, const char *help,
                                     const double *bounds, size_t n, ...)
{
    for (size_t i = 1; i < n; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;
    va_list ap;
    va_start(ap, n);
    struct gn_series *s = get_series(m, K_HISTOGRAM, name, help, bounds, n, ap);
    va_end(ap);
    return s;
}

void gn_counter_add(gn_counter_t *c, uint64_t n)
{
    if (c)
        atomic_fetch_add(&c->count, n);
}

void gn_counter_set(gn_counter_t *c, uint64_t total)
{
    if (c)
        atomic_store(&c->count, total);
}

void gn_gauge_set(gn_gauge_t *g, double v)
{
    if (g)
        atomic_store(&g->value, v);
}

void gn_gauge_add(gn_gauge_t *g, double d)
{
    if (!g)
        return;
    double old = atomic_load(&g->value);
    while (!atomic_compare_exchange_weak(&g->value, &old, old + d)) {
    }
}

void gn_histogram_observe(gn_histogram_t *h, double v)
{
    if (!h || !h->buckets)
        return;
    size_t i = 0;
    while (i < h->fam->n_bounds && v > h->fam->bounds[i])
        i++;
    atomic_fetch_add(&h->buckets[i], 1);
    atomic_fetch_add(&h->count, 1);
    gn_gauge_add(h, v); /* the sum */
}

int gn_metrics_add_collector(gn_metrics_t *m, void (*fn)(gn_metrics_t *m, void *arg), void *arg)
{
    collector_t *c = calloc(1, sizeof(*c));
    if (!c)
        return GN_ENOMEM;
    c->fn = fn;
    c->arg = arg;
    pthread_mutex_lock(&m->mu);
    c->next = m->collectors;
    m->collectors = c;
    pthread_mutex_unlock(&m->mu);
    return 0;
}

typedef struct {
    char *p;
    size_t len, cap;
    bool oom;
} buf_t;

static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf_t *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

static void put_value(buf_t *b, double v)
{
    if (isinf(v))
        put(b, v > 0 ? "+Inf" : "-Inf");
    else if (isnan(v))
        put(b, "NaN");
    else
        put(b, "%.17g", v);
}

int gn_metrics_render(gn_metrics_t *m, char **out, size_t *len)
{
    pthread_mutex_lock(&m->mu);
    collector_t *cs = m->collectors;
    pthread_mutex_unlock(&m->mu);
    for (collector_t *c = cs; c; c = c->next)
        c->fn(m, c->arg);

    buf_t b = {malloc(4096), 0, 4096, false};
    if (!b.p)
        return GN_ENOMEM;
    b.p[0] = '\0';
    static const char *types[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&m->mu);
    for (struct family *f = m->families; f; f = f->next) {
        put(&b, "# HELP %s ", f->name);
        for (const char *p = f->help; *p; p++) /* help escapes: \ and newline */
            put(&b, "%s", *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : (char[]){*p, 0});
        put(&b, "\n# TYPE %s %s\n", f->name, types[f->kind]);
        for (struct gn_series *s = f->series; s; s = s->next) {
            const char *l = s->labels, *sep = *l ? "," : "";
            if (f->kind == K_COUNTER) {
                put(&b, "%s%s%s%s %llu\n", f->name, *l ? "{" : "", l, *l ? "}" : "",
                    (unsigned long long)atomic_load(&s->count));
            } else if (f->kind == K_GAUGE) {
                put(&b, "%s%s%s%s ", f->name, *l ? "{" : "", l, *l ? "}" : "");
                put_value(&b, atomic_load(&s->value));
                put(&b, "\n");
            } else {
                uint64_t cum = 0;
                for (size_t i = 0; i <= f->n_bounds; i++) {
                    cum += atomic_load(&s->buckets[i]);
                    put(&b, "%s_bucket{%s%sle=\"", f->name, l, sep);
                    put_value(&b, i < f->n_bounds ? f->bounds[i] : INFINITY);
                    put(&b, "\"} %llu\n", (unsigned long long)cum);
                }
                put(&b, "%s_sum%s%s%s ", f->name, *l ? "{" : "", l, *l ? "}" : "");
                put_value(&b, atomic_load(&s->value));
                put(&b, "\n%s_count%s%s%s %llu\n", f->name, *l ? "{" : "", l, *l ? "}" : "",
                    (unsigned long long)atomic_load(&s->count));
            }
        }
    }
    pthread_mutex_unlock(&m->mu);
    if (b.oom) {
        free(b.p);
        return GN_ENOMEM;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
