/* HlMethodHelp: what an attribution method computes, for a student — its
 * formula, what the colours and the sign mean, its cost, how it fails and
 * the Captum class it matches. The text is data (data/methods/methods.ini,
 * in the GResource), one group per method of the registry. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HL_TYPE_METHOD_HELP (hl_method_help_get_type ())
G_DECLARE_FINAL_TYPE (HlMethodHelp, hl_method_help, HL, METHOD_HELP, GtkWindow)

/* The keys every method's group has, in display order, NULL-terminated. */
extern const char *const hl_method_help_keys[];

HlMethodHelp *hl_method_help_new        (GtkWindow    *parent,
                                         const char   *method);
void          hl_method_help_set_method (HlMethodHelp *self,
                                         const char   *method);
const char   *hl_method_help_get_method (HlMethodHelp *self);
/* The explanations (the parsed resource), shared; NULL with error when the
 * resource is missing or broken. */
GKeyFile     *hl_method_help_get_texts  (GError      **error);

G_END_DECLS
