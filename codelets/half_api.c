/*
 * The public conversions of half-precision values (cambrian.h), over the
 * ones the loops inline (half.h).
 */
#include "cambrian.h"
#include "half.h"

float cb_half_to_float(cb_half h) { return cb__half_to_float(h); }

cb_half cb_half_from_double(double d) { return cb__double_to_half(d); }
