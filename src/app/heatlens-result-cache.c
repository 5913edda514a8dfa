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
hl_result_cache_make_key (guint                  photo_serial,
                          guint                  classifier_serial,
                          const hl_attr_request *request)
{
  char text[4096];

  /* the library's key: the parameters the method uses and the contents
   * (not the paths) of the files they name */
  hl_attr_request_key (request, text, sizeof text);
  return g_strdup_printf ("p%u|m%u|%s", photo_serial, classifier_serial, text);
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
