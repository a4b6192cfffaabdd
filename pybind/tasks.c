/* Placeholder: filled in by its feature. */
#include "binding.h"

PyMethodDef cb_task_methods[] = {{NULL, NULL, 0, NULL}};
