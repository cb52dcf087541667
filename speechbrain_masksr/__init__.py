"""speechbrain-masksr: masked modelling for audio restoration with SpeechBrain.

Sub-packages
------------
lobes      neural building blocks (Audio-MAE, speech encoder, masked codec LM)
codecs     the frozen Descript Audio Codec tokenizer
augment    distortions and the general speech restoration pipeline
data       mini corpus, token cache and data helpers shared by recipes
metrics    LSD, PESQ, ESTOI, SI-SDR, DNSMOS, speaker similarity
brains     SpeechBrain ``Brain`` subclasses used by the recipes
inference  ``Pretrained`` interfaces
cli        console scripts
"""

from pathlib import Path

__version__ = (Path(__file__).parent / "version.txt").read_text().strip()
