/*
 * Clean-up at shutdown goes through hooks: each module registers what it
 * must release when it first keeps something, and the runtime runs the
 * hooks without knowing who registered them.
 *
 * Locking: the table has its own lock; hooks run without it.
 */
#ifndef CAMBRIAN_CODELETS_HOOKS_H
#define CAMBRIAN_CODELETS_HOOKS_H

/* When a hook runs: once every task has ended (free what tasks used), or
 * just before StarPU stops (release objects of its OpenCL contexts). */
typedef enum { CB__HOOK_DRAINED, CB__HOOK_RELEASE, CB__NHOOKS } cb__hook_stage;

/* Registers fn for stage; a function registered twice runs once. Returns
 * 0, or CB_ENOMEM when the table is full. */
int cb__hook_add(cb__hook_stage stage, void (*fn)(void));
/* Runs the hooks of stage, in the order they were registered. */
void cb__hooks_run(cb__hook_stage stage);

#endif
