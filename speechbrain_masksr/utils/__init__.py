"""utils sub-package of speechbrain_masksr: lengths and checkpoints."""
