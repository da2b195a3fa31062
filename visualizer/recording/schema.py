"""The event log format, version 2: what is on disk and how values map to it.

Why this format: a recorded run should outlive the program that made it, so the
log is plain text that any JSON reader can take apart (JSON Lines: one JSON value
per line, UTF-8, ``\\n`` line ends), optionally gzip-compressed (``.gz``; readers
detect it by its magic bytes, not by the name).

Lines, in order::

    line 1     header   {"format": "queue-visualizer-log", "version": 2, ...}
    lines 2..  events   [[seq, t_ns, thread, kind, subject, a, b], ...]
    last line  end      {"type": "end", "events": N, "dropped": D, "threads": {...}}

Header (a JSON object).  Required: ``format`` (exactly ``"queue-visualizer-log"``),
``version`` (integer, 2; version 1 logs read the same way), ``created`` (ISO 8601
time the recording began),
``strategy`` (the strategy's registry name), ``settings`` (the workload settings
as a plain JSON object: lists stay lists, nothing in it is decoded further) and
``threads`` (object: thread ident as a decimal string -> thread name, for threads
known when recording began).  Optional: ``scenario`` (object: ``name`` of the
teaching scenario the run was, ``fixed`` whether its fix was applied, ``params``
its program's parameters); without it the run was the strategy's workload.
Optional too: ``subject`` (object: what ran, as ``visualizer.stepping.Subject.to_data``
gives it: ``kind`` "strategy", "queue" or "scenario", ``label``, and ``workload`` or
``scenario``/``fixed``/``seed``) and ``schedule`` (the schedule text it followed,
e.g. ``"instruction/gil: worker-2*8 worker-1"``): together, a counterexample
``explore`` found, which the window runs again and steps.
Informative: ``generator``, ``fields``, ``clock``.  Readers ignore header keys
they do not know, so older readers read logs with ``scenario`` unchanged.

Event lines.  Each is a JSON array of up to :data:`CHUNK` events; each event is an
array of exactly seven fields:

=========  ==================================================================
seq        integer; strictly increasing through the file.  A gap of k means
           the recorder dropped k events there (the consumer fell behind);
           recording starts at seq 0, so a first seq of k counts the events
           dropped before the first one written.
t_ns       integer; ``time.perf_counter_ns()`` when it happened (arbitrary
           origin, only differences mean anything).
thread     integer; the thread ident (``threading.get_ident()``).
kind       string; the :class:`~visualizer.events.Kind` member *name*, e.g.
           ``"LOCK_ACQUIRED"``.  Names, not numbers, so the file reads well
           and survives a renumbering of the enum.
subject    the event's subject (lock name, task id, thread name, ...).
a, b       the kind's two values (see ``visualizer.events.KIND_FIELDS``).
=========  ==================================================================

Why several events per line: the writer shares the GIL with the run's threads,
so its per-event Python work is what recording costs the run.  Encoding a whole
chunk with one ``json`` call is about 2.5 times cheaper than one call per event.

Value mapping for ``subject``, ``a`` and ``b``:

==========================  ===========================  ====================
Python (writing)            JSON                         Python (reading)
==========================  ===========================  ====================
None                        null                         None
bool                        true / false                 bool
int                         integer                      int
float                       number with ``.`` or ``e``   float
str                         string                       str
tuple or list               array (same mapping inside)  tuple
dict                        (not allowed in events: written as an object, which
                            readers refuse; no event kind carries one)
anything else               string: its ``repr()``       str (lossy)
==========================  ===========================  ====================

Every array inside a field reads back as a tuple: the event kinds that carry
several values (the holders of a read-write lock, a gate's ``(file, line)``)
use tuples, and tuples keep events hashable.  JSON objects are not allowed in
events.  Non-finite floats are written as ``NaN`` / ``Infinity`` / ``-Infinity``
(as Python's ``json`` does), which strict JSON readers reject; the recorder's
events never hold one.

What some kinds promise about their fields (the model relies on it):

=============================================  ===================================
kinds                                          rule
=============================================  ===================================
``LOCK_*``, ``COND_*``                         subject (the lock) is a string
``THREAD_STARTED``, ``THREAD_ENDED``,          subject (the thread's name) is a
``THREAD_CPU``                                 string
``TASK_*``, ``HEAP_DISCARDED``                 subject (the task id) is an integer
                                               or a string
``TASK_ADDED``                                 ``a`` (the priority) is an integer
``LOCK_HELD`` (version 2)                      ``b`` (when the lock was taken) is
                                               an integer, on the events' clock
=============================================  ===================================

Limits.  A reader holds every log to these while it reads, so that no file,
however made, can cost more than a bounded amount of memory per event or make
the model track an unbounded number of locks or threads; a file over one is
refused with a message naming the limit.  Logs this program writes stay within
them (it shortens longer error messages before it records them).

==========================  ===========================================================
:data:`MAX_TEXT`            characters in any one string of an event (4096)
:data:`MAX_ITEMS`           values in the arrays of one field, nested ones included (256)
:data:`MAX_NESTING`         depth of arrays inside one field (8)
:data:`CHUNK`               events on one line (1024)
:data:`MAX_LINE_BYTES`      bytes on one line, the header included (8 MiB)
:data:`MAX_THREADS`         distinct thread idents in one log (4096)
:data:`MAX_LOCKS`           distinct lock and condition names in one log (10 000)
header, end line            their strings and thread tables keep to the same limits
integers                    every integer is a signed 64-bit one (``-2**63 .. 2**63-1``);
                            ``seq`` and ``thread`` are not negative
text                        valid Unicode: a lone UTF-16 surrogate (``"\\ud800"``) is refused
==========================  ===========================================================

There is no limit on the number of events: readers stream the file (the
command line keeps nothing per event; the window keeps about 20 bytes per event,
compressed, and refuses a log it estimates would not fit in memory).

End line (a JSON object): ``type`` is ``"end"``; ``events`` is the number of
events in the file; ``dropped`` the number of events the recorder dropped while
recording (including any before the first event written); ``threads`` maps
ident -> name for every thread the events mention, as far as the writer knew;
``ended`` is the ISO 8601 time recording stopped.  Optional: ``until_ns``, on
the events' clock, when the log was saved while the run still went on (the
recording reaches that far: a deadlock in it lasted at least until then).  A file
without its end line was cut short (the program stopped while recording).

Thread names: a reader starts from the header's ``threads``, adds the end line's,
and lets each ``THREAD_STARTED`` event (subject = name) name its own thread, in
stream order.  The OS may give an ended thread's ident to a thread started
later, so one ident can stand for two threads in a long run; a ``THREAD_STARTED``
marks where the ident changes hands, and a per-ident name table keeps the latest.
"""

from __future__ import annotations

from visualizer.events import MAX_TEXT as MAX_TEXT  # defined there: the engine keeps to it
from visualizer.events import Kind

FORMAT_TAG = "queue-visualizer-log"
VERSION = 2
"""2 added the ``LOCK_HELD`` kind (a whole uncontended hold in one event), which a
version 1 reader would refuse as unknown; everything else is as in version 1, so
this reader takes both."""
CHUNK = 1024
"""Most events on one line: bounds a line's size and what a cut-off line loses."""
MAX_NESTING = 8
"""Deepest arrays nest inside one field."""
MAX_ITEMS = 256
"""Most values the arrays of one field hold, nested ones included."""
MAX_LINE_BYTES = 8 << 20
"""Longest line: CHUNK events of a few kilobytes each, with room to spare."""
MAX_THREADS = 4096
"""Most distinct thread idents in one log (a run has at most 64 + 64 threads and a few more)."""
MAX_LOCKS = 10_000
"""Most distinct lock and condition names in one log (a run has a handful)."""
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
"""Integers anywhere in an event: what a C ``int64`` (Qt, numpy) can hold."""
SEQ_MAX = THREAD_MAX = TIME_MAX = INT_MAX
TIME_MIN = INT_MIN
FIELDS = ("seq", "t_ns", "thread", "kind", "subject", "a", "b")
CLOCK = "time.perf_counter_ns (arbitrary origin)"

KIND_NAMES: dict[int, str] = {int(kind): kind.name for kind in Kind}
KIND_BY_NAME: dict[str, int] = {kind.name: int(kind) for kind in Kind}

RULE_LOCK, RULE_THREAD, RULE_TASK, RULE_PRIORITY, RULE_HELD = 1, 2, 3, 4, 5
KIND_RULES: dict[str, int] = {
    **dict.fromkeys(
        (
            "LOCK_CREATED",
            "LOCK_REQUESTED",
            "LOCK_ACQUIRED",
            "LOCK_RELEASED",
            "LOCK_TIMED_OUT",
            "COND_WAIT",
            "COND_WOKEN",
            "COND_NOTIFY",
        ),
        RULE_LOCK,
    ),
    **dict.fromkeys(("THREAD_STARTED", "THREAD_ENDED", "THREAD_CPU"), RULE_THREAD),
    **dict.fromkeys(
        ("TASK_POPPED", "TASK_STARTED", "TASK_COMPLETED", "TASK_CANCELLED", "HEAP_DISCARDED"),
        RULE_TASK,
    ),
    "TASK_ADDED": RULE_PRIORITY,
    "LOCK_HELD": RULE_HELD,  # a lock's name, and ``b`` the time it was acquired (an integer)
}
"""Kind name -> the rule its fields follow (the table above); kinds not listed take any values."""


class LogError(Exception):
    """A file that is not a readable event log; ``reason`` says why, ``line`` where.

    One exception type for every kind of bad file, so a caller needs a single
    ``except`` to turn any of them into a dialog or an exit status.
    """

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(reason if line is None else f"line {line}: {reason}")


class LogCancelled(Exception):
    """Loading was stopped by the progress callback (not an error in the file)."""
