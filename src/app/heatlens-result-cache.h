/* HlResultCache: finished attributions by request, so going back to an
 * earlier image/method/parameter/target is instant. The key is canonical
 * text built from the method's own parameters (through the descriptor
 * table), so parameters the method ignores do not split the cache. */
#pragma once

#include <glib-object.h>
#include "attr.h"
#include "heatlens-result.h"

G_BEGIN_DECLS

#define HL_TYPE_RESULT_CACHE (hl_result_cache_get_type ())
G_DECLARE_FINAL_TYPE (HlResultCache, hl_result_cache, HL, RESULT_CACHE, GObject)

HlResultCache *hl_result_cache_new    (guint                 max_entries);

/* "p<photo>|m<model>|" + hl_attr_request_key: "<method>|target=<t>|
 * n-steps=50|...", files by content ("|files=HASH"), not by path. */
char          *hl_result_cache_make_key (guint                  photo_serial,
                                         guint                  classifier_serial,
                                         const hl_attr_request *request);

/* A new reference or NULL; a hit becomes the most recently used. */
HlResult      *hl_result_cache_lookup (HlResultCache        *self,
                                       const char           *key);
void           hl_result_cache_insert (HlResultCache        *self,
                                       HlResult             *result);
guint          hl_result_cache_get_size (HlResultCache      *self);
void           hl_result_cache_clear  (HlResultCache        *self);

G_END_DECLS
