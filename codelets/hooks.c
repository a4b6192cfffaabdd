/* Shutdown hooks (see hooks.h). */
#include <pthread.h>

#include "cambrian.h"
#include "hooks.h"

#define CB__MAX_HOOKS 16

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void (*hooks[CB__NHOOKS][CB__MAX_HOOKS])(void);
static int nhooks[CB__NHOOKS];

int cb__hook_add(cb__hook_stage stage, void (*fn)(void)) {
  int rc = 0, i;
  pthread_mutex_lock(&lock);
  for (i = 0; i < nhooks[stage] && hooks[stage][i] != fn; i++)
    ;
  if (i == nhooks[stage]) {
    if (i == CB__MAX_HOOKS)
      rc = CB_ENOMEM;
    else
      hooks[stage][nhooks[stage]++] = fn;
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

void cb__hooks_run(cb__hook_stage stage) {
  void (*run[CB__MAX_HOOKS])(void);
  pthread_mutex_lock(&lock);
  int n = nhooks[stage];
  for (int i = 0; i < n; i++)
    run[i] = hooks[stage][i];
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < n; i++)
    run[i]();
}
