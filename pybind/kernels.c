/* Placeholder: filled in by its feature. */
#include "binding.h"

PyMethodDef cb_kernel_methods[] = {{NULL, NULL, 0, NULL}};
