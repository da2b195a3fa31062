/* The traced locks' fast path and the task-event sink, in C (optional).
 *
 * Why C: a traced cycle (add, get, complete) records nine events, and in
 * Python each costs a frame, a clock call, an ident call and a tuple, more than
 * the queue operation it describes.  This module does exactly what the pure
 * Python fast paths in traced.py and tracer.py do, with the same events in the
 * same order, and nothing else: whenever the gate is closed (paused, stepping,
 * stopping, and always in a controlled run) or the lock is taken, it calls the
 * Python method (``acquire``/``release``) or function (the sink's ``slow``) that
 * handles the general case.  If it cannot be built, visualizer.queues.speedups
 * falls back to the pure Python classes and nothing else changes.
 *
 * Events go to the recorder's own ``append``.  Where that is a ``Store``'s
 * (_store.h: the recorder keeps its events there whenever this module is
 * loaded) an event is written as a C record, with no Python object made for it;
 * otherwise it is a 6-tuple of visualizer/events.py, appended as PyList_Append
 * to a list or by calling ``append``.  A tuple of plain values (ints, strings,
 * None) is untracked by the garbage collector at once.
 *
 * An uncontended ``with lock`` block records ONE event, at its end: LOCK_HELD,
 * carrying the time the lock was taken (``b``), instead of LOCK_ACQUIRED and
 * LOCK_RELEASED.  Until then the hold is *pending*: kept in a list here, with
 * its start time as a C integer, and published (its LOCK_ACQUIRED appended,
 * stamped with that start) the moment anything may need to see it:
 * publish_pending(), which the slow paths call before any event of a contended
 * or gated operation, and the recorder before every drain.  So a hold that lasts
 * past a drain, one that another thread waits for, and one a paused thread is
 * stopped in all show up as they do without fusion; only a hold that begins and
 * ends between two drains unseen by anyone is folded into one event.
 *
 * Everything runs with the GIL held and never releases it except while blocked
 * in the lock itself, so each fast path is atomic towards other Python threads,
 * as the pure Python one is between its bytecodes where it matters (see the
 * ordering notes in traced.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <pythread.h>
#include <stdlib.h>
#include <string.h>

#ifdef Py_GIL_DISABLED
#error "the speedups rely on the GIL; a free-threaded build uses the pure Python path"
#endif

#if PY_VERSION_HEX < 0x030D0000 && defined(__linux__)
#include <time.h>
#define USE_CLOCK_GETTIME 1
#endif

static PyObject *str_closed, *str_dict, *str_acquire, *str_release, *str_exclusive;
static PyObject *kind_acquired, *kind_released, *kind_held, *kind_requested;
static PyObject *str_blocked, *str_wait_rest;
static PyObject *perf_counter_ns;  /* time.perf_counter_ns, where no C clock matches it */

/* --- the clock: the same as time.perf_counter_ns() --------------------------------- */

/* The clock as a C integer: 0, or -1 with an exception set. */
static int
now_raw(long long *out)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyTime_t t;
    if (PyTime_PerfCounterRaw(&t) < 0) {
        return -1;
    }
    *out = (long long)t;
    return 0;
#elif defined(USE_CLOCK_GETTIME)
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    *out = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    return 0;
#else
    PyObject *t = PyObject_CallNoArgs(perf_counter_ns);
    if (t == NULL) {
        return -1;
    }
    *out = PyLong_AsLongLong(t);
    Py_DECREF(t);
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
#endif
}

static PyObject *
now_ns(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyTime_t t;
    if (PyTime_PerfCounterRaw(&t) < 0) {
        return NULL;
    }
    return PyLong_FromLongLong((long long)t);
#elif defined(USE_CLOCK_GETTIME)
    /* CPython 3.11 and 3.12 read CLOCK_MONOTONIC for perf_counter on Linux. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return PyLong_FromLongLong((long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
#else
    return PyObject_CallNoArgs(perf_counter_ns);
#endif
}

#include "_store.h"

static long long
monotonic_us(void)
{
    PyObject *t = now_ns();
    long long value;
    if (t == NULL) {
        PyErr_Clear();
        return 0;
    }
    value = PyLong_AsLongLong(t) / 1000;
    Py_DECREF(t);
    return value;
}

/* --- shared helpers ------------------------------------------------------------------ */

/* A gate as the fast paths read it: ``gate.closed`` is a plain instance attribute
 * (set by Gate and by the scheduler), so it is read straight from the instance's
 * dict, which attribute assignment keeps current, instead of through the generic
 * attribute lookup.  Any other kind of gate (no dict, ``closed`` a descriptor on its
 * class) is read the generic way. */
typedef struct {
    PyObject *gate;
    PyObject *dict;  /* the gate's __dict__, or NULL: read generically */
    Py_ssize_t slot; /* where ``closed`` is in the gate, if a slot (__slots__), else 0 */
} GateRef;

static int
gate_ref_init(GateRef *ref, PyObject *gate)
{
    PyObject *dict, *on_class;
    Py_INCREF(gate);
    Py_XSETREF(ref->gate, gate);
    Py_CLEAR(ref->dict);
    ref->slot = 0;
    on_class = PyObject_GetAttr((PyObject *)Py_TYPE(gate), str_closed);
    if (on_class == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
    }
    else {
        int descriptor = Py_TYPE(on_class)->tp_descr_set != NULL;
        if (Py_IS_TYPE(on_class, &PyMemberDescr_Type)) {
            /* A slot: read where it lives (the Gate's).  Unset, it is NULL: then the
             * generic read raises what it should. */
            PyMemberDef *member = ((PyMemberDescrObject *)on_class)->d_member;
            if (member->type == T_OBJECT_EX && PyObject_TypeCheck(gate, PyDescr_TYPE(on_class))) {
                ref->slot = member->offset;
            }
        }
        Py_DECREF(on_class);
        if (descriptor) {
            return 0;  /* a slot, or a property or the like that decides every time */
        }
    }
    dict = PyObject_GetAttr(gate, str_dict);
    if (dict == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    if (PyDict_CheckExact(dict)) {
        ref->dict = dict;
    }
    else {
        Py_DECREF(dict);
    }
    return 0;
}

/* 1 if gate.closed is true, 0 if not, -1 on error. */
static inline int
gate_closed(GateRef *ref)
{
    PyObject *value;
    int closed;
    if (ref->slot) {
        value = *(PyObject **)((char *)ref->gate + ref->slot);
        if (value == Py_False) {
            return 0;
        }
        if (value == Py_True) {
            return 1;
        }
    }
    else if (ref->dict != NULL) {
        value = PyDict_GetItemWithError(ref->dict, str_closed);  /* borrowed */
        if (value == Py_False) {
            return 0;
        }
        if (value == Py_True) {
            return 1;
        }
        if (value == NULL && PyErr_Occurred()) {
            return -1;
        }
    }
    value = PyObject_GetAttr(ref->gate, str_closed);
    if (value == NULL) {
        return -1;
    }
    closed = PyObject_IsTrue(value);
    Py_DECREF(value);
    return closed;
}

/* The thread ident as an int, made once per thread in a row (the same thread
 * records many events in a row: a switch of threads is rare in comparison). */
typedef struct {
    unsigned long ident;
    PyObject *obj;
} IdentCache;

/* The one the fast paths share, so that one thread's events hold one ident object
 * (the block writer then knows the thread again by pointer, not by value). */
static IdentCache shared_idents;

static inline PyObject *
ident_of(IdentCache *cache, unsigned long ident)  /* borrowed */
{
    if (cache->obj == NULL || cache->ident != ident) {
        PyObject *obj;
        if (cache != &shared_idents && shared_idents.obj != NULL && shared_idents.ident == ident) {
            obj = Py_NewRef(shared_idents.obj);
        }
        else if ((obj = PyLong_FromUnsignedLong(ident)) == NULL) {
            return NULL;
        }
        else if (cache != &shared_idents) {
            Py_XSETREF(shared_idents.obj, Py_NewRef(obj));
            shared_idents.ident = ident;
        }
        Py_XSETREF(cache->obj, obj);
        cache->ident = ident;
    }
    return cache->obj;
}

/* Where events go: any callable taking one event, usually the recorder's
 * ``Store.append`` (then the event goes in as a record, no tuple made) or
 * ``list.append`` (then called as PyList_Append, without the call). */
typedef struct {
    PyObject *append;
    PyObject *list;  /* the list whose bound append ``append`` is, or NULL */
    Store *store;    /* the Store whose bound append ``append`` is, or NULL */
} Appender;

static void
appender_init(Appender *out, PyObject *append)
{
    PyObject *owner = NULL;
    Py_INCREF(append);
    Py_XSETREF(out->append, append);
    Py_CLEAR(out->list);
    Py_CLEAR(out->store);
    if (PyCFunction_Check(append) && !(PyCFunction_GET_FLAGS(append) & METH_STATIC)
        && strcmp(((PyCFunctionObject *)append)->m_ml->ml_name, "append") == 0) {
        owner = PyCFunction_GET_SELF(append);
    }
    if (owner != NULL && PyList_CheckExact(owner)) {
        out->list = Py_NewRef(owner);
    }
    else if (owner != NULL && Py_IS_TYPE(owner, store_type)) {
        out->store = (Store *)Py_NewRef(owner);
    }
}

static inline int
append_to(Appender *out, PyObject *event)
{
    PyObject *result;
    if (out->list != NULL) {
        return PyList_Append(out->list, event);
    }
    result = PyObject_CallOneArg(out->append, event);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* Append (t, ident, kind, subject, a, b), where a NULL ``b`` stands for the
 * integer ``since`` (a LOCK_HELD's start: a Store keeps it as a C integer).
 * Times are the store's stamps (store_stamp) for a Store, else perf_counter_ns.
 * Borrows every object.  Returns 0, or -1 with an exception set. */
static int
emit_at(Appender *out, long long t, PyObject *ident, PyObject *kind, PyObject *subject,
        PyObject *a, PyObject *b, long long since)
{
    PyObject *event, *stamp, *b_value;
    int appended;
    if (out->store != NULL) {
        return store_put(out->store, t, ident, kind, subject, a, b, since);
    }
    stamp = PyLong_FromLongLong(t);
    b_value = b != NULL ? Py_NewRef(b) : PyLong_FromLongLong(since);
    event = (stamp == NULL || b_value == NULL) ? NULL : PyTuple_New(6);
    if (event == NULL) {
        Py_XDECREF(stamp);
        Py_XDECREF(b_value);
        return -1;
    }
    PyTuple_SET_ITEM(event, 0, stamp);
    PyTuple_SET_ITEM(event, 1, Py_NewRef(ident));
    PyTuple_SET_ITEM(event, 2, Py_NewRef(kind));
    PyTuple_SET_ITEM(event, 3, Py_NewRef(subject));
    PyTuple_SET_ITEM(event, 4, Py_NewRef(a));
    PyTuple_SET_ITEM(event, 5, b_value);
    if (is_plain(subject) && is_plain(a) && is_plain(b_value)) {
        PyObject_GC_UnTrack(event);
    }
    appended = append_to(out, event);
    Py_DECREF(event);
    return appended;
}

/* The time now as ``out`` keeps it: a Store's stamp, else perf_counter_ns.
 * 0, or -1 with an exception set. */
static inline int
stamp_for(Appender *out, long long *t)
{
    return out->store != NULL ? store_stamp(t) : now_raw(t);
}

/* Append (now, ident, kind, subject, a, b), with ``b`` and ``since`` as for emit_at. */
static inline int
emit(Appender *out, PyObject *ident, PyObject *kind, PyObject *subject, PyObject *a,
     PyObject *b, long long since)
{
    long long t;
    if (stamp_for(out, &t) < 0) {
        return -1;
    }
    return emit_at(out, t, ident, kind, subject, a, b, since);
}

/* --- Mutex: a lock (or a re-entrant lock) with the traced fast paths ------------------ */

typedef struct Mutex {
    PyObject_HEAD
    PyThread_type_lock lock;
    char locked;           /* the raw lock is taken */
    char reentrant;
    char has_owner;        /* the holder is ``idents.ident`` (``idents.obj`` as an int) */
    IdentCache idents;
    long depth;
    PyObject *name;
    PyObject *mode;        /* the events' mode: "x", or "w" for a read-write lock's writer */
    Appender out;
    GateRef gate;
    /* A pending hold (see the top of the file): taken by the fast path at
     * ``since`` and not yet recorded; linked in the list of pending holds. */
    char pending;
    long long since;
    struct Mutex *prev_pending, *next_pending;
} Mutex;

/* Every pending hold, oldest first.  Only touched with the GIL held. */
static Mutex *pending_first, *pending_last;

static void
pending_link(Mutex *self)
{
    self->pending = 1;
    self->next_pending = NULL;
    self->prev_pending = pending_last;
    if (pending_last != NULL) {
        pending_last->next_pending = self;
    }
    else {
        pending_first = self;
    }
    pending_last = self;
}

static void
pending_unlink(Mutex *self)
{
    if (!self->pending) {
        return;
    }
    self->pending = 0;
    if (self->prev_pending != NULL) {
        self->prev_pending->next_pending = self->next_pending;
    }
    else {
        pending_first = self->next_pending;
    }
    if (self->next_pending != NULL) {
        self->next_pending->prev_pending = self->prev_pending;
    }
    else {
        pending_last = self->prev_pending;
    }
    self->prev_pending = self->next_pending = NULL;
}

static PyObject *small_one;  /* the int 1: a published hold's depth */
static PyObject *small_zero; /* the int 0: a released hold's depth */

#define OWNER(self) ((self)->idents.obj)

/* Record a pending hold's LOCK_ACQUIRED, stamped when it was taken. */
static int
publish(Mutex *self)
{
    pending_unlink(self);
    return emit_at(&self->out, self->since, OWNER(self), kind_acquired, self->name,
                   self->mode, small_one, 0);
}

/* Record every pending hold's acquisition, oldest first: 0, or -1 with an exception. */
static int
publish_all(void)
{
    while (pending_first != NULL) {
        if (publish(pending_first) < 0) {
            return -1;
        }
    }
    return 0;
}

/* publish_pending(): publish_all, for the Python paths and the recorder's drains. */
static PyObject *
publish_pending(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(ignored))
{
    if (publish_all() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Take the raw lock: without waiting, or waiting (GIL released) up to timeout_s
 * seconds (< 0: for ever).  Returns 1 taken, 0 not, -1 with an exception set. */
static int
raw_acquire(Mutex *self, int blocking, double timeout_s)
{
    PyLockStatus status;
    long long timeout_us, deadline = 0;

    if (PyThread_acquire_lock_timed(self->lock, 0, 0) == PY_LOCK_ACQUIRED) {
        self->locked = 1;
        return 1;
    }
    if (!blocking || timeout_s == 0) {
        return 0;
    }
    if (timeout_s < 0) {
        timeout_us = -1;
    }
    else {
        double limit = timeout_s * 1e6;
        timeout_us = limit > (double)PY_TIMEOUT_MAX ? PY_TIMEOUT_MAX : (long long)limit;
        deadline = monotonic_us() + timeout_us;
    }
    for (;;) {
        Py_BEGIN_ALLOW_THREADS
        status = PyThread_acquire_lock_timed(self->lock, timeout_us, 1);
        Py_END_ALLOW_THREADS
        if (status != PY_LOCK_INTR) {
            break;
        }
        /* A signal arrived: run its handler (it may raise, e.g. KeyboardInterrupt). */
        if (Py_MakePendingCalls() < 0) {
            return -1;
        }
        if (timeout_us > 0) {
            timeout_us = deadline - monotonic_us();
            if (timeout_us <= 0) {
                status = PyThread_acquire_lock_timed(self->lock, 0, 0);
                break;
            }
        }
    }
    if (status == PY_LOCK_ACQUIRED) {
        self->locked = 1;
        return 1;
    }
    return 0;
}

static int
raw_release(Mutex *self)
{
    if (!self->locked) {
        PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
        return -1;
    }
    self->locked = 0;
    PyThread_release_lock(self->lock);
    return 0;
}

static int
mutex_init(Mutex *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"name", "append", "gate", "reentrant", "mode", NULL};
    PyObject *name, *append, *gate, *mode = str_exclusive;
    int reentrant = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO|pO", keywords, &name, &append, &gate,
                                     &reentrant, &mode)) {
        return -1;
    }
    if (self->lock == NULL) {
        self->lock = PyThread_allocate_lock();
        if (self->lock == NULL) {
            PyErr_SetString(PyExc_MemoryError, "cannot allocate a lock");
            return -1;
        }
    }
    self->reentrant = (char)reentrant;
    Py_INCREF(name);
    Py_XSETREF(self->name, name);
    Py_INCREF(mode);
    Py_XSETREF(self->mode, mode);
    appender_init(&self->out, append);
    return gate_ref_init(&self->gate, gate);
}

static int
mutex_traverse(Mutex *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->name);
    Py_VISIT(self->mode);
    Py_VISIT(self->out.append);
    Py_VISIT(self->out.list);
    Py_VISIT(self->out.store);
    Py_VISIT(self->gate.gate);
    Py_VISIT(self->gate.dict);
    return 0;
}

static int
mutex_clear(Mutex *self)
{
    pending_unlink(self);
    Py_CLEAR(self->name);
    Py_CLEAR(self->mode);
    Py_CLEAR(self->out.append);
    Py_CLEAR(self->out.list);
    Py_CLEAR(self->out.store);
    Py_CLEAR(self->gate.gate);
    Py_CLEAR(self->gate.dict);
    Py_CLEAR(self->idents.obj);
    self->has_owner = 0;
    return 0;
}

static void
mutex_dealloc(Mutex *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    mutex_clear(self);
    if (self->lock != NULL) {
        if (self->locked) {
            PyThread_release_lock(self->lock);
        }
        PyThread_free_lock(self->lock);
    }
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* A contended wait is made of slices this long (traced.py's WAIT_SLICE): between two,
 * the waiter looks at the gate, and after the first reports a long wait. */
#define WAIT_SLICE_S 0.05

/* ``with lock`` when another thread holds it and the gate is open: what acquire and
 * _contended do in Python (traced.py), the same events in the same order, without a
 * Python frame.  That matters beyond its cost: a thread woken with the lock runs
 * bytecode only after recording, and a thread that runs bytecode while holding the
 * lock can be made to hand over the GIL there, making every other thread that wants
 * the lock wait too (measured at 4 + 4: 40 % more context switches a task with the
 * Python path).  A wait that lasts a slice calls _blocked (its THREAD_BLOCKED names
 * the waiting line); if the gate closes during the wait (a pause, a stop),
 * _wait_rest goes on with it in Python, where a stop raises RunStopped. */
static PyObject *
mutex_contended(Mutex *self, unsigned long me)
{
    PyObject *me_obj, *owner, *result;
    int taken, closed, slices = 0;
    if (publish_all() < 0) {  /* the holder's hold first: see the top */
        return NULL;
    }
    me_obj = ident_of(&shared_idents, me);
    if (me_obj == NULL) {
        return NULL;
    }
    Py_INCREF(me_obj);  /* the shared cache may move on while this thread waits */
    owner = self->has_owner ? OWNER(self) : Py_None;
    if (emit(&self->out, me_obj, kind_requested, self->name, self->mode, owner, 0) < 0) {
        goto failed;
    }
    for (;;) {
        taken = raw_acquire(self, 1, WAIT_SLICE_S);
        if (taken < 0) {
            goto failed;
        }
        if (taken) {
            break;
        }
        closed = gate_closed(&self->gate);
        if (closed < 0) {
            goto failed;
        }
        if (closed) {
            result = PyObject_CallMethodOneArg((PyObject *)self, str_wait_rest,
                                               slices == 0 ? Py_True : Py_False);
            if (result == NULL) {
                goto failed;
            }
            Py_DECREF(result);
            break;  /* taken */
        }
        if (slices++ == 0) {
            result = PyObject_CallMethodNoArgs((PyObject *)self, str_blocked);
            if (result == NULL) {
                goto failed;
            }
            Py_DECREF(result);
        }
    }
    Py_DECREF(me_obj);
    if (ident_of(&self->idents, me) == NULL) {
        raw_release(self);
        return NULL;
    }
    self->has_owner = 1;
    if (self->reentrant) {
        self->depth = 1;
    }
    if (emit(&self->out, OWNER(self), kind_acquired, self->name, self->mode, small_one, 0) < 0) {
        self->has_owner = 0;
        raw_release(self);
        return NULL;
    }
    Py_RETURN_TRUE;
failed:
    Py_DECREF(me_obj);
    return NULL;
}

/* ``with lock``: one check of the gate, one try of the lock, one event. */
static PyObject *
mutex_enter(Mutex *self, PyObject *Py_UNUSED(ignored))
{
    unsigned long me;
    PyObject *depth;
    int closed = gate_closed(&self->gate);
    if (closed < 0) {
        return NULL;
    }
    if (closed) {
        return PyObject_CallMethodNoArgs((PyObject *)self, str_acquire);
    }
    me = PyThread_get_thread_ident();
    if (self->reentrant && self->has_owner && self->idents.ident == me) {
        /* Re-entry: the lock is ours already.  Its first level is recorded as it
         * was taken, then this one, as without fusion. */
        if (self->pending && publish(self) < 0) {
            return NULL;
        }
        self->depth += 1;
    }
    else {
        if (PyThread_acquire_lock_timed(self->lock, 0, 0) != PY_LOCK_ACQUIRED) {
            return mutex_contended(self, me);
        }
        self->locked = 1;
        if (ident_of(&self->idents, me) == NULL) {
            self->locked = 0;
            PyThread_release_lock(self->lock);
            return NULL;
        }
        self->has_owner = 1;
        if (self->reentrant) {
            self->depth = 1;
        }
        /* Uncontended: nothing to record yet, only when (see the top of the file). */
        if (stamp_for(&self->out, &self->since) < 0) {
            self->has_owner = 0;
            self->locked = 0;
            PyThread_release_lock(self->lock);
            return NULL;
        }
        pending_link(self);
        Py_RETURN_TRUE;
    }
    /* A plain lock's events say 1 and 0; only an RLock counts levels. */
    depth = PyLong_FromLong(self->reentrant ? self->depth : 1);
    if (depth == NULL) {
        return NULL;
    }
    if (emit(&self->out, OWNER(self), kind_acquired, self->name, self->mode, depth, 0) < 0) {
        Py_DECREF(depth);
        return NULL;
    }
    Py_DECREF(depth);
    Py_RETURN_TRUE;
}

/* End of ``with lock``: the event is appended while still holding, then the release. */
static PyObject *
mutex_exit(Mutex *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
    PyObject *depth, *result;
    long left;
    int closed = gate_closed(&self->gate);
    if (closed < 0) {
        return NULL;
    }
    if (closed || !self->has_owner || self->idents.ident != PyThread_get_thread_ident()) {
        /* Paused, stopping, or not ours: the checked path says what is wrong. */
        result = PyObject_CallMethodNoArgs((PyObject *)self, str_release);
        if (result == NULL) {
            return NULL;
        }
        Py_DECREF(result);
        Py_RETURN_NONE;
    }
    left = self->reentrant ? self->depth - 1 : 0;
    if (self->pending) {
        /* The whole hold, unseen so far, as one event (re-entry published it). */
        pending_unlink(self);
        if (emit(&self->out, OWNER(self), kind_held, self->name, self->mode, NULL,
                 self->since) < 0) {
            pending_link(self);
            return NULL;  /* still held, as it was */
        }
    }
    else {
        depth = PyLong_FromLong(left);
        if (depth == NULL) {
            return NULL;
        }
        if (emit(&self->out, OWNER(self), kind_released, self->name, self->mode, depth, 0) < 0) {
            Py_DECREF(depth);
            return NULL;  /* still held, as it was */
        }
        Py_DECREF(depth);
    }
    if (self->reentrant) {
        self->depth = left;
    }
    if (left == 0) {
        self->has_owner = 0;  /* the ident stays cached for the next holder */
        if (raw_release(self) < 0) {
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

/* _hold_begin(): a hold taken elsewhere (a read-write lock's writer, let in by its
 * own bookkeeping) begins now, by this thread: pending, as an uncontended ``with``
 * block's (nothing recorded until it is looked at or ends).  The raw lock and the
 * gate are not touched: the caller has decided the hold is uncontended and the gate
 * open. */
static PyObject *
mutex_hold_begin(Mutex *self, PyObject *Py_UNUSED(ignored))
{
    if (self->has_owner) {
        PyErr_SetString(PyExc_RuntimeError, "_hold_begin: the hold has begun already");
        return NULL;
    }
    if (ident_of(&self->idents, PyThread_get_thread_ident()) == NULL
        || stamp_for(&self->out, &self->since) < 0) {
        return NULL;
    }
    self->has_owner = 1;
    pending_link(self);
    Py_RETURN_NONE;
}

/* _hold_end(): the hold _hold_begin began ends: one LOCK_HELD if it was never seen,
 * else its LOCK_RELEASED (depth 0). */
static PyObject *
mutex_hold_end(Mutex *self, PyObject *Py_UNUSED(ignored))
{
    int failed;
    if (!self->has_owner) {
        PyErr_SetString(PyExc_RuntimeError, "_hold_end: no hold has begun");
        return NULL;
    }
    if (self->pending) {
        pending_unlink(self);
        failed = emit(&self->out, OWNER(self), kind_held, self->name, self->mode, NULL,
                      self->since);
    }
    else {
        failed = emit(&self->out, OWNER(self), kind_released, self->name, self->mode, small_zero,
                      0);
    }
    self->has_owner = 0;
    if (failed < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* _try_acquire(blocking=True, timeout=-1): the raw lock alone, no events. */
static PyObject *
mutex_try_acquire(Mutex *self, PyObject *const *args, Py_ssize_t nargs)
{
    int blocking = 1, taken;
    double timeout = -1;
    if (nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "_try_acquire(blocking=True, timeout=-1)");
        return NULL;
    }
    if (nargs >= 1) {
        blocking = PyObject_IsTrue(args[0]);
        if (blocking < 0) {
            return NULL;
        }
    }
    if (nargs == 2 && args[1] != Py_None) {
        timeout = PyFloat_AsDouble(args[1]);
        if (timeout == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    taken = raw_acquire(self, blocking, timeout);
    if (taken < 0) {
        return NULL;
    }
    return PyBool_FromLong(taken);
}

static PyObject *
mutex_unlock(Mutex *self, PyObject *Py_UNUSED(ignored))
{
    if (raw_release(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
mutex_locked(Mutex *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(self->locked);
}

/* _is_owned(): whether the calling thread holds the lock.  threading.Condition
 * asks this before every notify and wait; in C it costs no Python frame. */
static PyObject *
mutex_is_owned(Mutex *self, PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(self->has_owner && self->idents.ident == PyThread_get_thread_ident());
}

static PyObject *
mutex_get_owner(Mutex *self, void *Py_UNUSED(closure))
{
    if (!self->has_owner) {
        Py_RETURN_NONE;
    }
    Py_INCREF(OWNER(self));
    return OWNER(self);
}

static int
mutex_set_owner(Mutex *self, PyObject *value, void *Py_UNUSED(closure))
{
    unsigned long ident;
    if (value == NULL || value == Py_None) {
        self->has_owner = 0;
        return 0;
    }
    ident = PyLong_AsUnsignedLong(value);
    if (ident == (unsigned long)-1 && PyErr_Occurred()) {
        return -1;
    }
    Py_INCREF(value);
    Py_XSETREF(self->idents.obj, value);
    self->idents.ident = ident;
    self->has_owner = 1;
    return 0;
}

static PyMethodDef mutex_methods[] = {
    {"__enter__", (PyCFunction)mutex_enter, METH_NOARGS, "Fast path of ``with lock``."},
    {"__exit__", (PyCFunction)(void (*)(void))mutex_exit, METH_FASTCALL,
     "Fast path of the end of ``with lock``."},
    {"_try_acquire", (PyCFunction)(void (*)(void))mutex_try_acquire, METH_FASTCALL,
     "Take the raw lock (no events): without waiting, or up to ``timeout`` seconds."},
    {"_unlock", (PyCFunction)mutex_unlock, METH_NOARGS, "Release the raw lock (no events)."},
    {"_hold_begin", (PyCFunction)mutex_hold_begin, METH_NOARGS,
     "A hold decided elsewhere begins (pending: recorded when seen or when it ends)."},
    {"_hold_end", (PyCFunction)mutex_hold_end, METH_NOARGS,
     "The hold _hold_begin began ends: LOCK_HELD if unseen, else LOCK_RELEASED."},
    {"locked", (PyCFunction)mutex_locked, METH_NOARGS, "Whether the raw lock is taken."},
    {"_is_owned", (PyCFunction)mutex_is_owned, METH_NOARGS,
     "Whether the calling thread holds the lock (threading.Condition's hook)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef mutex_members[] = {
    {"name", T_OBJECT, offsetof(Mutex, name), READONLY, NULL},
    {"depth", T_LONG, offsetof(Mutex, depth), 0, NULL},
    {"_append", T_OBJECT, offsetof(Mutex, out.append), READONLY, NULL},
    {"_gate", T_OBJECT, offsetof(Mutex, gate.gate), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef mutex_getset[] = {
    {"owner", (getter)mutex_get_owner, (setter)mutex_set_owner,
     "The holder's thread ident, or None.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot mutex_slots[] = {
    {Py_tp_doc, "A raw lock with the traced ``with`` fast path (see traced.py)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, mutex_init},
    {Py_tp_dealloc, mutex_dealloc},
    {Py_tp_traverse, mutex_traverse},
    {Py_tp_clear, mutex_clear},
    {Py_tp_methods, mutex_methods},
    {Py_tp_members, mutex_members},
    {Py_tp_getset, mutex_getset},
    {0, NULL},
};

static PyType_Spec mutex_spec = {
    "visualizer.queues._speedups.Mutex",
    sizeof(Mutex),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    mutex_slots,
};

/* --- Sink: record(kind, subject, a=None, b=None) for task events ----------------------
 * With ``gate`` None it records unconditionally (a primitive's own events, whose
 * step points are elsewhere). */

typedef struct {
    PyObject_HEAD
    Appender out;
    GateRef gate;
    IdentCache idents;
    PyObject *slow;  /* the pure Python record: called whenever the gate is closed */
} Sink;

static int
sink_init(Sink *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"append", "gate", "slow", NULL};
    PyObject *append, *gate, *slow;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO", keywords, &append, &gate, &slow)) {
        return -1;
    }
    appender_init(&self->out, append);
    Py_INCREF(slow);
    Py_XSETREF(self->slow, slow);
    if (gate == Py_None) {
        return 0;  /* ungated: every call records (gate.gate stays NULL) */
    }
    return gate_ref_init(&self->gate, gate);
}

static int
sink_traverse(Sink *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->out.append);
    Py_VISIT(self->out.list);
    Py_VISIT(self->out.store);
    Py_VISIT(self->gate.gate);
    Py_VISIT(self->gate.dict);
    Py_VISIT(self->slow);
    return 0;
}

static int
sink_clear(Sink *self)
{
    Py_CLEAR(self->out.append);
    Py_CLEAR(self->out.list);
    Py_CLEAR(self->out.store);
    Py_CLEAR(self->gate.gate);
    Py_CLEAR(self->gate.dict);
    Py_CLEAR(self->idents.obj);
    Py_CLEAR(self->slow);
    return 0;
}

static void
sink_dealloc(Sink *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    sink_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyObject *
sink_record(Sink *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *me;
    int closed;
    if (nargs < 2 || nargs > 4) {
        PyErr_SetString(PyExc_TypeError, "record(kind, subject, a=None, b=None)");
        return NULL;
    }
    closed = self->gate.gate == NULL ? 0 : gate_closed(&self->gate);
    if (closed < 0) {
        return NULL;
    }
    if (closed) {
        return PyObject_Vectorcall(self->slow, args, (size_t)nargs, NULL);
    }
    me = ident_of(&self->idents, PyThread_get_thread_ident());
    if (me == NULL) {
        return NULL;
    }
    if (emit(&self->out, me, args[0], args[1], nargs > 2 ? args[2] : Py_None,
             nargs > 3 ? args[3] : Py_None, 0) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyMethodDef sink_methods[] = {
    {"record", (PyCFunction)(void (*)(void))sink_record, METH_FASTCALL,
     "record(kind, subject, a=None, b=None): append one event stamped now, by this thread."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot sink_slots[] = {
    {Py_tp_doc, "Where task events go: the recorder's append, past the gate."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, sink_init},
    {Py_tp_dealloc, sink_dealloc},
    {Py_tp_traverse, sink_traverse},
    {Py_tp_clear, sink_clear},
    {Py_tp_methods, sink_methods},
    {0, NULL},
};

static PyType_Spec sink_spec = {
    "visualizer.queues._speedups.Sink",
    sizeof(Sink),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    sink_slots,
};

/* --- the module ---------------------------------------------------------------------- */


/* --- folding finished tasks into two bits (visualizer/queues/finished.py) ---------- */

static PyObject *str_completed, *str_cancelled;

/* fold_finished(batch, statuses, bits, base) -> (completed, cancelled, lowest, rest)
 *
 * FinishedIds.fold's loop: for each id of the list ``batch`` whose status in
 * ``statuses`` is COMPLETED or CANCELLED (the very strings of visualizer.events)
 * and whose place in the bytearray ``bits`` (from id ``base`` on, four ids a byte)
 * already exists, set its two bits and delete it from ``statuses``.  An id with
 * no status or another status is dropped, as the Python loop drops it; an id
 * this fast path cannot place (not an int, outside the bits, a status string
 * that is equal but not the same object) goes to ``rest`` for the Python path.
 * Returns how many completed and cancelled ids were folded, the smallest id
 * folded (or None), and ``rest``.  No Python code runs in the loop (int keys),
 * so it is one step under the GIL, as the queue's lock would make it anyway. */
static PyObject *
fold_finished(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *batch, *statuses, *bits, *rest, *lowest_obj;
    long long base, lowest = 0, span;
    Py_ssize_t i, n, completed = 0, cancelled = 0;
    int have_lowest = 0;
    unsigned char *data;
    if (nargs != 4 || !PyList_CheckExact(args[0]) || !PyDict_CheckExact(args[1])
        || !PyByteArray_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "fold_finished(list, dict, bytearray, int)");
        return NULL;
    }
    batch = args[0];
    statuses = args[1];
    bits = args[2];
    base = PyLong_AsLongLong(args[3]);
    if (base == -1 && PyErr_Occurred()) {
        return NULL;
    }
    rest = PyList_New(0);
    if (rest == NULL) {
        return NULL;
    }
    data = (unsigned char *)PyByteArray_AS_STRING(bits);
    span = 4 * (long long)PyByteArray_GET_SIZE(bits);
    n = PyList_GET_SIZE(batch);
    for (i = 0; i < n; i++) {
        PyObject *id = PyList_GET_ITEM(batch, i);
        PyObject *status;
        long long value, offset;
        int overflow, code;
        status = PyDict_GetItemWithError(statuses, id);  /* borrowed */
        if (status == NULL) {
            if (PyErr_Occurred()) {
                goto fail;
            }
            continue;  /* no status: nothing to fold */
        }
        code = status == str_completed ? 1 : status == str_cancelled ? 2 : 0;
        if (code == 0 && !PyUnicode_CheckExact(status)) {
            continue;  /* not a status string: never terminal */
        }
        if (code == 0 || !PyLong_CheckExact(id)) {
            goto slow;
        }
        value = PyLong_AsLongLongAndOverflow(id, &overflow);
        if (overflow) {
            goto slow;
        }
        offset = value - base;
        if (offset < 0 || offset >= span) {
            goto slow;
        }
        data[offset >> 2] |= (unsigned char)(code << ((offset & 3) << 1));
        if (PyDict_DelItem(statuses, id) < 0) {
            goto fail;
        }
        if (code == 1) {
            completed++;
        }
        else {
            cancelled++;
        }
        if (!have_lowest || value < lowest) {
            lowest = value;
            have_lowest = 1;
        }
        continue;
    slow:
        if (PyList_Append(rest, id) < 0) {
            goto fail;
        }
    }
    if (have_lowest) {
        lowest_obj = PyLong_FromLongLong(lowest);
        if (lowest_obj == NULL) {
            goto fail;
        }
    }
    else {
        lowest_obj = Py_NewRef(Py_None);
    }
    return Py_BuildValue("nnNN", completed, cancelled, lowest_obj, rest);
fail:
    Py_DECREF(rest);
    return NULL;
}

static int
add_type(PyObject *module, PyType_Spec *spec, const char *name)
{
    PyObject *type = PyType_FromSpec(spec);
    if (type == NULL) {
        return -1;
    }
    if (PyModule_AddObject(module, name, type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

static int
speedups_exec(PyObject *module)
{
    PyObject *events, *time_module;
    str_closed = PyUnicode_InternFromString("closed");
    str_dict = PyUnicode_InternFromString("__dict__");
    str_acquire = PyUnicode_InternFromString("acquire");
    str_release = PyUnicode_InternFromString("release");
    str_blocked = PyUnicode_InternFromString("_blocked");
    str_wait_rest = PyUnicode_InternFromString("_wait_rest");
    if (str_closed == NULL || str_dict == NULL || str_acquire == NULL || str_release == NULL
        || str_blocked == NULL || str_wait_rest == NULL) {
        return -1;
    }
    /* The kinds and the mode come from visualizer.events: one vocabulary. */
    events = PyImport_ImportModule("visualizer.events");
    if (events == NULL) {
        return -1;
    }
    kind_acquired = PyObject_GetAttrString(events, "LOCK_ACQUIRED");
    kind_released = PyObject_GetAttrString(events, "LOCK_RELEASED");
    kind_held = PyObject_GetAttrString(events, "LOCK_HELD");
    kind_requested = PyObject_GetAttrString(events, "LOCK_REQUESTED");
    str_exclusive = PyObject_GetAttrString(events, "EXCLUSIVE");
    str_completed = PyObject_GetAttrString(events, "COMPLETED");
    str_cancelled = PyObject_GetAttrString(events, "CANCELLED");
    Py_DECREF(events);
    if (str_completed == NULL || str_cancelled == NULL) {
        return -1;
    }
    small_one = PyLong_FromLong(1);
    small_zero = PyLong_FromLong(0);
    if (kind_acquired == NULL || kind_released == NULL || kind_held == NULL
        || kind_requested == NULL || str_exclusive == NULL || small_one == NULL
        || small_zero == NULL) {
        return -1;
    }
    if (PyModule_AddObject(module, "WAIT_SLICE", PyFloat_FromDouble(WAIT_SLICE_S)) < 0) {
        return -1;
    }
    time_module = PyImport_ImportModule("time");
    if (time_module == NULL) {
        return -1;
    }
    perf_counter_ns = PyObject_GetAttrString(time_module, "perf_counter_ns");
    Py_DECREF(time_module);
    if (perf_counter_ns == NULL) {
        return -1;
    }
    {
        const char *no_tsc = getenv("QUEUE_VISUALIZER_NO_TSC");
        if (store_clock_init(now_raw, no_tsc == NULL || strcmp(no_tsc, "0") == 0) < 0) {
            return -1;
        }
    }
    if (add_type(module, &mutex_spec, "Mutex") < 0 || add_type(module, &sink_spec, "Sink") < 0
        || add_type(module, &store_spec, "Store") < 0) {
        return -1;
    }
    store_type = (PyTypeObject *)PyObject_GetAttrString(module, "Store");
    if (store_type == NULL) {
        return -1;
    }
    Py_DECREF(store_type);  /* the module keeps it */
    return 0;
}

/* new_tuple(cls, *items): an instance of ``cls`` (tuple or a subclass, such as the
 * Task NamedTuple) holding ``items``, as tuple.__new__(cls, items) makes it, without
 * the Python frame of a NamedTuple's own constructor: a task is made on every add. */
static PyObject *
new_tuple(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    PyTypeObject *type;
    PyObject *made;
    Py_ssize_t i;
    if (nargs < 1 || !PyType_Check(args[0])
        || !PyType_IsSubtype((PyTypeObject *)args[0], &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "new_tuple(cls, *items): cls a tuple type");
        return NULL;
    }
    type = (PyTypeObject *)args[0];
    made = type == &PyTuple_Type ? PyTuple_New(nargs - 1) : type->tp_alloc(type, nargs - 1);
    if (made == NULL) {
        return NULL;
    }
    for (i = 1; i < nargs; i++) {
        PyTuple_SET_ITEM(made, i - 1, Py_NewRef(args[i]));
    }
    return made;
}

static PyMethodDef speedups_functions[] = {
    {"new_tuple", (PyCFunction)(void (*)(void))new_tuple, METH_FASTCALL,
     "new_tuple(cls, *items): tuple.__new__(cls, items), without a Python frame."},
    {"publish_pending", publish_pending, METH_NOARGS,
     "Record the acquisition of every hold still pending (see _speedups.c), oldest first."},
    {"store_clock", store_clock, METH_NOARGS,
     "The clock a Store's records are stamped with, in words."},
    {"decode_block", store_decode_block, METH_O,
     "decode_block(block) -> (events, seqs): the events of a block Store.take_block wrote."},
    {"fold_finished", (PyCFunction)(void (*)(void))fold_finished, METH_FASTCALL,
     "Fold finished task ids into two bits each (see FinishedIds.fold)."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "visualizer.queues._speedups",
    "Optional C fast paths for traced locks and task events (see visualizer.queues.speedups).",
    0,
    speedups_functions,
    speedups_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
