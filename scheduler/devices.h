/* Device discovery: the device table, built after starpu_init. */
#ifndef CAMBRIAN_SCHEDULER_DEVICES_H
#define CAMBRIAN_SCHEDULER_DEVICES_H

#include "devtab.h"

/* Fills cb__devices from StarPU's workers. */
int cb__devices_discover(void);

#endif
