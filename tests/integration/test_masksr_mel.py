"""MaskSR over the mel codec built here: a model folder that loads and runs.

The folder is written by ``write_model_folder`` from a mel codec file (the
``masksr_mel.yaml`` template: 22.05 kHz, hop 256, the wheel's HiFi-GAN as
the codec's decoder), passes the trust check, loads with
``SpeechRestoration.from_folder`` and restores at the codec's rate with the
input's duration.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from helpers import TINY_MASKSR, speech_like, tiny_masksr

from speechbrain_masksr.codecs.mel import (
    MelCodec,
    ResidualVQ,
    save_mel_codec,
    train_residual_vq,
)
from speechbrain_masksr.inference.restoration import (
    SpeechRestoration,
    write_model_folder,
)
from speechbrain_masksr.lobes.spectral import HifiganMel
from speechbrain_masksr.trust import check_model_folder

SR = 22050


def mel_codec_file(path, k=9, n=1024):
    """A codec file with codebooks trained on a little speech-like audio."""
    mel = HifiganMel()
    feats = mel(speech_like(3.0, SR, seed=3, batch=2)).reshape(-1, 80)
    if feats.shape[0] >= n:
        vq = train_residual_vq(feats, k, n, iterations=2)
    else:  # too few frames for n codes: random codebooks are enough here
        vq = ResidualVQ(k, n, 80)
        vq.codebooks.normal_(generator=torch.Generator().manual_seed(0))
    save_mel_codec(vq, mel, path)
    return path


def test_masksr_mel_folder_loads_and_restores(tmp_path):
    codec_path = mel_codec_file(tmp_path / "codec.ckpt")
    model = tiny_masksr(0, n_fft=1024, hop_length=256)
    config = {
        **TINY_MASKSR,
        "sample_rate": SR,
        "n_fft": 1024,
        "hop_length": 256,
    }
    folder = write_model_folder(tmp_path / "model", model, config, codec_path)
    assert sorted(p.name for p in folder.iterdir()) == [
        "codec.ckpt",
        "hyperparams.yaml",
        "model.ckpt",
    ]
    check_model_folder(str(folder))
    restorer = SpeechRestoration.from_folder(str(folder))
    codec = restorer.mods.codec
    assert isinstance(codec, MelCodec)
    assert (codec.sample_rate, codec.hop_length) == (SR, 256)
    assert restorer.sample_rate == SR
    wav = speech_like(0.7, SR, seed=5)
    out = restorer.restore_batch(wav[None], steps=2, seed=0)
    assert out.shape == (1, wav.shape[-1])
    assert torch.isfinite(out).all() and out.abs().max() > 0
    # the exported weights are the model's
    loaded = restorer.mods.model.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(loaded[key], value), key
