/* Placeholder: filled in by its feature. */
#include "binding.h"

PyMethodDef cb_linalg_methods[] = {{NULL, NULL, 0, NULL}};
