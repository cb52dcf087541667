"""The codec contract (DAC and the mel codec built here) and the mel codec.

The mel codec quantizes the HiFi-GAN log-mel with residual codebooks
learned by residual k-means; here with a tiny random HiFi-GAN (the wheel's
generator is exercised by the recipe), so the tests check the codec's own
behaviour: the contract, the frame geometry, that each codebook lowers the
error, and that a codec file loads strictly.

Authors
 * speechbrain-masksr contributors 2026
"""

import pytest
import torch
from helpers import speech_like

from speechbrain_masksr.codecs.base import Codec, codec_frames
from speechbrain_masksr.codecs.dac import DACTokenizer
from speechbrain_masksr.codecs.mel import (
    MelCodec,
    ResidualVQ,
    load_mel_codec_weights,
    save_mel_codec,
    train_residual_vq,
)
from speechbrain_masksr.errors import AudioError, ModelFileError
from speechbrain_masksr.lobes.spectral import HifiganMel
from speechbrain_masksr.lobes.speech_encoder import SpeechEncoder
from speechbrain_masksr.vocoders import Vocoder, hifigan_v1

SR = 22050


@pytest.fixture(scope="module")
def speech_frames():
    """Log-mel frames of 12 s of speech-like audio (several voices)."""
    mel = HifiganMel()
    wavs = speech_like(2.0, SR, seed=1, batch=6, formants=[(700, 130)])
    return mel(wavs).reshape(-1, 80)


@pytest.fixture(scope="module")
def trained(speech_frames):
    """A 4 x 64 codec trained on the frames; its per-level errors."""
    errors = []
    vq = train_residual_vq(
        speech_frames, 4, 64, iterations=8, log=lambda k, e: errors.append(e)
    )
    return vq, errors


def mel_codec(vq=None, k=4, n=64):
    """A MelCodec with a tiny random HiFi-GAN (and ``vq``'s codebooks)."""
    torch.manual_seed(0)
    vocoder = Vocoder(hifigan_v1(upsample_initial_channel=16), HifiganMel())
    codec = MelCodec(vocoder, k, n)
    if vq is not None:
        codec.quantizer.load_state_dict(vq.state_dict())
    return codec


@pytest.fixture(params=["dac", "mel"])
def codec(request, tiny_dac_path, trained):
    if request.param == "dac":
        return DACTokenizer(load_path=tiny_dac_path)
    return mel_codec(trained[0])


def test_the_contract_holds_for_both_codecs(codec):
    assert isinstance(codec, Codec)
    assert codec.frame_rate == pytest.approx(86.1328125)
    codec.train()
    assert not codec.training  # frozen
    for n in (
        1,
        codec.hop_length - 1,
        codec.hop_length,
        3 * codec.hop_length + 7,
    ):
        wavs = 0.1 * torch.randn(2, n)
        codes = codec.encode(wavs, sample_rate=codec.sample_rate)
        frames = codec_frames(n, codec.hop_length)
        assert codes.shape == (2, codec.n_codebooks, frames)
        assert codes.dtype == torch.long
        assert 0 <= int(codes.min()) and int(codes.max()) < codec.codebook_size
        out = codec.decode(codes)
        assert out.shape == (2, frames * codec.hop_length)
        assert torch.isfinite(out).all()
    with pytest.raises(ValueError, match=f"expects {codec.sample_rate} Hz"):
        codec.encode(torch.zeros(1, 100), sample_rate=codec.sample_rate * 2)
    with pytest.raises(AudioError, match="NaN"):
        codec.encode(torch.full((1, 100), float("nan")))
    with pytest.raises(ValueError, match="no mask ids"):
        codec.decode(torch.full((1, codec.n_codebooks, 2), codec.codebook_size))


def test_speech_encoder_frames_align_with_the_mel_codec(trained):
    codec = mel_codec(trained[0])
    encoder = SpeechEncoder(
        d_model=16,
        num_layers=1,
        nhead=2,
        n_fft=1024,
        hop_length=codec.hop_length,
    )
    for n in (256, 257, 1000, 5000, 22050):
        wav = 0.1 * torch.randn(1, n)
        assert encoder.num_frames(n) == codec.encode(wav).shape[-1]
        assert encoder(wav).shape[1] == codec.encode(wav).shape[-1]


def test_each_codebook_lowers_the_error(trained, speech_frames):
    vq, errors = trained
    assert all(a > b for a, b in zip(errors, errors[1:]))
    # on frames of *other* speech (held out), through the codec itself
    codec = mel_codec(vq)
    held_out = speech_like(
        samples=200 * 256, rate=SR, seed=7, batch=2, formants=[(700, 130)]
    )
    codes = codec.encode(held_out)
    target = codec.mel(held_out)
    errs = [
        float((codec.log_mel(codes[:, :k]) - target).abs().mean())
        for k in range(1, 5)
    ]
    assert all(a > b for a, b in zip(errs, errs[1:])), errs
    assert errs[-1] < 0.9 * errs[0], errs


def test_kmeans_beats_random_codebooks(trained, speech_frames):
    vq, _ = trained
    rand = ResidualVQ(4, 64, 80)
    rand.mean.copy_(vq.mean)
    rand.std.copy_(vq.std)
    rand.codebooks.normal_(generator=torch.Generator().manual_seed(0))
    x = vq.normalize(speech_frames[None])
    for q in (vq, rand):
        q.err = float(((q.dequantize(q.quantize(x)) - x) ** 2).mean())
    assert vq.err < 0.5 * rand.err


def test_codec_file_loads_strictly(trained, tmp_path):
    vq, _ = trained
    path = tmp_path / "codec.ckpt"
    save_mel_codec(vq, HifiganMel(), path)
    codec = mel_codec()
    load_mel_codec_weights(codec, path)
    assert torch.equal(codec.quantizer.codebooks, vq.codebooks)
    # the file holds the quantizer only, never the vocoder's weights
    assert not any("vocoder" in k for k in torch.load(path, weights_only=True))
    with pytest.raises(ModelFileError, match=r"codec\.ckpt does not match"):
        load_mel_codec_weights(mel_codec(k=2), path)  # other grid
    with pytest.raises(ModelFileError, match="made for the mel"):
        other = MelCodec(
            mel=HifiganMel(n_mels=80, f_max=11025.0),
            n_codebooks=4,
            codebook_size=64,
        )
        load_mel_codec_weights(other, path)
    damaged = tmp_path / "damaged.ckpt"
    damaged.write_bytes(path.read_bytes()[:300])
    with pytest.raises(ModelFileError, match="damaged.ckpt"):
        load_mel_codec_weights(codec, damaged)
    with pytest.raises(ModelFileError, match="missing.ckpt"):
        load_mel_codec_weights(codec, tmp_path / "missing.ckpt")
    torch.save({"w": torch.ones(1)}, tmp_path / "other.ckpt")
    with pytest.raises(ModelFileError, match="not a mel codec file"):
        load_mel_codec_weights(codec, tmp_path / "other.ckpt")


def test_decode_needs_a_vocoder(trained):
    codec = MelCodec(n_codebooks=4, codebook_size=64)
    codes = codec.encode(0.1 * torch.randn(1, 1000))
    with pytest.raises(ModelFileError, match="no vocoder"):
        codec.decode(codes)


def test_tiny_masksr_on_the_mel_codec_learns(trained):
    """Held-out codebook-1 accuracy of a tiny MaskSR rises far above chance.

    The tokens are the mel codec's (4 x 64) of speech-like audio; the
    condition is that audio with noise added; the model never sees the
    held-out clips in training.
    """
    from speechbrain_masksr.lobes.masksr import build_masksr

    codec = mel_codec(trained[0])
    gen = torch.Generator().manual_seed(0)

    def clips(seed, count):
        clean = speech_like(
            samples=64 * 256,
            rate=SR,
            seed=seed,
            batch=count,
            formants=[(700, 130)],
        )
        noisy = clean + 0.02 * torch.randn(clean.shape, generator=gen)
        return noisy, codec.encode(clean)

    train_wavs, train_tokens = clips(10, 32)
    test_wavs, test_tokens = clips(99, 8)
    torch.manual_seed(0)
    model = build_masksr(
        n_codebooks=4,
        codebook_size=64,
        d_model=32,
        encoder_layers=1,
        lm_layers=1,
        nhead=4,
        dropout=0.0,
        n_fft=1024,
        hop_length=256,
    )

    def held_out_accuracy():
        model.eval()
        torch.manual_seed(1)
        with torch.no_grad():
            out = model(test_wavs, test_tokens)
            _, acc = model.loss(out["logits"], test_tokens, out["mask"])
        model.train()
        return float(acc[0])

    before = held_out_accuracy()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(120):
        pick = torch.randint(0, 32, (8,), generator=gen)
        out = model(train_wavs[pick], train_tokens[pick])
        loss, _ = model.loss(out["logits"], train_tokens[pick], out["mask"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = held_out_accuracy()
    chance = 1 / 64
    assert before < 3 * chance, before
    assert after > 4 * chance, (before, after)
