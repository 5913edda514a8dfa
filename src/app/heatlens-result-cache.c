#include "heatlens-result-cache.h"

struct _HlResultCache
{
  GObject     parent_instance;
  GHashTable *by_key;     /* key -> HlResult (ref) */
  GQueue      lru;        /* keys (owned by the results), most recent first */
  guint       max_entries;
};

G_DEFINE_FINAL_TYPE (HlResultCache, hl_result_cache, G_TYPE_OBJECT)

static void
hl_result_cache_finalize (GObject *object)
{
  HlResultCache *self = HL_RESULT_CACHE (object);

  g_queue_clear (&self->lru);
  g_hash_table_unref (self->by_key);
  G_OBJECT_CLASS (hl_result_cache_parent_class)->finalize (object);
}

static void
hl_result_cache_class_init (HlResultCacheClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = hl_result_cache_finalize;
}

static void
hl_result_cache_init (HlResultCache *self)
{
  self->by_key = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify) hl_result_unref);
  g_queue_init (&self->lru);
}

HlResultCache *
hl_result_cache_new (guint max_entries)
{
  HlResultCache *self = g_object_new (HL_TYPE_RESULT_CACHE, NULL);

  self->max_entries = MAX (1, max_entries);
  return self;
}

char *
hl_result_cache_make_key (guint                 photo_serial,
                          guint                 classifier_serial,
                          const char           *method,
                          const hl_attr_params *params)
{
  const hl_method_desc *md = hl_method_find (method);
  GString *key = g_string_new (NULL);

  g_string_append_printf (key, "p%u|m%u|%s|target=%d", photo_serial,
                          classifier_serial, method, params->target);
  if (md && md->params)
    for (const char *const *name = md->params; *name; name++)
      {
        const hl_param_desc *d = hl_param_find (*name);
        char buf[600];

        if (d == NULL || g_strcmp0 (d->name, "target") == 0)
          continue;
        hl_param_format (params, d, buf, sizeof buf);
        g_string_append_printf (key, "|%s=%s", d->name, buf);
      }
  else
    {
      /* Unknown method: every parameter, so nothing is confused. */
      for (int i = 0; i < hl_param_count (); i++)
        {
          const hl_param_desc *d = hl_param_get (i);
          char buf[600];

          hl_param_format (params, d, buf, sizeof buf);
          g_string_append_printf (key, "|%s=%s", d->name, buf);
        }
    }
  return g_string_free (key, FALSE);
}

HlResult *
hl_result_cache_lookup (HlResultCache *self,
                        const char    *key)
{
  HlResult *res = g_hash_table_lookup (self->by_key, key);
  GList *link;

  if (res == NULL)
    return NULL;
  link = g_queue_find (&self->lru, res->key);
  if (link)
    {
      g_queue_unlink (&self->lru, link);
      g_queue_push_head_link (&self->lru, link);
    }
  return hl_result_ref (res);
}

void
hl_result_cache_insert (HlResultCache *self,
                        HlResult      *result)
{
  HlResult *old;

  g_return_if_fail (result->key != NULL);
  old = g_hash_table_lookup (self->by_key, result->key);
  if (old)
    {
      g_queue_remove (&self->lru, old->key);
      g_hash_table_remove (self->by_key, result->key);
    }
  g_hash_table_insert (self->by_key, result->key, hl_result_ref (result));
  g_queue_push_head (&self->lru, result->key);
  while (self->lru.length > self->max_entries)
    {
      char *victim = g_queue_pop_tail (&self->lru);

      g_hash_table_remove (self->by_key, victim);
    }
}

guint
hl_result_cache_get_size (HlResultCache *self)
{
  return g_hash_table_size (self->by_key);
}

void
hl_result_cache_clear (HlResultCache *self)
{
  g_queue_clear (&self->lru);
  g_hash_table_remove_all (self->by_key);
}
