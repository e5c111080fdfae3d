/* Shared by the fuzz targets: a property check that aborts (a finding). */
#ifndef GN_FUZZ_H
#define GN_FUZZ_H

#include <stdio.h>
#include <stdlib.h>

#include "ganglion/hex.h"
#include "ganglion/metadata.h"

#define CHECK(c)     \
    do {             \
        if (!(c))    \
            abort(); \
    } while (0)

/* The registry named by $GANGLION_FUZZ_METADATA (a 0x-hex metadata file),
 * for targets that decode with real types; 0 when it was loaded. */
static inline int fuzz_load_metadata(gn_metadata_t *md, const char *target)
{
    const char *path = getenv("GANGLION_FUZZ_METADATA");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        fprintf(stderr, "%s: set GANGLION_FUZZ_METADATA to a metadata .hex file\n", target);
        return -1;
    }
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        n--;
    static uint8_t bytes[1 << 19];
    size_t len;
    if (gn_hex_decode(text, n, bytes, sizeof(bytes), &len) != 0 ||
        gn_metadata_parse(md, bytes, len, NULL, NULL) != 0)
        return -1;
    return 0;
}

#endif
