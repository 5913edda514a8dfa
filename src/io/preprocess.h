/* From a photo to the model's input tensor, and back.
 *
 * Policy and normalisation come from the model's metadata_props (keys below)
 * or default to torchvision's ImageNet recipe (resize shorter side to 256,
 * centre crop 224, mean 0.485/0.456/0.406, std 0.229/0.224/0.225). Every
 * field can be overridden by the user (CLI flags, window settings).
 *
 * metadata_props keys: heatlens.input_size ("224,224" = W,H),
 * heatlens.resize ("shorter:256" | "stretch" | "crop_fraction:0.875"),
 * heatlens.crop ("center"), heatlens.mean ("0.5,0.5,0.5"), heatlens.std,
 * heatlens.scale ("1/255"), heatlens.channel_order ("rgb" | "bgr"),
 * heatlens.labels (newline-separated labels) or heatlens.labels_file (file
 * next to the model). Informative only: heatlens.model_name,
 * heatlens.source, heatlens.license.
 *
 * Numbers may be written as fractions ("1/255"); mean and std take three
 * comma-separated values (in the model's channel order) or one for all.
 * The model input is x[c] = (pixel[c] * scale - mean[c]) / std[c] with
 * pixel in 0..255.
 *
 * A model with a 1-channel input ([N,1,H,W], e.g. MNIST-style) gets the
 * photo's grey level, ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B (PIL's
 * "L", torchvision's Grayscale), with mean 0 and std 1 unless the
 * metadata or the user says otherwise (no ImageNet statistics apply).
 *
 * Resize policies:
 *   shorter:S          scale so the shorter side is S, then take the centre
 *                      W x H (torchvision: Resize(256) + CenterCrop(224));
 *   stretch            the whole photo scaled to W x H (aspect not kept);
 *   crop_fraction:F    the central fraction F of each side, scaled to
 *                      W x H (TF-slim evaluation: central_crop(0.875) then
 *                      resize to 224x224).
 * Without heatlens.resize, S is 256/224 of the smaller input side.
 */
#ifndef HL_PREPROCESS_H
#define HL_PREPROCESS_H

#include "../engine/engine.h"
#include "image.h"

typedef enum {
    HL_RESIZE_SHORTER_CROP = 0,
    HL_RESIZE_STRETCH,
    HL_RESIZE_CROP_FRACTION,
} hl_resize_policy;

typedef struct hl_preprocess {
    int width, height;         /* model input W,H */
    hl_resize_policy policy;
    int resize_shorter;        /* shorter side before the centre crop */
    float mean[3], std[3];     /* in 0..1 pixel units */
    float scale;               /* pixel value (0..255) * scale = 0..1 usually */
    int bgr;                   /* channel order of the model input */
    int channels;              /* 3 (colour) or 1 (grey) */
    float crop_fraction;       /* HL_RESIZE_CROP_FRACTION: 0 < F <= 1 */
} hl_preprocess;

/* The torchvision ImageNet recipe at 224x224. */
void hl_preprocess_defaults(hl_preprocess *p);

/* Defaults, then the model's metadata, then the model's input shape. */
hl_status hl_preprocess_for_model(const hl_model *m, hl_preprocess *out,
                                  hl_error *err);
/* key = "input-size" | "resize" | "mean" | "std" | "scale" | "channel-order"
 * with the same value syntax as the metadata (underscores also accepted in
 * the key). Bad values leave p unchanged and return HL_ERR_ARG. */
hl_status hl_preprocess_set(hl_preprocess *p, const char *key,
                            const char *value, hl_error *err);

/* Where the model input sits in the original photo: model pixel (u,v)
 * (centre at u+0.5) maps to photo x = x0 + (u+0.5)*sx, y = y0 + (v+0.5)*sy. */
typedef struct hl_crop_map {
    double x0, y0, sx, sy;
    int photo_width, photo_height;
    int input_width, input_height;
} hl_crop_map;

/* Photo -> [1,C,H,W] normalised tensor. image01 (optional) receives the
 * unnormalised crop as [C,H,W] floats in 0..1: RGB whatever the model's
 * channel order, or the grey level for C = 1 (free with free()). map and
 * image01 may be NULL. */
hl_status hl_preprocess_apply(const hl_preprocess *p, const hl_image *photo,
                              hl_array **input, hl_crop_map *map,
                              float **image01, hl_error *err);

/* Number of classes of an image classifier: its output must be class
 * scores [N,K] with K >= 2 (trailing 1s allowed: [N,K,1,1] from a final 1x1
 * convolution). A feature map or an image output is refused with one line
 * naming the model and its output shape. */
hl_status hl_model_classes(const hl_model *m, int *n_classes, hl_error *err);

/* Class labels: model metadata (heatlens.labels, then heatlens.labels_file
 * next to the model), else FILE.labels.txt next to FILE.onnx (or
 * FILE.onnx.labels.txt), else "class N". A source is used only when it has
 * exactly n_classes labels (a trailing empty line is ignored). Always
 * returns n_classes entries; m and model_path may be NULL; NULL only when
 * out of memory. */
typedef struct hl_labels {
    int n;
    char **names;
} hl_labels;

hl_labels *hl_labels_for_model(const hl_model *m, const char *model_path,
                               int n_classes);
/* The same, but when none of those sources fits and the model has 1000 or
 * 1001 outputs, the ImageNet names of imagenet_labels: a 1001-line file
 * whose line 0 is "background" (the bundled
 * data/models/mobilenet_v2.labels.txt). 1001 outputs take it as is, 1000
 * outputs (torchvision, timm, ONNX model zoo) drop the "background" line.
 * imagenet_labels may be NULL (= hl_labels_for_model). */
hl_labels *hl_labels_for_model_or_imagenet(const hl_model *m,
                                           const char *model_path,
                                           int n_classes,
                                           const char *imagenet_labels);
/* A user's labels file (one per line) for an n_classes model: a file of
 * n_classes + 1 lines whose first is "background" drops it (the rule the
 * ImageNet fallback uses too); missing lines become "class K", extra ones
 * are ignored. HL_ERR_IO / HL_ERR_PARSE naming the file. */
hl_status hl_labels_from_file(const char *path, int n_classes,
                              hl_labels **out, hl_error *err);
void hl_labels_free(hl_labels *l);

#endif
