/* The actor runtime's concurrent scenarios under ThreadSanitizer
 * (make test-tsan). Criterion's forking harness cannot run under TSan
 * (Criterion issue #274), so this is a plain program that prints the
 * closing line "N passed, N failed". */
#include <stdio.h>

#include "support/actor_stress.h"

int main(void)
{
    int passed = 0, failed = 0;
    char why[200];
    uint64_t handled;
#define RUN(name, call)                         \
    do {                                        \
        why[0] = '\0';                          \
        if ((call) == 0) {                      \
            printf("ok   %s\n", name);          \
            passed++;                           \
        } else {                                \
            printf("FAIL %s: %s\n", name, why); \
            failed++;                           \
        }                                       \
    } while (0)
    RUN("4 threads x 1,000,000 messages, FIFO per sender",
        gn_test_stress_fifo(4, 1000000, &handled, why, sizeof(why)));
    RUN("4 publishers, 4 subscribers on 2 loops", gn_test_stress_topics(4, 5000, why, sizeof(why)));
    RUN("posting while the loop stops", gn_test_stress_post_during_stop(4, why, sizeof(why)));
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
