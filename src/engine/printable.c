/* Names from files made printable (issue 16): a node called "\x1b]0;..."
 * or holding invalid UTF-8 must not drive the user's terminal or break a
 * GTK label. Control characters (C0, DEL, C1) and bytes that are not
 * well-formed UTF-8 become \xNN; valid UTF-8 and backslashes stay as they
 * are, so the function is idempotent. Every message (hl_error_set) and
 * every node name kept by the loader goes through it. */
#include <stdio.h>
#include <string.h>

#include "engine.h"

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0. */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, min = 0x10000;
    else
        return 0;
    unsigned cp = c & (0x3F >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    /* C1 controls (U+0080..U+009F): some terminals obey them */
    if (cp >= 0x80 && cp <= 0x9F)
        return 0;
    return n;
}

size_t hl_printable(const char *in, char *out, size_t size)
{
    const unsigned char *s = (const unsigned char *)(in ? in : "");
    size_t o = 0;
    if (size == 0)
        return 0;
    while (*s) {
        int n = utf8_len(s);
        if (n == 1 && (*s < 0x20 || *s == 0x7F))
            n = 0;
        if (n > 0) {
            if (o + (size_t)n >= size)
                break;
            memcpy(out + o, s, (size_t)n);
            o += (size_t)n;
            s += n;
        } else {
            if (o + 4 >= size)
                break;
            snprintf(out + o, 5, "\\x%02x", *s);
            o += 4;
            s++;
        }
    }
    out[o] = '\0';
    return o;
}
