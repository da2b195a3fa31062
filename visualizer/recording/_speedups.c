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
 * The block form, for one block at a time (nothing refers outside it):
 *
 *     event   = varint(seq - previous seq - 1)     (the previous of the first: -1)
 *               zigzag(t_ns - previous t_ns)        (the previous of the first: 0)
 *               thread                              varint: index in the block's
 *                                                   threads; one past the end is a
 *                                                   new one, its ident follows
 *               varint(kind)
 *               value(subject) value(a) value(b)
 *     value   = one tag byte, then what the tag says (see TAG_*): None, a bool, a
 *               small integer in the tag itself, an integer (zigzag; or relative
 *               to the event's t_ns where that is shorter, as a lock's "taken at"
 *               is), a float (8 bytes), new text (varint length, UTF-8), text seen
 *               before in the block (its index), a tuple (varint count, values).
 *
 * The decoder trusts only what this encoder wrote (blocks live in memory, never
 * on disk) and still checks every length against the block's end.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* The kinds' rules, as validate.py numbers them (schema.KIND_RULES). */
enum {
    RULE_NONE = 0, RULE_LOCK = 1, RULE_THREAD = 2, RULE_TASK = 3, RULE_PRIORITY = 4, RULE_HELD = 5
};

/* Value tags of the block form. */
enum {
    TAG_NONE = 0, TAG_FALSE = 1, TAG_TRUE = 2, TAG_INT = 3, TAG_NEAR = 4, TAG_FLOAT = 5,
    TAG_TEXT = 6, TAG_SEEN = 7, TAG_TUPLE = 8,
    TAG_SMALL = 16,   /* 16..127: the integers 0..111 */
    SMALL_MAX = 111,
    TAG_SEEN_SMALL = 128, /* 128..255: text seen before, numbered 0..127 */
    SEEN_SMALL_MAX = 127,
};
#define MAX_DEPTH 64  /* far deeper than the reader allows (schema.MAX_NESTING) */

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

/* Same characters?  (Both exact str.) */
static inline int
same_text(PyObject *one, PyObject *other)
{
    return one == other
        || (PyUnicode_GET_LENGTH(one) == PyUnicode_GET_LENGTH(other)
            && PyUnicode_KIND(one) == PyUnicode_KIND(other)
            && memcmp(PyUnicode_DATA(one), PyUnicode_DATA(other),
                      PyUnicode_GET_LENGTH(one) * PyUnicode_KIND(one)) == 0);
}

/* ``cache.setdefault(value, value)``: one shared object per distinct value. */
static inline PyObject *
shared(PyObject *cache, PyObject *value)
{
    return PyDict_SetDefault(cache, value, value);  /* borrowed */
}

/* --- the block form: writing ------------------------------------------------------ */

typedef struct {
    char *data;
    Py_ssize_t size, capacity;
} Buffer;

static int
grow(Buffer *buffer, Py_ssize_t more)
{
    Py_ssize_t capacity;
    char *data;
    if (buffer->size + more <= buffer->capacity) {
        return 0;
    }
    capacity = buffer->capacity ? buffer->capacity : 1 << 16;
    while (capacity < buffer->size + more) {
        if (capacity > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        capacity *= 2;
    }
    data = PyMem_Realloc(buffer->data, capacity);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

/* Room for ``more`` bytes is there (grow was called). */
static inline void
put_byte(Buffer *buffer, unsigned char byte)
{
    buffer->data[buffer->size++] = (char)byte;
}

static inline void
put_varint(Buffer *buffer, uint64_t value)
{
    while (value >= 0x80) {
        buffer->data[buffer->size++] = (char)(value | 0x80);
        value >>= 7;
    }
    buffer->data[buffer->size++] = (char)value;
}

static inline uint64_t
zigzag(int64_t value)
{
    return ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
}

static inline int64_t
unzigzag(uint64_t value)
{
    return (int64_t)(value >> 1) ^ -(int64_t)(value & 1);
}

/* The most bytes one event takes before its values (four varints and a thread ident). */
#define EVENT_HEAD_BYTES 60
/* The most bytes one plain value takes before the text it carries. */
#define VALUE_HEAD_BYTES 12

typedef struct {
    PyObject_HEAD
    Buffer out;          /* the block so far */
    Buffer times;        /* each event's t_ns, native int64 */
    PyObject *texts;     /* str -> its index in the block (a dict) */
    PyObject *text_list; /* the block's texts, in the order of their indices */
    PyObject *threads;   /* ident (int) -> its index in the block (a dict) */
    PyObject *thread_list;   /* the block's thread idents, in order */
    PyObject *last_thread;   /* an item of ``thread_list``: alive while the block is */
    Py_ssize_t last_thread_index;
    PyObject *recent[4]; /* the last texts met (items of ``text_list``) and their indices */
    Py_ssize_t recent_index[4];
    int recent_next;
    long long previous_seq, previous_t, first_seq;
    Py_ssize_t count;
} Encoder;

static PyTypeObject *encoder_type;

/* Empty a list (keeping its storage). */
static int
clear_list(PyObject *list)
{
    return PyList_SetSlice(list, 0, PyList_GET_SIZE(list), NULL);
}

static void
encoder_reset(Encoder *self)
{
    self->out.size = 0;
    self->times.size = 0;
    self->last_thread = NULL;
    memset(self->recent, 0, sizeof(self->recent));
    self->recent_next = 0;
    self->previous_seq = -1;
    self->previous_t = 0;
    self->first_seq = 0;
    self->count = 0;
    if (self->texts != NULL) {
        PyDict_Clear(self->texts);
        PyDict_Clear(self->threads);
        /* Shrinking a list frees nothing it may not: it cannot fail. */
        (void)clear_list(self->text_list);
        (void)clear_list(self->thread_list);
    }
}

static int
encoder_init(Encoder *self, PyObject *args, PyObject *kwargs)
{
    if (!PyArg_ParseTuple(args, ":Encoder") || (kwargs != NULL && PyDict_GET_SIZE(kwargs))) {
        PyErr_SetString(PyExc_TypeError, "Encoder() takes no arguments");
        return -1;
    }
    if (self->texts == NULL && (self->texts = PyDict_New()) == NULL) {
        return -1;
    }
    if (self->threads == NULL && (self->threads = PyDict_New()) == NULL) {
        return -1;
    }
    if (self->text_list == NULL && (self->text_list = PyList_New(0)) == NULL) {
        return -1;
    }
    if (self->thread_list == NULL && (self->thread_list = PyList_New(0)) == NULL) {
        return -1;
    }
    encoder_reset(self);
    return 0;
}

static void
encoder_dealloc(Encoder *self)
{
    PyTypeObject *type = Py_TYPE(self);
    Py_CLEAR(self->texts);
    Py_CLEAR(self->threads);
    Py_CLEAR(self->text_list);
    Py_CLEAR(self->thread_list);
    PyMem_Free(self->out.data);
    PyMem_Free(self->times.data);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* Keep ``text`` (numbered ``index``) among the few compared before any hashing. */
static inline void
remember(Encoder *self, PyObject *text, Py_ssize_t index)
{
    self->recent[self->recent_next] = text;
    self->recent_index[self->recent_next] = index;
    self->recent_next = (self->recent_next + 1) & 3;
}

/* Text: written out and numbered the first time in a block, then by its number. */
static int
put_text(Encoder *self, PyObject *text)
{
    Py_ssize_t index, length;
    const char *utf8;
    PyObject *found, *number;
    int i;

    for (i = 0; i < 4; i++) {
        if (self->recent[i] != NULL && same_text(self->recent[i], text)) {
            index = self->recent_index[i];
            goto seen;
        }
    }
    found = PyDict_GetItemWithError(self->texts, text);  /* borrowed */
    if (found == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        index = PyList_GET_SIZE(self->text_list);
        if (PyUnicode_IS_ASCII(text)) {
            utf8 = (const char *)PyUnicode_1BYTE_DATA(text);
            length = PyUnicode_GET_LENGTH(text);
        }
        else if ((utf8 = PyUnicode_AsUTF8AndSize(text, &length)) == NULL) {
            return -1;
        }
        if (grow(&self->out, VALUE_HEAD_BYTES + length) < 0) {
            return -1;
        }
        number = PyLong_FromSsize_t(index);
        if (number == NULL) {
            return -1;
        }
        if (PyDict_SetItem(self->texts, text, number) < 0
            || PyList_Append(self->text_list, text) < 0) {
            Py_DECREF(number);
            return -1;
        }
        Py_DECREF(number);
        put_byte(&self->out, TAG_TEXT);
        put_varint(&self->out, (uint64_t)length);
        memcpy(self->out.data + self->out.size, utf8, length);
        self->out.size += length;
        remember(self, text, index);
        return 0;
    }
    index = PyLong_AsSsize_t(found);
    if (index == -1 && PyErr_Occurred()) {
        return -1;
    }
    remember(self, PyList_GET_ITEM(self->text_list, index), index);  /* alive with the block */
seen:
    if (grow(&self->out, VALUE_HEAD_BYTES) < 0) {
        return -1;
    }
    if (index <= SEEN_SMALL_MAX) {
        put_byte(&self->out, (unsigned char)(TAG_SEEN_SMALL + index));
    }
    else {
        put_byte(&self->out, TAG_SEEN);
        put_varint(&self->out, (uint64_t)index);
    }
    return 0;
}

/* Any value an event field may hold once checked (``t_ns``: its event's, for TAG_NEAR). */
static int
put_value(Encoder *self, PyObject *value, int64_t t_ns, int depth)
{
    if (grow(&self->out, VALUE_HEAD_BYTES) < 0) {
        return -1;
    }
    if (value == Py_None) {
        put_byte(&self->out, TAG_NONE);
    }
    else if (value == Py_False) {
        put_byte(&self->out, TAG_FALSE);
    }
    else if (value == Py_True) {
        put_byte(&self->out, TAG_TRUE);
    }
    else if (PyLong_CheckExact(value)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
        uint64_t plainly, near;
        if (number == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (overflow) {
            PyErr_SetString(PyExc_OverflowError, "Encoder: an integer outside 64 bits");
            return -1;
        }
        if (number >= 0 && number <= SMALL_MAX) {
            put_byte(&self->out, (unsigned char)(TAG_SMALL + number));
            return 0;
        }
        plainly = zigzag(number);
        near = zigzag((int64_t)((uint64_t)number - (uint64_t)t_ns));  /* modulo 2**64 */
        put_byte(&self->out, near < plainly ? TAG_NEAR : TAG_INT);
        put_varint(&self->out, near < plainly ? near : plainly);
    }
    else if (PyFloat_CheckExact(value)) {
        double number = PyFloat_AS_DOUBLE(value);
        put_byte(&self->out, TAG_FLOAT);
        memcpy(self->out.data + self->out.size, &number, sizeof number);
        self->out.size += sizeof number;
    }
    else if (PyUnicode_CheckExact(value)) {
        return put_text(self, value);
    }
    else if (PyTuple_CheckExact(value) && depth < MAX_DEPTH) {
        Py_ssize_t i, n = PyTuple_GET_SIZE(value);
        put_byte(&self->out, TAG_TUPLE);
        put_varint(&self->out, (uint64_t)n);
        for (i = 0; i < n; i++) {
            if (put_value(self, PyTuple_GET_ITEM(value, i), t_ns, depth + 1) < 0) {
                return -1;
            }
        }
    }
    else {
        PyErr_Format(PyExc_TypeError, "Encoder: an event cannot hold %.60s",
                     Py_TYPE(value)->tp_name);
        return -1;
    }
    return 0;
}

/* One checked event (``thread`` an exact int, ``kind`` a small one). */
static int
put_event(Encoder *self, long long seq, long long t_ns, PyObject *thread, long kind,
          PyObject *subject, PyObject *a, PyObject *b)
{
    Py_ssize_t index;
    int new_thread = 0;

    if (grow(&self->out, EVENT_HEAD_BYTES) < 0 || grow(&self->times, sizeof t_ns) < 0) {
        return -1;
    }
    if (self->last_thread != NULL
        && (thread == self->last_thread
            || PyObject_RichCompareBool(thread, self->last_thread, Py_EQ) == 1)) {
        index = self->last_thread_index;
    }
    else {
        PyObject *found = PyDict_GetItemWithError(self->threads, thread);  /* borrowed */
        if (found != NULL) {
            index = PyLong_AsSsize_t(found);
            thread = PyList_GET_ITEM(self->thread_list, index);  /* alive while the block is */
        }
        else if (PyErr_Occurred()) {
            return -1;
        }
        else {
            PyObject *number;
            index = PyDict_GET_SIZE(self->threads);
            number = PyLong_FromSsize_t(index);
            if (number == NULL || PyDict_SetItem(self->threads, thread, number) < 0
                || PyList_Append(self->thread_list, thread) < 0) {
                Py_XDECREF(number);
                return -1;
            }
            Py_DECREF(number);
            new_thread = 1;
        }
        self->last_thread = thread;
        self->last_thread_index = index;
    }
    if (self->count == 0) {
        self->first_seq = seq;
    }
    put_varint(&self->out, (uint64_t)(seq - self->previous_seq - 1));
    put_varint(&self->out, zigzag((int64_t)((uint64_t)t_ns - (uint64_t)self->previous_t)));
    put_varint(&self->out, (uint64_t)index);
    if (new_thread) {
        long long ident = PyLong_AsLongLong(thread);
        if (ident == -1 && PyErr_Occurred()) {
            return -1;
        }
        put_varint(&self->out, (uint64_t)ident);
    }
    put_varint(&self->out, (uint64_t)kind);
    if (put_value(self, subject, t_ns, 0) < 0 || put_value(self, a, t_ns, 0) < 0
        || put_value(self, b, t_ns, 0) < 0) {
        return -1;
    }
    memcpy(self->times.data + self->times.size, &t_ns, sizeof t_ns);
    self->times.size += sizeof t_ns;
    self->previous_seq = seq;
    self->previous_t = t_ns;
    self->count++;
    return 0;
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
    if (seq <= self->previous_seq) {
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
    if (put_event(self, seq, t_ns, PyTuple_GET_ITEM(event, 1), kind, PyTuple_GET_ITEM(event, 3),
                  PyTuple_GET_ITEM(event, 4), PyTuple_GET_ITEM(event, 5)) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Encoder.finish() -> (block, times, count, first_seq, last_seq), and start a new block. */
static PyObject *
encoder_finish(Encoder *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *result = Py_BuildValue("(y#y#nLL)", self->out.data, self->out.size,
                                     self->times.data, self->times.size, self->count,
                                     self->first_seq, self->previous_seq);
    if (result != NULL) {
        encoder_reset(self);
    }
    return result;
}

static Py_ssize_t
encoder_length(Encoder *self)
{
    return self->count;
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
            if (put_event(encoder, seq_value, t_value, thread, kind_value, subject, a, b) < 0) {
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

/* --- the block form: reading ----------------------------------------------------- */

typedef struct {
    const unsigned char *at, *end;
    PyObject *texts;    /* list: the block's texts so far */
    PyObject *threads;  /* list: the block's thread idents so far */
} Reader;

static int
corrupt(void)
{
    PyErr_SetString(PyExc_ValueError, "decode: not a block the Encoder wrote");
    return -1;
}

static inline int
get_varint(Reader *reader, uint64_t *out)
{
    uint64_t value = 0;
    int shift = 0;
    while (reader->at < reader->end && shift < 64) {
        unsigned char byte = *reader->at++;
        value |= (uint64_t)(byte & 0x7F) << shift;
        if (byte < 0x80) {
            *out = value;
            return 0;
        }
        shift += 7;
    }
    return corrupt();
}

/* A new reference to the next value, or NULL. */
static PyObject *
get_value(Reader *reader, int64_t t_ns, int depth)
{
    unsigned char tag;
    uint64_t number;
    PyObject *value;

    if (reader->at >= reader->end) {
        corrupt();
        return NULL;
    }
    tag = *reader->at++;
    if (tag >= TAG_SEEN_SMALL) {
        number = tag - TAG_SEEN_SMALL;
        goto text;
    }
    if (tag >= TAG_SMALL) {
        return PyLong_FromLong(tag - TAG_SMALL);
    }
    switch (tag) {
    case TAG_NONE:
        Py_RETURN_NONE;
    case TAG_FALSE:
        Py_RETURN_FALSE;
    case TAG_TRUE:
        Py_RETURN_TRUE;
    case TAG_INT:
    case TAG_NEAR:
        if (get_varint(reader, &number) < 0) {
            return NULL;
        }
        if (tag == TAG_INT) {
            return PyLong_FromLongLong(unzigzag(number));
        }
        return PyLong_FromLongLong((int64_t)((uint64_t)unzigzag(number) + (uint64_t)t_ns));
    case TAG_FLOAT: {
        double real;
        if (reader->end - reader->at < (Py_ssize_t)sizeof real) {
            corrupt();
            return NULL;
        }
        memcpy(&real, reader->at, sizeof real);
        reader->at += sizeof real;
        return PyFloat_FromDouble(real);
    }
    case TAG_TEXT:
        if (get_varint(reader, &number) < 0) {
            return NULL;
        }
        if (number > (uint64_t)(reader->end - reader->at)) {
            corrupt();
            return NULL;
        }
        value = PyUnicode_DecodeUTF8((const char *)reader->at, (Py_ssize_t)number, "strict");
        reader->at += number;
        if (value == NULL || PyList_Append(reader->texts, value) < 0) {
            Py_XDECREF(value);
            return NULL;
        }
        return value;
    case TAG_SEEN:
        if (get_varint(reader, &number) < 0) {
            return NULL;
        }
        goto text;
    case TAG_TUPLE: {
        Py_ssize_t i;
        if (get_varint(reader, &number) < 0) {
            return NULL;
        }
        if (depth >= MAX_DEPTH || number > (uint64_t)(reader->end - reader->at)) {
            corrupt();  /* every value takes a byte at least */
            return NULL;
        }
        value = PyTuple_New((Py_ssize_t)number);
        if (value == NULL) {
            return NULL;
        }
        for (i = 0; i < (Py_ssize_t)number; i++) {
            PyObject *item = get_value(reader, t_ns, depth + 1);
            if (item == NULL) {
                Py_DECREF(value);
                return NULL;
            }
            PyTuple_SET_ITEM(value, i, item);
        }
        PyObject_GC_UnTrack(value);  /* plain values and such tuples only */
        return value;
    }
    default:
        corrupt();
        return NULL;
    }
text:
    if (number >= (uint64_t)PyList_GET_SIZE(reader->texts)) {
        corrupt();
        return NULL;
    }
    value = PyList_GET_ITEM(reader->texts, (Py_ssize_t)number);
    Py_INCREF(value);
    return value;
}

/* decode(block) -> (events: list of 6-tuples, seqs as native int64 bytes) */
static PyObject *
decode(PyObject *Py_UNUSED(module), PyObject *arg)
{
    Py_buffer view;
    Reader reader;
    PyObject *events = NULL, *seqs = NULL, *result = NULL;
    long long previous_seq = -1;
    int64_t previous_t = 0;
    Buffer seq_buffer = {NULL, 0, 0};

    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    reader.at = view.buf;
    reader.end = reader.at + view.len;
    reader.texts = PyList_New(0);
    reader.threads = PyList_New(0);
    events = PyList_New(0);
    if (reader.texts == NULL || reader.threads == NULL || events == NULL) {
        goto done;
    }
    while (reader.at < reader.end) {
        uint64_t seq_step, t_step, thread_index, kind;
        PyObject *event, *thread;
        int64_t t_ns;
        long long seq;
        int i;

        if (get_varint(&reader, &seq_step) < 0 || get_varint(&reader, &t_step) < 0
            || get_varint(&reader, &thread_index) < 0) {
            goto done;
        }
        if (thread_index == (uint64_t)PyList_GET_SIZE(reader.threads)) {
            uint64_t ident;
            if (get_varint(&reader, &ident) < 0) {
                goto done;
            }
            thread = PyLong_FromUnsignedLongLong(ident);
            if (thread == NULL || PyList_Append(reader.threads, thread) < 0) {
                Py_XDECREF(thread);
                goto done;
            }
            Py_DECREF(thread);
        }
        else if (thread_index > (uint64_t)PyList_GET_SIZE(reader.threads)) {
            corrupt();
            goto done;
        }
        if (get_varint(&reader, &kind) < 0) {
            goto done;
        }
        seq = (long long)((uint64_t)previous_seq + seq_step + 1);
        t_ns = (int64_t)((uint64_t)previous_t + (uint64_t)unzigzag(t_step));
        event = PyTuple_New(6);
        if (event == NULL) {
            goto done;
        }
        thread = PyList_GET_ITEM(reader.threads, (Py_ssize_t)thread_index);
        Py_INCREF(thread);
        PyTuple_SET_ITEM(event, 1, thread);
        PyTuple_SET_ITEM(event, 0, PyLong_FromLongLong(t_ns));
        PyTuple_SET_ITEM(event, 2, PyLong_FromUnsignedLongLong(kind));
        if (PyTuple_GET_ITEM(event, 0) == NULL || PyTuple_GET_ITEM(event, 2) == NULL) {
            Py_DECREF(event);
            goto done;
        }
        for (i = 3; i < 6; i++) {
            PyObject *value = get_value(&reader, t_ns, 0);
            if (value == NULL) {
                Py_DECREF(event);
                goto done;
            }
            PyTuple_SET_ITEM(event, i, value);
        }
        PyObject_GC_UnTrack(event);  /* plain values and untracked tuples only */
        if (PyList_Append(events, event) < 0) {
            Py_DECREF(event);
            goto done;
        }
        Py_DECREF(event);
        if (grow(&seq_buffer, sizeof seq) < 0) {
            goto done;
        }
        memcpy(seq_buffer.data + seq_buffer.size, &seq, sizeof seq);
        seq_buffer.size += sizeof seq;
        previous_seq = seq;
        previous_t = t_ns;
    }
    seqs = PyBytes_FromStringAndSize(seq_buffer.data, seq_buffer.size);
    if (seqs != NULL) {
        result = PyTuple_Pack(2, events, seqs);
    }
done:
    PyBuffer_Release(&view);
    PyMem_Free(seq_buffer.data);
    Py_XDECREF(reader.texts);
    Py_XDECREF(reader.threads);
    Py_XDECREF(events);
    Py_XDECREF(seqs);
    return result;
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
