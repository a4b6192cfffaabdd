/* Part of cambrian.h: graphs. Include cambrian.h, not this file. */
#ifndef CAMBRIAN_GRAPH_H
#define CAMBRIAN_GRAPH_H

/* A graph records array operations over symbolic values (its
 * inputs, constants and the results of its nodes) once, then replays them
 * over real arrays as many times as asked, each run submitting the same
 * tasks as the eager calls would, without their per-call work (argument
 * conversion, result objects, dtype and shape rules, checked at record
 * time instead). Every run makes new result arrays (recycled from the
 * pool), so runs may overlap; an intermediate value is let go as soon as
 * the last node that reads it is submitted.
 *
 * Locking: a graph is not locked. Recording is for one thread; runs may
 * come from several threads once recording is over. */
typedef struct cb_graph cb_graph;

/* An operand of a node: a value of the graph, or a scalar. */
typedef struct cb_graph_operand {
  int value;               /* value id, or -1 for the scalar */
  cb_operand scalar;       /* .array is NULL */
} cb_graph_operand;

int cb_graph_new(cb_graph **out);
void cb_graph_free(cb_graph *g);

/* Values: an input (an array given to each run), or a constant (an array
 * the graph keeps a reference to). Return the value id, or a negative
 * code. */
int cb_graph_input(cb_graph *g, cb_dtype t, int ndim, const int64_t *shape);
int cb_graph_constant(cb_graph *g, cb_array *a, int device);
/* Records op over n operands (out_dtype: the target of a cast, else -1);
 * the result's dtype and shape follow cb_ewise's rules, checked now.
 * Returns the new value's id, or a negative code. */
int cb_graph_ewise(cb_graph *g, cb_op op, const cb_graph_operand *x, int n,
                   int out_dtype);
/* Records a reduction of value x along axis (as cb_reduce), the dot
 * product of two 1-D values (as cb_dot), a matrix product (as cb_matmul;
 * operands of another dtype than the product's get cast nodes first, as
 * the eager operator converts them) or a transpose (a 0-D or 1-D value is
 * its own: x is returned). Shapes and dtypes are checked now. Return the
 * result's value id, or a negative code. A run submits these as their
 * eager calls would; estimates count them as unknown. */
int cb_graph_reduce(cb_graph *g, cb_reduce_op op, int x, int axis);
int cb_graph_dot(cb_graph *g, int x, int y);
int cb_graph_matmul(cb_graph *g, int x, int y);
int cb_graph_transpose(cb_graph *g, int x);
/* Marks a value as an output (kept to the end of a run). */
int cb_graph_mark_output(cb_graph *g, int value);

/* Plans fusion for the runs to come: chains of element-wise nodes
 * over arrays of one shape, 0-D arrays and rows broadcast along the
 * leading dimensions (the intermediates read by the next node
 * only, and not outputs; at most 3 arrays read from outside the chain,
 * 32 steps and 32 scalars) then run as one task per tile, whose kernel
 * computes every step of an element in registers, instead of one task
 * per node and tile, each through memory. Each step computes as its
 * operation alone would, so the values are those of the unfused run
 * (the kernels contract nothing; float16 results are rounded to halves
 * at each step). Steps over complex values, and casts from floats to
 * integers, are not fused. Call it once the graph is recorded, not while
 * it runs; recording another node, or marking another output, drops the
 * plan. Returns the number of fused groups, or a negative code. */
int cb_graph_fuse(cb_graph *g);
/* The fused group node belongs to, or -1. */
int cb_graph_node_group(const cb_graph *g, int node);

/* What a value is: kind 0 input, 1 constant, 2 node result (node gives
 * the node index); dtype and shape. */
typedef struct cb_graph_value_info {
  int kind;
  int node;
  cb_dtype dtype;
  int ndim;
  int64_t shape[CB_MAX_NDIM];
  int output;
} cb_graph_value_info;
int cb_graph_nvalues(const cb_graph *g);
int cb_graph_nnodes(const cb_graph *g);
int cb_graph_value(const cb_graph *g, int value, cb_graph_value_info *out);
/* A node: its operation's name ("add", "sum", "matmul"...), operands
 * (values, -1 for scalars) and result. */
int cb_graph_node(const cb_graph *g, int node, const char **name,
                  int *operands, int *n, int *result);

/* Runs the graph once: inputs[i] is the array of the i-th input (in the
 * order cb_graph_input made them; dtypes and shapes must match), placed
 * on input_devices[i] (-1: auto); default_device as for cb_ewise. Fills
 * outputs[k] (new references) for each value marked as output, in the
 * order of marking. The work is asynchronous; the call waits only when
 * it is thousands of nodes ahead of the workers. On failure
 * part of the graph may have been submitted; its results are dropped. */
int cb_graph_run(cb_graph *g, cb_array *const *inputs,
                 const int *input_devices, int ninputs, int default_device,
                 cb_array **outputs, int *output_devices, int noutputs);

/* Estimates, from the performance models, the time of each node on device
 * (-1: the CPU workers) for inputs like these (their shapes set the
 * tiles): node_us[i] (may be NULL) is node i's time with its tiles spread
 * over the device's workers, *total_us the work of every task, and
 * *critical_us the longest chain of nodes. A fused group (cb_graph_fuse)
 * is priced at its last node, as its tasks run; its other nodes take 0.
 * A node whose model has no
 * measurement yet (the graph never ran, say) counts NAN, and
 * *unknown says how many did. Blocks while the runtime starts. */
int cb_graph_estimate(cb_graph *g, cb_array *const *inputs, int ninputs,
                      int device, double *node_us, double *total_us,
                      double *critical_us, int *unknown);

#endif
