/* The block form of events: a compact binary encoding, written and read in C.
 *
 * Shared by the two optional extensions (a header of static functions, compiled
 * into each): visualizer/recording/_speedups.c keeps a loaded log's events in
 * blocks, and visualizer/queues/_speedups.c sends a run's events to the window
 * in blocks, which the window reads with the same decoder.  Nothing else needs
 * to know the form; a block never outlives the processes of one installed
 * package (it is never written to disk), so the form may change with the package.
 *
 * The form, for one block at a time (nothing refers outside it):
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
#ifndef VISUALIZER_BLOCK_H
#define VISUALIZER_BLOCK_H

#include <Python.h>
#include <stdint.h>
#include <string.h>

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

/* An exact int's value, read without a call, if it fits in a machine word's worth
 * of digits (most do): 1 if read, 0 if it does not (then *out is untouched). */
static inline int
compact_value(PyObject *value, long long *out)
{
#if PY_VERSION_HEX >= 0x030C0000
    if (PyUnstable_Long_IsCompact((PyLongObject *)value)) {
        *out = (long long)PyUnstable_Long_CompactValue((PyLongObject *)value);
        return 1;
    }
#elif !defined(Py_LIMITED_API)
    Py_ssize_t size = Py_SIZE(value);
    if (size == 0 || size == 1 || size == -1) {
        *out = size * (long long)((PyLongObject *)value)->ob_digit[0];
        return 1;
    }
#endif
    return 0;
}

/* An exact int's value: compact_value, else the general conversion.  0, or -1 with
 * an exception set (OverflowError: beyond 64 bits). */
static inline int
int_value(PyObject *value, long long *out)
{
    int overflow;
    if (compact_value(value, out)) {
        return 0;
    }
    *out = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (*out == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow) {
        PyErr_SetString(PyExc_OverflowError, "Encoder: an integer outside 64 bits");
        return -1;
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
    int no_times;        /* leave ``times`` empty (a block for the pipe needs none) */
} BlockWriter;

/* Empty a list (keeping its storage). */
static int
clear_list(PyObject *list)
{
    return PyList_SetSlice(list, 0, PyList_GET_SIZE(list), NULL);
}

static void
writer_reset(BlockWriter *self)
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

/* Make a writer's dicts and lists (once) and start its first block: 0, or -1. */
static int
writer_setup(BlockWriter *self)
{
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
    writer_reset(self);
    return 0;
}

static void
writer_free(BlockWriter *self)
{
    Py_CLEAR(self->texts);
    Py_CLEAR(self->threads);
    Py_CLEAR(self->text_list);
    Py_CLEAR(self->thread_list);
    PyMem_Free(self->out.data);
    PyMem_Free(self->times.data);
    self->out.data = self->times.data = NULL;
    self->out.size = self->out.capacity = self->times.size = self->times.capacity = 0;
}

/* Keep ``text`` (numbered ``index``) among the few compared before any hashing. */
static inline void
remember(BlockWriter *self, PyObject *text, Py_ssize_t index)
{
    self->recent[self->recent_next] = text;
    self->recent_index[self->recent_next] = index;
    self->recent_next = (self->recent_next + 1) & 3;
}

/* Text: written out and numbered the first time in a block, then by its number. */
static int
put_text(BlockWriter *self, PyObject *text)
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

/* An integer (room for VALUE_HEAD_BYTES is there): in the tag if small, else as
 * itself or relative to ``t_ns``, whichever is shorter. */
static inline void
put_integer(BlockWriter *self, long long number, int64_t t_ns)
{
    uint64_t plainly, near;
    if (number >= 0 && number <= SMALL_MAX) {
        put_byte(&self->out, (unsigned char)(TAG_SMALL + number));
        return;
    }
    plainly = zigzag(number);
    near = zigzag((int64_t)((uint64_t)number - (uint64_t)t_ns));  /* modulo 2**64 */
    put_byte(&self->out, near < plainly ? TAG_NEAR : TAG_INT);
    put_varint(&self->out, near < plainly ? near : plainly);
}

/* Any value an event field may hold once checked (``t_ns``: its event's, for TAG_NEAR). */
static int
put_value(BlockWriter *self, PyObject *value, int64_t t_ns, int depth)
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
        long long number;
        if (int_value(value, &number) < 0) {
            return -1;
        }
        put_integer(self, number, t_ns);
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

/* An event's head: all but its values (``thread`` an exact int, ``kind`` a small one);
 * put_event_end once its three values are written. */
static int
put_event_head(BlockWriter *self, long long seq, long long t_ns, PyObject *thread, long kind)
{
    Py_ssize_t index;
    int new_thread = 0;

    if (grow(&self->out, EVENT_HEAD_BYTES) < 0
        || (!self->no_times && grow(&self->times, sizeof t_ns) < 0)) {
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
    return 0;
}

static inline void
put_event_end(BlockWriter *self, long long seq, long long t_ns)
{
    if (!self->no_times) {
        memcpy(self->times.data + self->times.size, &t_ns, sizeof t_ns);
        self->times.size += sizeof t_ns;
    }
    self->previous_seq = seq;
    self->previous_t = t_ns;
    self->count++;
}

/* One checked event (``thread`` an exact int, ``kind`` a small one). */
static int
put_event(BlockWriter *self, long long seq, long long t_ns, PyObject *thread, long kind,
          PyObject *subject, PyObject *a, PyObject *b)
{
    if (put_event_head(self, seq, t_ns, thread, kind) < 0 || put_value(self, subject, t_ns, 0) < 0
        || put_value(self, a, t_ns, 0) < 0 || put_value(self, b, t_ns, 0) < 0) {
        return -1;
    }
    put_event_end(self, seq, t_ns);
    return 0;
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

/* decode_block(block) -> (events: list of 6-tuples, seqs as native int64 bytes) */
static PyObject *
decode_block(PyObject *arg)
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

#endif /* VISUALIZER_BLOCK_H */
