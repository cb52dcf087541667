"""SpeechBrain ``Pretrained`` interfaces of speechbrain_masksr.

``SpeechRestoration`` (MaskSR) is imported eagerly; the Audio-MAE interfaces
(``AudioMAEClassifier``, ``AudioMAEReconstruction``) and the MAE speech
enhancer (``MAEEnhancement``) are imported on first access from
:mod:`speechbrain_masksr.inference.audio_mae` and
:mod:`speechbrain_masksr.inference.enhancement`.

Authors
 * speechbrain-masksr contributors 2026
"""

import importlib

from speechbrain_masksr.inference.restoration import SpeechRestoration

_LAZY = {
    "AudioMAEClassifier": "speechbrain_masksr.inference.audio_mae",
    "AudioMAEReconstruction": "speechbrain_masksr.inference.audio_mae",
    "MAEEnhancement": "speechbrain_masksr.inference.enhancement",
}

__all__ = ["SpeechRestoration", *_LAZY]


def __getattr__(name):
    """Import the Audio-MAE and MAE-enhancer interfaces lazily.

    Arguments
    ---------
    name : str
        Attribute asked for.

    Returns
    -------
    object
        The class.

    Example
    -------
    >>> import speechbrain_masksr.inference as inference
    >>> inference.SpeechRestoration.__name__
    'SpeechRestoration'
    """
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
