/* Shared by the fuzz targets: a property check that aborts (a finding). */
#ifndef GN_FUZZ_H
#define GN_FUZZ_H

#include <stdlib.h>

#define CHECK(c)     \
    do {             \
        if (!(c))    \
            abort(); \
    } while (0)

#endif
