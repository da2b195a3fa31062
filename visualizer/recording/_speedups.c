/* Loading a log: the fast path of converting one line of events, in C (optional).
 *
 * Why C: after ``json.loads`` has parsed a line, every event still has to be
 * checked and turned into the tuple the model folds, and in Python that loop
 * cost more than the parsing.  ``convert`` does exactly what the loop of
 * ``LineParser.parse`` (validate.py) does, for as many events of the line
 * as it can from a given one on: the types, the 64-bit range of every integer, the length of
 * every string, each kind's rule (a lock's name is text, a task id an integer or
 * text, a priority an integer).  At the first event it does not handle plainly
 * (a wrong type, an unknown kind, a nested value, a number out of range, one
 * thread or lock too many, anything at all) it stops and says how far it got;
 * the Python loop converts that one event (or names what is wrong) and hands
 * the rest of the line back.  So both paths accept and refuse exactly the same
 * lines.
 *
 * The event tuples it makes hold plain values only and are untracked by the
 * garbage collector at once: a loaded log keeps millions of them, and scanning
 * them would find nothing to collect.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The kinds' rules, as validate.py numbers them (schema.KIND_RULES). */
enum {
    RULE_NONE = 0, RULE_LOCK = 1, RULE_THREAD = 2, RULE_TASK = 3, RULE_PRIORITY = 4, RULE_HELD = 5
};

/* A value the fast path takes as it is: None, a bool, a float, an int within 64 bits,
 * or text of at most ``max_text`` characters.  Anything else is for the Python loop. */
static inline int
plain(PyObject *value, Py_ssize_t max_text)
{
    if (value == Py_None || PyBool_Check(value) || PyFloat_CheckExact(value)) {
        return 1;
    }
    if (PyUnicode_CheckExact(value)) {
        return PyUnicode_GET_LENGTH(value) <= max_text;
    }
    if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (number == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        return !overflow;
    }
    return 0;
}

/* ``cache.setdefault(value, value)``: one shared object per distinct value. */
static inline PyObject *
shared(PyObject *cache, PyObject *value)
{
    return PyDict_SetDefault(cache, value, value);  /* borrowed */
}

/* convert(rows, start, events, started, cache, kinds, thread_started, last_seq,
 *         rules, threads, locks, max_text, max_threads, max_locks)
 *     -> (stop, last_seq, seqs of rows[start:stop] as native int64 bytes) */
static PyObject *
convert(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *rows, *events, *started, *cache, *kinds, *thread_started, *rules, *threads,
        *locks, *result = NULL;
    long long last_seq, *seqs;
    Py_ssize_t count, start, done, max_text, max_threads, max_locks;

    if (nargs != 14 || !PyList_CheckExact(args[0]) || !PyList_CheckExact(args[2])
        || !PyDict_CheckExact(args[3]) || !PyDict_CheckExact(args[4])
        || !PyDict_CheckExact(args[5]) || !PyDict_CheckExact(args[8])
        || !PyAnySet_CheckExact(args[9]) || !PyAnySet_CheckExact(args[10])) {
        PyErr_SetString(PyExc_TypeError,
                        "convert(rows: list, start: int, events: list, started: dict, "
                        "cache: dict, kinds: dict, thread_started, last_seq: int, "
                        "rules: dict, threads: set, locks: set, max_text: int, "
                        "max_threads: int, max_locks: int)");
        return NULL;
    }
    rows = args[0];
    events = args[2];
    started = args[3];
    cache = args[4];
    kinds = args[5];
    thread_started = args[6];
    rules = args[8];
    threads = args[9];
    locks = args[10];
    count = PyList_GET_SIZE(rows);
    start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (start < 0 || start > count) {
        PyErr_SetString(PyExc_ValueError, "convert: start is outside the rows");
        return NULL;
    }
    last_seq = PyLong_AsLongLong(args[7]);
    if (last_seq == -1 && PyErr_Occurred()) {
        return NULL;
    }
    max_text = PyLong_AsSsize_t(args[11]);
    max_threads = PyLong_AsSsize_t(args[12]);
    max_locks = PyLong_AsSsize_t(args[13]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    seqs = PyMem_Malloc((count > start ? count - start : 1) * sizeof(long long));
    if (seqs == NULL) {
        return PyErr_NoMemory();
    }

    /* Consecutive events mostly share their thread, and the kinds come from a handful:
     * the last ones seen are compared first, before any hashing. */
    PyObject *last_thread = NULL, *last_name = NULL, *last_kind = NULL;
    long last_rule = RULE_NONE;
    for (done = start; done < count; done++) {
        PyObject *row = PyList_GET_ITEM(rows, done);
        PyObject *seq, *t_ns, *thread, *name, *subject, *a, *b, *kind, *event;
        long long seq_value;
        long rule;
        int overflow, starts, known;

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
        if (!plain(t_ns, 0)) {  /* within 64 bits */
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
            rule = last_rule;
        }
        else {
            PyObject *rule_value;
            kind = PyDict_GetItemWithError(kinds, name);  /* borrowed */
            if (kind == NULL) {
                if (PyErr_Occurred()) {
                    goto error;
                }
                break;
            }
            rule_value = PyDict_GetItemWithError(rules, name);  /* borrowed */
            if (rule_value == NULL && PyErr_Occurred()) {
                goto error;
            }
            rule = rule_value == NULL ? RULE_NONE : PyLong_AsLong(rule_value);
            if (rule == -1 && PyErr_Occurred()) {
                goto error;
            }
            last_name = name;  /* alive while ``rows`` is */
            last_kind = kind;
            last_rule = rule;
        }
        if (!plain(subject, max_text) || !plain(a, max_text) || !plain(b, max_text)) {
            break;  /* nested, too long or too big: the Python loop converts or refuses it */
        }
        if (rule == RULE_LOCK || rule == RULE_THREAD || rule == RULE_HELD) {
            if (!PyUnicode_CheckExact(subject)) {
                break;
            }
            if (rule == RULE_HELD && !PyLong_CheckExact(b)) {
                break;  /* its b is when the lock was taken: a time */
            }
        }
        else if (rule == RULE_TASK || rule == RULE_PRIORITY) {
            if (!PyUnicode_CheckExact(subject) && !PyLong_CheckExact(subject)) {
                break;
            }
            if (rule == RULE_PRIORITY && !PyLong_CheckExact(a)) {
                break;
            }
        }
        if (rule == RULE_LOCK || rule == RULE_HELD) {  /* a new lock counts towards the limit */
            known = PySet_Contains(locks, subject);
            if (known < 0) {
                goto error;
            }
            if (!known) {
                if (PySet_GET_SIZE(locks) >= max_locks) {
                    break;  /* one too many: Python says so */
                }
                if (PySet_Add(locks, subject) < 0) {
                    goto error;
                }
            }
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
        if (last_thread != NULL && PyObject_RichCompareBool(thread, last_thread, Py_EQ) == 1) {
            thread = last_thread;
        }
        else {
            /* A thread seen for the first time: an ident not below 0, counted. */
            known = PySet_Contains(threads, thread);
            if (known < 0) {
                goto error;
            }
            if (!known) {
                long long ident = PyLong_AsLongLongAndOverflow(thread, &overflow);
                if (overflow || ident < 0 || PySet_GET_SIZE(threads) >= max_threads) {
                    PyErr_Clear();
                    break;
                }
                if (PySet_Add(threads, thread) < 0) {
                    goto error;
                }
            }
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
        seqs[done - start] = seq_value;
        last_seq = seq_value;
    }
    result = Py_BuildValue("(nLy#)", done, last_seq, (const char *)seqs,
                           (done - start) * (Py_ssize_t)sizeof(long long));
    PyMem_Free(seqs);
    return result;

error:
    PyMem_Free(seqs);
    return NULL;
}

static PyMethodDef methods[] = {
    {"convert", (PyCFunction)(void (*)(void))convert, METH_FASTCALL,
     "convert(rows, start, events, started, cache, kinds, thread_started, last_seq, "
     "rules, threads, locks, max_text, max_threads, max_locks) -> (stop, last_seq, "
     "seqs): the fast path of "
     "LineParser.parse for the events of a line from start on that it can take "
     "plainly; the seqs of rows[start:stop] as native int64 bytes."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "visualizer.recording._speedups",
    "Optional C fast path for loading logs (see visualizer/recording/validate.py).",
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
