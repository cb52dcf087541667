"""Audio-MAE lobes (Huang et al., "Masked Autoencoders that Listen").

Authors
 * speechbrain-masksr contributors 2026
"""

from speechbrain_masksr.lobes.audio_mae.model import *  # noqa: F401,F403
from speechbrain_masksr.lobes.audio_mae.model import __all__  # noqa: F401
