"""Tests of the frozen DAC tokenizer on a tiny DAC saved like the real one.

Authors
 * speechbrain-masksr contributors 2026
"""

import math
from functools import partial

import dac
import pytest
import torch
from helpers import speech_like

from speechbrain_masksr.codecs.dac import (
    TINY_DAC_KWARGS,
    DACTokenizer,
    dac_cache_path,
    save_tiny_dac,
)

#: Clean 44.1 kHz voices (shared generator): ``voice(samples=, seed=)``.
voice = partial(speech_like, rate=44100, n_harmonics=5, noise=0.01)


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory):
    return save_tiny_dac(tmp_path_factory.mktemp("dac") / "weights.pth")


@pytest.fixture(scope="module")
def codec(tiny_path):
    return DACTokenizer(load_path=tiny_path)


def test_shapes_and_frames(codec):
    assert (codec.sample_rate, codec.hop_length) == (44100, 512)
    assert (codec.n_codebooks, codec.codebook_size) == (9, 1024)
    for n in (1, 511, 512, 513, 44100):
        codes = codec.encode(voice(samples=n)[None])
        assert (
            codes.shape
            == (1, 9, math.ceil(n / 512))
            == (
                1,
                9,
                codec.num_frames(n),
            )
        )
        assert codes.dtype == torch.long
        assert int(codes.min()) >= 0 and int(codes.max()) < 1024
        wav = codec.decode(codes)
        assert wav.shape == (1, codes.shape[-1] * 512)
        assert torch.isfinite(wav).all()


def test_codes_match_reference_dac_path(codec):
    """Same codes and audio as the saved DAC run by hand."""
    torch.manual_seed(0)  # save_tiny_dac(seed=0) draws the same weights
    ref = dac.DAC(**TINY_DAC_KWARGS).eval()
    x = torch.stack(
        [voice(samples=20000, seed=0), voice(samples=20000, seed=1)]
    )
    with torch.no_grad():
        audio = ref.preprocess(x[:, None], 44100)
        _, ref_codes, *_ = ref.encode(audio)
        z, _, _ = ref.quantizer.from_codes(ref_codes)
        ref_wav = ref.decode(z)[:, 0]
    codes = codec.encode(x)
    assert torch.equal(codes, ref_codes)
    assert torch.allclose(codec.decode(codes), ref_wav, atol=1e-6)
    # codes vary over time and over codebooks (a real tokenisation)
    assert codes.unique().numel() > 50
    # the batch does not mix examples
    assert torch.equal(codec.encode(x[1:]), codes[1:])


def test_no_loudness_normalisation(codec):
    x = voice(samples=8192)[None]
    assert not torch.equal(codec.encode(x), codec.encode(4 * x))


def test_frozen(codec):
    assert all(not p.requires_grad for p in codec.parameters())
    codec.train()
    assert not codec.training and not codec.model.training
    assert not codec.model.quantizer.training
    x = voice(samples=4096)[None].requires_grad_(True)
    codes = codec.encode(x)
    wav = codec.decode(codes)
    assert not wav.requires_grad
    # RVQ dropout is off: repeated encodes give identical codes
    assert torch.equal(codes, codec.encode(x.detach()))


def test_folder_and_cache_locations(tiny_path, tmp_path, monkeypatch):
    folder = tmp_path / "model"
    save_tiny_dac(folder.mkdir() or folder, seed=0)
    x = voice(samples=3000)[None]
    ref = DACTokenizer(load_path=tiny_path).encode(x)
    assert torch.equal(DACTokenizer(load_path=folder).encode(x), ref)
    monkeypatch.setenv("HOME", str(tmp_path))
    cache = dac_cache_path()
    assert cache == (
        tmp_path / ".cache/descript/dac/weights_44khz_8kbps_0.0.1.pth"
    )
    save_tiny_dac(cache, seed=0)
    assert torch.equal(DACTokenizer().encode(x), ref)
    # another seed gives other weights, so other codes
    other = save_tiny_dac(tmp_path / "other.pth", seed=1)
    assert not torch.equal(DACTokenizer(load_path=other).encode(x), ref)


def test_missing_weights_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    for kwargs in ({}, {"load_path": tmp_path / "nope.pth"}):
        with pytest.raises(FileNotFoundError) as err:
            DACTokenizer(**kwargs)
        msg = str(err.value)
        assert "weights_44khz_8kbps_0.0.1.pth" in msg
        assert "releases/download/0.0.1/weights.pth" in msg
        assert "load_path" in msg and "codec_path" in msg
    with pytest.raises(FileNotFoundError, match="weights.pth"):
        DACTokenizer(load_path=tmp_path)  # folder without weights


def test_bad_checkpoints(tiny_path, tmp_path):
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(RuntimeError, match="weights_only"):
        DACTokenizer(load_path=junk)
    ckpt = torch.load(tiny_path, weights_only=True)
    ckpt["state_dict"]["extra.weight"] = torch.zeros(1)
    del ckpt["state_dict"]["decoder.model.0.bias"]
    bad = tmp_path / "bad.pth"
    torch.save(ckpt, bad)
    with pytest.raises(RuntimeError) as err:
        DACTokenizer(load_path=bad)
    assert "extra.weight" in str(err.value)
    assert "decoder.model.0.bias" in str(err.value)
    torch.save({"weights": 1}, bad)
    with pytest.raises(RuntimeError, match="not a DAC weights file"):
        DACTokenizer(load_path=bad)


def test_bad_inputs(codec):
    with pytest.raises(ValueError, match=r"\[batch, time\]"):
        codec.encode(torch.zeros(2, 2, 100))
    with pytest.raises(ValueError, match=r"\[batch, time\]"):
        codec.encode(torch.zeros(100))
    with pytest.raises(ValueError, match="44100"):
        codec.encode(torch.zeros(1, 100), sample_rate=16000)
    with pytest.raises(ValueError, match="NaN"):
        codec.encode(torch.full((1, 100), float("nan")))
    with pytest.raises(ValueError, match="empty"):
        codec.encode(torch.zeros(1, 0))
    with pytest.raises(TypeError):
        codec.encode(torch.zeros(1, 100, dtype=torch.long))
    with pytest.raises(ValueError, match="mask"):
        codec.decode(torch.full((1, 9, 3), 1024))
    with pytest.raises(ValueError, match="9"):
        codec.decode(torch.zeros(1, 8, 3, dtype=torch.long))
    # [batch, 1, time] is accepted
    x = voice(samples=1000)[None]
    assert torch.equal(codec.encode(x[:, None]), codec.encode(x))


def test_download_option(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    calls = []

    def fake_download(model_type, model_bitrate, tag):
        calls.append((model_type, model_bitrate, tag))
        return save_tiny_dac(dac_cache_path(model_type, model_bitrate, tag))

    monkeypatch.setattr(dac.utils, "download", fake_download)
    codec = DACTokenizer(download=True)
    assert calls == [("44khz", "8kbps", "latest")]
    assert codec.load_path == str(dac_cache_path())

    def offline(**kwargs):
        raise ConnectionError("no network")

    monkeypatch.setenv("HOME", str(tmp_path / "empty"))
    monkeypatch.setattr(dac.utils, "download", offline)
    with pytest.raises(FileNotFoundError, match="codec_path"):
        DACTokenizer(download=True)
