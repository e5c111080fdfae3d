/* Error codes shared by every ganglion module.
 *
 * Functions return 0 on success or one of these negative codes; gn_strerror()
 * names each one. Codes are grouped by the layer that first needs them, but any
 * module may return any code where its meaning fits. */
#ifndef GANGLION_ERROR_H
#define GANGLION_ERROR_H

/* X(name, value, message): the one list that both the enum and gn_strerror
 * are generated from, so a code can never be added without a message. */
#define GN_ERRNO_MAP(X)                                                           \
    X(GN_EINVAL, -1, "invalid argument")                                          \
    X(GN_ENOMEM, -2, "out of memory")                                             \
    X(GN_ENOSPC, -3, "output buffer too small")                                   \
    X(GN_ETRUNC, -4, "input truncated")                                           \
    X(GN_ETRAILING, -5, "trailing bytes after value")                             \
    X(GN_ERANGE, -6, "value out of range")                                        \
    X(GN_ENONCANON, -7, "non-canonical encoding")                                 \
    X(GN_EBADTAG, -8, "invalid tag or variant index")                             \
    X(GN_EUTF8, -9, "invalid UTF-8")                                              \
    X(GN_EHEXLEN, -10, "hex string has odd length")                               \
    X(GN_EHEXCHAR, -11, "invalid hex character")                                  \
    X(GN_EBASE58, -12, "invalid base58 character")                                \
    X(GN_ESS58LEN, -13, "invalid SS58 address length")                            \
    X(GN_ESS58CHECKSUM, -14, "invalid SS58 checksum")                             \
    X(GN_ESS58RESERVED, -15, "reserved SS58 address format")                      \
    X(GN_ESS58PREFIX, -18, "invalid SS58 prefix byte")                            \
    X(GN_EDECIMAL, -16, "invalid decimal number")                                 \
    X(GN_EUNSUPPORTED, -17, "unsupported operation")                              \
    X(GN_EBADSIG, -19, "signature verification failed")                           \
    X(GN_EBADKEY, -20, "invalid key")                                             \
    X(GN_EMNEMONIC, -21, "invalid mnemonic (word list or checksum)")              \
    X(GN_EPASSWORD, -22, "wrong password")                                        \
    X(GN_EKEYFILE, -23, "invalid keyfile")                                        \
    X(GN_ELEGACY, -24, "legacy keyfile format not supported")                     \
    X(GN_ESURI, -25, "invalid secret URI")                                        \
    X(GN_EEXIST, -26, "already exists")                                           \
    X(GN_EIO, -27, "I/O error")                                                   \
    X(GN_ENOENT, -28, "not found")                                                \
    X(GN_ECLOSED, -29, "closed")                                                  \
    X(GN_EFULL, -30, "mailbox full")                                              \
    X(GN_ETIMEDOUT, -31, "timed out")                                             \
    X(GN_EFATAL, -32, "fatal error")                                              \
    X(GN_EGAP, -33, "connection lost and restored: notifications may be missing") \
    X(GN_EFATE, -34, "connection lost after sending: outcome unknown")            \
    X(GN_EREJECTED, -35, "rejected by the node")                                  \
    X(GN_EJSON, -36, "invalid JSON")                                              \
    X(GN_EPARSE, -37, "malformed input")

typedef enum {
#define GN_ERRNO_ENUM(name, val, msg) name = (val),
    GN_ERRNO_MAP(GN_ERRNO_ENUM)
#undef GN_ERRNO_ENUM
} gn_errno_t;

/* A static, never-NULL description of `err` ("success" for 0, "unknown error"
 * for anything that is not a GN_E* code). */
const char *gn_strerror(int err);

/* The symbolic name of `err` ("GN_ETRUNC"), or "GN_OK" / "GN_E?" (for logs). */
const char *gn_errname(int err);

#endif
