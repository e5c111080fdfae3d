/* Metrics: counters, gauges and histograms with labels, rendered in the
 * Prometheus text format (for GET /metrics).
 *
 * Series are created once (get-or-create by name and labels, thread-safe)
 * and updated lock-free through the returned pointer, from any thread.
 * Labels are given as NULL-terminated key, value pairs; values are escaped. */
#ifndef GANGLION_METRICS_H
#define GANGLION_METRICS_H

#include <stddef.h>
#include <stdint.h>

typedef struct gn_metrics gn_metrics_t;
typedef struct gn_series gn_counter_t;
typedef struct gn_series gn_gauge_t;
typedef struct gn_series gn_histogram_t;

int gn_metrics_new(gn_metrics_t **out);
void gn_metrics_free(gn_metrics_t *m);

/* NULL for a bad name, a name already used with another kind, or no memory.
 * Names: [a-zA-Z_:][a-zA-Z0-9_:]*; label keys: [a-zA-Z_][a-zA-Z0-9_]*. */
gn_counter_t *gn_metrics_counter(gn_metrics_t *m, const char *name, const char *help, ...)
    __attribute__((sentinel));
gn_gauge_t *gn_metrics_gauge(gn_metrics_t *m, const char *name, const char *help, ...)
    __attribute__((sentinel));
/* `bounds`: n increasing upper bounds (+Inf is implicit). */
gn_histogram_t *gn_metrics_histogram(gn_metrics_t *m, const char *name, const char *help,
                                     const double *bounds, size_t n, ...) __attribute__((sentinel));

void gn_counter_add(gn_counter_t *c, uint64_t n);
/* Mirror a count kept elsewhere (it must only grow). */
void gn_counter_set(gn_counter_t *c, uint64_t total);
static inline void gn_counter_inc(gn_counter_t *c)
{
    gn_counter_add(c, 1);
}
void gn_gauge_set(gn_gauge_t *g, double v);
void gn_gauge_add(gn_gauge_t *g, double d);
void gn_histogram_observe(gn_histogram_t *h, double v);

/* Called at the start of every render (to refresh gauges from state). */
int gn_metrics_add_collector(gn_metrics_t *m, void (*fn)(gn_metrics_t *m, void *arg), void *arg);

/* The exposition text, malloc'd (free it). */
int gn_metrics_render(gn_metrics_t *m, char **out, size_t *len);

#endif
