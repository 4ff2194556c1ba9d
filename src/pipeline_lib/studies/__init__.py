"""One study per paper (the tabular study serves the DA and Magnitude papers).  Layer rule: a study imports
``core``, ``sampling``, ``render``, ``runtime`` and itself, never another study; what two studies share
moves down into ``core`` (or ``render``)."""
