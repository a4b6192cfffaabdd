/*
 * The runtime and its devices from Python: starting and stopping StarPU,
 * its settings, devices, workers, OpenCL platforms and device filters,
 * and the callables from the package that the module calls back
 * (_configure). Calls that may block run with the GIL released.
 */
#include "binding.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* A whole-number setting of init (None: *out unchanged) from min up. */
static int int_setting(PyObject *obj, const char *what, long long min,
                       long long max, const char *rule, long long *out) {
  if (obj == Py_None)
    return 0;
  if (PyBool_Check(obj) || !PyLong_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be an integer or None, not "
                 "'%.200s'", what, Py_TYPE(obj)->tp_name);
    return -1;
  }
  int overflow;
  long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
  if (v == -1 && PyErr_Occurred())
    return -1;
  if (overflow > 0 || (!overflow && v > max)) {
    PyErr_Format(PyExc_ValueError, "%s=%S is too large", what, obj);
    return -1;
  }
  if (overflow || v < min) {
    PyErr_Format(PyExc_ValueError, "%s %s, not %S", what, rule, obj);
    return -1;
  }
  *out = v;
  return 0;
}

/* A text setting of init (None: *out unchanged). */
static int text_setting(PyObject *obj, const char *what, const char **out) {
  if (obj == Py_None)
    return 0;
  if (!PyUnicode_Check(obj)) {
    PyErr_Format(PyExc_TypeError, "%s must be a string or None, not "
                 "'%.200s'", what, Py_TYPE(obj)->tp_name);
    return -1;
  }
  *out = cbp_text_arg(obj, what);
  return *out ? 0 : -1;
}

/* Raises ValueError if filter does not parse. */
static int check_filter_text(const char *f) {
  cb_filter filter;
  char err[256];
  if (cb_filter_parse(f, &filter, err, sizeof err) == 0)
    return 0;
  PyErr_Format(PyExc_ValueError, "bad device filter '%s': %s", f, err);
  return -1;
}

/* init(ncpus, devices, scheduler, tile_size, distributed): None for the
 * defaults.
 * While the runtime runs, settings that differ from its own are ignored
 * with a RuntimeWarning: it keeps running as it is. */
static PyObject *py_init(PyObject *module, PyObject *const *args,
                         Py_ssize_t nargs) {
  if (nargs != 5) {
    PyErr_SetString(PyExc_TypeError,
                    "init(ncpus, devices, scheduler, tile_size, distributed)");
    return NULL;
  }
  cb_config cfg = {.ncpus = -1};
  long long ncpus = -1, tile = 0;
  if (int_setting(args[0], "ncpus", 0, INT_MAX, "must be 0 or more",
                  &ncpus) ||
      text_setting(args[1], "devices", &cfg.devices) ||
      text_setting(args[2], "scheduler", &cfg.scheduler) ||
      int_setting(args[3], "tile_size", 1, INT64_MAX, "must be positive",
                  &tile))
    return NULL;
  if (cfg.devices && strcmp(cfg.devices, "none") != 0 &&
      check_filter_text(cfg.devices))
    return NULL;
  cfg.ncpus = (int)ncpus;
  cfg.tile_elems = tile;
  if (args[4] != Py_None) {
    int on = PyObject_IsTrue(args[4]);
    if (on < 0)
      return NULL;
    cfg.distributed = on ? 1 : -1;
  }
  int rc, running;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_init(&cfg);
  running = cb_is_running();
  Py_END_ALLOW_THREADS
  cbp_messages_drain();
  if (rc == CB_ESTATE && running) {
    if (PyErr_WarnFormat(PyExc_RuntimeWarning, 2, "init() changed nothing: "
                         "%s (cambrian.shutdown())", cb_last_error()) < 0)
      return NULL;
    Py_RETURN_NONE;
  }
  return rc ? cbp_raise(mstate(module), rc) : Py_NewRef(Py_None);
}

/* shutdown(): drains, then stops StarPU, with the GIL released. */
static PyObject *py_shutdown(PyObject *module, PyObject *unused) {
  (void)unused;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_shutdown();
  Py_END_ALLOW_THREADS
  cbp_messages_drain();
  return rc ? cbp_raise(mstate(module), rc) : Py_NewRef(Py_None);
}

static PyObject *py_runtime_info(PyObject *module, PyObject *unused) {
  (void)unused;
  cb_runtime_info info;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_runtime_info_get(&info);
  Py_END_ALLOW_THREADS
  if (rc)
    return cbp_raise(mstate(module), rc);
  return Py_BuildValue(
      "{s:i,s:i,s:i,s:i,s:L,s:L,s:L,s:s,s:s,s:s,s:K,s:K,s:K,s:K,s:O,s:O,"
      "s:O,s:i,s:i,s:s,s:O}",
      "ncpus",
      info.ncpus, "nopencl", info.nopencl, "ncores", info.ncores,
      "max_cpus", info.max_cpus, "tile_size", (long long)info.tile_elems,
      "min_tile_size", (long long)info.min_tile_elems, "max_tile_bytes",
      (long long)info.max_tile_bytes, "scheduler", info.scheduler,
      "starpu_version", info.starpu_version, "cache_dir", info.cache_dir,
      "pinned_bytes", (unsigned long long)info.pinned_bytes,
      "pinned_max_bytes", (unsigned long long)info.pinned_max_bytes,
      "memory_held_bytes", (unsigned long long)info.memory_held_bytes,
      "memory_limit_bytes", (unsigned long long)info.memory_limit_bytes,
      "starpu_messages", info.starpu_messages ? Py_True : Py_False,
      "opencl_async", info.opencl_async ? Py_True : Py_False,
      "distributed", info.distributed ? Py_True : Py_False, "rank",
      info.rank, "nranks", info.nranks, "mpi_library", info.mpi_library,
      "mpi_plugin", info.mpi_plugin ? Py_True : Py_False);
}

static PyObject *py_device_count(PyObject *module, PyObject *unused) {
  (void)unused;
  int n;
  Py_BEGIN_ALLOW_THREADS
  n = cb_device_count();
  Py_END_ALLOW_THREADS
  return n < 0 ? cbp_raise(mstate(module), n) : PyLong_FromLong(n);
}

static PyObject *py_device_info(PyObject *module, PyObject *arg) {
  int id = (int)PyLong_AsLong(arg);
  if (id == -1 && PyErr_Occurred())
    return NULL;
  cb_device_info d;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_device_get(id, &d);
  Py_END_ALLOW_THREADS
  if (rc)
    return cbp_raise(mstate(module), rc);
  PyObject *members = PyTuple_New(d.nmembers);
  for (int i = 0; members && i < d.nmembers; i++) {
    PyObject *v = PyLong_FromLong(d.members[i]);
    if (!v)
      Py_CLEAR(members);
    else
      PyTuple_SET_ITEM(members, i, v);
  }
  if (!members)
    return NULL;
  return Py_BuildValue(
      "{s:i,s:s,s:s,s:i,s:s,s:s,s:s,s:K,s:K,s:K,s:i,s:i,s:O,s:s,s:I,s:O,s:i,"
      "s:N}",
      "id",
      d.id,
      "backend", cb_backend_name(d.backend), "type", cb_devtype_name(d.type),
      "index", d.index, "name", d.name, "vendor", d.vendor, "version",
      d.version, "global_mem_bytes", (unsigned long long)d.global_mem_bytes,
      "max_alloc_bytes", (unsigned long long)d.max_alloc_bytes,
      "local_mem_bytes", (unsigned long long)d.local_mem_bytes,
      "compute_units", d.compute_units, "nworkers", d.nworkers, "fp64",
      d.fp64 ? Py_True : Py_False, "filter_string", d.filter_string,
      "generation", cb_generation(), "lost", d.lost ? Py_True : Py_False,
      "blas_tuned", d.blas_tuned, "members", members);
}

static PyObject *py_workers(PyObject *module, PyObject *unused) {
  (void)unused;
  int n;
  Py_BEGIN_ALLOW_THREADS
  n = cb_worker_count();
  Py_END_ALLOW_THREADS
  if (n < 0)
    return cbp_raise(mstate(module), n);
  PyObject *list = PyList_New(n);
  for (int i = 0; list && i < n; i++) {
    cb_worker_info w;
    if (cb_worker_get(i, &w)) {
      Py_CLEAR(list);
      return cbp_raise(mstate(module), CB_EINVAL);
    }
    PyObject *item = Py_BuildValue("{s:i,s:i,s:s}", "id", w.id, "device",
                                   w.device, "name", w.name);
    if (!item)
      Py_CLEAR(list);
    else
      PyList_SET_ITEM(list, i, item);
  }
  return list;
}

static PyObject *py_opencl_platforms(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  cb_platform_info p[16];
  int n;
  Py_BEGIN_ALLOW_THREADS
  n = cb_opencl_platforms(p, 16);
  Py_END_ALLOW_THREADS
  PyObject *list = PyList_New(0);
  for (int i = 0; list && i < n && i < 16; i++) {
    PyObject *item = Py_BuildValue("{s:s,s:s,s:s,s:i}", "name", p[i].name,
                                   "vendor", p[i].vendor, "version",
                                   p[i].version, "devices", p[i].ndevices);
    if (!item || PyList_Append(list, item) < 0)
      Py_CLEAR(list);
    Py_XDECREF(item);
  }
  return list;
}

/* select_devices(filter) -> list of ids, in filter order. */
static PyObject *py_select_devices(PyObject *module, PyObject *arg) {
  const char *f = cbp_text_arg(arg, "a device filter");
  if (!f)
    return NULL;
  int ids[64], n;
  Py_BEGIN_ALLOW_THREADS
  n = cb_devices_select(f, ids, 64);
  Py_END_ALLOW_THREADS
  if (n < 0)
    return cbp_raise(mstate(module), n);
  PyObject *list = PyList_New(0);
  for (int i = 0; list && i < n && i < 64; i++) {
    PyObject *v = PyLong_FromLong(ids[i]);
    if (!v || PyList_Append(list, v) < 0)
      Py_CLEAR(list);
    Py_XDECREF(v);
  }
  return list;
}

/* device_set(filter) -> the id of the device or device set that work
 * asked to go to filter goes to. */
static PyObject *py_device_set(PyObject *module, PyObject *arg) {
  const char *f = cbp_text_arg(arg, "a device filter");
  if (!f)
    return NULL;
  int id;
  Py_BEGIN_ALLOW_THREADS
  id = cb_device_set(f);
  Py_END_ALLOW_THREADS
  return id < 0 ? cbp_raise(mstate(module), id) : PyLong_FromLong(id);
}

/* check_filter(filter): raises ValueError if it does not parse. */
static PyObject *py_check_filter(PyObject *module, PyObject *arg) {
  (void)module;
  const char *f = cbp_text_arg(arg, "a device filter");
  if (!f || check_filter_text(f))
    return NULL;
  Py_RETURN_NONE;
}

/* thread_tile_size(n): the tile size this thread's new arrays ask for
 * (0: the default); returns the one it replaces. */
static PyObject *py_thread_tile_size(PyObject *module, PyObject *arg) {
  long long n = PyLong_AsLongLong(arg);
  if (n == -1 && PyErr_Occurred())
    return NULL;
  int64_t previous;
  int rc = cb_set_thread_tile_size((int64_t)n, &previous);
  return rc ? cbp_raise(mstate(module), rc)
            : PyLong_FromLongLong((long long)previous);
}

/* thread_distribution(d): the distribution (0: none, 1: block) this
 * thread's new arrays take; returns the one it replaces. */
static PyObject *py_thread_distribution(PyObject *module, PyObject *arg) {
  long d = PyLong_AsLong(arg);
  if (d == -1 && PyErr_Occurred())
    return NULL;
  cb_distribution previous;
  int rc = cb_set_thread_distribution((cb_distribution)d, &previous);
  return rc ? cbp_raise(mstate(module), rc) : PyLong_FromLong(previous);
}

/* barrier(): every task and transfer of this rank, then every rank. */
static PyObject *py_barrier(PyObject *module, PyObject *unused) {
  (void)unused;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_barrier();
  Py_END_ALLOW_THREADS
  return rc ? cbp_raise(mstate(module), rc) : Py_NewRef(Py_None);
}

/* _numpy_protocols(array_ufunc, array_function): the Array type's
 * __array_ufunc__ and __array_function__ (cambrian._numpy_dispatch). */
static PyObject *py_numpy_protocols(PyObject *module, PyObject *const *args,
                                    Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  if (nargs != 2 || !PyCallable_Check(args[0]) ||
      !PyCallable_Check(args[1])) {
    PyErr_SetString(PyExc_TypeError,
                    "_numpy_protocols(array_ufunc, array_function)");
    return NULL;
  }
  PyObject *d = st->array_type->tp_dict;
  if (PyDict_SetItemString(d, "__array_ufunc__", args[0]) < 0 ||
      PyDict_SetItemString(d, "__array_function__", args[1]) < 0)
    return NULL;
  PyType_Modified(st->array_type);
  Py_RETURN_NONE;
}

/* _configure(default_device, device_factory, future_factory) */
static PyObject *py_configure(PyObject *module, PyObject *const *args,
                              Py_ssize_t nargs) {
  cbp_state *st = mstate(module);
  if (nargs != 3 || !PyCallable_Check(args[0]) ||
      !PyCallable_Check(args[1]) || !PyCallable_Check(args[2])) {
    PyErr_SetString(PyExc_TypeError,
                    "_configure(default_device, device_factory, "
                    "future_factory)");
    return NULL;
  }
  Py_XSETREF(st->default_device, Py_NewRef(args[0]));
  Py_XSETREF(st->device_factory, Py_NewRef(args[1]));
  Py_XSETREF(st->future_factory, Py_NewRef(args[2]));
  Py_RETURN_NONE;
}

/* At exit Python runs no signal handler, so Ctrl-C during the exit's wait
 * for pending work is caught here, in C. */
static volatile sig_atomic_t exit_interrupted;

static void on_exit_sigint(int sig) {
  (void)sig;
  exit_interrupted = 1;
}

/* drain_at_exit() -> True once no work is pending, False when Ctrl-C
 * came first. The GIL is released while it waits. */
static PyObject *py_drain_at_exit(PyObject *module, PyObject *unused) {
  (void)module;
  (void)unused;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_exit_sigint;
  sigemptyset(&sa.sa_mask);
  exit_interrupted = 0;
  int hooked = sigaction(SIGINT, &sa, &old) == 0;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  do
    rc = cb_wait_idle(50);
  while (rc == CB_ETIMEDOUT && !exit_interrupted);
  Py_END_ALLOW_THREADS
  if (hooked)
    sigaction(SIGINT, &old, NULL);
  return PyBool_FromLong(rc == 0 && !exit_interrupted);
}

/* _environ_set(name, value) sets (value None: removes) a variable of
 * the environment, bracketed by cb_environ_change_begin/end, without the
 * GIL: a thread that holds it may be waiting at the gate (a runtime that
 * starts). name and value are bytes the caller checked. */
static PyObject *py_environ_set(PyObject *module, PyObject *const *args,
                                Py_ssize_t nargs) {
  (void)module;
  if (nargs != 2 || !PyBytes_Check(args[0]) ||
      (args[1] != Py_None && !PyBytes_Check(args[1]))) {
    PyErr_SetString(PyExc_TypeError, "_environ_set(name, value)");
    return NULL;
  }
  const char *name = PyBytes_AS_STRING(args[0]);
  const char *value = args[1] == Py_None ? NULL : PyBytes_AS_STRING(args[1]);
  int rc, err = 0;
  Py_BEGIN_ALLOW_THREADS
  cb_environ_change_begin();
  rc = value ? setenv(name, value, 1) : unsetenv(name);
  if (rc)
    err = errno;
  cb_environ_change_end();
  Py_END_ALLOW_THREADS
  if (rc) {
    errno = err;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  Py_RETURN_NONE;
}

/* Docstrings; their first lines are the text signatures that
 * inspect.signature() reads. */

PyDoc_STRVAR(doc_environ_set,
"_environ_set(name, value, /)\n--\n\n"
"Set (value None: remove) an environment variable, from checked bytes,\n"
"while no codelet of an OpenCL device that runs on the CPU is in flight\n"
"(see cb_environ_change_begin).\n");

PyDoc_STRVAR(doc_init,
"init(ncpus, devices, scheduler, tile_size, distributed, /)\n--\n\n"
"Start the runtime with these settings (None: the environment's).\n");

PyDoc_STRVAR(doc_shutdown,
"shutdown()\n--\n\n"
"Drain, then stop StarPU.\n");

PyDoc_STRVAR(doc_drain_at_exit,
"drain_at_exit()\n--\n\n"
"Wait for pending work at exit; False when Ctrl-C came first.\n");

PyDoc_STRVAR(doc_runtime_info,
"runtime_info()\n--\n\n"
"The runtime's settings, as a dict.\n");

PyDoc_STRVAR(doc_device_count,
"device_count()\n--\n\n"
"The number of devices.\n");

PyDoc_STRVAR(doc_device_info,
"device_info(device_id, /)\n--\n\n"
"A device's properties, as a dict.\n");

PyDoc_STRVAR(doc_device_set,
"device_set(filter, /)\n--\n\n"
"The id of the device set of the OpenCL devices of one type that filter\n"
"names, all of them; else of the first device that matches.");

PyDoc_STRVAR(doc_select_devices,
"select_devices(filter, /)\n--\n\n"
"The ids of the devices a filter string matches, in its order.\n");

PyDoc_STRVAR(doc_workers,
"workers()\n--\n\n"
"StarPU's workers, as dicts (id, name, device).\n");

PyDoc_STRVAR(doc_opencl_platforms,
"opencl_platforms()\n--\n\n"
"The OpenCL platforms, as dicts (name, vendor, version, devices).\n");

PyDoc_STRVAR(doc_check_filter,
"check_filter(filter, /)\n--\n\n"
"Raise ValueError if a filter string does not parse.\n");

PyDoc_STRVAR(doc_thread_tile_size,
"thread_tile_size(n, /)\n--\n\n"
"The tile size (elements) of the arrays this thread makes from now on\n"
"(0: the default); returns the one it replaces.\n");

PyDoc_STRVAR(doc_thread_distribution,
"thread_distribution(d, /)\n--\n\n"
"The distribution (0: none, 1: block) of the arrays this thread makes\n"
"from now on; returns the one it replaces.\n");

PyDoc_STRVAR(doc_barrier,
"barrier()\n--\n\n"
"Wait for this rank's work and transfers, then for every rank.\n");

PyDoc_STRVAR(doc_numpy_protocols,
"_numpy_protocols(array_ufunc, array_function, /)\n--\n\n"
"The Array type's __array_ufunc__ and __array_function__.\n");

PyDoc_STRVAR(doc_configure,
"_configure(default_device, device_factory, future_factory, /)\n--\n\n"
"The package's callables that the module calls.\n");

PyMethodDef cbp_runtime_methods[] = {
    {"init", CBP_METH(py_init), METH_FASTCALL, doc_init},
    {"shutdown", py_shutdown, METH_NOARGS, doc_shutdown},
    {"drain_at_exit", py_drain_at_exit, METH_NOARGS, doc_drain_at_exit},
    {"runtime_info", py_runtime_info, METH_NOARGS, doc_runtime_info},
    {"device_count", py_device_count, METH_NOARGS, doc_device_count},
    {"device_info", py_device_info, METH_O, doc_device_info},
    {"device_set", py_device_set, METH_O, doc_device_set},
    {"select_devices", py_select_devices, METH_O, doc_select_devices},
    {"workers", py_workers, METH_NOARGS, doc_workers},
    {"opencl_platforms", py_opencl_platforms, METH_NOARGS,
     doc_opencl_platforms},
    {"check_filter", py_check_filter, METH_O, doc_check_filter},
    {"thread_tile_size", py_thread_tile_size, METH_O,
     doc_thread_tile_size},
    {"thread_distribution", py_thread_distribution, METH_O,
     doc_thread_distribution},
    {"barrier", py_barrier, METH_NOARGS, doc_barrier},
    {"_numpy_protocols", CBP_METH(py_numpy_protocols), METH_FASTCALL,
     doc_numpy_protocols},
    {"_configure", CBP_METH(py_configure), METH_FASTCALL, doc_configure},
    {"_environ_set", CBP_METH(py_environ_set), METH_FASTCALL,
     doc_environ_set},
    {NULL}};
