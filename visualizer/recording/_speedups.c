/* Loading a log: checking its events and keeping them compact, in C (optional).
 *
 * Why C: after ``json.loads`` has parsed a line, every event still has to be
 * checked, and then kept, and in Python that cost more than the parsing.
 *
 * ``convert`` does exactly what the loop of ``LineParser.parse`` (validate.py)
 * does, for as many events of the line as it can from a given one on: the
 * types, the 64-bit range of every integer, the length of every string (and
 * that it is valid Unicode: no lone surrogate), each kind's rule (a lock's name
 * is text, a task id an integer or text, a priority an integer).  At the first
 * event it does not handle plainly (a wrong type, an unknown kind, a nested
 * value, a number out of range, one thread or lock too many, anything at all)
 * it stops and says how far it got; the Python loop converts that one event
 * (or names what is wrong) and hands the rest of the line back.  So both paths
 * accept and refuse exactly the same lines.
 *
 * What it makes of the events it takes depends on where they go:
 *
 * - a list: the event tuples the model folds (the command line streams a log
 *   this way).  They hold plain values only and are untracked by the garbage
 *   collector at once: scanning them would find nothing to collect.
 * - an ``Encoder``: no Python object per event at all.  The window keeps a
 *   loaded log as blocks of a compact binary form (below), about 12 bytes an
 *   event, and ``decode`` turns a block back into tuples when the window needs
 *   its events; the Python loop hands the events it converts to
 *   ``Encoder.append``.  Building the tuples only to compress them again cost
 *   as much as parsing the JSON.
 *
 * The block form is described, written and read in visualizer/_block.h.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The kinds' rules, as validate.py numbers them (schema.KIND_RULES). */
enum {
    RULE_NONE = 0, RULE_LOCK = 1, RULE_THREAD = 2, RULE_TASK = 3, RULE_PRIORITY = 4, RULE_HELD = 5
};

#include "../_block.h"

/* --- checking values ------------------------------------------------------------- */

/* Does this text hold a UTF-16 surrogate (which cannot be encoded: not valid Unicode)? */
static int
has_surrogate(PyObject *text)
{
    Py_ssize_t i, n;
    if (PyUnicode_IS_ASCII(text) || PyUnicode_KIND(text) == PyUnicode_1BYTE_KIND) {
        return 0;
    }
    n = PyUnicode_GET_LENGTH(text);
    if (PyUnicode_KIND(text) == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *data = PyUnicode_2BYTE_DATA(text);
        for (i = 0; i < n; i++) {
            if (data[i] >= 0xD800 && data[i] <= 0xDFFF) {
                return 1;
            }
        }
        return 0;
    }
    const Py_UCS4 *data = PyUnicode_4BYTE_DATA(text);
    for (i = 0; i < n; i++) {
        if (data[i] >= 0xD800 && data[i] <= 0xDFFF) {
            return 1;
        }
    }
    return 0;
}

/* A value the fast path takes as it is: None, a bool, a float, an int within 64 bits,
 * or valid text of at most ``max_text`` characters.  Anything else is for the Python loop. */
static inline int
plain(PyObject *value, Py_ssize_t max_text)
{
    if (value == Py_None || PyBool_Check(value) || PyFloat_CheckExact(value)) {
        return 1;
    }
    if (PyUnicode_CheckExact(value)) {
        return PyUnicode_GET_LENGTH(value) <= max_text && !has_surrogate(value);
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

/* --- the Encoder: blocks of a loaded log's events ---------------------------------- */

typedef struct {
    PyObject_HEAD
    BlockWriter w;
} Encoder;

static PyTypeObject *encoder_type;

static int
encoder_init(Encoder *self, PyObject *args, PyObject *kwargs)
{
    if (!PyArg_ParseTuple(args, ":Encoder") || (kwargs != NULL && PyDict_GET_SIZE(kwargs))) {
        PyErr_SetString(PyExc_TypeError, "Encoder() takes no arguments");
        return -1;
    }
    return writer_setup(&self->w);
}

static void
encoder_dealloc(Encoder *self)
{
    PyTypeObject *type = Py_TYPE(self);
    writer_free(&self->w);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* Encoder.append(event, seq): one event the Python loop checked and converted. */
static PyObject *
encoder_append(Encoder *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *event;
    long long seq, t_ns, ident;
    long kind;

    if (nargs != 2 || !PyTuple_CheckExact(args[0]) || PyTuple_GET_SIZE(args[0]) != 6) {
        PyErr_SetString(PyExc_TypeError, "append(event: 6-tuple, seq: int)");
        return NULL;
    }
    event = args[0];
    seq = PyLong_AsLongLong(args[1]);
    if (seq == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (seq <= self->w.previous_seq) {
        PyErr_SetString(PyExc_ValueError, "append: sequence numbers must increase");
        return NULL;
    }
    if (!PyLong_CheckExact(PyTuple_GET_ITEM(event, 1))
        || !PyLong_CheckExact(PyTuple_GET_ITEM(event, 2))) {
        PyErr_SetString(PyExc_TypeError, "append: an event's thread and kind are integers");
        return NULL;
    }
    t_ns = PyLong_AsLongLong(PyTuple_GET_ITEM(event, 0));
    if (t_ns == -1 && PyErr_Occurred()) {
        return NULL;
    }
    ident = PyLong_AsLongLong(PyTuple_GET_ITEM(event, 1));
    if (ident == -1 && PyErr_Occurred()) {
        return NULL;
    }
    kind = PyLong_AsLong(PyTuple_GET_ITEM(event, 2));
    if (kind == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (ident < 0 || kind < 0) {
        PyErr_SetString(PyExc_ValueError, "append: a thread ident or kind below 0");
        return NULL;
    }
    if (put_event(&self->w, seq, t_ns, PyTuple_GET_ITEM(event, 1), kind, PyTuple_GET_ITEM(event, 3),
                  PyTuple_GET_ITEM(event, 4), PyTuple_GET_ITEM(event, 5)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Encoder.finish() -> (block, times, count, first_seq, last_seq), and start a new block. */
static PyObject *
encoder_finish(Encoder *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *result = Py_BuildValue("(y#y#nLL)", self->w.out.data, self->w.out.size,
                                     self->w.times.data, self->w.times.size, self->w.count,
                                     self->w.first_seq, self->w.previous_seq);
    if (result != NULL) {
        writer_reset(&self->w);
    }
    return result;
}

static Py_ssize_t
encoder_length(Encoder *self)
{
    return self->w.count;
}

static PyMethodDef encoder_methods[] = {
    {"append", (PyCFunction)(void (*)(void))encoder_append, METH_FASTCALL,
     "append(event, seq): add one checked event (a 6-tuple) to the block."},
    {"finish", (PyCFunction)encoder_finish, METH_NOARGS,
     "finish() -> (block: bytes, times: bytes of native int64, count, first_seq, last_seq); "
     "the next event starts a new block."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot encoder_slots[] = {
    {Py_tp_doc, "Encoder(): a block of checked events in the compact form decode() reads; "
                "len() is its count of events."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, encoder_init},
    {Py_tp_dealloc, encoder_dealloc},
    {Py_tp_methods, encoder_methods},
    {Py_sq_length, encoder_length},
    {0, NULL},
};

static PyType_Spec encoder_spec = {
    "visualizer.recording._speedups.Encoder",
    sizeof(Encoder),
    0,
    Py_TPFLAGS_DEFAULT,
    encoder_slots,
};

/* --- checking and converting a line's events ------------------------------------ */

/* convert(rows, start, events, started, cache, kinds, thread_started, last_seq,
 *         rules, threads, locks, max_text, max_threads, max_locks)
 *     -> (stop, last_seq, seqs of rows[start:stop] as native int64 bytes)
 * ``events``: a list (the tuples are appended, and the seqs returned) or an Encoder
 * (the events are encoded; no seqs returned). */
static PyObject *
convert(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *rows, *events, *started, *cache, *kinds, *thread_started, *rules, *threads,
        *locks, *result = NULL;
    Encoder *encoder = NULL;
    long long last_seq, *seqs = NULL;
    Py_ssize_t count, start, done, max_text, max_threads, max_locks;
    long thread_started_value;

    if (nargs != 14 || !PyList_CheckExact(args[0])
        || !(PyList_CheckExact(args[2]) || Py_IS_TYPE(args[2], encoder_type))
        || !PyDict_CheckExact(args[3]) || !PyDict_CheckExact(args[4])
        || !PyDict_CheckExact(args[5]) || !PyLong_CheckExact(args[6])
        || !PyDict_CheckExact(args[8])
        || !PyAnySet_CheckExact(args[9]) || !PyAnySet_CheckExact(args[10])) {
        PyErr_SetString(PyExc_TypeError,
                        "convert(rows: list, start: int, events: list | Encoder, "
                        "started: dict, cache: dict, kinds: dict, thread_started: int, "
                        "last_seq: int, rules: dict, threads: set, locks: set, max_text: int, "
                        "max_threads: int, max_locks: int)");
        return NULL;
    }
    rows = args[0];
    events = args[2];
    if (!PyList_CheckExact(events)) {
        encoder = (Encoder *)events;
    }
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
    thread_started_value = PyLong_AsLong(thread_started);
    max_text = PyLong_AsSsize_t(args[11]);
    max_threads = PyLong_AsSsize_t(args[12]);
    max_locks = PyLong_AsSsize_t(args[13]);
    if (PyErr_Occurred()) {
        return NULL;
    }
    if (encoder == NULL) {
        seqs = PyMem_Malloc((count > start ? count - start : 1) * sizeof(long long));
        if (seqs == NULL) {
            return PyErr_NoMemory();
        }
    }

    /* Consecutive events mostly share their thread, and the kinds come from a handful:
     * the last ones seen are compared first, before any hashing. */
    PyObject *last_thread = NULL, *seen_names[4] = {NULL}, *seen_kinds[4] = {NULL};
    long seen_rules[4] = {0}, seen_values[4] = {0};
    int next_seen = 0;
    for (done = start; done < count; done++) {
        PyObject *row = PyList_GET_ITEM(rows, done);
        PyObject *seq, *t_ns, *thread, *name, *subject, *a, *b, *kind = NULL, *event;
        long long seq_value, t_value;
        long rule = RULE_NONE, kind_value = 0;
        int overflow, known, i;

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
        t_value = PyLong_AsLongLongAndOverflow(t_ns, &overflow);
        if (overflow || (t_value == -1 && PyErr_Occurred())) {  /* within 64 bits */
            PyErr_Clear();
            break;
        }
        if (!PyUnicode_CheckExact(name)) {
            break;
        }
        for (i = 0; i < 4; i++) {
            if (seen_names[i] != NULL && same_text(seen_names[i], name)) {
                kind = seen_kinds[i];
                rule = seen_rules[i];
                kind_value = seen_values[i];
                break;
            }
        }
        if (kind == NULL) {
            PyObject *rule_value;
            kind = PyDict_GetItemWithError(kinds, name);  /* borrowed */
            if (kind == NULL) {
                if (PyErr_Occurred()) {
                    goto error;
                }
                break;
            }
            if (!PyLong_CheckExact(kind)) {
                break;  /* not a kind this path knows how to keep */
            }
            kind_value = PyLong_AsLong(kind);
            if (kind_value < 0) {
                PyErr_Clear();
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
            seen_names[next_seen] = name;  /* alive while ``rows`` is */
            seen_kinds[next_seen] = kind;
            seen_rules[next_seen] = rule;
            seen_values[next_seen] = kind_value;
            next_seen = (next_seen + 1) & 3;
        }
        if (!plain(subject, max_text) || !plain(a, max_text) || !plain(b, max_text)) {
            break;  /* nested, too long, too big or not Unicode: the Python loop takes it */
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
            if (encoder == NULL && (thread = shared(cache, thread)) == NULL) {
                goto error;
            }
            last_thread = thread;  /* alive while ``rows`` (or the cache) is */
        }
        if (encoder != NULL) {
            if (put_event(&encoder->w, seq_value, t_value, thread, kind_value, subject, a, b) < 0) {
                goto error;
            }
        }
        else {
            if (PyUnicode_CheckExact(subject) && (subject = shared(cache, subject)) == NULL) {
                goto error;
            }
            if (PyUnicode_CheckExact(a) && (a = shared(cache, a)) == NULL) {
                goto error;
            }
            event = PyTuple_Pack(6, t_ns, thread, kind, subject, a, b);
            if (event == NULL) {
                goto error;
            }
            PyObject_GC_UnTrack(event);  /* plain values only (checked above) */
            if (PyList_Append(events, event) < 0) {
                Py_DECREF(event);
                goto error;
            }
            Py_DECREF(event);
            seqs[done - start] = seq_value;
        }
        if (kind_value == thread_started_value && PyDict_SetItem(started, thread, subject) < 0) {
            goto error;
        }
        last_seq = seq_value;
    }
    result = Py_BuildValue("(nLy#)", done, last_seq, (const char *)seqs,
                           encoder == NULL ? (done - start) * (Py_ssize_t)sizeof(long long) : 0);
    PyMem_Free(seqs);
    return result;

error:
    PyMem_Free(seqs);
    return NULL;
}

/* decode(block) -> (events: list of 6-tuples, seqs as native int64 bytes) */
static PyObject *
decode(PyObject *Py_UNUSED(module), PyObject *arg)
{
    return decode_block(arg);
}


/* --- the module ------------------------------------------------------------------ */

static int
exec_module(PyObject *module)
{
    PyObject *type = PyType_FromSpec(&encoder_spec);
    if (type == NULL) {
        return -1;
    }
    if (PyModule_AddObject(module, "Encoder", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    encoder_type = (PyTypeObject *)type;  /* the module keeps it */
    return 0;
}

static PyMethodDef methods[] = {
    {"convert", (PyCFunction)(void (*)(void))convert, METH_FASTCALL,
     "convert(rows, start, events, started, cache, kinds, thread_started, last_seq, "
     "rules, threads, locks, max_text, max_threads, max_locks) -> (stop, last_seq, "
     "seqs): the fast path of LineParser.parse for the events of a line from start on "
     "that it can take plainly; events is a list (the tuples are appended, and seqs are "
     "those of rows[start:stop] as native int64 bytes) or an Encoder (the events are "
     "encoded, seqs is empty)."},
    {"decode", decode, METH_O,
     "decode(block) -> (events, seqs): the event tuples of a block an Encoder wrote, and "
     "their sequence numbers as native int64 bytes."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_exec, exec_module},
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
