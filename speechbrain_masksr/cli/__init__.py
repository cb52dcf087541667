"""cli sub-package of speechbrain_masksr."""
