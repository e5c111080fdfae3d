/* Shared by the benchmarks: a monotonic clock, CPU time and a measuring loop. */
#ifndef GN_BENCH_H
#define GN_BENCH_H

#include <stddef.h>
#include <sys/resource.h>
#include <time.h>

static inline double gn_bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of this process so far: user + system, every thread. */
static inline double gn_bench_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

/* Run `body` (which does ops_per_round operations) until `secs` have passed;
 * evaluates to operations per second. */
#define GN_MEASURE(secs, ops_per_round, body)           \
    ({                                                  \
        double t0_ = gn_bench_now(), t_;                \
        size_t rounds_ = 0;                             \
        do {                                            \
            body;                                       \
            rounds_++;                                  \
        } while ((t_ = gn_bench_now() - t0_) < (secs)); \
        (double)(ops_per_round) * (double)rounds_ / t_; \
    })

#endif
