"""Views given what a hostile log can make (thousands of threads and locks, a deadlock
around all of them, a detail thousands of words long) stay quick and readable; each of
these hung the window for minutes under the fuzz (issue 14)."""

from __future__ import annotations

from visualizer.events import LOCK_ACQUIRED, LOCK_REQUESTED, THREAD_STARTED, Batch
from visualizer.model import RunModel
from visualizer.ui.views import AnomaliesView, LanesView, LocksView
from visualizer.ui.views.locks_view import CYCLE_NAMED, GRAPH_NODES, graph_state
from visualizer.ui.views.timeline_widget import MAX_ROWS

THREADS = 600


def ring_of_waits(n: int = THREADS) -> RunModel:
    """Thread i holds lock i and waits for lock i+1: one deadlock around all of them."""
    events = [(i, 1000 + i, THREAD_STARTED, f"t{i}", "worker", None) for i in range(n)]
    events += [(n + i, 1000 + i, LOCK_ACQUIRED, f"l{i}", "x", 1) for i in range(n)]
    events += [
        (2 * n + i, 1000 + i, LOCK_REQUESTED, f"l{(i + 1) % n}", "x", None) for i in range(n)
    ]
    model = RunModel()
    model.apply(Batch(0, events, 0))
    return model


def test_the_wait_for_graph_draws_a_readable_part_and_says_so():
    model = ring_of_waits()
    state = graph_state(model)
    assert len(state.threads) <= GRAPH_NODES and len(state.locks) <= GRAPH_NODES
    assert (
        state.note
        == f"showing {GRAPH_NODES} of {THREADS} threads and {GRAPH_NODES} of {THREADS} locks"
    )
    assert state.cycle_text.startswith("DEADLOCK: t")
    assert state.cycle_text.endswith(f"({THREADS} threads)")
    assert state.cycle_text.count("\u2192") == 2 * CYCLE_NAMED
    drawn = {ident for ident, _name, _color in state.threads}
    assert all(ident in drawn for ident, _lock in state.waits)


def test_the_deadlock_report_names_a_few_threads_and_counts_the_rest():
    model = ring_of_waits()
    [deadlock] = model.anomalies
    assert len(deadlock.threads) == 12 and f"and {THREADS - 12} more threads" in deadlock.detail


def test_views_refresh_and_paint_a_model_with_hundreds_of_threads(qtbot):
    model = ring_of_waits()
    views = [LocksView(), LanesView(), AnomaliesView()]
    for view in views:
        qtbot.addWidget(view)
        view.resize(900, 600)
        view.show()
        view.set_model(model)
        view.refresh()
        view.grab()  # paints every part, as on screen
    timeline = views[1].timeline
    # At most MAX_ROWS rows, each a name high: not 600 rows a tenth of a pixel high.
    assert len(timeline._rows) == MAX_ROWS < THREADS


def test_a_very_long_detail_is_cut_at_a_word_under_the_table(qtbot):
    """A log may carry a violation whose detail runs to thousands of characters."""
    from visualizer.events import VIOLATION
    from visualizer.ui.views.anomalies_view import DETAIL_CHARS

    view = AnomaliesView()
    qtbot.addWidget(view)
    view.resize(700, 400)
    view.show()
    detail = " ".join(f"word{i}" for i in range(800))  # about 6,000 characters
    model = RunModel()
    model.apply(Batch(0, [(0, 1000, THREAD_STARTED, "t0", "worker", None)], 0))
    model.apply(Batch(1, [(1, 1000, VIOLATION, "worker-error", 5, detail)], 0))
    view.set_model(model)
    view.refresh()
    [violation] = model.anomalies
    text = view.detail.text()
    assert text.endswith(" \u2026") and len(text) < DETAIL_CHARS + 100 < len(violation.detail)
    assert text[:-2].rsplit(" ", 1)[-1].startswith("word")  # cut between words
    assert view.detail.toolTip() == violation.detail
