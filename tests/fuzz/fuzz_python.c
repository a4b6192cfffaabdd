/*
 * Fuzzes what the extension module cambrian._core makes of arguments
 * from Python: shapes, dtypes, scalars, buffers, device objects and
 * filter strings, kernel sources, graph and task arguments, keywords of
 * the Array methods, and the Python package's functions above them.
 *
 * The module is built into this program (its sources with the library,
 * under the same sanitizers) and registered as a built-in module before
 * the interpreter starts; the package cambrian comes from the source
 * tree. fuzz_python.py turns the input into a few calls (see there);
 * each call must return a result with no exception set, or raise an
 * exception other than SystemError (which CPython raises for a C
 * function that returned NULL without an exception, or a result with
 * one) and NameError (a name missing from the package's code). Anything
 * else, a crash or a sanitizer's report, stops the program.
 *
 * The runtime is started once, with one CPU worker and no OpenCL device,
 * so that an input runs in milliseconds. The OpenCL loader is then shown
 * no platform at all: pocl's LLVM would install signal handlers of its
 * own, in place of those with which libFuzzer saves the input of a crash.
 * CAMBRIAN_FUZZ_DEVICES names devices to use all the same.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PyMODINIT_FUNC PyInit__core(void);

/* Where the package, NumPy and fuzz_python.py are found, and an empty
 * directory (CMake). */
#if !defined(CAMBRIAN_FUZZ_PATH) || !defined(CAMBRIAN_FUZZ_EMPTY_DIR)
#error "CAMBRIAN_FUZZ_PATH and CAMBRIAN_FUZZ_EMPTY_DIR must be defined"
#endif

/* What runs once the interpreter is up: the module search path, the
 * built-in module found as cambrian._core, the version module that a
 * build of the package writes, the runtime, and quiet warnings. */
static const char setup[] =
    "import importlib.machinery as m, os, sys, types, warnings\n"
    "sys.path[:0] = os.environ.get('CAMBRIAN_FUZZ_PATH', PATH).split(':')\n"
    "class CoreFinder:\n"
    "    @staticmethod\n"
    "    def find_spec(name, path=None, target=None):\n"
    "        if name == 'cambrian._core':\n"
    "            return m.ModuleSpec(name, m.BuiltinImporter,\n"
    "                                origin='built-in')\n"
    "sys.meta_path.insert(0, CoreFinder)\n"
    "version = types.ModuleType('cambrian._version')\n"
    "version.__version__ = '0+fuzz'\n"
    "sys.modules['cambrian._version'] = version\n"
    "warnings.simplefilter('ignore')\n"
    "sys.unraisablehook = lambda u: None\n"
    "import cambrian, fuzz_python\n"
    "cambrian.init(ncpus=1,\n"
    "              devices=os.environ.get('CAMBRIAN_FUZZ_DEVICES', 'none'))\n";

static PyObject *plan;          /* fuzz_python.plan */
static PyThreadState *main_ts;  /* the GIL is let go between inputs */

static void die(const char *what) {
  fprintf(stderr, "fuzz_python: %s\n", what);
  if (PyErr_Occurred())
    PyErr_Print();
  fflush(stderr);
  abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *devices = getenv("CAMBRIAN_FUZZ_DEVICES");
  if (!devices || strcmp(devices, "none") == 0)
    setenv("OCL_ICD_VENDORS", CAMBRIAN_FUZZ_EMPTY_DIR, 1);
  if (PyImport_AppendInittab("cambrian._core", PyInit__core) < 0)
    die("cannot register cambrian._core");
  /* Every Python object from malloc: ASan sees each, and LeakSanitizer
   * finds what points to them. */
  PyPreConfig pre;
  PyPreConfig_InitPythonConfig(&pre);
  pre.allocator = PYMEM_ALLOCATOR_MALLOC;
  if (PyStatus_Exception(Py_PreInitialize(&pre)))
    die("cannot pre-initialise Python");
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0; /* libFuzzer's stay */
  config.parse_argv = 0;
  PyStatus status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status))
    die("cannot start Python");
  PyObject *globals = PyDict_New();
  PyObject *path = PyUnicode_FromString(CAMBRIAN_FUZZ_PATH);
  if (!globals || !path || PyDict_SetItemString(globals, "PATH", path) < 0 ||
      PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0)
    die("cannot set up");
  PyObject *r = PyRun_String(setup, Py_file_input, globals, globals);
  if (!r)
    die("cannot import cambrian and fuzz_python");
  Py_DECREF(r);
  PyObject *mod = PyDict_GetItemString(globals, "fuzz_python");
  plan = mod ? PyObject_GetAttrString(mod, "plan") : NULL;
  if (!plan)
    die("fuzz_python has no plan()");
  Py_DECREF(path);
  Py_DECREF(globals);
  main_ts = PyEval_SaveThread();
  return 0;
}

/* Stops the program, saying what went wrong in which call, and showing
 * the exception set, if any. */
static void fail(const char *what, PyObject *fn, PyObject *args,
                 PyObject *kwargs) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  fprintf(stderr, "fuzz_python: %s in the call of\n", what);
  PyObject *call = Py_BuildValue("(OOO)", fn, args, kwargs);
  if (!call || PyObject_Print(call, stderr, 0) < 0)
    PyErr_Clear();
  fputc('\n', stderr);
  if (type)
    PyErr_Display(type, value, tb);
  fflush(stderr);
  abort();
}

/* Stops the program if the exception set shows a bug; clears it. */
static void check_exception(PyObject *fn, PyObject *args, PyObject *kwargs) {
  if (PyErr_ExceptionMatches(PyExc_SystemError))
    fail("SystemError", fn, args, kwargs);
  if (PyErr_ExceptionMatches(PyExc_NameError))
    fail("NameError", fn, args, kwargs);
  PyErr_Clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  PyEval_RestoreThread(main_ts);
  PyObject *bytes = PyBytes_FromStringAndSize((const char *)data,
                                              (Py_ssize_t)size);
  PyObject *gen = bytes ? PyObject_CallOneArg(plan, bytes) : NULL;
  Py_XDECREF(bytes);
  if (!gen)
    die("plan() failed");
  PyObject *sent = Py_NewRef(Py_None);
  for (;;) {
    PyObject *call;
    PySendResult how = PyIter_Send(gen, sent, &call);
    Py_DECREF(sent);
    if (how == PYGEN_RETURN) {
      Py_DECREF(call);
      break;
    }
    if (how == PYGEN_ERROR)
      die("plan() failed");
    PyObject *fn, *args, *kwargs;
    if (!PyArg_ParseTuple(call, "OO!O!", &fn, &PyTuple_Type, &args,
                          &PyDict_Type, &kwargs))
      die("plan() yielded something else than a call");
    PyObject *result = PyObject_Call(fn, args, kwargs);
    if (result && PyErr_Occurred())
      fail("a result with an exception set", fn, args, kwargs);
    if (!result && !PyErr_Occurred())
      fail("no result and no exception", fn, args, kwargs);
    if (!result)
      check_exception(fn, args, kwargs);
    sent = result ? result : Py_NewRef(Py_None);
    Py_DECREF(call);
  }
  Py_DECREF(gen);
  main_ts = PyEval_SaveThread();
  return 0;
}
