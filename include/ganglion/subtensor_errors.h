/* Subtensor's custom transaction-validity codes: the N of a pool
 * rejection `{"invalid":{"custom":N}}`, which the node gives without a
 * name. Codes 0..14 and 255 are the runtime's CustomTransactionError of
 * spec 293 (the local chain); 15..27 were appended by later runtimes with
 * the earlier codes unchanged. Pure functions. */
#ifndef GANGLION_SUBTENSOR_ERRORS_H
#define GANGLION_SUBTENSOR_ERRORS_H

#include <stddef.h>

typedef struct gn_subtensor_custom_error {
    unsigned code;
    const char *name; /* the runtime's variant name, e.g. "RateLimitExceeded" */
    const char *doc;  /* what it means for the operator, one line */
} gn_subtensor_custom_error_t;

/* The entry of a code, or NULL when no runtime defines it. */
const gn_subtensor_custom_error_t *gn_subtensor_custom_error(unsigned code);

/* The custom code in a node's rejection text (`{"invalid":{"custom":N}}`,
 * possibly inside a longer message, quotes escaped or not): 0 and *code,
 * or GN_ENOENT when the text carries none. */
int gn_subtensor_rejection_code(const char *text, unsigned *code);

/* `text`, followed by " (custom N: Name: doc)" when it carries a known
 * custom code, into out (NUL-terminated, cut at cap: GN_ENOSPC). Text
 * without a known code is copied unchanged. */
int gn_subtensor_explain_rejection(const char *text, char *out, size_t cap);

#endif
