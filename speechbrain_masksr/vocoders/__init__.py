"""Neural vocoders: mel spectrogram -> waveform (HiFi-GAN, Griffin-Lim).

Authors
 * speechbrain-masksr contributors 2026
"""

from speechbrain_masksr.vocoders.hifigan import (
    GriffinLim,
    Vocoder,
    bundled_weights,
    hifigan_v1,
    load_hifigan_weights,
    load_vocoder,
    official_to_speechbrain,
    speechbrain_vocoder,
)

__all__ = [
    "GriffinLim",
    "Vocoder",
    "bundled_weights",
    "hifigan_v1",
    "load_hifigan_weights",
    "load_vocoder",
    "official_to_speechbrain",
    "speechbrain_vocoder",
]
