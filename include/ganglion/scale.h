/* SCALE (Substrate's Simple Concatenated Aggregate Little-Endian codec):
 * a bounds-checked reader and a growable writer for the primitives.
 *
 * Reader rules:
 * - every read checks the remaining input first and returns GN_ETRUNC rather
 *   than reading past the end;
 * - a failed read leaves the reader's position where it was, so a caller can
 *   report the offset of the bad value;
 * - decoding is as strict as Rust's parity-scale-codec: bool and Option tags
 *   must be 0/1, compacts must be canonical (minimal), str must be UTF-8;
 * - length prefixes are checked against the remaining input before anything
 *   is allocated (gn_scale_read_len).
 * Slices returned by the reader (bytes, str) are views into the input.
 *
 * Writer rules: a writer is either growable (through a gn_allocator_t) or
 * fixed over a caller buffer. The first error is sticky: later writes do
 * nothing and return it, so a sequence of writes can be checked once with
 * gn_scale_writer_error(). */
#ifndef GANGLION_SCALE_H
#define GANGLION_SCALE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/alloc.h"

__extension__ typedef unsigned __int128 gn_u128_t;
__extension__ typedef __int128 gn_i128_t;

#define GN_U128_MAX (~(gn_u128_t)0)

typedef struct gn_scale_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
} gn_scale_reader_t;

static inline void gn_scale_reader_init(gn_scale_reader_t *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
}

static inline size_t gn_scale_remaining(const gn_scale_reader_t *r)
{
    return r->len - r->pos;
}

/* GN_ETRAILING unless the whole input was consumed. */
int gn_scale_reader_finish(const gn_scale_reader_t *r);

int gn_scale_read_u8(gn_scale_reader_t *r, uint8_t *v);
int gn_scale_read_u16(gn_scale_reader_t *r, uint16_t *v);
int gn_scale_read_u32(gn_scale_reader_t *r, uint32_t *v);
int gn_scale_read_u64(gn_scale_reader_t *r, uint64_t *v);
int gn_scale_read_u128(gn_scale_reader_t *r, gn_u128_t *v);
int gn_scale_read_i8(gn_scale_reader_t *r, int8_t *v);
int gn_scale_read_i16(gn_scale_reader_t *r, int16_t *v);
int gn_scale_read_i32(gn_scale_reader_t *r, int32_t *v);
int gn_scale_read_i64(gn_scale_reader_t *r, int64_t *v);
int gn_scale_read_i128(gn_scale_reader_t *r, gn_i128_t *v);
/* Only 0x00 and 0x01 are valid (GN_EBADTAG otherwise). */
int gn_scale_read_bool(gn_scale_reader_t *r, bool *v);

/* A compact integer of at most `bits` bits (8, 16, 32, 64 or 128).
 * GN_ENONCANON for a non-minimal encoding, GN_ERANGE for a value that does
 * not fit in `bits`. */
int gn_scale_read_compact(gn_scale_reader_t *r, unsigned bits, gn_u128_t *v);
int gn_scale_read_compact_u32(gn_scale_reader_t *r, uint32_t *v);
int gn_scale_read_compact_u64(gn_scale_reader_t *r, uint64_t *v);

/* A compact length prefix of a sequence whose items take at least
 * `min_item_size` bytes each (0 is treated as 1): a length whose items could
 * not fit in the remaining input is GN_ETRUNC, before any allocation. */
int gn_scale_read_len(gn_scale_reader_t *r, size_t min_item_size, size_t *n);

/* `n` raw bytes, as a view into the input (fixed arrays, [u8; N]). */
int gn_scale_read_bytes(gn_scale_reader_t *r, size_t n, const uint8_t **out);
/* Vec<u8>: compact length then bytes, as a view. */
int gn_scale_read_vec_u8(gn_scale_reader_t *r, const uint8_t **out, size_t *n);
/* str / String: like Vec<u8> but valid UTF-8 (GN_EUTF8). Not NUL-terminated. */
int gn_scale_read_str(gn_scale_reader_t *r, const char **out, size_t *n);

/* Option<T> tag: *some = false for 0x00, true for 0x01; the payload follows. */
int gn_scale_read_option(gn_scale_reader_t *r, bool *some);
/* Option<bool> in its one-byte form: -1 None (0x00), 1 true (0x01), 0 false
 * (0x02). */
int gn_scale_read_option_bool(gn_scale_reader_t *r, int *v);
/* Result<T, E> tag: *is_err = false for Ok (0x00), true for Err (0x01). */
int gn_scale_read_result(gn_scale_reader_t *r, bool *is_err);
/* Enum variant index, checked to be < n_variants (GN_EBADTAG). Pass 256 to
 * accept any index and check it against sparse metadata indices yourself. */
int gn_scale_read_variant(gn_scale_reader_t *r, unsigned n_variants, uint8_t *index);
/* BitVec<u8, Lsb0>: compact bit count, then ceil(bits/8) bytes (a view). */
int gn_scale_read_bitvec(gn_scale_reader_t *r, const uint8_t **bytes, size_t *nbits);

typedef struct gn_scale_writer {
    uint8_t *buf;
    size_t len;
    size_t cap;
    const gn_allocator_t *alloc; /* NULL: fixed buffer, never grows */
    int err;                     /* first error, sticky */
} gn_scale_writer_t;

/* A growable writer; `a` NULL means gn_allocator_libc(). */
void gn_scale_writer_init(gn_scale_writer_t *w, const gn_allocator_t *a);
/* A writer over caller memory: writing past `cap` is GN_ENOSPC. */
void gn_scale_writer_init_fixed(gn_scale_writer_t *w, uint8_t *buf, size_t cap);
/* Frees a growable writer's buffer (no-op for fixed ones). */
void gn_scale_writer_free(gn_scale_writer_t *w);
static inline int gn_scale_writer_error(const gn_scale_writer_t *w)
{
    return w->err;
}
/* Make room for `n` more bytes; returns a pointer to write them at, or NULL
 * (the error is then recorded). The caller must fill all `n`. */
uint8_t *gn_scale_writer_extend(gn_scale_writer_t *w, size_t n);
/* Forget everything written (keeps the buffer; clears the error). */
void gn_scale_writer_reset(gn_scale_writer_t *w);

int gn_scale_write_bytes(gn_scale_writer_t *w, const uint8_t *p, size_t n);
int gn_scale_write_u8(gn_scale_writer_t *w, uint8_t v);
int gn_scale_write_u16(gn_scale_writer_t *w, uint16_t v);
int gn_scale_write_u32(gn_scale_writer_t *w, uint32_t v);
int gn_scale_write_u64(gn_scale_writer_t *w, uint64_t v);
int gn_scale_write_u128(gn_scale_writer_t *w, gn_u128_t v);
int gn_scale_write_i8(gn_scale_writer_t *w, int8_t v);
int gn_scale_write_i16(gn_scale_writer_t *w, int16_t v);
int gn_scale_write_i32(gn_scale_writer_t *w, int32_t v);
int gn_scale_write_i64(gn_scale_writer_t *w, int64_t v);
int gn_scale_write_i128(gn_scale_writer_t *w, gn_i128_t v);
int gn_scale_write_bool(gn_scale_writer_t *w, bool v);
/* The canonical (shortest) compact encoding of v. */
int gn_scale_write_compact(gn_scale_writer_t *w, gn_u128_t v);
int gn_scale_write_vec_u8(gn_scale_writer_t *w, const uint8_t *p, size_t n);
/* Checks UTF-8 (GN_EUTF8) before writing anything. */
int gn_scale_write_str(gn_scale_writer_t *w, const char *s, size_t n);
int gn_scale_write_option(gn_scale_writer_t *w, bool some);
int gn_scale_write_option_bool(gn_scale_writer_t *w, int v);
int gn_scale_write_result(gn_scale_writer_t *w, bool is_err);
int gn_scale_write_variant(gn_scale_writer_t *w, uint8_t index);
/* BitVec<u8, Lsb0> of `nbits` bits stored in ceil(nbits/8) bytes. */
int gn_scale_write_bitvec(gn_scale_writer_t *w, const uint8_t *bytes, size_t nbits);

/* Bytes the compact encoding of v takes (1, 2, 4, or 5..17). */
size_t gn_scale_compact_len(gn_u128_t v);

#endif
