/* Loading a log: the fast path of converting one line of events, in C (optional).
 *
 * Why C: after ``json.loads`` has parsed a line, every event still has to be
 * checked and turned into the tuple the model folds, and in Python that loop
 * cost more than the parsing.  ``convert`` does exactly what the fast path of
 * ``LogReader._read_events`` (reader.py) does, for as many leading events of the
 * line as it can; at the first event it does not handle plainly (a wrong type,
 * an unknown kind, a nested value, a number out of range, anything at all) it
 * stops and says how far it got, and the Python loop takes over from there,
 * converting what is unusual and naming what is wrong.  So both paths accept
 * and refuse exactly the same lines.
 *
 * The event tuples it makes hold plain values only and are untracked by the
 * garbage collector at once: a loaded log keeps millions of them, and scanning
 * them would find nothing to collect.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static inline int
is_scalar(PyObject *value)
{
    return value == Py_None || PyBool_Check(value) || PyLong_CheckExact(value)
        || PyFloat_CheckExact(value) || PyUnicode_CheckExact(value);
}

/* ``cache.setdefault(value, value)``: one shared object per distinct value. */
static inline PyObject *
shared(PyObject *cache, PyObject *value)
{
    return PyDict_SetDefault(cache, value, value);  /* borrowed */
}

/* convert(rows, events, started, cache, kinds, thread_started, last_seq)
 *     -> (converted, last_seq, seqs as native int64 bytes) */
static PyObject *
convert(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *rows, *events, *started, *cache, *kinds, *thread_started, *result = NULL;
    long long last_seq, *seqs;
    Py_ssize_t count, done = 0;

    if (nargs != 7 || !PyList_CheckExact(args[0]) || !PyList_CheckExact(args[1])
        || !PyDict_CheckExact(args[2]) || !PyDict_CheckExact(args[3])
        || !PyDict_CheckExact(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "convert(rows: list, events: list, started: dict, cache: dict, "
                        "kinds: dict, thread_started, last_seq: int)");
        return NULL;
    }
    rows = args[0];
    events = args[1];
    started = args[2];
    cache = args[3];
    kinds = args[4];
    thread_started = args[5];
    last_seq = PyLong_AsLongLong(args[6]);
    if (last_seq == -1 && PyErr_Occurred()) {
        return NULL;
    }
    count = PyList_GET_SIZE(rows);
    seqs = PyMem_Malloc((count ? count : 1) * sizeof(long long));
    if (seqs == NULL) {
        return PyErr_NoMemory();
    }

    /* Consecutive events mostly share their thread, and the kinds come from a handful:
     * the last ones seen are compared first, before any hashing. */
    PyObject *last_thread = NULL, *last_name = NULL, *last_kind = NULL;
    for (; done < count; done++) {
        PyObject *row = PyList_GET_ITEM(rows, done);
        PyObject *seq, *t_ns, *thread, *name, *subject, *a, *b, *kind, *event;
        long long seq_value;
        int overflow, starts;

        if (!PyList_CheckExact(row) || PyList_GET_SIZE(row) != 7) {
            break;
        }
        seq = PyList_GET_ITEM(row, 0);
        t_ns = PyList_GET_ITEM(row, 1);
        thread = PyList_GET_ITEM(row, 2);
        name = PyList_GET_ITEM(row, 3);
        subject = PyList_GET_ITEM(row, 4);
        a = PyList_GET_ITEM(row, 5);
        b = PyList_GET_ITEM(row, 6);
        if (!PyLong_CheckExact(seq) || !PyLong_CheckExact(t_ns) || !PyLong_CheckExact(thread)) {
            break;
        }
        seq_value = PyLong_AsLongLongAndOverflow(seq, &overflow);
        if (overflow || (seq_value == -1 && PyErr_Occurred()) || seq_value <= last_seq) {
            PyErr_Clear();
            break;
        }
        if (!PyUnicode_CheckExact(name)) {
            break;
        }
        if (last_name != NULL && PyUnicode_GET_LENGTH(name) == PyUnicode_GET_LENGTH(last_name)
            && PyUnicode_KIND(name) == PyUnicode_KIND(last_name)
            && memcmp(PyUnicode_DATA(name), PyUnicode_DATA(last_name),
                      PyUnicode_GET_LENGTH(name) * PyUnicode_KIND(name)) == 0) {
            kind = last_kind;
        }
        else {
            kind = PyDict_GetItemWithError(kinds, name);  /* borrowed */
            if (kind == NULL) {
                if (PyErr_Occurred()) {
                    goto error;
                }
                break;
            }
            last_name = name;  /* alive while ``rows`` is */
            last_kind = kind;
        }
        if (!is_scalar(subject) || !is_scalar(a) || !is_scalar(b)) {
            break;  /* a nested value: the Python loop converts it */
        }
        starts = kind == thread_started;
        if (!starts && !(PyLong_CheckExact(kind) && PyLong_CheckExact(thread_started))) {
            starts = PyObject_RichCompareBool(kind, thread_started, Py_EQ);
            if (starts < 0) {
                goto error;
            }
        }
        else if (!starts) {
            starts = PyLong_AsLong(kind) == PyLong_AsLong(thread_started);
        }
        if (starts && !PyUnicode_CheckExact(subject)) {
            break;  /* a thread named by something else than text: Python names it */
        }
        if (last_thread != NULL && PyObject_RichCompareBool(thread, last_thread, Py_EQ) == 1) {
            thread = last_thread;
        }
        else {
            thread = shared(cache, thread);
            if (thread == NULL) {
                goto error;
            }
            last_thread = thread;  /* the cache keeps it alive */
        }
        if (PyUnicode_CheckExact(subject) && (subject = shared(cache, subject)) == NULL) {
            goto error;
        }
        if (PyUnicode_CheckExact(a) && (a = shared(cache, a)) == NULL) {
            goto error;
        }
        if (starts && PyDict_SetItem(started, thread, subject) < 0) {
            goto error;
        }
        event = PyTuple_New(6);
        if (event == NULL) {
            goto error;
        }
        Py_INCREF(t_ns);
        PyTuple_SET_ITEM(event, 0, t_ns);
        Py_INCREF(thread);
        PyTuple_SET_ITEM(event, 1, thread);
        Py_INCREF(kind);
        PyTuple_SET_ITEM(event, 2, kind);
        Py_INCREF(subject);
        PyTuple_SET_ITEM(event, 3, subject);
        Py_INCREF(a);
        PyTuple_SET_ITEM(event, 4, a);
        Py_INCREF(b);
        PyTuple_SET_ITEM(event, 5, b);
        PyObject_GC_UnTrack(event);  /* plain values only (checked above) */
        if (PyList_Append(events, event) < 0) {
            Py_DECREF(event);
            goto error;
        }
        Py_DECREF(event);
        seqs[done] = seq_value;
        last_seq = seq_value;
    }
    result = Py_BuildValue("(nLy#)", done, last_seq, (const char *)seqs,
                           done * (Py_ssize_t)sizeof(long long));
    PyMem_Free(seqs);
    return result;

error:
    PyMem_Free(seqs);
    return NULL;
}

static PyMethodDef methods[] = {
    {"convert", (PyCFunction)(void (*)(void))convert, METH_FASTCALL,
     "convert(rows, events, started, cache, kinds, thread_started, last_seq) -> "
     "(converted, last_seq, seqs): the fast path of LogReader._read_events for the "
     "leading events of a line it can take plainly; the seqs as native int64 bytes."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "visualizer.recording._speedups",
    "Optional C fast path for loading logs (see visualizer/recording/reader.py).",
    0,
    methods,
    slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&module);
}
