/*
 * Fusion of a recorded graph (cb_graph_fuse): nodes are taken in their
 * recorded order; an element-wise node joins the groups whose results it
 * alone reads, when their program, rebuilt with it, still fits and every
 * step of it can be fused; else it starts a group of its own. Groups of
 * one node are dropped: such a node runs as it would unfused.
 */
#include <stdlib.h>
#include <string.h>

#include "fuse.h"
#include "graph.h"

/* Whether v, broadcast to r's shape, is read as a tile of it, as one
 * element (0-D), or as a row repeated along r's leading dimensions: its
 * shape, leading 1s aside, is r's last dimensions. */
static int broadcasts_fused(const gvalue *v, const gvalue *r) {
  int lead = 0;
  while (lead < v->ndim && v->shape[lead] == 1)
    lead++;
  int k = v->ndim - lead;
  if (v->ndim > r->ndim || k > r->ndim)
    return 0;
  if (v->ndim == r->ndim &&
      !memcmp(v->shape, r->shape, sizeof(int64_t) * r->ndim))
    return 1;
  return !memcmp(&v->shape[lead], &r->shape[r->ndim - k],
                 sizeof(int64_t) * (size_t)k);
}

/* Whether node d may be part of a group: element-wise, its array
 * operands read as tiles, elements or rows of its result. */
static int eligible(const cb_graph *g, const gnode *d) {
  if (d->kind != NODE_EWISE)
    return 0;
  const gvalue *r = &g->values[d->result];
  for (int k = 0; k < d->n; k++)
    if (d->x[k] >= 0 && !broadcasts_fused(&g->values[d->x[k]], r))
      return 0;
  return 1;
}

/* Groups being tried together: their numbers, and a node joining them
 * (-1: none). */
typedef struct tryset {
  int grp[CB__MAX_OPERANDS];
  int n;
  int extra;
} tryset;

static int in_set(const cb_graph *g, const tryset *t, int node) {
  if (node == t->extra)
    return 1;
  for (int f = 0; f < t->n; f++)
    if (g->nodes[node].group == t->grp[f])
      return 1;
  return 0;
}

/* Builds into gr the program of the nodes of t, nodes first to last:
 * its inputs, then its steps in the nodes' order. 0, or CB_EAGAIN when
 * it cannot be fused. */
static int build(const cb_graph *g, const tryset *t, int first, int last,
                 cb__fprog *p, int32_t *inputs) {
  cb__fprog_init(p);
  /* The register of each value made so far, by value id. */
  int32_t made[CB__FUSE_MAX_STEPS][2];
  int nmade = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (int i = first; i <= last; i++) {
      const gnode *d = &g->nodes[i];
      if (!in_set(g, t, i))
        continue;
      int reg[CB__MAX_OPERANDS];
      cb_operand x[CB__MAX_OPERANDS] = {{0}};
      for (int k = 0; k < d->n; k++) {
        int v = d->x[k];
        reg[k] = -1;
        if (v < 0) {
          x[k] = g->scalars[-2 - v];
          continue;
        }
        const gvalue *val = &g->values[v];
        if (val->kind == VAL_NODE && in_set(g, t, val->node)) {
          for (int m = 0; m < nmade; m++)
            if (made[m][0] == v)
              reg[k] = made[m][1];
          continue;
        }
        /* From outside: an input, once. */
        int r = 0;
        while (r < p->nin && inputs[r] != v)
          r++;
        if (r == p->nin && pass == 0) {
          if (cb__fprog_input(p, (cb_dtype)val->dtype) < 0)
            return CB_EAGAIN;
          inputs[r] = v;
        }
        reg[k] = r;
      }
      if (pass == 0)
        continue;
      int out;
      if (nmade == CB__FUSE_MAX_STEPS ||
          cb__fprog_step(p, (cb_op)d->op, reg, x, d->n, d->out_dtype,
                         &out))
        return CB_EAGAIN;
      made[nmade][0] = d->result;
      made[nmade++][1] = out;
    }
  }
  return 0;
}

void cb__graph_unfuse(cb_graph *g) {
  for (int grp = 0; grp < g->ngroups; grp++)
    free(g->groups[grp].prog);
  free(g->groups);
  g->groups = NULL;
  g->ngroups = g->cgroups = 0;
  for (int v = 0; v < g->nvalues; v++)
    g->values[v].last_use = -1;
  for (int i = 0; i < g->nnodes; i++) {
    g->nodes[i].group = -1;
    for (int k = 0; k < g->nodes[i].n; k++)
      if (g->nodes[i].x[k] >= 0)
        g->values[g->nodes[i].x[k]].last_use = i;
  }
}

/* The groups whose results node i alone reads (each ending with the
 * node that makes that result), into t; the first node among them. */
static int candidates(const cb_graph *g, int i, tryset *t) {
  const gnode *d = &g->nodes[i];
  int first = i;
  t->n = 0;
  t->extra = i;
  for (int k = 0; k < d->n; k++) {
    const gvalue *v = d->x[k] >= 0 ? &g->values[d->x[k]] : NULL;
    if (!v || v->kind != VAL_NODE || v->output || v->readers != 1)
      continue;
    int grp = g->nodes[v->node].group;
    if (grp < 0 || g->groups[grp].last != v->node)
      continue;
    int seen = 0;
    for (int f = 0; f < t->n; f++)
      seen |= t->grp[f] == grp;
    if (!seen) {
      t->grp[t->n++] = grp;
      if (g->groups[grp].first < first)
        first = g->groups[grp].first;
    }
  }
  return first;
}

/* Node i joins the groups of t (the first one takes the others in). */
static void join(cb_graph *g, int i, const tryset *t, int first) {
  ggroup *ga = &g->groups[t->grp[0]];
  for (int f = 1; f < t->n; f++) {
    ggroup *gb = &g->groups[t->grp[f]];
    for (int n = gb->first; n <= gb->last; n++)
      if (g->nodes[n].group == t->grp[f])
        g->nodes[n].group = t->grp[0];
    ga->nmembers += gb->nmembers;
    gb->nmembers = 0;
  }
  ga->first = first;
  ga->last = i;
  ga->nmembers++;
  g->nodes[i].group = t->grp[0];
}

/* Drops groups of one node, numbers the rest from 0 with their
 * programs, and moves each value's last use to where the group that
 * reads it runs. */
static int settle(cb_graph *g, cb__fprog *scratch) {
  int *renum = malloc(((size_t)g->ngroups + 1) * sizeof *renum);
  if (!renum)
    return cb__fail(CB_ENOMEM, "out of host memory");
  int kept = 0, rc = 0;
  for (int grp = 0; grp < g->ngroups; grp++) {
    renum[grp] = g->groups[grp].nmembers > 1 ? kept : -1;
    if (renum[grp] >= 0)
      g->groups[kept++] = g->groups[grp];
  }
  g->ngroups = kept;
  for (int i = 0; i < g->nnodes; i++) {
    gnode *d = &g->nodes[i];
    if (d->group >= 0)
      d->group = renum[d->group];
  }
  free(renum);
  for (int grp = 0; grp < g->ngroups && rc == 0; grp++) {
    ggroup *gr = &g->groups[grp];
    tryset t = {.grp = {grp}, .n = 1, .extra = -1};
    if (build(g, &t, gr->first, gr->last, scratch, gr->inputs) ||
        !(gr->prog = malloc(sizeof *gr->prog)))
      rc = cb__fail(CB_ENOMEM, "out of host memory");
    else
      *gr->prog = *scratch;
  }
  for (int i = 0; i < g->nnodes && rc == 0; i++) {
    const gnode *d = &g->nodes[i];
    int at = d->group >= 0 ? g->groups[d->group].last : i;
    for (int k = 0; k < d->n; k++)
      if (d->x[k] >= 0 && g->values[d->x[k]].last_use < at)
        g->values[d->x[k]].last_use = at;
  }
  return rc;
}

/* Room for one more group. */
static int grow_groups(cb_graph *g) {
  if (g->ngroups < g->cgroups)
    return 0;
  int c = g->cgroups ? 2 * g->cgroups : 16;
  ggroup *p = realloc(g->groups, (size_t)c * sizeof *p);
  if (!p)
    return cb__fail(CB_ENOMEM, "out of host memory");
  g->groups = p;
  g->cgroups = c;
  return 0;
}

int cb_graph_fuse(cb_graph *g) {
  cb__graph_unfuse(g);
  cb__fprog *trial = malloc(sizeof *trial);
  if (!trial)
    return cb__fail(CB_ENOMEM, "out of host memory");
  int rc = 0;
  int32_t inputs[CB__MAX_OPERANDS];
  for (int i = 0; i < g->nnodes && rc == 0; i++) {
    if (!eligible(g, &g->nodes[i]))
      continue;
    tryset t;
    int first = candidates(g, i, &t);
    if (t.n && build(g, &t, first, i, trial, inputs) == 0) {
      join(g, i, &t, first);
      continue;
    }
    /* A group of its own, if the node alone can be fused. */
    tryset alone = {.n = 0, .extra = i};
    if (build(g, &alone, i, i, trial, inputs) == 0 &&
        (rc = grow_groups(g)) == 0) {
      g->groups[g->ngroups] = (ggroup){.first = i, .last = i,
                                       .nmembers = 1};
      g->nodes[i].group = g->ngroups++;
    }
  }
  if (rc == 0)
    rc = settle(g, trial);
  free(trial);
  if (rc) {
    cb__graph_unfuse(g);
    return rc;
  }
  return g->ngroups;
}

int cb_graph_node_group(const cb_graph *g, int node) {
  if (node < 0 || node >= g->nnodes)
    return cb__fail(CB_EINVAL, "no node %d in this graph", node);
  return g->nodes[node].group;
}
