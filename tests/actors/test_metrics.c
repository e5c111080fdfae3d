#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/metrics.h"

static char *render(gn_metrics_t *m)
{
    char *out;
    size_t len;
    cr_assert_eq(gn_metrics_render(m, &out, &len), 0);
    cr_assert_eq(strlen(out), len);
    return out;
}

static int collected;
static void collector(gn_metrics_t *m, void *arg)
{
    (void)arg;
    collected++;
    gn_gauge_set(
        gn_metrics_gauge(m, "ganglion_queue_depth", "Queued messages.", "actor", "axon", NULL), 7);
}

Test(metrics, prometheus_text)
{
    gn_metrics_t *m;
    cr_assert_eq(gn_metrics_new(&m), 0);
    gn_counter_t *ok = gn_metrics_counter(m, "ganglion_requests_total", "Requests by status.",
                                          "synapse", "Dummy", "status", "200", NULL);
    gn_counter_t *bad = gn_metrics_counter(m, "ganglion_requests_total", "Requests by status.",
                                           "synapse", "Dummy", "status", "401", NULL);
    cr_assert(ok && bad && ok != bad);
    cr_assert_eq(gn_metrics_counter(m, "ganglion_requests_total", "x", "synapse", "Dummy", "status",
                                    "200", NULL),
                 ok, "get-or-create");
    gn_counter_add(ok, 3);
    gn_counter_inc(bad);
    const double bounds[] = {0.005, 0.05, 0.5};
    gn_histogram_t *h =
        gn_metrics_histogram(m, "ganglion_latency_seconds", "Latency.", bounds, 3, NULL);
    gn_histogram_observe(h, 0.001);
    gn_histogram_observe(h, 0.2);
    gn_histogram_observe(h, 9);
    gn_gauge_t *g =
        gn_metrics_gauge(m, "ganglion_conns", "Open\nconnections.", "ip", "a\"b\\c\nd", NULL);
    gn_gauge_set(g, 2.5);
    gn_metrics_add_collector(m, collector, NULL);
    char *t = render(m);
    cr_assert(strstr(t, "# TYPE ganglion_requests_total counter\n"), "%s", t);
    cr_assert(strstr(t, "ganglion_requests_total{synapse=\"Dummy\",status=\"200\"} 3\n"), "%s", t);
    cr_assert(strstr(t, "ganglion_requests_total{synapse=\"Dummy\",status=\"401\"} 1\n"));
    cr_assert(strstr(t, "ganglion_latency_seconds_bucket{le=\"0.0050000000000000001\"} 1\n") ||
                  strstr(t, "ganglion_latency_seconds_bucket{le=\"0.005\"} 1\n"),
              "%s", t);
    cr_assert(strstr(t, "ganglion_latency_seconds_bucket{le=\"0.5\"} 2\n"), "%s", t);
    cr_assert(strstr(t, "ganglion_latency_seconds_bucket{le=\"+Inf\"} 3\n"));
    cr_assert(strstr(t, "ganglion_latency_seconds_count 3\n"));
    cr_assert(strstr(t, "ganglion_latency_seconds_sum 9.2"), "%s", t);
    cr_assert(strstr(t, "# HELP ganglion_conns Open\\nconnections.\n"), "%s", t);
    cr_assert(strstr(t, "ganglion_conns{ip=\"a\\\"b\\\\c\\nd\"} 2.5\n"), "%s", t);
    cr_assert(strstr(t, "ganglion_queue_depth{actor=\"axon\"} 7\n"), "%s", t);
    cr_assert_eq(collected, 1);
    free(t);
    /* bad names and kinds */
    cr_assert_null(gn_metrics_counter(m, "9bad", "x", NULL));
    cr_assert_null(gn_metrics_counter(m, "ok_name", "x", "bad-key", "v", NULL));
    cr_assert_null(gn_metrics_gauge(m, "ganglion_requests_total", "x", NULL), "kind clash");
    const double unsorted[] = {1, 0.5};
    cr_assert_null(gn_metrics_histogram(m, "h2", "x", unsorted, 2, NULL));
    gn_metrics_free(m);
}
