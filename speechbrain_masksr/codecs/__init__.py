"""codecs sub-package of speechbrain_masksr."""
