/* The bundled model on every sample photo, through the whole pipeline
 * (decode -> preprocessing from the model's metadata -> engine).
 *
 * Pinned top-1 classes come from the float numpy run of the converted
 * model (tools/tflite2onnx.py --predict, listed with their top-5 in
 * data/models/README.md) and were checked by eye; the quantized TFLite
 * graph run with integer arithmetic agrees on all of them. The logits are
 * also compared with that numpy run (tests/data/io/logits-*.npy). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "image.h"
#include "npy.h"
#include "preprocess.h"
#include "tap.h"

static const struct {
    const char *file;
    int top1;
    const char *label;
} samples[] = {
    {"bird.png", 20, "chickadee"},
    {"cat.png", 286, "Egyptian cat"},
    {"dragonfly.png", 320, "dragonfly"},
    {"grace_hopper.png", 653, "military uniform"},
    {"hot_dog.jpg", 935, "hotdog"},
    {"owl.jpg", 83, "ruffed grouse"},
    {"parrot.jpg", 89, "macaw"},
    {"pets.jpg", 172, "Italian greyhound"},
    {"sunflower.png", 986, "daisy"},
};
#define N_SAMPLES ((int)(sizeof samples / sizeof samples[0]))

int main(void)
{
    hl_engine_init();
    const char *root = getenv("HL_SOURCE_ROOT");
    char path[1200];
    if (!root)
        root = ".";
    snprintf(path, sizeof path, "%s/data/models/mobilenet_v2.onnx", root);
    hl_model *m = NULL;
    hl_error err = {0};
    hl_status st = hl_model_load_onnx(path, &m, &err);
    if (!tap_ok(st == HL_OK, "bundled model loads (%s)", st ? err.msg : "ok"))
        return tap_done();

    hl_preprocess p;
    st = hl_preprocess_for_model(m, &p, &err);
    tap_ok(st == HL_OK && p.width == 224 && p.height == 224 &&
               p.policy == HL_RESIZE_CROP_FRACTION &&
               p.crop_fraction == 0.875f && p.scale == 0.0078125f &&
               p.mean[0] == 1 && p.mean[2] == 1 && p.std[1] == 1 && !p.bgr,
           "preprocessing from metadata: 224x224, crop_fraction 0.875, "
           "x = p/128 - 1 (%s)", st ? err.msg : "ok");

    hl_shape out_shape;
    int out = hl_model_output_value(m);
    st = hl_model_value_shape(m, out, &out_shape);
    int n_classes = st == HL_OK && out_shape.ndim == 2 ?
                    (int)out_shape.dims[1] : 0;
    tap_ok(n_classes == 1001, "output has 1001 classes (%d)", n_classes);
    if (n_classes != 1001) {
        hl_model_free(m);
        return tap_done();
    }
    hl_labels *labels = hl_labels_for_model(m, path, n_classes);
    tap_ok(labels && labels->n == 1001 &&
               !strcmp(labels->names[0], "background") &&
               !strcmp(labels->names[286], "Egyptian cat"),
           "labels from the metadata (0 = background, 286 = Egyptian cat)");

    /* All samples in one batch. */
    size_t per = (size_t)3 * 224 * 224;
    float *batch = malloc(sizeof(float) * per * N_SAMPLES);
    int loaded = 1;
    for (int i = 0; i < N_SAMPLES; i++) {
        hl_image *img = NULL;
        hl_array *in = NULL;
        snprintf(path, sizeof path, "%s/data/samples/%s", root,
                 samples[i].file);
        st = hl_image_load(path, &img, &err);
        if (st == HL_OK)
            st = hl_preprocess_apply(&p, img, &in, NULL, NULL, &err);
        if (st != HL_OK) {
            tap_ok(0, "%s: %s", samples[i].file, err.msg);
            loaded = 0;
        } else {
            memcpy(batch + per * (size_t)i, in->data, sizeof(float) * per);
        }
        hl_array_free(in);
        hl_image_free(img);
    }
    hl_run *run = hl_run_new(m, 2);
    st = loaded && run ? hl_run_forward(run, batch, N_SAMPLES, &err)
                       : HL_ERR_ARG;
    const float *logits = NULL;
    hl_shape ls;
    if (tap_ok(st == HL_OK, "forward of %d samples in one batch (%s)",
               N_SAMPLES, st ? err.msg : "ok"))
        logits = hl_run_value(run, out, &ls);
    if (logits && ls.ndim == 2 && ls.dims[0] == N_SAMPLES) {
        for (int i = 0; i < N_SAMPLES; i++) {
            const float *z = logits + (size_t)i * n_classes;
            int best = 0;
            double zmax = z[0], sum = 0;
            for (int k = 1; k < n_classes; k++)
                if (z[k] > z[best])
                    best = k;
            zmax = z[best];
            for (int k = 0; k < n_classes; k++)
                sum += exp((double)z[k] - zmax);
            double psum = 0;
            for (int k = 0; k < n_classes; k++)
                psum += exp((double)z[k] - zmax) / sum;
            size_t ll = strlen(samples[i].label);
            const char *name = labels->names[best];
            tap_ok(best == samples[i].top1 &&
                       !strncmp(name, samples[i].label, ll) &&
                       (name[ll] == '\0' || name[ll] == ','),
                   "%s: top-1 %d \"%s\" (p = %.3f; expect %d \"%s\")",
                   samples[i].file, best, labels->names[best],
                   1.0 / sum, samples[i].top1, samples[i].label);
            tap_ok(fabs(psum - 1) < 1e-6, "%s: probabilities sum to 1 "
                   "(%.9f)", samples[i].file, psum);

            char ref[1200], stem[64];
            snprintf(stem, sizeof stem, "%s", samples[i].file);
            char *dot = strrchr(stem, '.');
            if (dot)
                *dot = '\0';
            snprintf(ref, sizeof ref, "%s/tests/data/io/logits-%s.npy", root,
                     stem);
            hl_array *want = NULL;
            st = hl_npy_read(ref, &want, &err);
            if (st == HL_OK && hl_shape_numel(&want->shape) == n_classes) {
                double worst = 0;
                for (int k = 0; k < n_classes; k++)
                    if (fabs(z[k] - want->data[k]) > worst)
                        worst = fabs(z[k] - want->data[k]);
                double rel = tap_rel_l2(z, want->data, n_classes);
                tap_ok(worst < 0.05 && rel < 2e-3,
                       "%s: logits match the numpy float run (max |diff| "
                       "%.2g, rel L2 %.2g)", samples[i].file, worst, rel);
            } else {
                tap_ok(0, "%s: reference logits (%s)", samples[i].file,
                       err.msg);
            }
            hl_array_free(want);
        }
    } else if (st == HL_OK) {
        tap_ok(0, "logits have shape [%d,1001]", N_SAMPLES);
    }
    hl_run_free(run);
    free(batch);
    hl_labels_free(labels);
    hl_model_free(m);
    return tap_done();
}
