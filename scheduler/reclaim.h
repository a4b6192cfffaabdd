/* Arrays whose last reference is gone are unregistered and freed by a
 * helper thread, never by the thread that dropped them. */
#ifndef CAMBRIAN_SCHEDULER_RECLAIM_H
#define CAMBRIAN_SCHEDULER_RECLAIM_H

#include "cambrian.h"

int cb__reclaim_start(void);
void cb__reclaim_push(cb_array *a);
/* Waits (up to a second) until what is queued has been freed. */
void cb__reclaim_settle(void);
/* Frees everything queued, then stops the thread. */
void cb__reclaim_stop(void);

#endif
