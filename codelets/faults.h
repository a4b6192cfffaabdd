/*
 * Fault injection, the error channel's test hook: the Nth execution of a
 * named operation on a chosen device fails as a device failure would.
 * When no fault is armed, tasks pay one predictable branch.
 */
#ifndef CAMBRIAN_CODELETS_FAULTS_H
#define CAMBRIAN_CODELETS_FAULTS_H

#include <stdatomic.h>

struct cb__ctx;

/* 0 unless a fault is set. */
extern atomic_int cb__faults_armed;
/* Returns 1 when an injected fault made the task fail. */
int cb__fault_fire(struct cb__ctx *c);
/* Counts an execution of what name names on device against the armed
 * faults (with exact, only those armed for that name, not for any task):
 * the status of the fault that fires (*lose, when not NULL, gets whether
 * it loses the device), else 0. For work that is not a task (a staged
 * copy, "stage", exact). */
int cb__fault_take(const char *name, int exact, int device, int *lose);

#endif
