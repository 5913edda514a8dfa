/* Label short names and lookups (label_names.c) on the bundled ImageNet
 * labels, and the model input back to a picture (preprocess_inverse.c)
 * against the preprocessing's own crop. Expected values are the label
 * file's text and hand-written cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "label_names.h"
#include "preprocess_inverse.h"

static char **read_lines(const char *path, int *n)
{
    FILE *f = fopen(path, "r");
    char line[1024], **lines = NULL;
    *n = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        lines = realloc(lines, sizeof *lines * (size_t)(*n + 1));
        lines[(*n)++] = strdup(line);
    }
    if (f)
        fclose(f);
    return lines;
}

static void test_short(void)
{
    char buf[64];
    tap_ok(strcmp(hl_label_short("dragonfly, darning needle, devil's darning needle", buf, sizeof buf), "dragonfly") == 0,
           "the first synonym of the dragonfly label: '%s'", buf);
    tap_ok(strcmp(hl_label_short("  tabby , tabby cat", buf, sizeof buf), "tabby") == 0, "trimmed: '%s'", buf);
    tap_ok(strcmp(hl_label_short("Egyptian cat", buf, sizeof buf), "Egyptian cat") == 0, "no comma: the label itself");
    tap_ok(strcmp(hl_label_short("hippopotamus, hippo", buf, 6), "hippo") == 0, "cut to the buffer: '%s'", buf);
    tap_ok(strcmp(hl_label_short(NULL, buf, sizeof buf), "") == 0, "NULL label: empty");
}

static void test_find(void)
{
    char path[1024], msg[512];
    const char *root = getenv("HL_SOURCE_ROOT");
    int n;
    snprintf(path, sizeof path, "%s/data/models/mobilenet_v2.labels.txt", root ? root : ".");
    char **labels = read_lines(path, &n);
    if (!tap_ok(n == 1001, "the bundled labels have 1001 lines (%d)", n))
        return;
    int dragonfly = -1, tabby = -1;
    for (int k = 0; k < n; k++) {
        if (strncmp(labels[k], "dragonfly,", 10) == 0)
            dragonfly = k;
        if (strncmp(labels[k], "tabby,", 6) == 0)
            tabby = k;
    }
    const char *const *l = (const char *const *)labels;
    tap_ok(hl_label_find(l, n, "darning needle", msg, sizeof msg) == dragonfly, "'darning needle' is the dragonfly (%d)", dragonfly);
    tap_ok(hl_label_find(l, n, "  SKEETER hawk ", msg, sizeof msg) == dragonfly, "any synonym, any case, spaces around");
    tap_ok(hl_label_find(l, n, labels[dragonfly], msg, sizeof msg) == dragonfly, "the whole label");
    tap_ok(hl_label_find(l, n, "Tabby Cat", msg, sizeof msg) == tabby, "'Tabby Cat' is %d", tabby);
    tap_ok(hl_label_find(l, n, "crane", msg, sizeof msg) == -1 && strstr(msg, "several") && strstr(msg, "crane"),
           "'crane' names two classes (bird and machine): %s", msg);
    tap_ok(hl_label_find(l, n, "dragonfyl", msg, sizeof msg) == -1 && strstr(msg, "dragonfly") != NULL,
           "a typo lists the close label: %s", msg);
    tap_ok(hl_label_find(l, n, "cat", msg, sizeof msg) == -1 && strstr(msg, "close") && strstr(msg, "in all"),
           "'cat' is no label's synonym; the labels containing it are listed: %s", msg);
    tap_ok(hl_label_find(l, n, "zzzzqx", msg, sizeof msg) == -1 && strstr(msg, "none is close"),
           "nothing close: %s", msg);
    tap_ok(hl_label_find(l, n, "", msg, sizeof msg) == -1, "an empty name matches nothing");
    for (int k = 0; k < n; k++)
        free(labels[k]);
    free(labels);
}

static void test_inverse(void)
{
    hl_preprocess p;
    hl_preprocess_defaults(&p);
    p.width = p.height = 4;
    p.resize_shorter = 4;
    hl_image *photo = hl_image_new(4, 4);
    for (int i = 0; i < 48; i++)
        photo->rgb[i] = (uint8_t)(i * 5 + 3);
    hl_array *input = NULL;
    float *image01 = NULL;
    hl_error err = { 0 };
    int ok = hl_preprocess_apply(&p, photo, &input, NULL, &image01, &err) == HL_OK;
    hl_image *back = hl_image_new(4, 4), *back01 = hl_image_new(4, 4);
    if (ok) {
        hl_preprocess_to_image(&p, input->data, back);
        hl_image01_to_image(image01, 3, back01);
    }
    tap_ok(ok && memcmp(back->rgb, photo->rgb, 48) == 0, "normalised input -> picture: the photo's pixels back (4x4, no resampling)");
    tap_ok(ok && memcmp(back01->rgb, photo->rgb, 48) == 0, "image01 -> picture: the same");
    p.bgr = 1;
    hl_array_free(input);
    free(image01);
    input = NULL;
    image01 = NULL;
    ok = hl_preprocess_apply(&p, photo, &input, NULL, &image01, &err) == HL_OK;
    if (ok)
        hl_preprocess_to_image(&p, input->data, back);
    tap_ok(ok && memcmp(back->rgb, photo->rgb, 48) == 0, "a BGR model's input comes back in RGB order");
    hl_array_free(input);
    free(image01);
    hl_image_free(photo);
    hl_image_free(back);
    hl_image_free(back01);
}

int main(void)
{
    test_short();
    test_find();
    test_inverse();
    return tap_done();
}
