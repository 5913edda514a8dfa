/* Preprocessing (src/io/preprocess.c) and labels (src/io/labels.c) on
 * synthetic photos: the crop map against the policies' formulas (as
 * documented in preprocess.h), the normalisation x = (p*scale - mean)/std,
 * channel order, and the parsing of settings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "preprocess.h"
#include "tap.h"

/* Photo with R = x, G = y, B = 255 - x (W, H <= 256). */
static hl_image *ramp_photo(int w, int h)
{
    hl_image *img = hl_image_new(w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = img->rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)x;
            p[1] = (uint8_t)y;
            p[2] = (uint8_t)(255 - x);
        }
    return img;
}

static void test_defaults(void)
{
    hl_preprocess p;
    hl_preprocess_defaults(&p);
    tap_ok(p.width == 224 && p.height == 224 &&
               p.policy == HL_RESIZE_SHORTER_CROP && p.resize_shorter == 256,
           "defaults: resize shorter side to 256, centre 224x224");
    tap_ok(fabsf(p.mean[0] - 0.485f) < 1e-7f && fabsf(p.mean[1] - 0.456f) < 1e-7f &&
               fabsf(p.mean[2] - 0.406f) < 1e-7f && fabsf(p.std[0] - 0.229f) < 1e-7f &&
               fabsf(p.std[1] - 0.224f) < 1e-7f && fabsf(p.std[2] - 0.225f) < 1e-7f &&
               fabsf(p.scale - 1 / 255.0f) < 1e-9f && p.bgr == 0,
           "defaults: torchvision ImageNet mean/std, scale 1/255, RGB");
}

/* Enlarging (bilinear) is exact on a ramp: model pixel (u,v) must read
 * R = x - 0.5, G = y - 0.5 at the photo point the crop map gives. */
static void test_crop_map_exact(void)
{
    hl_preprocess p;
    hl_preprocess_defaults(&p);
    hl_image *photo = ramp_photo(100, 80);
    hl_array *in = NULL;
    hl_crop_map map;
    float *img01 = NULL;
    hl_error err = {0};
    hl_status st = hl_preprocess_apply(&p, photo, &in, &map, &img01, &err);
    if (!tap_ok(st == HL_OK && in, "apply on a 100x80 photo (%s)",
                st ? err.msg : "ok")) {
        hl_image_free(photo);
        return;
    }
    /* torchvision: shorter side 80 -> 256, so 1 resized px = 80/256 photo
     * px; the centre 224 of the resized 320x256 starts at (48, 16). */
    double s = 80.0 / 256;
    tap_ok(fabs(map.sx - s) < 1e-12 && fabs(map.sy - s) < 1e-12 &&
               fabs(map.x0 - 48 * s) < 1e-9 && fabs(map.y0 - 16 * s) < 1e-9,
           "crop map shorter:256 = (%.4f,%.4f) step %.5f (expect %.4f,%.4f "
           "step %.5f)", map.x0, map.y0, map.sx, 48 * s, 16 * s, s);
    tap_ok(map.photo_width == 100 && map.photo_height == 80 &&
               map.input_width == 224 && map.input_height == 224,
           "crop map sizes");
    tap_ok(in->shape.ndim == 4 && in->shape.dims[0] == 1 &&
               in->shape.dims[1] == 3 && in->shape.dims[2] == 224 &&
               in->shape.dims[3] == 224, "input shape [1,3,224,224]");
    double worst = 0, worst01 = 0;
    size_t plane = 224 * 224;
    for (int v = 0; v < 224; v++)
        for (int u = 0; u < 224; u++) {
            double x = map.x0 + (u + 0.5) * map.sx;
            double y = map.y0 + (v + 0.5) * map.sy;
            double rgb[3] = {x - 0.5, y - 0.5, 255 - (x - 0.5)};
            for (int c = 0; c < 3; c++) {
                double want = (rgb[c] / 255.0 - p.mean[c]) / p.std[c];
                double got = in->data[c * plane + (size_t)v * 224 + u];
                if (fabs(got - want) > worst)
                    worst = fabs(got - want);
                double g01 = img01[c * plane + (size_t)v * 224 + u];
                if (fabs(g01 - rgb[c] / 255.0) > worst01)
                    worst01 = fabs(g01 - rgb[c] / 255.0);
            }
        }
    tap_ok(worst < 1e-4, "normalised input = ((p/255 - mean)/std) at the "
           "mapped photo point (max err %.2g)", worst);
    tap_ok(worst01 < 1e-5, "image01 = p/255 at the mapped point (max err %.2g)",
           worst01);
    hl_array_free(in);
    free(img01);

    /* BGR: model channel 0 holds blue; mean/std are in model order. */
    hl_preprocess_set(&p, "channel-order", "bgr", NULL);
    hl_preprocess_set(&p, "mean", "0.1,0.2,0.3", NULL);
    hl_preprocess_set(&p, "std", "0.5", NULL);
    st = hl_preprocess_apply(&p, photo, &in, NULL, NULL, &err);
    worst = 0;
    for (int v = 0; st == HL_OK && v < 224; v += 7)
        for (int u = 0; u < 224; u += 5) {
            double x = map.x0 + (u + 0.5) * map.sx;
            double y = map.y0 + (v + 0.5) * map.sy;
            double bgr[3] = {255 - (x - 0.5), y - 0.5, x - 0.5};
            double m[3] = {0.1, 0.2, 0.3};
            for (int c = 0; c < 3; c++) {
                double want = (bgr[c] / 255.0 - m[c]) / 0.5;
                double got = in->data[c * plane + (size_t)v * 224 + u];
                if (fabs(got - want) > worst)
                    worst = fabs(got - want);
            }
        }
    tap_ok(st == HL_OK && worst < 1e-4, "BGR order, per-channel mean, "
           "broadcast std (max err %.2g)", worst);
    hl_array_free(in);
    hl_image_free(photo);
}

/* Crop maps of the other policies, and symmetry about the photo centre. */
static void test_policies(void)
{
    hl_preprocess p;
    hl_image *photo = ramp_photo(250, 160);
    hl_array *in = NULL;
    hl_crop_map map;
    hl_error err = {0};

    hl_preprocess_defaults(&p);
    hl_preprocess_set(&p, "resize", "crop_fraction:0.875", NULL);
    hl_preprocess_set(&p, "input-size", "100,60", NULL);
    hl_status st = hl_preprocess_apply(&p, photo, &in, &map, NULL, &err);
    tap_ok(st == HL_OK && fabs(map.x0 - 250 * 0.0625) < 1e-9 &&
               fabs(map.y0 - 160 * 0.0625) < 1e-9 &&
               fabs(map.sx - 250 * 0.875 / 100) < 1e-9 &&
               fabs(map.sy - 160 * 0.875 / 60) < 1e-9 &&
               in->shape.dims[2] == 60 && in->shape.dims[3] == 100,
           "crop_fraction:0.875 map (%.4f,%.4f) step (%.4f,%.4f)", map.x0,
           map.y0, map.sx, map.sy);
    /* Shrinking: area averages of a ramp are the ramp at the footprint's
     * centre within half a grey level. */
    double worst = 0;
    for (int v = 0; st == HL_OK && v < 60; v++)
        for (int u = 0; u < 100; u++) {
            double x = map.x0 + (u + 0.5) * map.sx;
            double want = ((x - 0.5) / 255.0 - p.mean[0]) / p.std[0];
            double got = in->data[(size_t)v * 100 + u];
            if (fabs(got - want) > worst)
                worst = fabs(got - want);
        }
    tap_ok(worst < 0.5 / 255 / p.std[0] + 1e-5,
           "shrunk ramp follows the map (max err %.3g grey levels)",
           worst * 255 * p.std[0]);
    hl_array_free(in);

    hl_preprocess_set(&p, "resize", "stretch", NULL);
    st = hl_preprocess_apply(&p, photo, &in, &map, NULL, &err);
    tap_ok(st == HL_OK && map.x0 == 0 && map.y0 == 0 &&
               fabs(map.sx - 2.5) < 1e-12 && fabs(map.sy - 160.0 / 60) < 1e-12,
           "stretch map (0,0) step (%.4f,%.4f)", map.sx, map.sy);
    hl_array_free(in);

    /* Portrait photo, shorter:256 with input 224: window centred. */
    hl_image *tall = ramp_photo(120, 200);
    hl_preprocess_defaults(&p);
    st = hl_preprocess_apply(&p, tall, &in, &map, NULL, &err);
    double cx = map.x0 + 112 * map.sx, cy = map.y0 + 112 * map.sy;
    tap_ok(st == HL_OK && fabs(cx - 60) < 1e-9 && fabs(cy - 100) < 1e-9 &&
               fabs(map.sx - 120.0 / 256) < 1e-12,
           "portrait: window centred at (%.3f,%.3f)", cx, cy);
    hl_array_free(in);
    hl_image_free(tall);
    hl_image_free(photo);
}

static void test_settings(void)
{
    hl_preprocess p, before;
    hl_error err = {0};
    hl_preprocess_defaults(&p);
    hl_status st = hl_preprocess_set(&p, "scale", "1/128", &err);
    tap_ok(st == HL_OK && p.scale == 1.0f / 128, "scale \"1/128\" = %g",
           p.scale);
    tap_ok(hl_preprocess_set(&p, "mean", "0.5, 0.25 ,1/8", &err) == HL_OK &&
               p.mean[0] == 0.5f && p.mean[1] == 0.25f && p.mean[2] == 0.125f,
           "mean list with spaces and a fraction");
    tap_ok(hl_preprocess_set(&p, "input_size", "299,299", &err) == HL_OK &&
               p.width == 299 && p.height == 299, "input_size 299,299");
    tap_ok(hl_preprocess_set(&p, "resize", "shorter:342", &err) == HL_OK &&
               p.policy == HL_RESIZE_SHORTER_CROP && p.resize_shorter == 342,
           "resize shorter:342");
    tap_ok(hl_preprocess_set(&p, "input-size", "320", &err) == HL_OK &&
               p.width == 320 && p.height == 320, "input-size 320 = square");
    before = p;
    static const char *bad[][2] = {
        {"scale", "0"}, {"scale", "abc"}, {"mean", "1,2"}, {"mean", "1,2,3,4"},
        {"std", "0.2,0,0.2"}, {"input-size", "224,224,3"}, {"input-size", "-1,5"},
        {"input-size", "22.5,10"}, {"resize", "shorter:"},
        {"resize", "crop_fraction:1.5"}, {"resize", "zoom"},
        {"channel-order", "rgba"}, {"colour", "red"}, {"scale", "1/0"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hl_status st = hl_preprocess_set(&p, bad[i][0], bad[i][1], &err);
        tap_ok(st == HL_ERR_ARG && !memcmp(&p, &before, sizeof p) &&
                   strstr(err.msg, bad[i][0]),
               "%s=\"%s\" rejected, settings unchanged (%s)", bad[i][0],
               bad[i][1], err.msg);
    }
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_labels(void)
{
    char dir[] = "/tmp/hl-labels-XXXXXX";
    if (!mkdtemp(dir)) {
        tap_ok(0, "temporary directory");
        return;
    }
    char model[256], lab[256], lab2[256];
    snprintf(model, sizeof model, "%s/net.onnx", dir);
    snprintf(lab, sizeof lab, "%s/net.labels.txt", dir);
    snprintf(lab2, sizeof lab2, "%s/net.onnx.labels.txt", dir);

    hl_labels *l = hl_labels_for_model(NULL, model, 3);
    tap_ok(l && l->n == 3 && !strcmp(l->names[0], "class 0") &&
               !strcmp(l->names[2], "class 2"), "no labels: class N");
    hl_labels_free(l);

    write_file(lab2, "x\ny\nz\n");
    l = hl_labels_for_model(NULL, model, 3);
    tap_ok(l && !strcmp(l->names[0], "x") && !strcmp(l->names[2], "z"),
           "FILE.onnx.labels.txt is used");
    hl_labels_free(l);

    write_file(lab, "cat\r\ndog\r\nbird");
    l = hl_labels_for_model(NULL, model, 3);
    tap_ok(l && !strcmp(l->names[0], "cat") && !strcmp(l->names[1], "dog") &&
               !strcmp(l->names[2], "bird"),
           "FILE.labels.txt preferred, CRLF and no final newline handled");
    hl_labels_free(l);

    l = hl_labels_for_model(NULL, model, 4);
    tap_ok(l && l->n == 4 && !strcmp(l->names[3], "class 3"),
           "labels file with the wrong count is ignored");
    hl_labels_free(l);
    /* ImageNet fallback from the bundled 1001-line file ("background"
     * first) for a 1000- or 1001-class model without labels of its own */
    const char *root = getenv("HL_SOURCE_ROOT");
    char imagenet[1200];
    snprintf(imagenet, sizeof imagenet, "%s/data/models/mobilenet_v2.labels.txt",
             root ? root : ".");
    unlink(lab);
    unlink(lab2);
    l = hl_labels_for_model_or_imagenet(NULL, model, 1000, imagenet);
    tap_ok(l && l->n == 1000 && !strcmp(l->names[0], "tench, Tinca tinca") &&
               !strcmp(l->names[999], "toilet tissue, toilet paper, bathroom tissue"),
           "1000 classes without labels: ImageNet names without 'background'");
    hl_labels_free(l);
    l = hl_labels_for_model_or_imagenet(NULL, model, 1001, imagenet);
    tap_ok(l && l->n == 1001 && !strcmp(l->names[0], "background") &&
               !strcmp(l->names[1], "tench, Tinca tinca"),
           "1001 classes without labels: the ImageNet file as is");
    hl_labels_free(l);
    l = hl_labels_for_model_or_imagenet(NULL, model, 10, imagenet);
    tap_ok(l && l->n == 10 && !strcmp(l->names[9], "class 9"),
           "10 classes: class N, not ImageNet");
    hl_labels_free(l);
    l = hl_labels_for_model_or_imagenet(NULL, model, 1000, NULL);
    tap_ok(l && l->n == 1000 && !strcmp(l->names[0], "class 0"),
           "no ImageNet file given: class N");
    hl_labels_free(l);
    FILE *f = fopen(lab, "wb");
    for (int i = 0; f && i < 1000; i++)
        fprintf(f, "own %d\n", i);
    if (f)
        fclose(f);
    l = hl_labels_for_model_or_imagenet(NULL, model, 1000, imagenet);
    tap_ok(l && !strcmp(l->names[0], "own 0") && !strcmp(l->names[999], "own 999"),
           "the model's own labels file wins over ImageNet");
    hl_labels_free(l);
    unlink(lab);
    rmdir(dir);
}

/* Metadata of small ONNX models written by tests/data/io/make-data.py. */
static void test_for_model(void)
{
    const char *root = getenv("HL_SOURCE_ROOT");
    char path[1200];
    hl_model *m = NULL;
    hl_preprocess p;
    hl_error err = {0};
    if (!root)
        root = ".";

    snprintf(path, sizeof path, "%s/tests/data/io/tiny-plain.onnx", root);
    hl_status st = hl_model_load_onnx(path, &m, &err);
    if (tap_ok(st == HL_OK, "tiny-plain.onnx loads (%s)", st ? err.msg : "ok")) {
        st = hl_preprocess_for_model(m, &p, &err);
        tap_ok(st == HL_OK && p.width == 32 && p.height == 24 &&
                   p.policy == HL_RESIZE_SHORTER_CROP &&
                   p.resize_shorter == 27 && p.mean[1] == 0.456f &&
                   p.std[2] == 0.225f && p.scale == 1 / 255.0f && !p.bgr,
               "no metadata: torchvision recipe at the model's 32x24 input, "
               "shorter side 24*256/224 = %d", p.resize_shorter);
        hl_labels *l = hl_labels_for_model(m, path, 2);
        tap_ok(l && !strcmp(l->names[0], "alpha") &&
                   !strcmp(l->names[1], "beta"),
               "labels from tiny-plain.labels.txt next to the model");
        hl_labels_free(l);
        hl_model_free(m);
    }

    snprintf(path, sizeof path, "%s/tests/data/io/tiny-meta.onnx", root);
    st = hl_model_load_onnx(path, &m, &err);
    if (tap_ok(st == HL_OK, "tiny-meta.onnx loads (%s)", st ? err.msg : "ok")) {
        st = hl_preprocess_for_model(m, &p, &err);
        tap_ok(st == HL_OK && p.width == 32 && p.height == 24 &&
                   p.policy == HL_RESIZE_SHORTER_CROP &&
                   p.resize_shorter == 40 && p.mean[0] == 0.5f &&
                   p.mean[2] == 0.5f && p.std[0] == 0.25f &&
                   p.std[1] == 0.5f && p.std[2] == 1 && p.bgr,
               "metadata: shorter:40, mean 0.5, std 0.25,0.5,1, bgr");
        hl_labels *l = hl_labels_for_model(m, path, 2);
        tap_ok(l && !strcmp(l->names[0], "left") &&
                   !strcmp(l->names[1], "right"), "labels from metadata");
        hl_labels_free(l);
        hl_image *photo = ramp_photo(80, 60);
        hl_array *in = NULL;
        st = hl_preprocess_apply(&p, photo, &in, NULL, NULL, &err);
        tap_ok(st == HL_OK && in->shape.dims[2] == 24 &&
                   in->shape.dims[3] == 32,
               "input tensor [1,3,24,32] for the model");
        hl_array_free(in);
        hl_image_free(photo);
        hl_model_free(m);
    }

    snprintf(path, sizeof path, "%s/tests/data/io/tiny-badmeta.onnx", root);
    st = hl_model_load_onnx(path, &m, &err);
    if (tap_ok(st == HL_OK, "tiny-badmeta.onnx loads (%s)",
               st ? err.msg : "ok")) {
        st = hl_preprocess_for_model(m, &p, &err);
        tap_ok(st == HL_ERR_ARG && strstr(err.msg, "heatlens.std") &&
                   strstr(err.msg, "tiny-badmeta"),
               "bad metadata value named in the error (%s)", err.msg);
        hl_model_free(m);
    }
}

/* A 1-channel model (tests/data/models/tiny_grey.onnx, [N,1,28,28], no
 * metadata): grey level = 0.299 R + 0.587 G + 0.114 B of the same crop
 * the colour path produces, mean 0 and std 1. */
static void test_grey_model(void)
{
    const char *root = getenv("HL_SOURCE_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/models/tiny_grey.onnx", root ? root : ".");
    hl_model *m = NULL;
    hl_error err = {0};
    hl_preprocess p;
    if (!tap_ok(hl_model_load_onnx(path, &m, &err) == HL_OK &&
                    hl_preprocess_for_model(m, &p, &err) == HL_OK,
                "grey model: preprocessing (%s)", err.msg)) {
        hl_model_free(m);
        return;
    }
    tap_ok(p.channels == 1 && p.width == 28 && p.height == 28 && p.mean[0] == 0 &&
               p.std[0] == 1,
           "grey model: 1 channel, 28x28, mean 0, std 1");
    hl_preprocess colour = p;
    colour.channels = 3;
    hl_image *photo = ramp_photo(100, 80);
    hl_array *grey = NULL, *rgb = NULL;
    float *grey01 = NULL;
    hl_status st = hl_preprocess_apply(&p, photo, &grey, NULL, &grey01, &err);
    hl_status st3 = hl_preprocess_apply(&colour, photo, &rgb, NULL, NULL, &err);
    if (tap_ok(st == HL_OK && st3 == HL_OK && grey->shape.dims[1] == 1 &&
                   rgb->shape.dims[1] == 3 && grey->shape.dims[2] == 28,
               "grey model: [1,1,28,28] input (%s)", err.msg)) {
        double worst = 0, worst01 = 0;
        size_t plane = 28 * 28;
        for (size_t i = 0; i < plane; i++) {
            double want = 0.299 * rgb->data[i] + 0.587 * rgb->data[plane + i] +
                          0.114 * rgb->data[2 * plane + i];
            worst = fmax(worst, fabs(grey->data[i] - want));
            worst01 = fmax(worst01, fabs(grey01[i] - fmin(1, fmax(0, want))));
        }
        tap_ok(worst < 1e-6 && worst01 < 1e-6,
               "grey = 0.299 R + 0.587 G + 0.114 B of the colour crop (max diff %.2g, image01 %.2g)",
               worst, worst01);
    }
    hl_array_free(grey);
    hl_array_free(rgb);
    free(grey01);
    hl_image_free(photo);
    hl_model_free(m);
}

int main(void)
{
    hl_engine_init();
    test_defaults();
    test_for_model();
    test_crop_map_exact();
    test_grey_model();
    test_policies();
    test_settings();
    test_labels();
    return tap_done();
}
