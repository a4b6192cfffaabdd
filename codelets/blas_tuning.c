/*
 * Tuned CLBlast parameters (see blas_codelets.h). CLBlast ships tuned
 * kernel parameters for the devices its database knows; for another one
 * (a GPU newer than the database) it falls back to generic ones, several
 * times slower. `python -m cambrian calibrate --blas` runs CLBlast's own
 * tuner and writes what it found to a file per device, one kernel and
 * precision per line:
 *
 *     Xgemm 32 GEMMK=0 KREG=1 KWG=32 ... VWN=4
 *
 * which this hands to CLBlast (CLBlastOverrideParameters) when the
 * runtime starts. A line CLBlast refuses is skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clblast_c.h>
#include <starpu.h>

#include "blas_codelets.h"

#define CB__TUNE_MAX_PARAMS 32

/* Applies one line; 1 when CLBlast took it, else 0. */
static int apply_line(cl_device_id dev, char *line) {
  char *save = NULL;
  char *kernel = strtok_r(line, " \t\r\n", &save);
  char *prec = strtok_r(NULL, " \t\r\n", &save);
  if (!kernel || !prec || kernel[0] == '#')
    return 0;
  int precision = atoi(prec);
  if (precision != CLBlastPrecisionSingle &&
      precision != CLBlastPrecisionDouble)
    return 0;
  const char *names[CB__TUNE_MAX_PARAMS];
  size_t values[CB__TUNE_MAX_PARAMS];
  size_t n = 0;
  for (char *tok; (tok = strtok_r(NULL, " \t\r\n", &save));) {
    char *eq = strchr(tok, '=');
    char *end;
    if (!eq || eq == tok || n == CB__TUNE_MAX_PARAMS)
      return 0;
    *eq = '\0';
    unsigned long long v = strtoull(eq + 1, &end, 10);
    if (end == eq + 1 || *end)
      return 0;
    names[n] = tok;
    values[n++] = (size_t)v;
  }
  if (n == 0)
    return 0;
  return CLBlastOverrideParameters(dev, kernel, (CLBlastPrecision)precision,
                                   n, names, values) == CLBlastSuccess;
}

int cb__blas_load_tuning(int devid, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  cl_device_id dev;
  starpu_opencl_get_device((unsigned)devid, &dev);
  int applied = 0;
  char line[1024];
  while (fgets(line, sizeof line, f))
    applied += apply_line(dev, line);
  fclose(f);
  return applied;
}
