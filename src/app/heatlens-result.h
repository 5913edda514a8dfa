/* HlResult: one finished attribution with the request that produced it,
 * or an estimate on the way to it (total > 0: the library's intermediate
 * after `done` of `total` units; never cached). Reference counted,
 * read-only; the cache, the view and the compare grid share it. */
#pragma once

#include <glib-object.h>
#include "attr.h"

G_BEGIN_DECLS

typedef struct _HlResult
{
  hl_attr_result  attr;        /* owns attr.attr */
  char           *method;      /* Captum name */
  hl_attr_params  params;
  char           *key;         /* cache key */
  char           *target_label;
  char           *photo_name;
  char           *model_name;
  guint           photo_serial;
  double          elapsed;     /* wall seconds including queueing */
  int             done, total; /* an estimate: units done of total; 0, 0 when finished */
  const char     *unit;        /* an estimate: "steps", "windows", ... (static) */
} HlResult;

#define HL_TYPE_RESULT (hl_result_get_type ())
GType     hl_result_get_type (void) G_GNUC_CONST;

HlResult *hl_result_new   (void);
HlResult *hl_result_ref   (HlResult *self);
void      hl_result_unref (HlResult *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HlResult, hl_result_unref)

G_END_DECLS
