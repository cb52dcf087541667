"""lobes sub-package of speechbrain_masksr."""
