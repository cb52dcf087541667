"""brains sub-package of speechbrain_masksr."""
