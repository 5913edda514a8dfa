#include "heatlens-result.h"

G_DEFINE_BOXED_TYPE (HlResult, hl_result, hl_result_ref, hl_result_unref)

HlResult *
hl_result_new (void)
{
  HlResult *self = g_atomic_rc_box_new0 (HlResult);

  hl_attr_params_init (&self->params);
  return self;
}

HlResult *
hl_result_ref (HlResult *self)
{
  return g_atomic_rc_box_acquire (self);
}

static void
result_clear (gpointer data)
{
  HlResult *self = data;

  hl_attr_result_clear (&self->attr);
  g_free (self->method);
  g_free (self->key);
  g_free (self->target_label);
  g_free (self->photo_name);
  g_free (self->model_name);
}

void
hl_result_unref (HlResult *self)
{
  g_atomic_rc_box_release_full (self, result_clear);
}
