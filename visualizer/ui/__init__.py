"""The Qt user interface: the only package that imports PySide6 or pyqtgraph.

``app.main`` opens the window; ``main_window.MainWindow`` composes the engine, the
model and the views; ``bridge.RecorderBridge`` carries events from run threads to
the GUI thread in batches; ``controls.ControlPanel`` edits the workload.
"""
