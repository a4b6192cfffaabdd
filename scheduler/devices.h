/* Device discovery: the device table, built after starpu_init. */
#ifndef CAMBRIAN_SCHEDULER_DEVICES_H
#define CAMBRIAN_SCHEDULER_DEVICES_H

#include "devtab.h"

/* Fills cb__devices from StarPU's workers. */
int cb__devices_discover(void);
/* 0 when work may be placed on device (-1: by the scheduler), else
 * CB_EDEVLOST saying that it was lost and after which fault. */
int cb__device_usable(int device);

#endif
