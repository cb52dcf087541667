"""utils sub-package of speechbrain_masksr: lengths, checkpoints, training."""
