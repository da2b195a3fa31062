"""What went wrong with a run, in the status bar's red label and, on a click, in a dialog.

Two kinds of trouble: exceptions caught in run threads (the run goes on), and a
run process that crashed, was killed or could not start (the run is over; the
views keep what it recorded).  The label says which in a few words; its tooltip
and the dialog behind its "details" link give the whole story: the exit
status or signal, the last events received, and the crashing thread's stack.
"""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QMessageBox, QWidget

from visualizer.engine.host import RemoteRun
from visualizer.ui.theme import ALERT_COLOR

SHOWN_ERRORS = 20
DETAILS_LINK = "details"


def problems(run: RemoteRun | None) -> tuple[str, str]:
    """(label rich text, tooltip) for ``run``'s troubles; ("", "") when there are none."""
    if run is None:
        return "", ""
    parts, tips = [], []
    report = run.exit_report
    if report is not None:
        parts.append(f"\u26a0 run process {report.how}")
        tips.append(report.details())
    errors = run.errors
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        parts.append(f"\u26a0 {len(errors)} thread {noun}")
        shown = "\n".join(errors[:SHOWN_ERRORS])
        more = f"\n... and {len(errors) - SHOWN_ERRORS} more" if len(errors) > SHOWN_ERRORS else ""
        tips.append(f"Exceptions caught in run threads:\n{shown}{more}")
    if not parts:
        return "", ""
    color = ALERT_COLOR.name()
    link = f"<a href='{DETAILS_LINK}' style='color: {color};'>details</a>"
    return escape("  ".join(parts)) + f" ({link})", "\n\n".join(tips)


def show_details(parent: QWidget, run: RemoteRun | None) -> None:
    """The whole story in a dialog (its stack and events under "Show Details")."""
    if run is None:
        return
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    report = run.exit_report
    if report is not None:
        box.setWindowTitle(f"Run process {report.how}")
        box.setText(report.summary)
        box.setInformativeText("The views keep everything it recorded until then.")
        box.setDetailedText(report.details())
    else:
        box.setWindowTitle("Errors in run threads")
        box.setText(f"{len(run.errors)} exception(s) were caught in run threads.")
        box.setDetailedText("\n".join(run.errors))
    box.open()
