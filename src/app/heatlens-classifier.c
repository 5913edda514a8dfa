#include "heatlens-classifier.h"
#include "heatlens-data.h"
#include "heatlens-error.h"
#include "label_names.h"

struct _HlClassifier
{
  GObject        parent_instance;
  hl_model      *model;
  hl_preprocess  preprocess;
  hl_labels     *labels;
  GPtrArray     *short_labels;  /* first synonyms (hl_label_short) */
  char          *path;
  char          *name;
  int            n_classes;
  guint          serial;
};

G_DEFINE_FINAL_TYPE (HlClassifier, hl_classifier, G_TYPE_OBJECT)

static void
hl_classifier_finalize (GObject *object)
{
  HlClassifier *self = HL_CLASSIFIER (object);

  g_clear_pointer (&self->labels, hl_labels_free);
  g_clear_pointer (&self->short_labels, g_ptr_array_unref);
  g_clear_pointer (&self->model, hl_model_free);
  g_free (self->path);
  g_free (self->name);
  G_OBJECT_CLASS (hl_classifier_parent_class)->finalize (object);
}

static void
hl_classifier_class_init (HlClassifierClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hl_classifier_finalize;
}

static void
hl_classifier_init (HlClassifier *self)
{
  static guint next_serial = 1;

  self->serial = g_atomic_int_add (&next_serial, 1);
}

HlClassifier *
hl_classifier_load (const char  *path,
                    GError     **error)
{
  g_autoptr(HlClassifier) self = NULL;
  g_autofree char *imagenet_labels = hl_data_find_file ("models/mobilenet_v2.labels.txt");
  hl_error err = { 0 };

  self = g_object_new (HL_TYPE_CLASSIFIER, NULL);
  if (hl_model_load_onnx (path, &self->model, &err) != HL_OK ||
      hl_preprocess_for_model (self->model, &self->preprocess, &err) != HL_OK ||
      hl_model_classes (self->model, &self->n_classes, &err) != HL_OK)
    {
      hl_app_error_from_hl (error, &err);
      return NULL;
    }
  /* A torchvision-style 1000-class model without labels gets ImageNet's. */
  self->labels = hl_labels_for_model_or_imagenet (self->model, path, self->n_classes,
                                                  imagenet_labels);
  self->short_labels = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; self->labels && i < self->labels->n; i++)
    {
      char name[256];

      g_ptr_array_add (self->short_labels, g_strdup (hl_label_short (self->labels->names[i], name, sizeof name)));
    }
  self->path = g_strdup (path);
  self->name = g_path_get_basename (path);
  return g_steal_pointer (&self);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  HlClassifier *self = hl_classifier_load (task_data, &error);

  if (self)
    g_task_return_pointer (task, self, g_object_unref);
  else
    g_task_return_error (task, error);
}

void
hl_classifier_load_async (const char          *path,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, hl_classifier_load_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, load_thread);
}

HlClassifier *
hl_classifier_load_finish (GAsyncResult  *result,
                           GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

const hl_model *
hl_classifier_get_model (HlClassifier *self)
{
  return self->model;
}

const hl_preprocess *
hl_classifier_get_preprocess (HlClassifier *self)
{
  return &self->preprocess;
}

const char *
hl_classifier_get_path (HlClassifier *self)
{
  return self->path;
}

const char *
hl_classifier_get_name (HlClassifier *self)
{
  return self->name;
}

int
hl_classifier_get_n_classes (HlClassifier *self)
{
  return self->n_classes;
}

const char *
hl_classifier_get_label (HlClassifier *self,
                         int           index)
{
  if (self->labels == NULL || index < 0 || index >= self->labels->n)
    return "?";
  return self->labels->names[index];
}

const char *
hl_classifier_get_short_label (HlClassifier *self,
                               int           index)
{
  if (self->short_labels == NULL || index < 0 || index >= (int) self->short_labels->len)
    return "?";
  return self->short_labels->pdata[index];
}

guint
hl_classifier_get_serial (HlClassifier *self)
{
  return self->serial;
}
