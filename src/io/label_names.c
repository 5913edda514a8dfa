/* Class labels as people read them (see label_names.h). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "label_names.h"

#define MAX_LISTED 5

static void trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

char *hl_label_short(const char *label, char *out, size_t size)
{
    if (!out || size == 0)
        return out;
    if (!label)
        label = "";
    const char *comma = strchr(label, ',');
    size_t len = comma ? (size_t)(comma - label) : strlen(label);
    trim(&label, &len);
    if (len >= size)
        len = size - 1;
    memcpy(out, label, len);
    out[len] = '\0';
    return out;
}

static int same_ci(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int contains_ci(const char *hay, const char *needle, size_t nlen)
{
    for (; *hay; hay++)
        if (strlen(hay) >= nlen && same_ci(hay, nlen, needle, nlen))
            return 1;
    return nlen == 0;
}

/* Levenshtein distance, case-insensitive, capped: words longer than 63
 * characters only match exactly. */
static int distance(const char *a, size_t alen, const char *b, size_t blen)
{
    int row[64];
    if (alen > 63 || blen > 63)
        return same_ci(a, alen, b, blen) ? 0 : 99;
    for (size_t j = 0; j <= blen; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= alen; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= blen; j++) {
            int up = row[j];
            int sub = diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            int best = up + 1 < row[j - 1] + 1 ? up + 1 : row[j - 1] + 1;
            row[j] = sub < best ? sub : best;
            diag = up;
        }
    }
    return row[blen];
}

/* Is q a whole word of the label (bounded by non-letters)? */
static int has_word_ci(const char *label, const char *q, size_t qlen)
{
    for (const char *h = label; *h; h++) {
        if (strlen(h) < qlen || !same_ci(h, qlen, q, qlen))
            continue;
        int before = h == label || !isalnum((unsigned char)h[-1]);
        int after = !isalnum((unsigned char)h[qlen]);
        if (before && after)
            return 1;
    }
    return 0;
}

/* 3 = the whole label or a synonym equals q; 2 = q is a word of it;
 * 1 = close (contains q, or a synonym within two edits); 0 = neither. */
static int match(const char *label, const char *q, size_t qlen)
{
    int score = has_word_ci(label, q, qlen) ? 2 : contains_ci(label, q, qlen);
    const char *s = label;
    size_t llen = strlen(label);
    trim(&label, &llen);
    if (same_ci(label, llen, q, qlen))
        return 3;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        const char *w = s;
        trim(&w, &len);
        if (same_ci(w, len, q, qlen))
            return 3;
        if (!score && qlen > 3 && distance(w, len, q, qlen) <= 2)
            score = 1;
        s = comma ? comma + 1 : s + strlen(s);
    }
    return score;
}

static void list_labels(const char *const *labels, const int *which, int count,
                        int total, char *message, size_t size, const char *lead)
{
    size_t used = (size_t)snprintf(message, size, "%s", lead);
    for (int i = 0; i < count && used < size; i++) {
        char name[128];
        used += (size_t)snprintf(message + used, size - used, "%s%d (%s)",
                                 i ? ", " : "", which[i],
                                 hl_label_short(labels[which[i]], name, sizeof name));
    }
    if (total > count && used < size)
        snprintf(message + used, size - used, ", ... (%d in all)", total);
}

int hl_label_find(const char *const *labels, int n, const char *query,
                  char *message, size_t size)
{
    if (message && size)
        message[0] = '\0';
    const char *q = query ? query : "";
    size_t qlen = strlen(q);
    trim(&q, &qlen);
    /* counts per score; the first MAX_LISTED indices of each */
    int found[4][MAX_LISTED], count[4] = { 0 };
    for (int k = 0; k < n && qlen; k++) {
        int m = labels[k] ? match(labels[k], q, qlen) : 0;
        if (m > 0 && count[m]++ < MAX_LISTED)
            found[m][count[m] - 1] = k;
    }
    if (count[3] == 1)
        return found[3][0];
    if (!message || !size)
        return -1;
    if (count[3] > 1) {
        list_labels(labels, found[3], count[3] < MAX_LISTED ? count[3] : MAX_LISTED,
                    count[3], message, size, "names several classes: ");
        return -1;
    }
    /* close ones: whole-word matches first, then the others */
    int close[MAX_LISTED], n_close = 0;
    for (int m = 2; m >= 1; m--)
        for (int i = 0; i < count[m] && i < MAX_LISTED && n_close < MAX_LISTED; i++)
            close[n_close++] = found[m][i];
    if (n_close > 0)
        list_labels(labels, close, n_close, count[1] + count[2], message, size,
                    "no class is named so; close: ");
    else
        snprintf(message, size, "no class is named so, and none is close");
    return -1;
}
