/* HlResultCache: the key is built from the method's own parameters (attr's
 * descriptor table), so a parameter the method ignores does not split the
 * cache and one it uses does; least recently used entries go first. */
#include <string.h>

#include "tap.h"
#include "heatlens-result-cache.h"

static HlResult *
make_result (const char *key)
{
  HlResult *r = hl_result_new ();

  r->key = g_strdup (key);
  r->method = g_strdup ("saliency");
  return r;
}

/* A request carrying no files: pure data, no model needed. */
static char *
cache_key (guint                 photo,
           guint                 model,
           const char           *method,
           const hl_attr_params *params)
{
  hl_attr_request r = { .method = hl_method_find (method), .params = *params };

  return hl_result_cache_make_key (photo, model, &r);
}

int
main (void)
{
  hl_attr_params a, b;
  g_autofree char *k1 = NULL, *k2 = NULL, *k3 = NULL, *k4 = NULL, *k5 = NULL, *k6 = NULL;
  const hl_param_desc *steps = hl_param_find ("n-steps");
  const hl_param_desc *strides = hl_param_find ("strides");

  hl_attr_params_init (&a);
  hl_attr_params_init (&b);
  k1 = cache_key (1, 1, "integrated_gradients", &a);
  k2 = cache_key (1, 1, "integrated_gradients", &b);
  tap_ok (strcmp (k1, k2) == 0, "equal requests give equal keys");

  /* strides belong to occlusion, not IG */
  tap_ok (strides && hl_param_set (&b, strides, "3,4,4", NULL) == HL_OK, "strides set to 3,4,4");
  k3 = cache_key (1, 1, "integrated_gradients", &b);
  tap_ok (strcmp (k1, k3) == 0, "a parameter IG ignores (strides) leaves the IG key alone");
  k4 = cache_key (1, 1, "occlusion", &b);
  {
    g_autofree char *k4a = cache_key (1, 1, "occlusion", &a);

    tap_ok (strcmp (k4, k4a) != 0, "but changes the occlusion key");
  }
  tap_ok (steps && hl_param_set (&b, steps, "200", NULL) == HL_OK, "n-steps set to 200");
  k5 = cache_key (1, 1, "integrated_gradients", &b);
  tap_ok (strcmp (k1, k5) != 0 && strstr (k5, "n-steps=200") != NULL,
          "IG's own n-steps changes its key (%s)", k5);
  b.target = 7;
  k6 = cache_key (1, 1, "integrated_gradients", &b);
  tap_ok (strcmp (k5, k6) != 0, "so does the target");
  {
    g_autofree char *other_photo = cache_key (2, 1, "integrated_gradients", &a);
    g_autofree char *other_model = cache_key (1, 2, "integrated_gradients", &a);

    tap_ok (strcmp (k1, other_photo) != 0 && strcmp (k1, other_model) != 0 &&
            strcmp (other_photo, other_model) != 0,
            "photo and model are part of the key");
  }

  {
    g_autoptr(HlResultCache) cache = hl_result_cache_new (2);
    g_autoptr(HlResult) r1 = make_result ("one");
    g_autoptr(HlResult) r2 = make_result ("two");
    g_autoptr(HlResult) r3 = make_result ("three");
    HlResult *hit;

    hl_result_cache_insert (cache, r1);
    hl_result_cache_insert (cache, r2);
    hit = hl_result_cache_lookup (cache, "one");   /* "one" is now the most recent */
    tap_ok (hit == r1, "a stored result is found by its key");
    g_clear_pointer (&hit, hl_result_unref);
    hl_result_cache_insert (cache, r3);             /* evicts the least recent: "two" */
    tap_ok (hl_result_cache_get_size (cache) == 2, "the cache keeps at most 2 entries");
    hit = hl_result_cache_lookup (cache, "two");
    tap_ok (hit == NULL, "the least recently used entry was evicted");
    g_clear_pointer (&hit, hl_result_unref);
    hit = hl_result_cache_lookup (cache, "one");
    tap_ok (hit == r1, "the recently used one stayed");
    g_clear_pointer (&hit, hl_result_unref);
    hl_result_cache_insert (cache, r1);             /* same key again: replaces, no growth */
    tap_ok (hl_result_cache_get_size (cache) == 2, "re-inserting a key does not grow the cache");
    hl_result_cache_clear (cache);
    tap_ok (hl_result_cache_get_size (cache) == 0, "clear empties it");
  }
  return tap_done ();
}
