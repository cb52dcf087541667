"""inference sub-package of speechbrain_masksr."""
