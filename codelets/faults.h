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

#endif
