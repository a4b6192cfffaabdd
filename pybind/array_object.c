/*
 * The life of an Array object: making one around a C array, the device
 * it is placed on (found again after the runtime restarts) and waiting for
 * its host copy. The type itself, with its protocols and operators, is in
 * array_type.c.
 */
#include "binding.h"

PyObject *cbp_array_object_new(cbp_state *st, cb_array *arr,
                               PyObject *device, int dev_id) {
  ArrayObject *a = PyObject_GC_New(ArrayObject, st->array_type);
  if (!a) {
    cb_array_unref(arr);
    return NULL;
  }
  a->arr = arr;
  a->device = Py_NewRef(device ? device : Py_None);
  a->dev_id = dev_id;
  a->dev_gen = cb_generation();
  a->future = NULL;
  a->weakreflist = NULL;
  a->interrupt = NULL;
  a->interrupt_thread = 0;
  int ndim = cb_array_ndim(arr);
  const int64_t *shape = cb_array_shape(arr);
  Py_ssize_t stride = (Py_ssize_t)cb_dtype_size(cb_array_dtype(arr));
  for (int i = ndim - 1; i >= 0; i--) {
    a->shape[i] = (Py_ssize_t)shape[i];
    a->strides[i] = stride;
    /* Only an empty array's dimensions can multiply past the largest
     * size (its other dimensions are unbounded): its strides are never
     * followed, so 0 does. */
    if (i > 0 && __builtin_mul_overflow(stride, a->shape[i], &stride))
      stride = 0;
  }
  PyObject_GC_Track(a);
  return (PyObject *)a;
}

int cbp_array_object_device(cbp_state *st, ArrayObject *a) {
  if (a->device == Py_None)
    return -1;
  if (a->dev_gen == cb_generation() && cb_is_running())
    return a->dev_id;
  int id = cbp_device_id(st, a->device);
  if (id >= -1) {
    a->dev_id = id;
    a->dev_gen = cb_generation();
  }
  return id;
}

/* Waits for the writer of an array whose host copy is current: the data
 * can be back before the writing operation's event has heard from its
 * last task, a matter of microseconds. Inside a task, where the event's
 * wait refuses to sleep, it polls. 0, -1 with an error raised (in a
 * child after fork()), or -2 with what a signal handler raised. */
static int wait_writer_done(cbp_state *st, cb_event *writer) {
  int waited = cbp_event_wait_interruptibly(writer, -1);
  if (waited == -3 || waited == -4) {
    cbp_raise(st, waited == -3 ? CB_ESTATE : CB_ERANKLOST);
    return -1;
  }
  if (waited != -2)
    return waited < 0 ? -2 : 0;
  while (!cb_event_done(writer)) {
    Py_BEGIN_ALLOW_THREADS
    cb_event_poll(writer, 1000);
    Py_END_ALLOW_THREADS
    if (PyErr_CheckSignals() < 0)
      return -2;
  }
  return 0;
}

int cbp_array_object_sync(cbp_state *st, ArrayObject *a) {
  return cbp_array_object_sync_part(st, a, 0);
}

int cbp_array_object_sync_part(cbp_state *st, ArrayObject *a, int mine) {
  cb_event *e;
  int rc;
  /* The writer the host copy will be current with: waited for too, so
   * that once the array is read its future is done. */
  cb_event *writer = cb_array_writer(a->arr);
  Py_BEGIN_ALLOW_THREADS
  rc = mine ? cb_array_sync_local_start(a->arr, &e)
            : cb_array_sync_host_start(a->arr, &e);
  Py_END_ALLOW_THREADS
  if (rc) {
    cb_event_unref(writer);
    cbp_raise(st, rc);
    return -1;
  }
  int waited = cbp_event_wait_interruptibly(e, -1);
  if (waited < 0) {
    cb_event_unref(e);
    cb_event_unref(writer);
    if (waited <= -2) {
      cbp_raise(st, waited == -2   ? CB_EINTASK
                    : waited == -3 ? CB_ESTATE
                                   : CB_ERANKLOST);
      return -1;
    }
    return -2;
  }
  rc = cb_event_wait(e, 0);
  cb_event_unref(e);
  if (rc) {
    cb_event_unref(writer);
    cbp_raise(st, rc);
    return -1;
  }
  if (writer) {
    rc = wait_writer_done(st, writer);
    cb_event_unref(writer);
    if (rc)
      return rc;
  }
  cb_failure f;
  if (cb_array_failure(a->arr, &f))
    return cbp_raise_failure(st, &f);
  return 0;
}
