/* Store: where a recorder keeps its events when the C speedups are built.
 *
 * A list of 6-tuples costs, per event, a tuple, an int for its time stamp, and
 * both freed again once the window has them: measured on a traced cycle, more
 * than the clock reads.  A Store keeps the events the fast paths record as C
 * records instead (a time, and references to the objects the event names,
 * which are mostly shared: the thread's ident, the lock's name, its mode), and
 * makes a Python object of an event only for a consumer that asks for tuples
 * (``take``).  The run process asks for none: ``take_block`` writes its events
 * straight into the block form (visualizer/_block.h), which goes down the pipe
 * as bytes and is read back into tuples in the window's process.
 *
 * Anything else appended (``append``, from Python code: a contended lock, a
 * thread starting, a checker's mark) is kept as the tuple it is, in the same
 * sequence, so the stream's order is the order of the appends, as with a list.
 *
 * Everything runs with the GIL held.  No Python code can run while records are
 * read in place: a consumer first moves the records it takes out of the array,
 * and only then makes objects (which may run the garbage collector, and with it
 * a finalizer that lets another thread append and the array move).
 */
#ifndef VISUALIZER_STORE_H
#define VISUALIZER_STORE_H

#include <Python.h>
#include "../_block.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <x86intrin.h>
#define STORE_HAS_TSC 1
#endif

/* --- the store's clock ---------------------------------------------------------------
 *
 * A record's time is read where the event happens, nine times a traced cycle,
 * and perf_counter_ns (clock_gettime) costs about 25 ns in place.  Where the
 * CPU's time-stamp counter is invariant (it ticks at one rate on every core,
 * whatever the power state: CPUID says so), records keep its reading instead
 * (about 8 ns), and a consumer turns it into perf_counter_ns time when it takes
 * them.  Each drain first reads both clocks together (an *anchor*, kept if a
 * millisecond or more has passed since the last one), and a counter reading
 * is placed on the line through the last two anchors.  So every stamp agrees
 * with perf_counter_ns at the anchors (to the few tens of nanoseconds the pair
 * of readings takes), consecutive lines meet at their common anchor, and all
 * the records of one drain are placed by the same line, so their order in time
 * is the order of their readings.  Elsewhere records keep perf_counter_ns. */

static int (*store_clock_ns)(long long *out);  /* perf_counter_ns as a C integer */
static int tsc_on;
static long long tsc_last, ns_last;  /* the latest anchor */
static double ns_per_tick;           /* the slope since the anchor before it; 0: none yet */

#define ANCHOR_EVERY_NS 1000000LL  /* the shortest time between two anchors */

/* Read both clocks at (nearly) the same moment: 0, or -1 with an exception set. */
static int
anchor_pair(long long *tsc, long long *ns)
{
#ifdef STORE_HAS_TSC
    long long before, after;
    if (store_clock_ns(&before) < 0) {
        return -1;
    }
    *tsc = (long long)__rdtsc();
    if (store_clock_ns(&after) < 0) {
        return -1;
    }
    *ns = before + (after - before) / 2;
    return 0;
#else
    *tsc = 0;
    return store_clock_ns(ns);
#endif
}

/* Decide the clock (once, at import): 0, or -1 with an exception set. */
static int
store_clock_init(int (*clock_ns)(long long *out), int allow_tsc)
{
    store_clock_ns = clock_ns;
#ifdef STORE_HAS_TSC
    {
        unsigned int a, b, c, d;
        if (allow_tsc && __get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000007) {
            __get_cpuid(0x80000007, &a, &b, &c, &d);
            tsc_on = (d >> 8) & 1;  /* invariant TSC */
        }
    }
#endif
    return tsc_on ? anchor_pair(&tsc_last, &ns_last) : 0;
}

/* A record's time as the store keeps it. */
static inline int
store_stamp(long long *out)
{
#ifdef STORE_HAS_TSC
    if (tsc_on) {
        *out = (long long)__rdtsc();
        return 0;
    }
#endif
    return store_clock_ns(out);
}

/* A new anchor, if a millisecond has passed since the last (the very first line
 * waits for that millisecond): 0, or -1 with an exception set. */
static int
store_clock_anchor(void)
{
    long long tsc, ns;
    if (!tsc_on) {
        return 0;
    }
    do {
        if (anchor_pair(&tsc, &ns) < 0) {
            return -1;
        }
    } while (ns_per_tick == 0 && ns - ns_last < ANCHOR_EVERY_NS);
    if (ns - ns_last >= ANCHOR_EVERY_NS && tsc > tsc_last) {
        ns_per_tick = (double)(ns - ns_last) / (double)(tsc - tsc_last);
        tsc_last = tsc;
        ns_last = ns;
    }
    return 0;
}

/* A kept time in perf_counter_ns (a line exists: store_clock_anchor was called). */
static inline long long
store_time_ns(long long kept)
{
    if (!tsc_on) {
        return kept;
    }
    return ns_last + (long long)((double)(kept - tsc_last) * ns_per_tick);
}

/* Before records are placed: a line to place them by, if there is none yet. */
static inline int
store_clock_ready(void)
{
    return ns_per_tick != 0 || !tsc_on ? 0 : store_clock_anchor();
}

/* A value an event names: a reference, or an int held as a number (NUMBER_* bits).
 * Task ids and counters are ints the event is often the last to name: held as
 * numbers, a drain 16 ms later need not fetch each from memory (a cache miss
 * measured at 3 % of a traced 4 + 4 run), nor free it. */
typedef union {
    PyObject *object;
    long long number;
} Field;

enum {
    NUMBER_SUBJECT = 1, NUMBER_A = 2, NUMBER_B = 4,
    SINCE_B = 8,   /* ``b`` is a stamp (store_stamp's), turned into time when taken */
    ODD_KIND = 16, /* ``ident`` is a tuple (ident, kind): a kind no C int holds */
};

/* 48 bytes: the drain reads every record once, often from memory (a frame's worth
 * at 4 + 4 outgrows the caches), so a record is kept as small as its fields allow. */
typedef struct {
    long long t;        /* when (store_stamp: see the store's clock) */
    PyObject *ident;    /* the thread's ident (an int); NULL: ``subject`` is a whole event */
    Field subject, a, b; /* strong references, but for the Fields held as numbers */
    int kind;           /* the event's kind (unless ODD_KIND) */
    int numbers;        /* NUMBER_* bits: which Fields are numbers; SINCE_B, ODD_KIND */
} Record;

typedef struct {
    PyObject_HEAD
    Record *records;
    Py_ssize_t start, end, capacity;  /* waiting: records[start:end] */
    BlockWriter writer;
} Store;

static PyTypeObject *store_type;

static inline int
is_plain(PyObject *value)
{
    return value == Py_None || PyLong_CheckExact(value) || PyUnicode_CheckExact(value)
        || PyFloat_CheckExact(value) || PyBool_Check(value);
}

static int
store_grow(Store *self)
{
    Py_ssize_t capacity;
    Record *records;
    if (self->start >= self->capacity / 2 && self->start > 0) {
        /* Half the array was taken already: move the rest to the front instead. */
        memmove(self->records, self->records + self->start,
                (size_t)(self->end - self->start) * sizeof(Record));
        self->end -= self->start;
        self->start = 0;
        return 0;
    }
    capacity = self->capacity ? self->capacity * 2 : 4096;
    if ((size_t)capacity > PY_SSIZE_T_MAX / sizeof(Record)) {
        PyErr_NoMemory();
        return -1;
    }
    records = PyMem_Realloc(self->records, (size_t)capacity * sizeof(Record));
    if (records == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    self->records = records;
    self->capacity = capacity;
    return 0;
}

/* Keep ``value`` in ``field``: as a number if it is a compact exact int (1: held
 * so), else as a new reference (NULL stays NULL). */
static inline int
hold(Field *field, PyObject *value)
{
    if (value != NULL && PyLong_CheckExact(value) && compact_value(value, &field->number)) {
        return 1;
    }
    field->object = Py_XNewRef(value);
    return 0;
}

/* Keep one event (new references to all but ``b``'s NULL: then ``since`` is b).
 * 0, or -1 with an exception set. */
static inline int
store_put(Store *self, long long t, PyObject *ident, PyObject *kind, PyObject *subject,
          PyObject *a, PyObject *b, long long since)
{
    Record *record;
    long long kind_value = -1;
    int numbers = 0;
    if (self->end == self->capacity && store_grow(self) < 0) {
        return -1;
    }
    record = &self->records[self->end];
    if (ident == NULL) {  /* a whole event, kept as it is */
        record->ident = NULL;
        record->subject.object = Py_NewRef(subject);
        record->numbers = 0;
        self->end++;
        return 0;
    }
    if (PyLong_CheckExact(kind) && compact_value(kind, &kind_value) && kind_value >= 0
        && kind_value <= INT_MAX) {
        record->ident = Py_NewRef(ident);
        record->kind = (int)kind_value;
    }
    else if ((record->ident = PyTuple_Pack(2, ident, kind)) != NULL) {
        numbers = ODD_KIND;
    }
    else {
        return -1;
    }
    record->t = t;
    numbers |= (hold(&record->subject, subject) ? NUMBER_SUBJECT : 0)
               | (hold(&record->a, a) ? NUMBER_A : 0);
    if (b == NULL) {
        record->b.number = since;
        numbers |= NUMBER_B | SINCE_B;
    }
    else if (hold(&record->b, b)) {
        numbers |= NUMBER_B;
    }
    record->numbers = numbers;
    self->end++;
    return 0;
}

static void
release(Record *records, Py_ssize_t count)
{
    Py_ssize_t i;
    for (i = 0; i < count; i++) {
        int numbers = records[i].numbers;
        Py_XDECREF(records[i].ident);
        if (!(numbers & NUMBER_SUBJECT)) {
            Py_XDECREF(records[i].subject.object);
        }
        if (records[i].ident == NULL) {
            continue;  /* a whole event: nothing else is set */
        }
        if (!(numbers & NUMBER_A)) {
            Py_XDECREF(records[i].a.object);
        }
        if (!(numbers & NUMBER_B)) {
            Py_XDECREF(records[i].b.object);
        }
    }
}

/* The first ``count`` waiting records, moved out of the array (the caller frees
 * the copy); NULL with an exception set if there is no memory for it. */
static Record *
detach(Store *self, Py_ssize_t count)
{
    Record *copy = PyMem_Malloc((size_t)(count ? count : 1) * sizeof(Record));
    if (copy == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    memcpy(copy, self->records + self->start, (size_t)count * sizeof(Record));
    self->start += count;
    if (self->start == self->end) {
        self->start = self->end = 0;
    }
    return copy;
}

static Py_ssize_t
waiting_count(Store *self, PyObject *arg)
{
    Py_ssize_t count = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
    if (count == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (count < 0) {
        PyErr_SetString(PyExc_ValueError, "a count below 0");
        return -1;
    }
    return count < self->end - self->start ? count : self->end - self->start;
}

/* The value of a field held as a number: ``b`` under SINCE_B is a stamp, made a time. */
static inline long long
field_number(Record *record, Field *field, int bit)
{
    if (bit == NUMBER_B && record->numbers & SINCE_B) {
        return store_time_ns(field->number);
    }
    return field->number;
}

/* A field as an object: a new one made of its number, else the reference it holds
 * (taken over); NULL with an exception set if there is no memory. */
static inline PyObject *
field_object(Record *record, Field *field, int bit)
{
    if (!(record->numbers & bit)) {
        return field->object;
    }
    return PyLong_FromLongLong(field_number(record, field, bit));
}

/* The record as an event tuple, taking over its references (released on failure). */
static PyObject *
as_tuple(Record *record)
{
    PyObject *values[3], *t, *ident, *kind, *event = NULL;
    int i, bits[3] = {NUMBER_SUBJECT, NUMBER_A, NUMBER_B};
    Field *fields[3] = {&record->subject, &record->a, &record->b};
    if (record->ident == NULL) {
        return record->subject.object;
    }
    for (i = 0; i < 3; i++) {
        values[i] = field_object(record, fields[i], bits[i]);
        record->numbers |= bits[i];  /* taken over, or made (NULL: failed) */
    }
    if (record->numbers & ODD_KIND) {
        ident = Py_NewRef(PyTuple_GET_ITEM(record->ident, 0));
        kind = Py_NewRef(PyTuple_GET_ITEM(record->ident, 1));
        Py_DECREF(record->ident);
    }
    else {
        ident = record->ident;
        kind = PyLong_FromLong(record->kind);
    }
    record->ident = NULL;
    t = PyLong_FromLongLong(store_time_ns(record->t));
    if (t != NULL && kind != NULL && values[0] != NULL && values[1] != NULL
        && values[2] != NULL) {
        event = PyTuple_New(6);
    }
    if (event == NULL) {
        Py_XDECREF(t);
        Py_DECREF(ident);
        Py_XDECREF(kind);
        for (i = 0; i < 3; i++) {
            Py_XDECREF(values[i]);
        }
        return NULL;
    }
    PyTuple_SET_ITEM(event, 0, t);
    PyTuple_SET_ITEM(event, 1, ident);
    PyTuple_SET_ITEM(event, 2, kind);
    for (i = 0; i < 3; i++) {
        PyTuple_SET_ITEM(event, 3 + i, values[i]);
    }
    if (is_plain(values[0]) && is_plain(values[1]) && is_plain(values[2])) {
        PyObject_GC_UnTrack(event);  /* nothing in it for the collector to find */
    }
    return event;
}

/* A field into the block (an integer if held as a number). */
static inline int
put_field(BlockWriter *writer, Record *record, Field *field, int bit, long long t)
{
    if (!(record->numbers & bit)) {
        return put_value(writer, field->object, t, 0);
    }
    if (grow(&writer->out, VALUE_HEAD_BYTES) < 0) {
        return -1;
    }
    put_integer(writer, field_number(record, field, bit), t);
    return 0;
}

static PyObject *
store_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    Store *self;
    if (PyTuple_GET_SIZE(args) || (kwargs != NULL && PyDict_GET_SIZE(kwargs))) {
        PyErr_SetString(PyExc_TypeError, "Store() takes no arguments");
        return NULL;
    }
    self = (Store *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->writer.no_times = 1;
    }
    if (self != NULL && writer_setup(&self->writer) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void
store_dealloc(Store *self)
{
    PyTypeObject *type = Py_TYPE(self);
    if (self->records != NULL) {
        release(self->records + self->start, self->end - self->start);
        PyMem_Free(self->records);
    }
    writer_free(&self->writer);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* append(event): an event tuple made elsewhere, kept as it is. */
static PyObject *
store_append(Store *self, PyObject *event)
{
    if (store_put(self, 0, NULL, NULL, event, NULL, NULL, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* take(count) -> the first ``count`` waiting events (fewer if fewer wait), as tuples. */
static PyObject *
store_take(Store *self, PyObject *arg)
{
    Py_ssize_t count = waiting_count(self, arg), i;
    Record *records;
    PyObject *events;
    if (count < 0 || store_clock_ready() < 0) {
        return NULL;
    }
    records = detach(self, count);
    if (records == NULL) {
        return NULL;
    }
    events = PyList_New(count);
    for (i = 0; i < count; i++) {
        PyObject *event = events == NULL ? NULL : as_tuple(&records[i]);
        if (event == NULL) {
            release(records + i + (events != NULL), count - i - (events != NULL));
            Py_CLEAR(events);
            break;
        }
        PyList_SET_ITEM(events, i, event);
    }
    PyMem_Free(records);
    return events;
}

/* discard(count): forget the first ``count`` waiting events (a consumer fell behind). */
static PyObject *
store_discard(Store *self, PyObject *arg)
{
    Py_ssize_t count = waiting_count(self, arg);
    Record *records;
    if (count < 0) {
        return NULL;
    }
    records = detach(self, count);
    if (records == NULL) {
        return NULL;
    }
    release(records, count);
    PyMem_Free(records);
    Py_RETURN_NONE;
}

/* A whole event appended as a tuple, into the block: 0, or -1 (TypeError and the
 * like: a value the block form cannot hold). */
static int
put_boxed(BlockWriter *writer, long long seq, PyObject *event)
{
    long long t;
    long kind;
    if (!PyTuple_CheckExact(event) || PyTuple_GET_SIZE(event) != 6
        || !PyLong_CheckExact(PyTuple_GET_ITEM(event, 0))
        || !PyLong_CheckExact(PyTuple_GET_ITEM(event, 1))
        || !PyLong_CheckExact(PyTuple_GET_ITEM(event, 2))) {
        PyErr_SetString(PyExc_TypeError, "take_block: an event that is not a plain 6-tuple");
        return -1;
    }
    t = PyLong_AsLongLong(PyTuple_GET_ITEM(event, 0));
    kind = PyLong_AsLong(PyTuple_GET_ITEM(event, 2));
    if ((t == -1 || kind == -1) && PyErr_Occurred()) {
        return -1;
    }
    return put_event(writer, seq, t, PyTuple_GET_ITEM(event, 1), kind,
                     PyTuple_GET_ITEM(event, 3), PyTuple_GET_ITEM(event, 4),
                     PyTuple_GET_ITEM(event, 5));
}

/* take_block(count) -> (block, count, idents): the first ``count`` waiting events
 * (fewer if fewer wait) in the block form, and the idents of the threads named in
 * it.  If one of them holds a value the form cannot (TypeError), nothing is taken:
 * the caller takes them as tuples instead. */
static PyObject *
store_take_block(Store *self, PyObject *arg)
{
    Py_ssize_t count = waiting_count(self, arg), i;
    BlockWriter *writer = &self->writer;
    PyObject *block, *idents, *result;
    Record *records;
    if (count < 0 || store_clock_ready() < 0) {
        return NULL;
    }
    writer_reset(writer);
    /* No Python code runs here (exact ints and str only), so the array stays put. */
    for (i = 0; i < count; i++) {
        Record *record = &self->records[self->start + i];
        long long t;
        if (record->ident == NULL) {
            if (put_boxed(writer, i, record->subject.object) < 0) {
                goto failed;
            }
            continue;
        }
        if (record->numbers & ODD_KIND) {
            PyErr_SetString(PyExc_TypeError, "take_block: an event kind that is not a C int");
            goto failed;
        }
        t = store_time_ns(record->t);
        if (put_event_head(writer, i, t, record->ident, record->kind) < 0
            || put_field(writer, record, &record->subject, NUMBER_SUBJECT, t) < 0
            || put_field(writer, record, &record->a, NUMBER_A, t) < 0
            || put_field(writer, record, &record->b, NUMBER_B, t) < 0) {
            goto failed;
        }
        put_event_end(writer, i, t);
    }
    block = PyBytes_FromStringAndSize(writer->out.data, writer->out.size);
    idents = PyList_GetSlice(writer->thread_list, 0, PyList_GET_SIZE(writer->thread_list));
    if (block == NULL || idents == NULL) {
        Py_XDECREF(block);
        Py_XDECREF(idents);
        return NULL;
    }
    result = Py_BuildValue("(NnN)", block, count, idents);  /* N: taken, even on failure */
    if (result == NULL) {
        return NULL;
    }
    writer_reset(writer);
    records = detach(self, count);
    if (records == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    release(records, count);
    PyMem_Free(records);
    return result;
failed:
    writer_reset(writer);
    return NULL;
}

/* anchor(): read both clocks for the records about to be taken (see the clock). */
static PyObject *
store_anchor(Store *Py_UNUSED(self), PyObject *Py_UNUSED(ignored))
{
    if (store_clock_anchor() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static Py_ssize_t
store_length(Store *self)
{
    return self->end - self->start;
}

static PyMethodDef store_methods[] = {
    {"append", (PyCFunction)store_append, METH_O,
     "append(event): keep an event tuple made elsewhere, in stream order."},
    {"take", (PyCFunction)store_take, METH_O,
     "take(count) -> list of the first count waiting events (fewer if fewer wait), as tuples."},
    {"take_block", (PyCFunction)store_take_block, METH_O,
     "take_block(count) -> (block, count, idents): the first count waiting events in the "
     "block form decode_block reads, and the thread idents it names; TypeError (nothing "
     "taken) if one holds a value the form cannot."},
    {"anchor", (PyCFunction)store_anchor, METH_NOARGS,
     "anchor(): place the records taken next by the clocks as they are now (a drain "
     "calls it first, so one line places all it takes)."},
    {"discard", (PyCFunction)store_discard, METH_O,
     "discard(count): forget the first count waiting events."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot store_slots[] = {
    {Py_tp_doc, "Store(): a recorder's events, kept as C records (see _store.h); "
                "len() is how many wait."},
    {Py_tp_new, store_new},
    {Py_tp_dealloc, store_dealloc},
    {Py_tp_methods, store_methods},
    {Py_sq_length, store_length},
    {0, NULL},
};

static PyType_Spec store_spec = {
    "visualizer.queues._speedups.Store",
    sizeof(Store),
    0,
    Py_TPFLAGS_DEFAULT,
    store_slots,
};

static PyObject *
store_clock(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    return PyUnicode_FromString(tsc_on ? "the CPU's invariant time-stamp counter, placed on "
                                         "perf_counter_ns at every drain"
                                       : "perf_counter_ns");
}

/* decode_block(block) -> (events, seqs): a block's events as tuples (the window's end). */
static PyObject *
store_decode_block(PyObject *Py_UNUSED(module), PyObject *block)
{
    return decode_block(block);
}

#endif /* VISUALIZER_STORE_H */
