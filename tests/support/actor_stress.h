/* Test support: multi-threaded actor scenarios, shared by the Criterion
 * tests (under ASan) and tests/actors/tsan_main.c (under ThreadSanitizer,
 * which Criterion's harness cannot run under). Each returns 0 or fills
 * `why` and returns -1. */
#ifndef GN_TEST_ACTOR_STRESS_H
#define GN_TEST_ACTOR_STRESS_H

#include <stddef.h>
#include <stdint.h>

/* `producers` threads post `per` messages each to one actor: none lost,
 * none duplicated, FIFO per sender. *handled gets the total handled. */
int gn_test_stress_fifo(unsigned producers, uint64_t per, uint64_t *handled, char *why, size_t cap);
/* Threads publish to a topic with several subscribers on two loops; every
 * shared payload is freed exactly once. */
int gn_test_stress_topics(unsigned publishers, unsigned per, char *why, size_t cap);
/* Threads keep posting while the loop shuts down: posts end in GN_ECLOSED,
 * every payload is destroyed exactly once. */
int gn_test_stress_post_during_stop(unsigned producers, char *why, size_t cap);

#endif
