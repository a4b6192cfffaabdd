/* Placeholder: filled in by its feature. */
#include "internal.h"
