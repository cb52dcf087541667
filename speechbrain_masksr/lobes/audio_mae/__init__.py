"""Audio-MAE lobes (Huang et al., "Masked Autoencoders that Listen").

One module per concept; the public names are re-exported here, so
``speechbrain_masksr.lobes.audio_mae.AudioMAE`` and the other names below
keep working:

* :mod:`~speechbrain_masksr.lobes.audio_mae.fbank` -
  :class:`AudioMAEFbank`, ``AUDIOSET_MEAN`` / ``AUDIOSET_STD``.
* :mod:`~speechbrain_masksr.lobes.audio_mae.encoder` -
  :class:`AudioMAEEncoder`, :func:`vit_config`, ``VIT_CONFIGS``.
* :mod:`~speechbrain_masksr.lobes.audio_mae.decoder` -
  :class:`AudioMAEDecoder`.
* :mod:`~speechbrain_masksr.lobes.audio_mae.model` - :class:`AudioMAE`
  (pretraining and masked reconstruction), ``RECONSTRUCTION_STATS``.
* :mod:`~speechbrain_masksr.lobes.audio_mae.classifier` -
  :class:`AudioMAEClassifierModel` (fine-tuning).
* :mod:`~speechbrain_masksr.lobes.audio_mae.official` -
  :func:`official_to_ours`, :func:`ours_to_official`,
  :func:`load_official_state_dict`, ``OFFICIAL_KEY_MAP``.

The fine-tuning helpers (layer-wise lr decay groups, mixup, SpecAugment)
live on the training side, in
:mod:`speechbrain_masksr.brains.audiomae_training`.

Authors
 * speechbrain-masksr contributors 2026
"""

from speechbrain_masksr.lobes.audio_mae.classifier import (
    AudioMAEClassifierModel,
)
from speechbrain_masksr.lobes.audio_mae.decoder import AudioMAEDecoder
from speechbrain_masksr.lobes.audio_mae.encoder import (
    VIT_CONFIGS,
    AudioMAEEncoder,
    vit_config,
)
from speechbrain_masksr.lobes.audio_mae.fbank import (
    AUDIOSET_MEAN,
    AUDIOSET_STD,
    AudioMAEFbank,
)
from speechbrain_masksr.lobes.audio_mae.model import (
    RECONSTRUCTION_STATS,
    AudioMAE,
)
from speechbrain_masksr.lobes.audio_mae.official import (
    OFFICIAL_KEY_MAP,
    load_official_state_dict,
    official_to_ours,
    ours_to_official,
)

__all__ = [
    "AUDIOSET_MEAN",
    "AUDIOSET_STD",
    "AudioMAE",
    "AudioMAEClassifierModel",
    "AudioMAEDecoder",
    "AudioMAEEncoder",
    "AudioMAEFbank",
    "OFFICIAL_KEY_MAP",
    "RECONSTRUCTION_STATS",
    "VIT_CONFIGS",
    "load_official_state_dict",
    "official_to_ours",
    "ours_to_official",
    "vit_config",
]
