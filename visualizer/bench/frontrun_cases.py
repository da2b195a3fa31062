"""The bugs of ``bench --section explore`` as scripts for frontrun (``frontrun python S.py``).

Each case is the same code our side searches, written the way frontrun takes
it: a ``setup`` making fresh shared state, one function per thread, and an
invariant over the state when every thread is done.  The script prints one
JSON line: interleavings explored, whether the invariant held, and seconds.
The unsafe queue is :data:`UNSAFE_COPY`, a self-contained copy of
``visualizer/queues/unsafe.py`` (it imports nothing of ours), which our side
also loads as a user's queue file.
"""

from __future__ import annotations

UNSAFE_COPY = '''
import heapq


class UnsafeCopy:
    """visualizer/queues/unsafe.py, on its own: no lock, two read-then-write gaps."""

    def __init__(self):
        self.heap = []
        self.status = {}
        self.added = 0
        self.order = 0

    def gap(self):
        pass  # the moment between a read and the write that depends on it

    def add_task(self, task_id, priority, payload=None):
        added = self.added  # read ...
        self.gap()
        self.added = added + 1  # ... write
        self.status[task_id] = "queued"
        self.order += 1
        heapq.heappush(self.heap, (-priority, self.order, task_id))

    def get_next_task(self):
        if not self.heap:
            return None
        task_id = self.heap[0][2]  # look at the top ...
        self.gap()
        heapq.heappop(self.heap)  # ... pop whatever is on top now
        self.status[task_id] = "processing"
        return task_id

    def complete_task(self, task_id):
        self.status[task_id] = "completed"

    def __len__(self):
        return len(self.heap)
'''

LOCKED = """
import heapq
import threading


class LockedQueue:
    def __init__(self):
        self.lock = threading.Lock()
        self.heap = []
        self.order = 0

    def add_task(self, task_id, priority, payload=None):
        with self.lock:
            self.order += 1
            heapq.heappush(self.heap, (-priority, self.order, task_id))

    def get_next_task(self):
        with self.lock:
            return heapq.heappop(self.heap)[2] if self.heap else None
"""

_QUEUE_CASE = """
def setup():
    return {"q": QUEUE(), "got": []}

def adder(n):
    return lambda s: s["q"].add_task(n, n, None)

def getter(s):
    task = s["q"].get_next_task()
    if task is not None:
        s["got"].append(task)

WORKERS = [adder(1), adder(2), getter, getter]

def invariant(s):
    q = s["q"]
    counted = getattr(q, "added", 2) == 2
    return counted and len(s["got"]) == len(set(s["got"])) and len(s["got"]) + len(q.heap) == 2
"""

_LOST_UPDATE = """
class Counter:
    def __init__(self):
        self.counter = 0

def setup():
    return Counter()

def clerk(c):
    c.counter += 1

WORKERS = [clerk, clerk]

def invariant(c):
    return c.counter == 2
"""

_DOUBLE_DELIVERY = """
import heapq

class Desk:
    def __init__(self):
        self.heap = [(-9, 1), (-5, 2)]
        heapq.heapify(self.heap)
        self.got = []

def setup():
    return Desk()

def worker(d):
    task = d.heap[0][1]  # look ...
    heapq.heappop(d.heap)  # ... pop
    d.got.append(task)

WORKERS = [worker, worker]

def invariant(d):
    return len(d.got) == len(set(d.got))
"""

_CHECK_THEN_ACT = """
# The check-then-act scenario's order book, written frontrun's way: every call
# locked, the client checks in one call and cancels in another; 16 orders, 2
# workers, 6 cancels (resources/scenarios/check-then-act.toml).
import heapq, random, threading
QUEUED, PROCESSING, COMPLETED, CANCELLED = "queued", "processing", "completed", "cancelled"

class OrderBook:
    def __init__(self):
        self.lock = threading.Lock()
        rng = random.Random(3)
        self.heap = []
        self.status = {}
        self.wrong = []
        for order in range(1, 17):
            heapq.heappush(self.heap, (-rng.randrange(10), order))
            self.status[order] = QUEUED

    def status_of(self, order):
        with self.lock:
            return self.status[order]

    def set_status(self, order, status):
        with self.lock:
            before = self.status[order]
            self.status[order] = status
            legal = QUEUED if status == CANCELLED else PROCESSING
            if before != legal:
                self.wrong.append((order, before, status))

    def next_order(self):
        with self.lock:
            return self.heap[0][1] if self.heap else None

    def take(self):
        with self.lock:
            while self.heap:
                _, order = heapq.heappop(self.heap)
                if self.status[order] == QUEUED:
                    self.status[order] = PROCESSING
                    return order
            return None

def setup():
    return OrderBook()

def worker(b):
    while (order := b.take()) is not None:
        b.set_status(order, COMPLETED)

def client(b):
    for _ in range(6):
        order = b.next_order()
        if order is None:
            return
        if b.status_of(order) != QUEUED:  # check ...
            continue
        b.set_status(order, CANCELLED)  # ... act on a stale answer

WORKERS = [client, worker, worker]

def invariant(b):
    return not b.wrong
"""

_LOCK_ORDERING = """
import threading

class Accounts:
    def __init__(self):
        self.a = threading.Lock()
        self.b = threading.Lock()

def setup():
    return Accounts()

def one(s):
    with s.a:
        with s.b:
            pass

def other(s):
    with s.b:
        with s.a:
            pass

WORKERS = [one, other]

def invariant(s):
    return True
"""

_RUN = """
import json
import time

import frontrun

start = time.perf_counter()
cpu = time.process_time()
try:
    if STRATEGY == "random":
        EXTRA["seed"] = SEED  # frontrun takes a seed for its random search only
    result = frontrun.explore(
        setup=setup, workers=WORKERS, invariant=invariant, strategy=STRATEGY,
        total_timeout=TIMEOUT, deadlock_timeout=1.0, **EXTRA
    )
    answer = {"explored": result.num_explored, "holds": result.property_holds}
except Exception as exc:  # frontrun itself raised: report it, as the issue saw
    answer = {"explored": None, "holds": None, "error": f"{type(exc).__name__}: {exc}"}
answer["seconds"] = time.perf_counter() - start
answer["cpu_seconds"] = time.process_time() - cpu
print("FRONTRUN " + json.dumps(answer))
"""

CASES = {
    "unsafe copy": UNSAFE_COPY + "\nQUEUE = UnsafeCopy\n" + _QUEUE_CASE,
    "lost-update": _LOST_UPDATE,
    "double-delivery": _DOUBLE_DELIVERY,
    "check-then-act": _CHECK_THEN_ACT,
    "lock-ordering": _LOCK_ORDERING,
    "locked queue": LOCKED + "\nQUEUE = LockedQueue\n" + _QUEUE_CASE,
}


def script(case: str, strategy: str, seed: int, timeout: float, extra: str = "{}") -> str:
    """The whole script for ``case`` under frontrun's ``strategy`` ("random" or "dpor")."""
    head = f"STRATEGY = {strategy!r}\nSEED = {seed}\nTIMEOUT = {timeout}\nEXTRA = {extra}\n"
    return head + CASES[case] + _RUN
