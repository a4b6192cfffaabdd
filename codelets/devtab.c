/* The device table of the running runtime (see devtab.h). */
#include "devtab.h"

cb__device cb__devices[CB__MAX_DEVICES + CB_NDEVTYPES];
int cb__ndevices;
int cb__nsets;
atomic_uint cb__devtab_gen;

int cb__worker_device(int w) {
  if (w < 0)
    return -1;
  for (int d = 0; d < cb__ndevices; d++)
    for (int k = 0; k < cb__devices[d].nworkers; k++)
      if (cb__devices[d].workers[k] == w)
        return d;
  return -1;
}

int cb__node_device(unsigned node) {
  for (int d = 0; d < cb__ndevices; d++)
    if (cb__devices[d].opencl_devid >= 0 &&
        cb__devices[d].memory_node == node)
      return d;
  return -1;
}
