"""queue-visualizer: watch a priority task queue under different locking strategies."""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS starts a thread per core at import that spins, taking CPU, for a
# while after every call into it (measured: 7 % of a core in the half second after
# importing numpy, an eighth of the samples of a bench run).  This program's arrays
# are small, and a spinning thread takes a core from the run it watches: one BLAS
# thread, unless the user asked otherwise.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
