"""``queue-visualizer``: open the window (and, for screenshots and demos, drive it).

    queue-visualizer [--strategy NAME | --scenario NAME [--fixed]] [--run [--paused]]
                     [--screenshot out.png] [--quit-after SECONDS]
                     [--producers N] [--workers N] [--tasks N] [--rate R] ...
                     [--engine-python PATH] [--fresh]
    queue-visualizer --install-desktop-entry | --uninstall-desktop-entry

Arguments are checked before Qt starts, so a typo costs a one-line error and exit
status 2, not a window that opens and then complains; so is a desktop lacking a
library Qt needs on X11 (:mod:`visualizer.ui.platform_check`), which would
otherwise end in Qt's abort.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from visualizer import __version__
from visualizer.desktop import APP_ID
from visualizer.engine import Workload
from visualizer.engine.lessons import lesson_workload
from visualizer.engine.options import (
    Parser,
    add_workload_options,
    option_message,
    workload_changes,
)
from visualizer.queues import STRATEGIES

if TYPE_CHECKING:
    from visualizer.ui.latency import LatencyProbe
    from visualizer.ui.main_window import MainWindow

PROG = "queue-visualizer"
DEFAULT_SCREENSHOT_DELAY_S = 3.0

FULL_COLLECTION_THRESHOLD = 1_000
"""Gen-1 collections between full ones (CPython's default is 10); see main()."""


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog=PROG, description="Watch a priority task queue under concurrency, live.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--strategy",
        choices=sorted(STRATEGIES),
        metavar="NAME",
        help=f"locking strategy: {', '.join(STRATEGIES)}",
    )
    parser.add_argument(
        "--queue",
        metavar="PATH.py:CLASS",
        help="your own queue class, checked and offered in the strategy list (File > Open Queue)",
    )
    parser.add_argument(
        "--run", action="store_true", help="start the run as soon as the window opens"
    )
    parser.add_argument(
        "--scenario",
        metavar="NAME",
        help="open a teaching scenario (python -m visualizer scenarios lists them)",
    )
    parser.add_argument("--fixed", action="store_true", help="with --scenario: apply the fix")
    parser.add_argument(
        "--schedule",
        metavar="TEXT",
        help="with --scenario: replay this schedule under the scheduler and stay paused there "
        "(e.g. 'instruction/free: clerk-2*9 clerk-1')",
    )
    parser.add_argument(
        "--show-bug",
        action="store_true",
        help="with --scenario (or --open of a counterexample): play the bug and pause at it",
    )
    parser.add_argument(
        "--open",
        metavar="LOG",
        help="open a recording (a counterexample from explore --save opens paused at its start)",
    )
    parser.add_argument(
        "--presentation",
        action="store_true",
        help="open in presentation mode (View > Presentation, F11): the views alone, larger",
    )
    parser.add_argument(
        "--paused",
        action="store_true",
        help="with --run: start paused, every thread at its first traced point (as Step does)",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PNG",
        help="save a picture of the window just before quitting "
        f"(quits after {DEFAULT_SCREENSHOT_DELAY_S:g} s unless --quit-after says otherwise)",
    )
    parser.add_argument(
        "--quit-after", type=_positive, metavar="SECONDS", help="close the window after SECONDS"
    )
    parser.add_argument(
        "--measure-latency",
        action="store_true",
        help="with --quit-after: print the GUI event loop's latency (p50/p99), the events/s "
        "folded into the views and the events dropped, measured while the run goes",
    )
    parser.add_argument(
        "--engine-python",
        metavar="PATH",
        help="the Python that runs the threads (each run goes in a process of its own; "
        "CPython 3.11 or newer, a free-threaded build too; it needs no Qt): for this "
        "session, over the one chosen in Run > Engine Interpreter",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="ignore the saved layout and settings, and save none (implied by --screenshot "
        "and --measure-latency: their results must not depend on the last session)",
    )
    parser.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add Queue Visualizer to your desktop's application menu (under "
        "$XDG_DATA_HOME, no root needed), print the files written, and exit",
    )
    parser.add_argument(
        "--uninstall-desktop-entry",
        action="store_true",
        help="remove every file --install-desktop-entry wrote (run it before "
        "pip uninstall), print them, and exit",
    )
    parser.add_argument(
        "--measure-start",
        type=int,
        metavar="N",
        help="click Start N times (each run stopped at its first events) and print the "
        "time from the click to the first events in the views, then quit (bench process)",
    )
    parser.add_argument(
        "--print-paint-time",
        action="store_true",
        help="print the wall-clock time of the window's first paint and quit (bench startup)",
    )
    add_workload_options(parser)
    return parser


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Workload]:
    """Parse and validate; exits with status 2 and one line on any bad argument."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = _given(args)
    # The window opens on the strategy's lesson workload; options given change it.
    workload = lesson_workload(given.get("strategy", Workload().strategy)).replace(**given)
    try:
        workload.validate()
    except ValueError as exc:
        parser.error(option_message(exc))
    if args.measure_latency and args.quit_after is None:
        parser.error("--measure-latency: needs --quit-after (the time to measure over)")
    if args.scenario is not None:
        from visualizer.engine.scenarios import ScenarioError, load_scenario

        try:
            load_scenario(args.scenario)
        except ScenarioError as exc:
            parser.error(f"--scenario: {exc}")
    elif args.fixed or args.schedule or (args.show_bug and args.open is None):
        flag = "--fixed" if args.fixed else "--schedule" if args.schedule else "--show-bug"
        parser.error(f"{flag}: only with --scenario NAME")
    if args.schedule is not None:
        from visualizer.engine.scheduler import Schedule, ScheduleError

        try:
            args.schedule = Schedule.parse(args.schedule)
        except ScheduleError as exc:
            parser.error(f"--schedule: {exc}")
    if args.queue is not None:
        from visualizer.engine.userqueue import QueueRef, UserQueueError

        try:
            QueueRef.parse(args.queue)
        except UserQueueError as exc:
            parser.error(f"--queue: {exc}")
        if args.scenario is not None:
            parser.error("--queue: not together with --scenario")
    if args.paused and not args.run:
        parser.error("--paused: only with --run")
    if args.install_desktop_entry and args.uninstall_desktop_entry:
        parser.error("--install-desktop-entry: not together with --uninstall-desktop-entry")
    if args.measure_start is not None and (args.run or args.measure_start < 1):
        parser.error("--measure-start: a positive number of starts, without --run")
    if args.screenshot and args.quit_after is None:
        args.quit_after = DEFAULT_SCREENSHOT_DELAY_S
    if args.engine_python is not None:
        from visualizer.engine.host import check_interpreter

        try:
            check_interpreter(args.engine_python)
        except ValueError as exc:
            parser.error(f"--engine-python: {exc}")
    return args, workload


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window; return the process exit status (2 for bad arguments)."""
    try:
        args, workload = parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad argument already reported
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.install_desktop_entry:
        return _install_desktop_entry()
    if args.uninstall_desktop_entry:
        return _uninstall_desktop_entry()

    # Qt is imported only now: --help and argument errors stay fast and need no display.
    from visualizer.ui.platform_check import missing_xcb_library

    problem = missing_xcb_library()
    if problem is not None:
        print(f"{PROG}: error: {problem}", file=sys.stderr)
        return 2

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from visualizer.ui.errors import ErrorReporter
    from visualizer.ui.icon import app_icon
    from visualizer.ui.latency import LatencyProbe
    from visualizer.ui.layouts import fit_to_screen
    from visualizer.ui.main_window import MainWindow
    from visualizer.ui.settings import (
        ORGANIZATION,
        open_settings,
        saved_engine_python,
        saved_workload,
        saved_workloads,
    )
    from visualizer.ui.signals import SignalWatcher

    # instance() is typed as the QCoreApplication base; here it can only be a QApplication.
    app = cast(QApplication, QApplication.instance()) or QApplication(qt_argv())
    # Ctrl-C or kill close the window like its close button (run stopped, layout saved),
    # from the first moment: signals that come while it is being built wait in a socket.
    signals = SignalWatcher()
    interrupted: list[int] = []
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName("Queue Visualizer")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # the Wayland app id: the desktop entry's name
    app.setWindowIcon(app_icon())

    # Screenshots (README images), measurements and --fresh runs must be reproducible:
    # they show the defaults whatever the last session left, and save nothing.
    measuring = (
        args.screenshot or args.measure_latency or args.print_paint_time or args.measure_start
    )
    settings = None if args.fresh or measuring else open_settings()
    remembered: dict[str, Workload] = {}
    if settings is not None:
        # Saved panel values first (the strategy shown last, and each strategy's own
        # workload), then whatever the command line says on top.
        given = _given(args)
        remembered = saved_workloads(settings)
        current = saved_workload(settings, lesson_workload(Workload().strategy))
        strategy = given.get("strategy", current.strategy)
        base = remembered.get(strategy) or (
            current if current.strategy == strategy else lesson_workload(strategy)
        )
        restored = base.replace(**given)
        workload = restored if _valid(restored) else workload

    engine_python = args.engine_python
    engine_note = ""
    if engine_python is None and settings is not None:
        engine_python, engine_note = saved_engine_python(settings)

    reporter = ErrorReporter()
    reporter.install()
    window = MainWindow(workload, engine_python=engine_python)
    window.controls.set_workloads({k: w for k, w in remembered.items() if k != workload.strategy})
    window.window_settings.settings = settings
    window.window_settings.restore()
    reporter.set_parent_widget(window)
    reporter.reported.connect(window.show_error)
    # Everything built so far (Qt wrappers, pyqtgraph, numpy) lives as long as the app.
    # Freezing it keeps the cyclic GC's full collections, which stop the GUI thread,
    # from rescanning those objects every time during a flat-out run.
    gc.collect()
    gc.freeze()
    # A full collection still walks every object made since (the model's tables, the
    # queue's tasks) and stalls the GUI thread for 30-200 ms mid-run; young garbage
    # is what matters here, and gens 0 and 1 still collect that. Measured with
    # --measure-latency, flat out: p99 about 150 ms before, 60-85 ms after.
    gen0, gen1, _gen2 = gc.get_threshold()
    gc.set_threshold(gen0, gen1, FULL_COLLECTION_THRESHOLD)
    app.aboutToQuit.connect(window.shutdown)

    def quit_on_signal(number: int) -> None:
        interrupted.append(number)
        window.close()
        app.quit()

    signals.received.connect(quit_on_signal)
    # 1280x800 where the screen has room, else the screen: a 1024x768 projector gets
    # a window that fits it (screenshots too: they show what that screen shows).
    fit_to_screen(window)
    window.show()
    fit_to_screen(window)  # once more with the window manager's frame known
    if args.presentation:
        window.presentation.set_active(True)

    if engine_note:
        window.statusBar().showMessage(engine_note, 15_000)
    # The first run's process starts now, while the user looks at the window.
    QTimer.singleShot(0, window.launcher.prepare)
    if args.print_paint_time:
        from visualizer.ui.startup import FirstPaint

        FirstPaint(window)
    probe = LatencyProbe(window)
    if args.measure_latency:
        probe.start()
    window.queue_files.restore(settings)
    if args.queue is not None and not window.queue_files.open(args.queue):
        args.run = False  # the message box said why; nothing to run
    if args.scenario is not None:
        window.scenarios.select(args.scenario, fixed=args.fixed)
        stepping = window.scenarios.stepping
        if args.schedule is not None:
            QTimer.singleShot(0, lambda: stepping.replay(args.schedule))
        elif args.show_bug:
            QTimer.singleShot(0, lambda: stepping.show(bug=True))
    if args.open is not None:
        opened = window.file_actions.open_recording(args.open)
        if opened is not None and args.show_bug:
            stepping = window.scenarios.stepping
            opened.succeeded.connect(lambda _replay: QTimer.singleShot(0, stepping.show))
    if args.run:
        QTimer.singleShot(0, lambda: window.start_run(paused=args.paused))
    messages: list[str] = []
    if args.measure_start:
        from visualizer.ui.start_probe import StartProbe, start_report

        def measured(samples: list[float]) -> None:
            messages.append(start_report(samples))
            window.close()
            app.quit()

        StartProbe(window, args.measure_start, measured).begin()
    failures: list[str] = []
    if args.quit_after is not None:

        def finish() -> None:
            if args.measure_latency:
                # Measured now, while the run goes: closing stops it, which is not the point.
                messages.append(_latency_report(probe, window))
            if args.screenshot and not window.grab().save(args.screenshot):
                failures.append(f"{PROG}: error: could not write {args.screenshot}")
            window.close()
            app.quit()

        QTimer.singleShot(int(args.quit_after * 1000), finish)

    try:
        status = app.exec()
    finally:
        reporter.uninstall()
        signals.uninstall()
    for message in messages:
        print(message)
    for failure in failures:
        print(failure, file=sys.stderr)
    if interrupted:
        return 128 + interrupted[0]  # the shell's convention for "ended by signal N"
    return 1 if failures and not status else status


def qt_argv() -> list[str]:
    """The application's arguments for Qt: the X11 window class is always :data:`APP_ID`.

    Qt takes the window's ``WM_CLASS`` instance from ``-name``, else from the
    program's file name, which is ``__main__.py`` under ``python -m visualizer``;
    desktops match it against the entry's ``StartupWMClass`` (and its file name)
    to group the window under the entry's icon, however the program was started.
    """
    return [sys.argv[0] if sys.argv and sys.argv[0] else PROG, "-name", APP_ID]


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The workload fields the command line set explicitly (they beat saved settings)."""
    given = workload_changes(args)
    if args.strategy is not None:
        given["strategy"] = args.strategy
    return given


def _valid(workload: Workload) -> bool:
    try:
        workload.validate()
    except ValueError:
        return False
    return True


def _install_desktop_entry() -> int:
    """``--install-desktop-entry``: write the menu entry and icons, say where, open nothing."""
    from visualizer.desktop import install_desktop_entry

    try:
        written = install_desktop_entry()
    except OSError as exc:
        print(f"{PROG}: error: could not install the desktop entry: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    print(f"Installed: Queue Visualizer is in your application menu ({len(written)} files).")
    return 0


def _uninstall_desktop_entry() -> int:
    """``--uninstall-desktop-entry``: remove what the install wrote, say what, open nothing."""
    from visualizer.desktop import uninstall_desktop_entry

    try:
        removed = uninstall_desktop_entry()
    except OSError as exc:
        print(f"{PROG}: error: could not remove the desktop entry: {exc}", file=sys.stderr)
        return 1
    for path in removed:
        print(path)
    if removed:
        print(f"Removed: Queue Visualizer has left your application menu ({len(removed)} files).")
    else:
        print("Nothing to remove: no desktop entry of Queue Visualizer is installed.")
    return 0


def _latency_report(probe: LatencyProbe, window: MainWindow) -> str:
    """One line: timer lateness percentiles, events folded per second, events dropped, CPU.

    CPU is this process's (folding and painting) and the run process's (the run),
    each over the whole session: the bench sets events against them.
    """
    probe.stop()
    run, model = window.run, window.model
    seconds = run.elapsed() if run is not None else 0.0
    events = model.events_applied if model is not None else 0
    dropped = model.dropped if model is not None else 0
    completed = model.tasks.counts()["completed"] if model is not None else 0
    run_cpu = 0.0
    if run is not None:
        try:
            run_cpu = float(run.call("cpu", timeout=2.0))
        except (RuntimeError, TimeoutError):
            run_cpu = float("nan")
    return (
        f"GUI event-loop latency: p50 {probe.percentile_ms(0.5):.1f} ms, "
        f"p99 {probe.percentile_ms(0.99):.1f} ms over {len(probe.lateness_s)} ticks; "
        f"folded {events:,} events in {seconds:.1f} s "
        f"({events / seconds if seconds else 0:,.0f}/s); dropped {dropped:,}; "
        f"completed {completed:,} tasks; "
        f"CPU window {time.process_time():.2f} s, run process {run_cpu:.2f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
