/* Status codes and error messages. */
#include <stdarg.h>
#include <stdio.h>
#include "engine.h"

hl_status hl_error_set(hl_error *err, hl_status status, const char *fmt, ...)
{
    if (err) {
        /* formatted, then made printable: the names it quotes come from
         * files */
        char raw[2 * sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(raw, sizeof raw, fmt, ap);
        va_end(ap);
        hl_printable(raw, err->msg, sizeof err->msg);
    }
    return status;
}

const char *hl_status_name(hl_status s)
{
    switch (s) {
    case HL_OK: return "ok";
    case HL_ERR_IO: return "I/O error";
    case HL_ERR_PARSE: return "malformed file";
    case HL_ERR_UNSUPPORTED: return "unsupported";
    case HL_ERR_SHAPE: return "shape mismatch";
    case HL_ERR_NOMEM: return "out of memory";
    case HL_ERR_ARG: return "invalid argument";
    case HL_ERR_CANCELLED: return "cancelled";
    }
    return "unknown error";
}
