"""Speech degradations for restoration training (MaskSR / VoiceFixer GSR).

Batched, seeded ``nn.Module`` distortions (noise, reverberation, clipping,
band-limiting, interfering speaker), the general speech restoration
pipeline that composes them, and simulated room impulse responses.

:class:`NoiseMixer` and :class:`RoomReverb` are named apart from
``speechbrain.augment``'s ``AddNoise`` and ``AddReverb``, which take other
arguments and set levels differently (here: SNR on active frames, RIR
direct path aligned and at unit gain).

Authors
 * speechbrain-masksr contributors 2026
"""

from speechbrain_masksr.augment.distortions import (
    FILTER_FAMILIES,
    BandLimit,
    Clip,
    Distortion,
    InterferingSpeaker,
    NoiseMixer,
    RoomReverb,
    lowpass,
)
from speechbrain_masksr.augment.levels import active_power, measure_snr
from speechbrain_masksr.augment.pipeline import (
    GSRPipeline,
    RandomApply,
    degrade,
)
from speechbrain_masksr.augment.rir import align_rir, simulate_rir

__all__ = [
    "FILTER_FAMILIES",
    "BandLimit",
    "Clip",
    "Distortion",
    "GSRPipeline",
    "InterferingSpeaker",
    "NoiseMixer",
    "RandomApply",
    "RoomReverb",
    "active_power",
    "align_rir",
    "degrade",
    "lowpass",
    "measure_snr",
    "simulate_rir",
]
