"""utils sub-package of speechbrain_masksr: lengths, checkpoints, training,
files and long-audio windowing. Low level: of the package, it imports only
``errors``."""
