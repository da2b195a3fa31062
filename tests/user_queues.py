"""Queue classes written as a student or an engineer would, for the bring-your-own-queue tests.

Each is source text: a test writes it to a file of its own (``write``) and loads
it by path, as a user would with ``--queue PATH.py:ClassName``.  None imports
this package.
"""

from __future__ import annotations

from pathlib import Path

UNLOCKED = """
import heapq


class UnlockedQueue:
    def __init__(self):
        self._heap = []
        self.size = 0

    def add_task(self, task_id, priority, payload=None):
        heapq.heappush(self._heap, (-priority, task_id))
        self.size += 1

    def get_next_task(self):
        if not self._heap:
            return None
        _, task_id = heapq.heappop(self._heap)
        self.size -= 1
        return task_id

    def __len__(self):
        return self.size
"""

ONE_LOCK = """
import heapq
import threading


class LockedQueue:
    def __init__(self):
        self._lock = threading.Lock()
        self._heap = []
        self._status = {}

    def add_task(self, task_id, priority, payload=None):
        with self._lock:
            heapq.heappush(self._heap, (-priority, task_id))
            self._status[task_id] = "queued"

    def get_next_task(self):
        with self._lock:
            if not self._heap:
                return None
            _, task_id = heapq.heappop(self._heap)
            self._status[task_id] = "processing"
            return {"id": task_id}

    def complete_task(self, task_id):
        with self._lock:
            self._status[task_id] = "completed"

    def get_status(self, task_id):
        with self._lock:
            return self._status.get(task_id)

    def __len__(self):
        with self._lock:
            return len(self._heap)
"""

CONDITION = """
import heapq
import time
from threading import Condition, Lock


class Task:
    def __init__(self, task_id, priority):
        self.task_id = task_id
        self.priority = priority


class BlockingQueue:
    def __init__(self):
        self._lock = Lock()
        self._not_empty = Condition(self._lock)
        self._heap = []
        self._count = 0

    def add_task(self, task_id, priority, payload=None):
        with self._lock:
            heapq.heappush(self._heap, (-priority, self._count, Task(task_id, priority)))
            self._count += 1
            self._not_empty.notify()

    def get_next_task(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self._heap:
                if deadline is None:
                    self._not_empty.wait()
                else:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return None
                    self._not_empty.wait(remaining)
            return heapq.heappop(self._heap)[2]
"""

PRIORITY_QUEUE = """
import queue
import threading


class StdlibQueue:
    def __init__(self):
        self._pq = queue.PriorityQueue()
        self._table = threading.Lock()
        self._status = {}

    def add_task(self, task_id, priority, payload=None):
        with self._table:
            self._status[task_id] = "queued"
        self._pq.put((-priority, task_id))

    def get_next_task(self, timeout=None):
        try:
            _, task_id = self._pq.get(timeout=timeout)
        except queue.Empty:
            return None
        with self._table:
            self._status[task_id] = "processing"
        return task_id

    def complete_task(self, task_id):
        with self._table:
            self._status[task_id] = "completed"

    def __len__(self):
        return self._pq.qsize()
"""

SORTED_LIST = """
import bisect
import threading


class SortedQueue:
    def __init__(self):
        self._lock = threading.Lock()
        self._items = []  # kept sorted, not a heap

    def add_task(self, task_id, priority, payload=None):
        with self._lock:
            bisect.insort(self._items, (-priority, task_id))

    def get_next_task(self):
        with self._lock:
            return self._items.pop(0)[1] if self._items else None
"""

COMPLETE = '''
import heapq
import threading


class CompleteQueue:
    """RLock + Condition: blocking get with timeout, cancel, shutdown."""

    def __init__(self):
        self._lock = threading.RLock()
        self._not_empty = threading.Condition(self._lock)
        self._heap = []
        self._status = {}
        self._closed = False

    def add_task(self, task_id, priority, payload=None):
        with self._lock:
            if self._closed:
                raise RuntimeError("shut down")
            heapq.heappush(self._heap, (-priority, task_id))
            self._status[task_id] = "queued"
            self._not_empty.notify()

    def get_next_task(self, timeout=None):
        with self._lock:
            while True:
                while self._heap:
                    _, task_id = heapq.heappop(self._heap)
                    if self._status[task_id] == "cancelled":
                        continue
                    self._status[task_id] = "processing"
                    return task_id
                if self._closed or not self._not_empty.wait(timeout):
                    return None

    def complete_task(self, task_id):
        with self._lock:
            if self.get_status(task_id) != "processing":
                raise ValueError(f"task {task_id} is not processing")
            self._status[task_id] = "completed"

    def cancel_task(self, task_id):
        with self._lock:
            if self._status.get(task_id) != "queued":
                return False
            self._status[task_id] = "cancelled"
            return True

    def get_status(self, task_id):
        with self._lock:
            return self._status.get(task_id)

    def shutdown(self):
        with self._lock:
            self._closed = True
            self._not_empty.notify_all()

    def __len__(self):
        with self._lock:
            return sum(1 for s in self._status.values() if s == "queued")
'''

HOMEWORK = '''
import heapq
import threading


class HomeworkQueue:
    """Peek at the top, check its status, set it, then pop: each step under the lock alone."""

    def __init__(self):
        self._lock = threading.Lock()
        self._heap = []
        self._status = {}

    def add_task(self, task_id, priority, payload=None):
        with self._lock:
            heapq.heappush(self._heap, (-priority, task_id))
            self._status[task_id] = "queued"

    def get_next_task(self):
        with self._lock:
            if not self._heap:
                return None
            task_id = self._heap[0][1]
        if self.get_status(task_id) != "queued":
            return None
        with self._lock:
            self._status[task_id] = "processing"
        with self._lock:
            heapq.heappop(self._heap)
        return task_id

    def get_status(self, task_id):
        with self._lock:
            return self._status.get(task_id)

    def complete_task(self, task_id):
        with self._lock:
            self._status[task_id] = "completed"
'''

ABBA = '''
import threading


class TwoLockQueue:
    """Adds take the heap lock then the table lock; gets take them the other way round."""

    def __init__(self):
        self._heap_lock = threading.Lock()
        self._table_lock = threading.Lock()
        self._items = []

    def add_task(self, task_id, priority, payload=None):
        with self._heap_lock:
            with self._table_lock:
                self._items.append(task_id)

    def get_next_task(self):
        with self._table_lock:
            with self._heap_lock:
                return self._items.pop(0) if self._items else None
'''

FOREVER = """
class Forever:
    def add_task(self, task_id, priority, payload=None):
        while True:
            pass

    def get_next_task(self):
        return None
"""

BROKEN = {
    "syntax.py": ("class Q:\n    def add_task(self, task_id, priority payload):\n", "Q"),
    "noclass.py": ("class Other:\n    pass\n", "Q"),
    "noget.py": (
        "class Q:\n    def add_task(self, task_id, priority, payload=None):\n        pass\n",
        "Q",
    ),
    "noadd.py": (
        "class Q:\n    def get_next_task(self):\n        return None\n",
        "Q",
    ),
    "needs.py": (
        "class Q:\n    def __init__(self, size):\n        pass\n"
        "    def add_task(self, t, p, x=None):\n        pass\n"
        "    def get_next_task(self):\n        return None\n",
        "Q",
    ),
    "addraises.py": (
        "class Q:\n    def add_task(self, t, p, x=None):\n        raise KeyError(t)\n"
        "    def get_next_task(self):\n        return None\n",
        "Q",
    ),
    "wrongget.py": (
        "class Q:\n    def __init__(self):\n        self.items = []\n"
        "    def add_task(self, t, p, x=None):\n        self.items.append((p, t))\n"
        "    def get_next_task(self):\n        return self.items.pop() if self.items else None\n",
        "Q",
    ),
}


def write(folder: Path, name: str, text: str, cls: str) -> str:
    """Write ``text`` to ``folder/name``; the ``PATH.py:ClassName`` that loads it."""
    path = folder / name
    path.write_text(text)
    return f"{path}:{cls}"
