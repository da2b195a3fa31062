"""Exports for the tools people already use: Chrome trace / Perfetto JSON, CSV.

Qt-free; plots are exported by the UI through pyqtgraph's own exporters.
"""

from visualizer.export.anomalies_csv import export_anomalies_csv
from visualizer.export.chrome_trace import build_trace
from visualizer.export.chrome_trace import export as export_chrome_trace

__all__ = ["build_trace", "export_anomalies_csv", "export_chrome_trace"]
