#include "ganglion/error.h"

const char *gn_strerror(int err)
{
    switch (err) {
    case 0: return "success";
#define GN_ERRNO_STR(name, val, msg) \
    case name: return msg;
        GN_ERRNO_MAP(GN_ERRNO_STR)
#undef GN_ERRNO_STR
    default: return "unknown error";
    }
}

const char *gn_errname(int err)
{
    switch (err) {
    case 0: return "GN_OK";
#define GN_ERRNO_NAME(name, val, msg) \
    case name: return #name;
        GN_ERRNO_MAP(GN_ERRNO_NAME)
#undef GN_ERRNO_NAME
    default: return "GN_E?";
    }
}
