/* The metagraph syncer actor: keeps one subnet's neurons current and
 * publishes each sync as an immutable, shared snapshot.
 *
 * It listens to the chain actor's `blocks` topic (subscribe it there) and
 * syncs (NeuronInfoRuntimeApi.get_neurons_lite through the chain actor, at
 * the head's hash) every `every_blocks` blocks, right after the subnet's
 * tempo boundary, when the head goes back behind the last snapshot (a
 * restarted or different node), and on GN_MSG_METAGRAPH_SYNC. A failed sync keeps the previous
 * snapshot and is retried with backoff (1 s doubling to 60 s). With persist_path, each snapshot is
 * written (msgpack, atomic rename, on the thread pool) and the last one is published at start,
 * before the first sync completes. */
#ifndef GANGLION_METAGRAPH_H
#define GANGLION_METAGRAPH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ganglion/actor.h"

extern const gn_msg_type_t GN_MSG_METAGRAPH; /* payload: gn_metagraph_t (shared) */
/* Sent to the syncer (no payload): sync now at the newest head, unless a
 * sync is under way or a retry is already due. */
extern const gn_msg_type_t GN_MSG_METAGRAPH_SYNC;

typedef struct gn_metagraph {
    gn_shared_t hdr;
    uint16_t netuid;
    uint64_t block;
    char block_hash[67];
    bool from_disk;        /* the persisted snapshot served at start */
    uint32_t failed_syncs; /* failed attempts since the snapshot before */
    json_t *neurons;       /* NeuronInfoLite objects (axon_info with "ip_text"); read only */
} gn_metagraph_t;

typedef struct gn_metagraph_opts {
    uint16_t netuid;
    uint64_t every_blocks;    /* 0: 100 */
    const char *persist_path; /* NULL: nothing on disk */
    gn_actor_t *chain;        /* the chain actor */
    gn_topic_t *out;          /* where snapshots are published */
} gn_metagraph_opts_t;

typedef struct gn_metagraph_actor gn_metagraph_actor_t;

int gn_metagraph_spawn(gn_loop_t *l, const gn_metagraph_opts_t *o, gn_metagraph_actor_t **out,
                       gn_actor_t **actor);
/* After gn_loop_run has returned. */
void gn_metagraph_actor_free(gn_metagraph_actor_t *m);

#endif
