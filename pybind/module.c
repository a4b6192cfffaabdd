/*
 * The extension module cambrian._core: its state, its types and the
 * functions of every file of this folder, set up by multi-phase
 * initialisation. The Python package cambrian builds the public API on
 * top of it.
 */
#include "binding.h"

/* The functions of the module, by file. */
static PyMethodDef *const method_tables[] = {
    cbp_runtime_methods,   cbp_operation_methods, cbp_creation_methods,
    cbp_future_methods,    cbp_kernel_methods,    cbp_observe_methods,
    cbp_graph_methods,     cbp_task_methods,      cbp_reduction_methods,
    cbp_linalg_methods,    cbp_layout_methods,    cbp_testing_methods};

/* Visits, or clears, every object of the state. */
#define STATE_OBJECTS(X, st)                                                 \
  X((st)->array_type);                                                       \
  X((st)->CambrianError);                                                    \
  X((st)->DeviceError);                                                      \
  X((st)->DeviceMemoryError);                                                \
  X((st)->KernelBuildError);                                                 \
  X((st)->DeviceAssertionError);                                             \
  X((st)->DeviceLostError);                                                  \
  X((st)->RankLostError);                                                    \
  X((st)->TaskError);                                                        \
  X((st)->event_type);                                                       \
  X((st)->task_errors);                                                      \
  X((st)->DependencyError);                                                  \
  X((st)->DeviceNotFoundError);                                              \
  X((st)->CancelledError);                                                   \
  X((st)->default_device);                                                   \
  X((st)->device_factory);                                                   \
  X((st)->future_factory);                                                   \
  X((st)->numpy);                                                            \
  for (int i = 0; i < CB_NDTYPES; i++)                                       \
    X((st)->dtypes[i]);

/* A tuple of the names name(i) for i below n, as the module's attr. */
static int add_names(PyObject *m, const char *attr, int n,
                     const char *(*name)(int)) {
  PyObject *t = PyTuple_New(n);
  for (int i = 0; t && i < n; i++) {
    PyObject *s = PyUnicode_FromString(name(i));
    if (!s)
      Py_CLEAR(t);
    else
      PyTuple_SET_ITEM(t, i, s);
  }
  int rc = t ? PyModule_AddObjectRef(m, attr, t) : -1;
  Py_XDECREF(t);
  return rc;
}

static const char *op_name(int i) { return cb_op_name((cb_op)i); }
static const char *dtype_name(int i) { return cb_dtype_name((cb_dtype)i); }

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
  GET_EXC(DeviceLostError)
  GET_EXC(RankLostError)
  GET_EXC(TaskError)
  GET_EXC(DependencyError)
  GET_EXC(DeviceNotFoundError)
#undef GET_EXC
  Py_DECREF(errors);
  PyObject *cf = PyImport_ImportModule("concurrent.futures");
  st->CancelledError =
      cf ? PyObject_GetAttrString(cf, "CancelledError") : NULL;
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
      PyModule_AddType(m, st->event_type) < 0)
    return -1;
  PyObject *future_base = PyType_FromModuleAndSpec(m, &cbp_future_base_spec,
                                                   NULL);
  if (!future_base || PyModule_AddType(m, (PyTypeObject *)future_base) < 0) {
    Py_XDECREF(future_base);
    return -1;
  }
  Py_DECREF(future_base);
  for (size_t i = 0; i < sizeof method_tables / sizeof *method_tables; i++)
    if (PyModule_AddFunctions(m, method_tables[i]) < 0)
      return -1;
  if (add_names(m, "OPS", CB_NOPS, op_name) < 0 ||
      add_names(m, "DTYPES", CB_NDTYPES, dtype_name) < 0 ||
      PyModule_AddIntConstant(m, "MAX_NDIM", CB_MAX_NDIM) < 0)
    return -1;
  cbp_messages_start();
  return 0;
}

static int core_traverse(PyObject *m, visitproc visit, void *arg) {
  cbp_state *st = mstate(m);
  STATE_OBJECTS(Py_VISIT, st)
  return 0;
}

static int core_clear(PyObject *m) {
  cbp_state *st = mstate(m);
  STATE_OBJECTS(Py_CLEAR, st)
  return 0;
}

static void core_free(void *m) {
  cbp_messages_stop();
  core_clear((PyObject *)m);
}

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
