/* Weights for the chain (include/ganglion/weights.h). */
#include "ganglion/weights.h"
#include "ganglion/error.h"
#include "ganglion/hashing.h"
#include "ganglion/scale.h"

#include <math.h>

int gn_weights_for_emit(const uint64_t *uids, const double *scores, size_t n, uint16_t *out_uids,
                        uint16_t *out_vals, size_t *out_n)
{
    double max = 0, sum = 0;
    *out_n = 0;
    for (size_t i = 0; i < n; i++) {
        /* the SDK holds scores as float32 */
        double w = (double)(float)scores[i];
        if (!isfinite(w) || w < 0)
            return GN_EINVAL;
        if (uids[i] > GN_WEIGHTS_U16_MAX)
            return GN_ERANGE;
        sum += w;
        if (w > max)
            max = w;
    }
    if (sum == 0)
        return 0; /* nothing to set on chain */
    for (size_t i = 0; i < n; i++) {
        double up = (double)(float)scores[i] / max;
        /* Python's round(): to nearest, ties to even (the FE_TONEAREST default) */
        double v = nearbyint(up * (double)GN_WEIGHTS_U16_MAX);
        if (v == 0)
            continue;
        out_uids[*out_n] = (uint16_t)uids[i];
        out_vals[*out_n] = (uint16_t)v;
        (*out_n)++;
    }
    return 0;
}

static void write_u16s(gn_scale_writer_t *w, const uint16_t *v, size_t n)
{
    gn_scale_write_compact(w, n);
    for (size_t i = 0; i < n; i++)
        gn_scale_write_u16(w, v[i]);
}

int gn_weights_commit_hash(const uint8_t pub[32], uint16_t netuid, const uint16_t *uids,
                           const uint16_t *vals, size_t n, const uint16_t *salt, size_t n_salt,
                           uint64_t version_key, uint8_t out[32])
{
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    gn_scale_write_bytes(&w, pub, 32);
    gn_scale_write_u16(&w, netuid);
    write_u16s(&w, uids, n);
    write_u16s(&w, vals, n);
    write_u16s(&w, salt, n_salt);
    gn_scale_write_u64(&w, version_key);
    int rc = gn_scale_writer_error(&w);
    if (rc == 0)
        gn_blake2b_256(w.buf, w.len, out);
    gn_scale_writer_free(&w);
    return rc;
}
