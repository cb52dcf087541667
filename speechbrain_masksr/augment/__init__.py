"""augment sub-package of speechbrain_masksr."""
