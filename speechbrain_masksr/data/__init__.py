"""data sub-package of speechbrain_masksr."""
