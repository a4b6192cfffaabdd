/* Turning C error codes and recorded task failures into exceptions. */
#include "binding.h"

#include <stdio.h>
#include <string.h>

/* The lost device a CB_EDEVLOST message names (the first lost one when
 * it names none), or -1; its first fault goes into *cause. */
static int lost_device(const char *msg, cb_failure_info *cause) {
  int found = -1;
  int n = cb_is_running() ? cb_device_count() : 0;
  for (int i = 0; i < n; i++) {
    cb_device_info d;
    if (cb_device_get(i, &d) || !d.lost)
      continue;
    if (found < 0 || strstr(msg, d.filter_string))
      found = i;
    if (strstr(msg, d.filter_string))
      break;
  }
  if (found >= 0 && cb_device_lost(found, cause) != 1)
    found = -1;
  return found;
}

/* DeviceLostError for work refused at the call: its cause is the first
 * fault of the device, which the reader has now seen. */
static PyObject *raise_lost(cbp_state *st) {
  char msg[sizeof(((cb_failure_info *)0)->message)];
  snprintf(msg, sizeof msg, "%s", cb_last_error());
  cb_failure_info cause;
  int device = lost_device(msg, &cause);
  PyObject *exc = PyObject_CallFunction(st->DeviceLostError, "s", msg);
  if (exc && device >= 0) {
    PyObject *first = cbp_failure_info_exception(st, &cause);
    PyObject *dev = first ? PyObject_CallFunction(st->device_factory, "i",
                                                  device)
                          : NULL;
    PyObject *status = dev ? PyObject_GetAttrString(first, "cl_status")
                           : NULL;
    if (!status || PyObject_SetAttrString(exc, "device", dev) < 0 ||
        PyObject_SetAttrString(exc, "cl_status", status) < 0) {
      Py_XDECREF(first);
      Py_CLEAR(exc);
    } else {
      PyException_SetCause(exc, first); /* steals first */
      cb_failure_seen(cause.id);
    }
    Py_XDECREF(status);
    Py_XDECREF(dev);
  }
  if (exc) {
    PyErr_SetObject(st->DeviceLostError, exc);
    Py_DECREF(exc);
  }
  return NULL;
}

PyObject *cbp_raise(cbp_state *st, int err) {
  PyObject *type;
  switch (err) {
  case CB_EINVAL:
  case CB_ESHAPE:
  case CB_EPLACE:
    type = PyExc_ValueError;
    break;
  case CB_ETYPE:
    type = PyExc_TypeError;
    break;
  case CB_ERANGE:
    type = PyExc_OverflowError;
    break;
  case CB_ENOMEM:
    type = PyExc_MemoryError;
    break;
  case CB_ENODEV:
    type = st->DeviceNotFoundError;
    break;
  case CB_ETIMEDOUT:
    type = PyExc_TimeoutError;
    break;
  case CB_EDEVICE:
    type = st->DeviceError;
    break;
  case CB_EBUILD:
    type = st->KernelBuildError;
    break;
  case CB_EDEPEND:
    type = st->DependencyError;
    break;
  case CB_EDEVMEM:
    type = st->DeviceMemoryError;
    break;
  case CB_EASSERT:
    type = st->DeviceAssertionError;
    break;
  case CB_ETASK:
    type = st->TaskError;
    break;
  case CB_ERANKLOST:
    type = st->RankLostError;
    break;
  case CB_EDEVLOST:
    return raise_lost(st);
  default:
    type = st->CambrianError;
  }
  PyErr_SetString(type, cb_last_error());
  return NULL;
}

static int set_attr(PyObject *exc, const char *name, PyObject *value) {
  if (!value)
    return -1;
  int rc = PyObject_SetAttrString(exc, name, value);
  Py_DECREF(value);
  return rc;
}

PyObject *cbp_failure_info_exception(cbp_state *st,
                                     const cb_failure_info *f) {
  if (f->code == CB_ECANCELED)
    return PyObject_CallFunction(st->CancelledError, "s", f->message);
  if (f->code == CB_ETASK) {
    /* The TaskError the function's exception became, with its cause. */
    PyObject *key = PyLong_FromUnsignedLongLong(f->id);
    PyObject *known = key ? PyDict_GetItemWithError(st->task_errors, key)
                          : NULL;
    Py_XDECREF(key);
    if (!known && PyErr_Occurred())
      return NULL;
    /* Else one from another rank, or one whose exception is gone. */
    PyObject *exc = known ? Py_NewRef(known)
                          : PyObject_CallFunction(st->TaskError, "s",
                                                  f->message);
    if (exc && (set_attr(exc, "rank", PyLong_FromLong(f->rank)) ||
                set_attr(exc, "task", PyUnicode_FromString(f->task))))
      Py_CLEAR(exc);
    return exc;
  }
  PyObject *type = f->code == CB_EBUILD    ? st->KernelBuildError
                   : f->code == CB_EDEPEND ? st->DependencyError
                   : f->code == CB_EASSERT ? st->DeviceAssertionError
                   : f->code == CB_EDEVICE ? st->DeviceError
                   : f->code == CB_EDEVLOST ? st->DeviceLostError
                                           : st->CambrianError;
  if (f->code == CB_EDEVICE &&
      (f->cl_status == -4 /* CL_MEM_OBJECT_ALLOCATION_FAILURE */ ||
       f->cl_status == -6 /* CL_OUT_OF_HOST_MEMORY */ ||
       f->cl_status == -61 /* CL_INVALID_BUFFER_SIZE */))
    type = st->DeviceMemoryError;
  PyObject *exc = PyObject_CallFunction(type, "s", f->message);
  if (!exc)
    return NULL;
  PyObject *device = Py_NewRef(Py_None);
  if (f->device >= 0 && cb_is_running())
    Py_SETREF(device,
              PyObject_CallFunction(st->device_factory, "i", f->device));
  if (set_attr(exc, "device", device) ||
      set_attr(exc, "cl_status",
               f->cl_status ? PyUnicode_FromString(
                                  cb_cl_status_name(f->cl_status))
                            : Py_NewRef(Py_None)) ||
      set_attr(exc, "task", PyUnicode_FromString(f->task)) ||
      set_attr(exc, "rank", PyLong_FromLong(f->rank)) ||
      (f->code == CB_EBUILD &&
       set_attr(exc, "build_log", PyUnicode_FromString(f->message))) ||
      (f->code == CB_EASSERT &&
       (set_attr(exc, "kernel", PyUnicode_FromString(f->task)) ||
        set_attr(exc, "line", PyLong_FromLong(f->line)) ||
        set_attr(exc, "work_item",
                 Py_BuildValue("(LLL)", (long long)f->item[0],
                               (long long)f->item[1],
                               (long long)f->item[2]))))) {
    Py_DECREF(exc);
    return NULL;
  }
  return exc;
}

PyObject *cbp_failure_exception(cbp_state *st, const cb_failure *f,
                                int seen) {
  PyObject *exc = cbp_failure_info_exception(st, &f->info);
  if (exc && f->has_cause) {
    PyObject *cause = cbp_failure_info_exception(st, &f->cause);
    if (!cause) {
      Py_DECREF(exc);
      return NULL;
    }
    PyException_SetCause(exc, cause); /* steals cause */
  }
  /* The chain's first failure: a reader that sees the exception marks it
   * seen (cb_failure_seen), so that cb.synchronize() does not raise it. */
  uint64_t first = f->has_cause ? f->cause.id : f->info.id;
  PyObject *id = exc ? PyLong_FromUnsignedLongLong(first) : NULL;
  if (!id || PyObject_SetAttrString(exc, "_cb_failure", id) < 0)
    Py_CLEAR(exc);
  Py_XDECREF(id);
  if (exc && seen)
    cb_failure_seen(first);
  return exc;
}

int cbp_raise_failure(cbp_state *st, const cb_failure *f) {
  PyObject *exc = cbp_failure_exception(st, f, 1);
  if (exc) {
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
  }
  return -1;
}
