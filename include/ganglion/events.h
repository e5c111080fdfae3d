/* System.Events decoded into records, and DispatchError into names.
 *
 * A record is (phase, event, topics); the event is the RuntimeEvent enum
 * (pallet variant → the pallet's event enum). A DispatchError::Module is
 * resolved to {pallet, error name, docs} through the pallet's error enum;
 * other dispatch errors keep their variant name ("BadOrigin", "Token"...). */
#ifndef GANGLION_EVENTS_H
#define GANGLION_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "ganglion/metadata.h"
#include "ganglion/value.h"

typedef enum {
    GN_PHASE_APPLY_EXTRINSIC = 0,
    GN_PHASE_FINALIZATION = 1,
    GN_PHASE_INITIALIZATION = 2,
} gn_phase_t;

typedef struct gn_event {
    gn_phase_t phase;
    uint32_t extrinsic_index; /* with GN_PHASE_APPLY_EXTRINSIC */
    const gn_pallet_t *pallet;
    const gn_variant_t *event;
    const gn_value_t *fields; /* the event's variant value (its fields) */
    const gn_value_t *topics; /* a sequence of hashes */
} gn_event_t;

/* Decode a System.Events value; *events is an arena array of *n records. */
int gn_events_decode(const gn_metadata_t *md, const uint8_t *bytes, size_t len, gn_arena_t *ar,
                     gn_event_t **events, size_t *n);

typedef struct gn_dispatch_error {
    const char *kind;   /* the DispatchError variant: "Module", "BadOrigin", ... */
    const char *pallet; /* Module errors: the pallet's name */
    const char *name;   /* Module errors: the error's name; Token(X)...: X; else the kind */
    gn_docs_t docs;
} gn_dispatch_error_t;

/* Resolve a decoded DispatchError value (e.g. ExtrinsicFailed's field). */
int gn_dispatch_error(const gn_metadata_t *md, const gn_value_t *err, gn_dispatch_error_t *out);

/* Find the named field of a variant or struct value (NULL when absent). */
const gn_value_t *gn_value_field(const gn_metadata_t *md, const gn_value_t *v, const char *name);

#endif
