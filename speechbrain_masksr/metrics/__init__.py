"""metrics sub-package of speechbrain_masksr."""
