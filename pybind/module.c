/*
 * The extension module cambrian._core: runtime and device functions,
 * module state and multi-phase initialisation. The Python package
 * cambrian builds the public API on top of it.
 */
#include "binding.h"

static PyObject *raise_rc(PyObject *module, int rc) {
  return cbp_raise(mstate(module), rc);
}

/* init(ncpus, devices, scheduler, tile_size): None for the defaults. */
static PyObject *py_init(PyObject *module, PyObject *const *args,
                         Py_ssize_t nargs) {
  if (nargs != 4) {
    PyErr_SetString(PyExc_TypeError,
                    "init(ncpus, devices, scheduler, tile_size)");
    return NULL;
  }
  cb_config cfg = {.ncpus = -1};
  if (args[0] != Py_None && (cfg.ncpus = PyLong_AsLong(args[0])) < 0) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_ValueError, "ncpus must be 0 or more");
    return NULL;
  }
  if (args[1] != Py_None && !(cfg.devices = PyUnicode_AsUTF8(args[1])))
    return NULL;
  if (args[2] != Py_None && !(cfg.scheduler = PyUnicode_AsUTF8(args[2])))
    return NULL;
  if (args[3] != Py_None && (cfg.tile_elems = PyLong_AsLongLong(args[3])) <= 0) {
    if (!PyErr_Occurred())
      PyErr_SetString(PyExc_ValueError, "tile_size must be positive");
    return NULL;
  }
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_init(&cfg);
  Py_END_ALLOW_THREADS
  return rc ? raise_rc(module, rc) : Py_NewRef(Py_None);
}

/* Calls a blocking C function with the GIL released. */
static PyObject *call_released(PyObject *module, int (*fn)(void)) {
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = fn();
  Py_END_ALLOW_THREADS
  return rc ? raise_rc(module, rc) : Py_NewRef(Py_None);
}

static PyObject *py_shutdown(PyObject *module, PyObject *unused) {
  (void)unused;
  return call_released(module, cb_shutdown);
}

static PyObject *py_runtime_info(PyObject *module, PyObject *unused) {
  (void)unused;
  cb_runtime_info info;
  int rc;
  Py_BEGIN_ALLOW_THREADS
  rc = cb_runtime_info_get(&info);
  Py_END_ALLOW_THREADS
  if (rc)
    return raise_rc(module, rc);
  return Py_BuildValue(
      "{s:i,s:i,s:i,s:i,s:L,s:L,s:L,s:s,s:s,s:s}", "ncpus", info.ncpus,
      "nopencl", info.nopencl, "ncores", info.ncores, "max_cpus",
      info.max_cpus, "tile_size", (long long)info.tile_elems,
      "min_tile_size", (long long)info.min_tile_elems, "max_tile_bytes",
      (long long)info.max_tile_bytes, "scheduler", info.scheduler,
      "starpu_version", info.starpu_version, "cache_dir", info.cache_dir);
}

static PyObject *py_device_count(PyObject *module, PyObject *unused) {
  (void)unused;
  int n;
  Py_BEGIN_ALLOW_THREADS
  n = cb_device_count();
  Py_END_ALLOW_THREADS
  return n < 0 ? raise_rc(module, n) : PyLong_FromLong(n);
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
    return raise_rc(module, rc);
  return Py_BuildValue(
      "{s:i,s:s,s:s,s:i,s:s,s:s,s:s,s:K,s:K,s:i,s:i,s:O,s:s,s:I}", "id", d.id,
      "backend", cb_backend_name(d.backend), "type", cb_devtype_name(d.type),
      "index", d.index, "name", d.name, "vendor", d.vendor, "version",
      d.version, "global_mem_bytes", (unsigned long long)d.global_mem_bytes,
      "max_alloc_bytes", (unsigned long long)d.max_alloc_bytes,
      "compute_units", d.compute_units, "nworkers", d.nworkers, "fp64",
      d.fp64 ? Py_True : Py_False, "filter_string", d.filter_string,
      "generation", cb_generation());
}

static PyObject *py_workers(PyObject *module, PyObject *unused) {
  (void)unused;
  int n;
  Py_BEGIN_ALLOW_THREADS
  n = cb_worker_count();
  Py_END_ALLOW_THREADS
  if (n < 0)
    return raise_rc(module, n);
  PyObject *list = PyList_New(n);
  for (int i = 0; list && i < n; i++) {
    cb_worker_info w;
    if (cb_worker_get(i, &w)) {
      Py_CLEAR(list);
      return raise_rc(module, CB_EINVAL);
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
  const char *f = PyUnicode_AsUTF8(arg);
  if (!f)
    return NULL;
  int ids[64], n;
  Py_BEGIN_ALLOW_THREADS
  n = cb_devices_select(f, ids, 64);
  Py_END_ALLOW_THREADS
  if (n < 0)
    return raise_rc(module, n);
  PyObject *list = PyList_New(0);
  for (int i = 0; list && i < n && i < 64; i++) {
    PyObject *v = PyLong_FromLong(ids[i]);
    if (!v || PyList_Append(list, v) < 0)
      Py_CLEAR(list);
    Py_XDECREF(v);
  }
  return list;
}

/* check_filter(filter): raises ValueError if it does not parse. */
static PyObject *py_check_filter(PyObject *module, PyObject *arg) {
  (void)module;
  const char *f = PyUnicode_AsUTF8(arg);
  if (!f)
    return NULL;
  cb_filter filter;
  char err[256];
  if (cb_filter_parse(f, &filter, err, sizeof err)) {
    PyErr_Format(PyExc_ValueError, "bad device filter '%s': %s", f, err);
    return NULL;
  }
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

static PyMethodDef runtime_methods[] = {
    {"init", (PyCFunction)(void (*)(void))py_init, METH_FASTCALL,
     "init(ncpus, devices, scheduler, tile_size)"},
    {"shutdown", py_shutdown, METH_NOARGS, "Drain, then stop StarPU."},
    {"runtime_info", py_runtime_info, METH_NOARGS, NULL},
    {"device_count", py_device_count, METH_NOARGS, NULL},
    {"device_info", py_device_info, METH_O, NULL},
    {"select_devices", py_select_devices, METH_O, NULL},
    {"workers", py_workers, METH_NOARGS, NULL},
    {"opencl_platforms", py_opencl_platforms, METH_NOARGS, NULL},
    {"check_filter", py_check_filter, METH_O, NULL},
    {"_configure", (PyCFunction)(void (*)(void))py_configure, METH_FASTCALL,
     NULL},
    {NULL}};

static int add_methods(PyObject *m, PyMethodDef *defs) {
  return PyModule_AddFunctions(m, defs);
}

static int core_exec(PyObject *m) {
  cbp_state *st = mstate(m);
  PyObject *errors = PyImport_ImportModule("cambrian.errors");
  if (!errors)
    return -1;
#define GET_EXC(name)                                                        \
  if (!(st->name = PyObject_GetAttrString(errors, #name))) {                 \
    Py_DECREF(errors);                                                       \
    return -1;                                                               \
  }
  GET_EXC(CambrianError)
  GET_EXC(DeviceError)
  GET_EXC(DeviceMemoryError)
  GET_EXC(KernelBuildError)
  GET_EXC(DeviceAssertionError)
  GET_EXC(TaskError)
  GET_EXC(DependencyError)
  GET_EXC(DeviceNotFoundError)
#undef GET_EXC
  Py_DECREF(errors);
  PyObject *cf = PyImport_ImportModule("concurrent.futures");
  st->CancelledError = cf ? PyObject_GetAttrString(cf, "CancelledError") : NULL;
  Py_XDECREF(cf);
  if (!st->CancelledError)
    return -1;
  st->array_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &cbp_array_spec, NULL);
  if (!st->array_type)
    return -1;
  /* NumPy's operators defer to ours instead of converting the Array. */
  if (PyDict_SetItemString(st->array_type->tp_dict, "__array_ufunc__",
                           Py_None) < 0)
    return -1;
  PyType_Modified(st->array_type);
  st->event_type =
      (PyTypeObject *)PyType_FromModuleAndSpec(m, &cbp_event_spec, NULL);
  st->task_errors = PyDict_New();
  if (!st->event_type || !st->task_errors ||
      PyModule_AddObjectRef(m, "task_errors", st->task_errors) < 0)
    return -1;
  if (PyModule_AddType(m, st->array_type) < 0 ||
      PyModule_AddType(m, st->event_type) < 0 ||
      add_methods(m, runtime_methods) < 0 ||
      add_methods(m, cbp_operation_methods) < 0 ||
      add_methods(m, cbp_future_methods) < 0 ||
      add_methods(m, cbp_kernel_methods) < 0 ||
      add_methods(m, cbp_observe_methods) < 0 ||
      add_methods(m, cbp_graph_methods) < 0 ||
      add_methods(m, cbp_task_methods) < 0 ||
      add_methods(m, cbp_reduction_methods) < 0 ||
      add_methods(m, cbp_linalg_methods) < 0)
    return -1;
  PyObject *ops = PyTuple_New(CB_NOPS);
  for (int i = 0; ops && i < CB_NOPS; i++)
    PyTuple_SET_ITEM(ops, i, PyUnicode_FromString(cb_op_name((cb_op)i)));
  if (!ops || PyModule_AddObjectRef(m, "OPS", ops) < 0) {
    Py_XDECREF(ops);
    return -1;
  }
  Py_DECREF(ops);
  PyObject *dtypes = PyTuple_New(CB_NDTYPES);
  for (int i = 0; dtypes && i < CB_NDTYPES; i++)
    PyTuple_SET_ITEM(dtypes, i,
                     PyUnicode_FromString(cb_dtype_name((cb_dtype)i)));
  int rc = dtypes ? PyModule_AddObjectRef(m, "DTYPES", dtypes) : -1;
  Py_XDECREF(dtypes);
  return rc;
}

static int core_traverse(PyObject *m, visitproc visit, void *arg) {
  cbp_state *st = mstate(m);
  Py_VISIT(st->array_type);
  Py_VISIT(st->CambrianError);
  Py_VISIT(st->DeviceError);
  Py_VISIT(st->DeviceMemoryError);
  Py_VISIT(st->KernelBuildError);
  Py_VISIT(st->DeviceAssertionError);
  Py_VISIT(st->TaskError);
  Py_VISIT(st->event_type);
  Py_VISIT(st->task_errors);
  Py_VISIT(st->DependencyError);
  Py_VISIT(st->DeviceNotFoundError);
  Py_VISIT(st->CancelledError);
  Py_VISIT(st->default_device);
  Py_VISIT(st->device_factory);
  Py_VISIT(st->future_factory);
  Py_VISIT(st->numpy);
  for (int i = 0; i < CB_NDTYPES; i++)
    Py_VISIT(st->dtypes[i]);
  return 0;
}

static int core_clear(PyObject *m) {
  cbp_state *st = mstate(m);
  Py_CLEAR(st->array_type);
  Py_CLEAR(st->CambrianError);
  Py_CLEAR(st->DeviceError);
  Py_CLEAR(st->DeviceMemoryError);
  Py_CLEAR(st->KernelBuildError);
  Py_CLEAR(st->DeviceAssertionError);
  Py_CLEAR(st->TaskError);
  Py_CLEAR(st->event_type);
  Py_CLEAR(st->task_errors);
  Py_CLEAR(st->DependencyError);
  Py_CLEAR(st->DeviceNotFoundError);
  Py_CLEAR(st->CancelledError);
  Py_CLEAR(st->default_device);
  Py_CLEAR(st->device_factory);
  Py_CLEAR(st->future_factory);
  Py_CLEAR(st->numpy);
  for (int i = 0; i < CB_NDTYPES; i++)
    Py_CLEAR(st->dtypes[i]);
  return 0;
}

static void core_free(void *m) { core_clear((PyObject *)m); }

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, core_exec},
    {0, NULL}};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cambrian._core",
    .m_doc = "The C core of cambrian: StarPU runtime, devices and arrays.",
    .m_size = sizeof(cbp_state),
    .m_slots = core_slots,
    .m_traverse = core_traverse,
    .m_clear = core_clear,
    .m_free = core_free,
};

PyMODINIT_FUNC PyInit__core(void) { return PyModuleDef_Init(&core_module); }
