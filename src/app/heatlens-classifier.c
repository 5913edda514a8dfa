#include "heatlens-classifier.h"
#include "heatlens-error.h"

struct _HlClassifier
{
  GObject        parent_instance;
  hl_model      *model;
  hl_preprocess  preprocess;
  hl_labels     *labels;
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

/* [N,K] with K >= 2, or the same with trailing 1s ([N,K,1,1] from a
 * final 1x1 convolution); not an image or a feature map. */
static gboolean
is_class_scores (const hl_shape *shape)
{
  if (shape->ndim < 2 || shape->dims[1] < 2)
    return FALSE;
  for (int i = 2; i < shape->ndim; i++)
    if (shape->dims[i] != 1)
      return FALSE;
  return TRUE;
}

HlClassifier *
hl_classifier_load (const char  *path,
                    GError     **error)
{
  g_autoptr(HlClassifier) self = NULL;
  hl_error err = { 0 };
  hl_shape out_shape;

  self = g_object_new (HL_TYPE_CLASSIFIER, NULL);
  if (hl_model_load_onnx (path, &self->model, &err) != HL_OK ||
      hl_preprocess_for_model (self->model, &self->preprocess, &err) != HL_OK ||
      hl_model_value_shape (self->model, hl_model_output_value (self->model),
                            &out_shape) != HL_OK)
    {
      hl_app_error_from_hl (error, &err);
      return NULL;
    }
  if (!is_class_scores (&out_shape))
    {
      char buf[128];
      g_autofree char *base = g_path_get_basename (path);

      g_set_error (error, HL_APP_ERROR, HL_ERR_SHAPE,
                   "%s is not an image classifier: its output is %s, not class scores [N,K]",
                   base, hl_shape_format (&out_shape, buf, sizeof buf));
      return NULL;
    }
  self->n_classes = (int) hl_shape_numel (&out_shape);
  self->labels = hl_labels_for_model (self->model, path, self->n_classes);
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

guint
hl_classifier_get_serial (HlClassifier *self)
{
  return self->serial;
}
