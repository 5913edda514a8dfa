/* Cases of test-window: picking a neuron by clicking, the presenting
 * shortcuts, the help overlay, dropping a model and screenshots. */
#include "window-harness.h"

/* ------------------------------------------------------------ neurons */

/* The layer of the neuron method, with its activations computed here from
 * the photo (not by the window) to know the strongest channel at a cell. */
static struct
{
  const hl_model    *model;
  const hl_crop_map *map;
  hl_array          *input;
  hl_run            *run;
  const float       *act;
  hl_shape           shape;
} nl;

static gboolean
need_layer (void)
{
  if (nl.act && nl.shape.ndim == 4 && nl.map)
    return TRUE;
  g_test_skip ("no [1,C,H,W] layer activations (see /window/neuron/default)");
  return FALSE;
}

static void
test_neuron_default (void)
{
  HlImageView *view = hl_window_get_image_view (h.win);
  HlClassifier *c = hl_window_get_classifier (h.win);
  hl_crop_map cmap;
  int value, expect_c;
  const hl_attr_params *p;

  nl.model = hl_classifier_get_model (c);
  act_s ("load-sample", "cat");
  wait_count (&h.n_predictions, h.n_predictions);
  wait_for (worker_idle, NULL);
  check (!hl_image_view_get_picking (view) && !hl_image_view_get_marker (view, NULL),
         "a method without a neuron: clicks do not pick, no marker");
  check (act_s_and_wait_result ("set-method", "neuron_gradient") && h.last_result &&
         strcmp (h.last_result->method, "neuron_gradient") == 0,
         "neuron_gradient runs with the default layer and neuron");
  nl.map = hl_image_view_get_crop_map (view);
  value = h.last_result ? hl_model_find_value (nl.model, h.last_result->params.layer) : -1;
  if (value >= 0 &&
      hl_preprocess_apply (hl_classifier_get_preprocess (c), h.cat, &nl.input, &cmap, NULL, NULL) == HL_OK &&
      (nl.run = hl_run_new (nl.model, 0)) && hl_run_forward (nl.run, nl.input->data, 1, NULL) == HL_OK)
    nl.act = hl_run_value (nl.run, value, &nl.shape);
  check (nl.act && nl.shape.ndim == 4 && nl.map, "the layer %s has a [1,C,H,W] output",
         h.last_result ? h.last_result->params.layer : "?");
  if (!need_layer ())
    return;
  /* the default neuron: the layer's centre, its strongest channel */
  p = &h.last_result->params;
  expect_c = strongest_channel (nl.act, &nl.shape, (int64_t) p->neuron[1] * nl.shape.dims[3] + p->neuron[2]);
  g_test_message ("the default neuron is %d,%d,%d", p->neuron[0], p->neuron[1], p->neuron[2]);
  check (p->neuron[0] == expect_c, "the default neuron starts at the strongest channel there (%d, expected %d)",
         p->neuron[0], expect_c);
  check (hl_image_view_get_norm (view) && !hl_viz_norm_is_zero (hl_image_view_get_norm (view)),
         "so its attribution is not zero everywhere");
  check (hl_image_view_get_picking (view), "clicks on the photo pick a neuron");
}

static void
test_neuron_click (void)
{
  HlImageView *view = hl_window_get_image_view (h.win);
  const hl_crop_map *map = nl.map;
  int pick_h = 1, pick_w = 5, expect_c;
  graphene_rect_t marker;
  GtkWidget *entry, *spin;
  double px, py;
  guint before;

  if (!need_layer ())
    return;
  /* a click in the middle of cell (pick_h, pick_w) of the layer grid */
  px = map->x0 + (pick_w + 0.5) * map->input_width / nl.shape.dims[3] * map->sx;
  py = map->y0 + (pick_h + 0.5) * map->input_height / nl.shape.dims[2] * map->sy;
  expect_c = strongest_channel (nl.act, &nl.shape, (int64_t) pick_h * nl.shape.dims[3] + pick_w);
  before = h.n_results;
  g_signal_emit_by_name (view, "picked", px, py);
  wait_count (&h.n_results, before);
  check (h.n_results > before && h.last_result && h.last_result->params.neuron[0] == expect_c &&
         h.last_result->params.neuron[1] == pick_h && h.last_result->params.neuron[2] == pick_w,
         "a click picks neuron %d,%d,%d: the cell under it, its strongest channel (got %d,%d,%d)",
         expect_c, pick_h, pick_w, h.last_result ? h.last_result->params.neuron[0] : -1,
         h.last_result ? h.last_result->params.neuron[1] : -1, h.last_result ? h.last_result->params.neuron[2] : -1);
  check (hl_image_view_get_marker (view, &marker) &&
         graphene_rect_contains_point (&marker, &GRAPHENE_POINT_INIT ((float) px, (float) py)) &&
         marker.size.width * nl.shape.dims[3] <= map->input_width * map->sx + 1,
         "the marker is the clicked cell (%.1f,%.1f %.1fx%.1f)",
         marker.origin.x, marker.origin.y, marker.size.width, marker.size.height);
  settle ();
  entry = win_named ("neuron");
  spin = win_named ("neuron-channel");
  {
    g_autofree char *expect = g_strdup_printf ("%d,%d,%d", expect_c, pick_h, pick_w);

    check (entry && strcmp (gtk_editable_get_text (GTK_EDITABLE (entry)), expect) == 0,
           "the neuron field follows: '%s'", entry ? gtk_editable_get_text (GTK_EDITABLE (entry)) : "");
  }
  check (spin && gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (spin)) == expect_c,
         "and so does the channel spin button");
}

/* The channel kept as typed: only H,W follow the click. */
static void
test_neuron_channel_kept (void)
{
  GtkWidget *strongest = win_named ("neuron-strongest"), *spin = win_named ("neuron-channel");
  const hl_crop_map *map = nl.map;
  guint before;

  if (!need_layer ())
    return;
  if (strongest)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (strongest), FALSE);
  if (spin)
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), 3);
  /* the run for 3,H,W starts after the debounce: let it finish so its
   * result is not taken for the click's */
  settle ();
  wait_for (worker_idle, NULL);
  before = h.n_results;
  g_signal_emit_by_name (hl_window_get_image_view (h.win), "picked",
                         map->x0 + 0.5 * map->sx, map->y0 + 0.5 * map->sy);
  wait_count (&h.n_results, before);
  check (h.n_results > before && h.last_result && h.last_result->params.neuron[0] == 3 &&
         h.last_result->params.neuron[1] == 0 && h.last_result->params.neuron[2] == 0,
         "with 'strongest channel' off, a click in the crop's corner picks 3,0,0 (channel from the spin button; got %d,%d,%d)",
         h.last_result ? h.last_result->params.neuron[0] : -1, h.last_result ? h.last_result->params.neuron[1] : -1,
         h.last_result ? h.last_result->params.neuron[2] : -1);
}

/* Typed in the field: the marker moves, the channel spin button follows. */
static void
test_neuron_typed (void)
{
  HlImageView *view = hl_window_get_image_view (h.win);
  const hl_crop_map *map = nl.map;
  GtkWidget *entry = win_named ("neuron"), *spin;
  graphene_rect_t marker;

  if (!need_layer ())
    return;
  if (entry)
    {
      g_autofree char *text = g_strdup_printf ("2,%d,%d", (int) nl.shape.dims[2] - 1, (int) nl.shape.dims[3] - 1);

      gtk_editable_set_text (GTK_EDITABLE (entry), text);
      g_signal_emit_by_name (entry, "activate");
    }
  check (hl_image_view_get_marker (view, &marker) &&
         fabs (marker.origin.x + marker.size.width - (map->x0 + map->input_width * map->sx)) < 0.5 &&
         fabs (marker.origin.y + marker.size.height - (map->y0 + map->input_height * map->sy)) < 0.5,
         "a neuron typed in the field (last cell) moves the marker to the crop's bottom-right corner");
  settle ();
  spin = win_named ("neuron-channel");
  check (spin && gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (spin)) == 2,
         "and the channel spin button shows its channel");
}

/* Another layer that has no neuron 1000,0,0: the neuron moves to its
 * centre, at its strongest channel. */
static void
test_neuron_other_layer (void)
{
  GtkWidget *strongest = win_named ("neuron-strongest");   /* the panel was rebuilt since */
  const char *small = NULL;
  hl_shape small_shape = { 0 };
  g_autofree char *kv = NULL;
  HlResult *r;
  guint before;

  if (!need_layer ())
    return;
  if (strongest)
    gtk_check_button_set_active (GTK_CHECK_BUTTON (strongest), TRUE);
  for (int i = 0; i < hl_model_num_nodes (nl.model) && small == NULL; i++)
    {
      hl_node_info info;

      hl_model_node_info (nl.model, i, &info);
      if (info.shape.ndim == 4 && info.shape.dims[1] < 1000 && info.shape.dims[2] > 8)
        {
          small = info.name;
          small_shape = info.shape;
        }
    }
  act_s ("set-param", "neuron=1000,0,0");
  settle ();
  wait_for (worker_idle, NULL);
  before = h.n_results;
  kv = g_strdup_printf ("layer=%s", small ? small : "");
  act_s ("set-param", kv);
  wait_count (&h.n_results, before);
  r = h.last_result;
  if (small && r)
    {
      /* its strongest channel at the centre, from the test's own run */
      hl_shape ss;
      const float *sa = hl_run_value (nl.run, hl_model_find_value (nl.model, small), &ss);
      int best = sa ? strongest_channel (sa, &ss, (int64_t) r->params.neuron[1] * ss.dims[3] + r->params.neuron[2]) : -1;

      check (best >= 0 && r->params.neuron[0] == best,
             "and takes its strongest channel there (%d, expected %d)", r->params.neuron[0], best);
    }
  check (small && h.n_results > before && r && strcmp (r->params.layer, small) == 0 &&
         r->params.neuron[0] < small_shape.dims[1] &&
         r->params.neuron[1] == (int) ((small_shape.dims[2] - 1) / 2.0 + 0.5) &&
         r->params.neuron[2] == (int) ((small_shape.dims[3] - 1) / 2.0 + 0.5),
         "switching to layer %s %s: neuron 1000,0,0 (not in it) moves to its centre (got %d,%d,%d)",
         small ? small : "?", small ? "with fewer channels" : "",
         r ? r->params.neuron[0] : -1, r ? r->params.neuron[1] : -1, r ? r->params.neuron[2] : -1);
  wait_for (worker_idle, NULL);
}

static void
test_neuron_outside (void)
{
  HlImageView *view = hl_window_get_image_view (h.win);
  const hl_crop_map *map = nl.map;
  guint before = h.n_errors;

  if (need_layer ())
    {
      if (map->x0 > 1 || map->y0 > 1)
        {
          if (map->x0 > 1)
            g_signal_emit_by_name (view, "picked", 0.5, map->y0 + 1.0);
          else
            g_signal_emit_by_name (view, "picked", map->x0 + 1.0, 0.5);
          check (h.n_errors > before && strstr (hl_window_get_error (h.win), "outside"),
                 "a click outside the model's crop says so: %s", hl_window_get_error (h.win));
        }
      else
        g_test_message ("SKIP: the crop covers the whole photo");
    }
  g_clear_pointer (&nl.run, hl_run_free);
  g_clear_pointer (&nl.input, hl_array_free);
  nl.act = NULL;
  wait_for (worker_idle, NULL);
  act_s ("set-method", "saliency");
  check (!hl_image_view_get_picking (view) && !hl_image_view_get_marker (view, NULL),
         "back to saliency: no picking, no marker");
}

/* ------------------------------------------------------------ presenting */

static void
test_next_previous (void)
{
  HlImageView *view = hl_window_get_image_view (h.win);
  g_autofree char *first = g_strdup (hl_window_get_method (h.win));
  g_autoptr(GPtrArray) samples = hl_data_list_samples ();
  g_autofree char *expect = NULL;
  int cat_at = -1;
  guint before;

  act ("next-method", NULL);
  check (strcmp (hl_window_get_method (h.win), first) != 0, "next-method moves on (%s -> %s)",
         first, hl_window_get_method (h.win));
  act ("previous-method", NULL);
  check (strcmp (hl_window_get_method (h.win), first) == 0, "previous-method comes back (%s)",
         hl_window_get_method (h.win));
  for (guint i = 0; i < samples->len; i++)
    if (g_str_has_suffix (samples->pdata[i], "/cat.png"))
      cat_at = (int) i;
  if (cat_at >= 0 && samples->len > 1)
    expect = g_path_get_basename (samples->pdata[(cat_at + 1) % samples->len]);
  before = h.n_predictions;
  act ("next-sample", NULL);
  wait_count (&h.n_predictions, before);
  check (expect && hl_image_view_get_photo (view) &&
         strcmp (hl_photo_get_name (hl_image_view_get_photo (view)), expect) == 0,
         "next-sample after cat.png opens the next sample by name (%s)", expect ? expect : "?");
  before = h.n_predictions;
  act ("previous-sample", NULL);
  wait_count (&h.n_predictions, before);
  check (hl_image_view_get_photo (view) &&
         strcmp (hl_photo_get_name (hl_image_view_get_photo (view)), "cat.png") == 0,
         "previous-sample goes back to cat.png");
}

static void
test_next_target (void)
{
  HlClassifier *c = hl_window_get_classifier (h.win);
  int top1, second;

  /* the sample's own explanation may still be running: let it finish so
   * that the next result is the new target's */
  wait_for (worker_idle, NULL);
  top1 = hl_window_get_target (h.win);
  act ("next-target", NULL);
  second = hl_window_get_target (h.win);
  check (second >= 0 && second != top1 && strstr (hl_classifier_get_label (c, second), "cat") != NULL,
         "next-target explains the second class of the cat photo, another cat: %s",
         second >= 0 ? hl_classifier_get_label (c, second) : "?");
  check (wait_for (result_for_target, GINT_TO_POINTER (second)), "and its map is computed");
  act ("previous-target", NULL);
  check (hl_window_get_target (h.win) == top1, "previous-target goes back to the top-1");
  wait_for (worker_idle, NULL);
}

/* Page Down from a presentation clicker, with the photo focused. */
static void
test_page_keys (void)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (h.win));
  GtkEventController *keys = NULL;
  g_autofree char *method = g_strdup (hl_window_get_method (h.win));
  gboolean handled = FALSE;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) c = g_list_model_get_item (controllers, i);

      if (g_strcmp0 (gtk_event_controller_get_name (c), "presenter-keys") == 0)
        keys = c;
    }
  gtk_widget_grab_focus (GTK_WIDGET (hl_window_get_image_view (h.win)));
  if (keys)
    g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Page_Down, 0, (GdkModifierType) 0, &handled);
  check (handled && strcmp (hl_window_get_method (h.win), method) != 0,
         "Page Down (what presentation clickers send) moves to the next method (%s -> %s)",
         method, hl_window_get_method (h.win));
  if (keys)
    g_signal_emit_by_name (keys, "key-pressed", GDK_KEY_Page_Up, 0, (GdkModifierType) 0, &handled);
  check (strcmp (hl_window_get_method (h.win), method) == 0, "Page Up comes back");
  wait_for (worker_idle, NULL);
}

static void
save_widget_shot (GtkWidget  *widget,
                  const char *name)
{
  g_autofree char *p = g_build_filename (g_getenv ("HL_APP_TEST_SHOTS"), name, NULL);
  int w = gtk_widget_get_width (widget), ht = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, ht);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node)
    {
      g_autoptr(GdkTexture) tex =
        gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                     &GRAPHENE_RECT_INIT (0, 0, w, ht));

      gdk_texture_save_to_png (tex, p);
    }
}

/* The shortcuts window (help overlay) opens and lists the keys. */
static void
test_help_overlay (void)
{
  GList *after;
  GtkWidget *shortcuts = NULL;

  check (g_action_group_has_action (G_ACTION_GROUP (h.win), "show-help-overlay"),
         "the window has a shortcuts window (gtk/help-overlay.ui)");
  act ("show-help-overlay", NULL);
  settle ();
  after = gtk_window_list_toplevels ();
  for (GList *l = after; l; l = l->next)
    if (GTK_IS_SHORTCUTS_WINDOW (l->data))
      shortcuts = l->data;
  check (shortcuts != NULL && gtk_widget_get_visible (shortcuts), "Ctrl+? shows it");
  if (shortcuts && g_getenv ("HL_APP_TEST_SHOTS"))   /* for looking at it by eye */
    save_widget_shot (shortcuts, "shortcuts.png");
  if (shortcuts)
    gtk_window_close (GTK_WINDOW (shortcuts));
  g_list_free (after);
  settle ();
}

/* ------------------------------------------------------------ dropping and screenshots */

/* Dropping an .onnx file on the window opens it as the model. */
static void
test_drop_model (void)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (h.win));
  GtkDropTarget *target = NULL;
  HlClassifier *before_model = hl_window_get_classifier (h.win);
  g_autofree char *hardmax = g_build_filename (g_getenv ("HL_SOURCE_ROOT"), "tests", "data", "app", "hardmax.onnx", NULL);
  g_autoptr(GFile) bad = g_file_new_for_path (hardmax);
  g_autoptr(GFile) good = g_file_new_for_path (h.model_path);
  GValue v = G_VALUE_INIT;
  gboolean taken = FALSE;
  guint errors = h.n_errors, predictions = h.n_predictions;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);

      if (GTK_IS_DROP_TARGET (c))
        target = GTK_DROP_TARGET (c);
    }
  check (target != NULL, "the window takes drops");
  if (target == NULL)
    return;
  g_value_init (&v, G_TYPE_FILE);
  g_value_set_object (&v, bad);
  g_signal_emit_by_name (target, "drop", &v, 10.0, 10.0, &taken);
  check (taken && wait_count (&h.n_errors, errors) && strstr (hl_window_get_error (h.win), "Hardmax") &&
         hl_window_get_classifier (h.win) == before_model,
         "a dropped model the engine cannot run: banner, the model stays");
  g_value_set_object (&v, good);
  g_signal_emit_by_name (target, "drop", &v, 10.0, 10.0, &taken);
  check (taken && wait_count (&h.n_predictions, predictions) &&
         hl_window_get_classifier (h.win) != before_model &&
         strcmp (hl_classifier_get_name (hl_window_get_classifier (h.win)), "mobilenet_v2.onnx") == 0,
         "a dropped .onnx file is loaded as the model and the photo classified again");
  g_value_unset (&v);
  wait_for (worker_idle, NULL);
}

static void
test_screenshot (void)
{
  g_autofree char *shot = tmp_path ("window.png");
  g_autoptr(GError) error = NULL;
  hl_image *img;

  settle ();
  check (hl_window_save_screenshot (h.win, shot, &error), "the window renders to a PNG");
  img = load_png (shot);
  check (img && img->width == gtk_widget_get_width (GTK_WIDGET (h.win)) &&
         img->height == gtk_widget_get_height (GTK_WIDGET (h.win)) && image_stddev (img) > 10,
         "at the window's size, not blank (%dx%d)", img ? img->width : 0, img ? img->height : 0);
  hl_image_free (img);
}

/* heatlens --screenshot */
static void
test_screenshot_command (void)
{
  g_autofree char *shot = tmp_path ("cli-shot.png");
  const char *args[] = { h.heatlens, "--image", h.cat_path, "--method", "saliency",
                         "--window-size", "1000x700", "--screenshot", shot, NULL };
  g_autoptr(GError) error = NULL;
  int status = -1;
  hl_image *img;

  if (h.heatlens == NULL)
    {
      g_test_skip ("the heatlens executable was not given");
      return;
    }
  g_spawn_sync (NULL, (char **) args, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &error);
  check (g_spawn_check_wait_status (status, NULL), "heatlens --screenshot exits with 0");
  img = load_png (shot);
  check (img && img->width > 900 && img->width <= 1000 && img->height > 600 &&
         img->height <= 700 && image_stddev (img) > 10,
         "and writes a window-sized picture with content (%dx%d)", img ? img->width : 0, img ? img->height : 0);
  hl_image_free (img);
}

void
window_add_neuron_presenting_tests (void)
{
  g_test_add_func ("/window/neuron-default", test_neuron_default);
  g_test_add_func ("/window/neuron-click", test_neuron_click);
  g_test_add_func ("/window/neuron-channel-kept", test_neuron_channel_kept);
  g_test_add_func ("/window/neuron-typed", test_neuron_typed);
  g_test_add_func ("/window/neuron-other-layer", test_neuron_other_layer);
  g_test_add_func ("/window/neuron-outside", test_neuron_outside);
  g_test_add_func ("/window/next-previous", test_next_previous);
  g_test_add_func ("/window/next-target", test_next_target);
  g_test_add_func ("/window/page-keys", test_page_keys);
  g_test_add_func ("/window/help-overlay", test_help_overlay);
  g_test_add_func ("/window/drop-model", test_drop_model);
  g_test_add_func ("/window/screenshot", test_screenshot);
  g_test_add_func ("/window/screenshot-command", test_screenshot_command);
}
