"""Tests of the codec-token cache and the frame-aligned training crops."""

from functools import partial

import numpy as np
import pytest
import torch
from helpers import speech_like

from speechbrain_masksr.codecs.base import codec_frames
from speechbrain_masksr.data.token_cache import (
    TokenCache,
    cache_key,
    codec_fingerprint,
    crop_tokens,
    frames_to_samples,
    manifest_cache_entries,
    random_frame_offset,
)
from speechbrain_masksr.dataio import (
    AudioError,
    load_audio,
    load_segment,
    save_audio,
)

SR = 44100
HOP = 512
GEOMETRY = dict(sample_rate=SR, hop_length=HOP)  # DAC 44.1 kHz


class FrameCodec:
    """Exactly frame-local stand-in codec: 3 codes per 512-sample frame.

    Code q of a frame is a quantised statistic of that frame only, so crops
    that start on frame boundaries must give exactly the cached codes.
    """

    n_codebooks = 3
    codebook_size = 1024
    hop_length = HOP

    def __init__(self):
        self.calls = 0

    def encode(self, wavs):
        self.calls += 1
        assert wavs.shape[1] % HOP == 0
        frames = wavs.view(wavs.shape[0], -1, HOP)
        stats = torch.stack(
            [
                frames.mean(-1),
                frames.abs().max(-1).values,
                frames[..., : HOP // 2].std(-1),
            ],
            dim=1,
        )
        return (stats.abs() * 4000).long().clamp(0, 1023)


#: Clean voices (shared generator): ``voice(seconds, rate, seed)``.
voice = partial(speech_like, noise=0.02)


def test_save_load_roundtrip_and_errors(tmp_path):
    cache = TokenCache(tmp_path, codec_path=None, **GEOMETRY)
    codes = torch.tensor([[0, 1023, 5], [7, 8, 9]])
    cache.save("spk/utt 1", codes)
    cache.save("spk_utt_1", codes + 1)  # would collide without the hash
    assert torch.equal(cache.load("spk/utt 1"), codes)
    assert torch.equal(cache.load("spk_utt_1"), codes + 1)
    assert cache.load("spk/utt 1").dtype == torch.int64
    assert np.load(cache.path("spk/utt 1")).dtype == np.int16
    with pytest.raises(FileNotFoundError, match="extract_tokens.py"):
        cache.load("never")
    with pytest.raises(ValueError, match="int16"):
        cache.save("big", torch.tensor([[40000]]))
    with pytest.raises(ValueError, match="n_codebooks, frames"):
        cache.save("flat", torch.zeros(5, dtype=torch.long))


def test_other_codec_weights_use_another_folder(tmp_path):
    (tmp_path / "a.pth").write_bytes(b"x" * 10)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "weights.pth").write_bytes(b"x" * 11)
    fa = codec_fingerprint(tmp_path / "a.pth")
    fb = codec_fingerprint(tmp_path / "b")
    assert fb == codec_fingerprint(tmp_path / "b" / "weights.pth")
    assert fa != fb
    cache_a = TokenCache(
        tmp_path / "c", codec_path=tmp_path / "a.pth", **GEOMETRY
    )
    cache_b = TokenCache(tmp_path / "c", codec_path=tmp_path / "b", **GEOMETRY)
    cache_a.save("u", torch.zeros(2, 2, dtype=torch.long))
    assert cache_a.exists("u") and not cache_b.exists("u")
    # Same path, new size (re-downloaded / replaced weights): new folder.
    (tmp_path / "a.pth").write_bytes(b"x" * 12)
    assert codec_fingerprint(tmp_path / "a.pth") != fa


def test_extract_encodes_once_pads_and_shards(tmp_path):
    wav = voice(0.3, SR)  # 13230 samples -> 26 frames (padded)
    entries = {}
    for i in range(5):
        path = tmp_path / f"u{i}.wav"
        save_audio(path, wav * (i + 1) / 5, SR)
        entries[f"u{i}"] = str(path)
    cache = TokenCache(tmp_path / "cache", **GEOMETRY)
    codec = FrameCodec()
    # Two processes each take their share; together they cover everything.
    n0 = cache.extract(codec, entries, shard=(0, 2))
    assert (n0, cache.missing(entries)) == (3, ["u1", "u3"])
    n1 = cache.extract(codec, entries, shard=(1, 2))
    assert n1 == 2 and cache.missing(entries) == []
    assert codec.calls == 5
    assert cache.extract(codec, entries) == 0  # nothing re-encoded
    assert codec.calls == 5
    codes = cache.load("u2")
    assert codes.shape == (3, codec_frames(13230, HOP)) == (3, 26)
    assert (cache.folder / "meta.json").is_file()
    # The last frame holds the zero padding: max of the padded samples only.
    loaded, _ = load_audio(entries["u2"], SR)
    assert codes[1, -1] == int(loaded[25 * HOP :].abs().max() * 4000)


def test_load_segment_same_rate_is_an_exact_slice(tmp_path):
    wav = voice(0.5, SR)
    path = tmp_path / "a.wav"
    save_audio(path, wav, SR)
    full, _ = load_audio(path, SR)
    seg = load_segment(path, 3 * HOP, 10 * HOP, SR)
    assert torch.equal(seg, full[3 * HOP : 10 * HOP])
    tail = load_segment(path, full.shape[0] - 100, full.shape[0] + 412, SR)
    assert torch.equal(tail[:100], full[-100:])
    assert torch.count_nonzero(tail[100:]) == 0
    with pytest.raises(AudioError, match="file not found"):
        load_segment(tmp_path / "none.wav", 0, 10, SR)
    with pytest.raises(ValueError, match="bad segment"):
        load_segment(path, 10, 10, SR)


@pytest.mark.parametrize("file_sr", [48000, 16000])
def test_load_segment_matches_whole_file_resampling(tmp_path, file_sr):
    wav = voice(0.6, file_sr, seed=1)
    path = tmp_path / f"a{file_sr}.wav"
    save_audio(path, wav, file_sr)
    full, _ = load_audio(path, SR)  # what the tokens were computed on
    for start_frame, n in [
        (0, 4),
        (7, 20),
        (codec_frames(full.shape[0], HOP) - 3, 3),
    ]:
        start, stop = frames_to_samples(start_frame, n, HOP)
        seg = load_segment(path, start, stop, SR)
        ref = torch.zeros(stop - start)
        part = full[start:stop]
        ref[: part.shape[0]] = part
        assert seg.shape == ref.shape
        assert torch.allclose(seg, ref, atol=2e-5), (start_frame, file_sr)


def test_crops_are_frame_aligned_with_cached_tokens(tmp_path):
    """Exact: frame-local codec on a 48 kHz file (resampled window read)."""
    path = tmp_path / "long.wav"
    save_audio(path, voice(1.0, 48000, seed=2), 48000)
    cache = TokenCache(tmp_path / "cache", **GEOMETRY)
    codec = FrameCodec()
    cache.extract(codec, {"long": str(path)})
    tokens = cache.load("long")
    g = torch.Generator().manual_seed(0)
    offsets = set()
    for _ in range(5):
        f = random_frame_offset(tokens.shape[1], 16, g)
        offsets.add(f)
        crop = crop_tokens(tokens, f, 16)
        start, stop = frames_to_samples(f, crop.shape[1], HOP)
        audio = load_segment(path, start, stop, SR)
        assert audio.shape[0] == crop.shape[1] * HOP == 16 * HOP
        assert torch.equal(codec.encode(audio[None])[0], crop)
    assert len(offsets) > 1


def test_random_frame_offset_range():
    g = torch.Generator().manual_seed(0)
    offs = [random_frame_offset(20, 5, g) for _ in range(400)]
    assert min(offs) == 0 and max(offs) == 15
    assert random_frame_offset(4, 5) == 0
    assert crop_tokens(torch.zeros(9, 4), 0, 5).shape == (9, 4)


def test_tiny_dac_crop_alignment(tmp_path):
    """Real (tiny) DAC: crop codes agree with the cache at the true offset.

    Convolution receptive fields make frames near the crop borders differ,
    so only the interior is compared; a one-frame misalignment would make
    the interior disagree almost everywhere.
    """
    from speechbrain_masksr.codecs.dac import DACTokenizer, save_tiny_dac

    codec = DACTokenizer(load_path=save_tiny_dac(tmp_path / "dac.pth"))
    path = tmp_path / "s.wav"
    save_audio(path, voice(1.2, SR, seed=3), SR)
    cache = TokenCache(
        tmp_path / "cache",
        codec_path=tmp_path / "dac.pth",
        sample_rate=codec.sample_rate,
        hop_length=codec.hop_length,
    )
    cache.extract(codec, {"s": str(path)})
    tokens = cache.load("s")
    assert tokens.shape == (9, codec_frames(int(1.2 * SR), HOP))
    f, n, border = 30, 48, 8
    start, stop = frames_to_samples(f, n, HOP)
    crop_codes = codec.encode(load_segment(path, start, stop, SR)[None])[0]
    assert crop_codes.shape == (9, n)
    inner = crop_codes[:, border:-border]

    def agreement(offset):
        ref = tokens[:, f + offset + border : f + offset + n - border]
        return (inner == ref).float().mean().item()

    aligned = agreement(0)
    assert aligned >= 0.95
    assert aligned > agreement(1) + 0.5 and aligned > agreement(-1) + 0.5


def test_manifest_cache_entries_keys(tmp_path):
    import json

    (tmp_path / "train.json").write_text(
        json.dumps({"u1": {"wav": "{data_root}/c/u1.wav", "duration": 1.0}})
    )
    pair = {
        "noisy_wav": "{data_root}/n/x.wav",
        "clean_wav": "{data_root}/c/x.wav",
    }
    (tmp_path / "p.json").write_text(json.dumps({"fileid_1": pair}))
    (tmp_path / "r.json").write_text(json.dumps({"r": {"noisy_wav": "n.wav"}}))
    manifests = {
        "train": tmp_path / "train.json",
        "test_no_reverb": tmp_path / "p.json",
        "test_real": tmp_path / "r.json",
    }
    entries = manifest_cache_entries(
        manifests, ["train", "test_no_reverb", "test_real", "valid"], "/D"
    )
    assert entries == {
        "u1": "/D/c/u1.wav",
        cache_key("test_no_reverb", "fileid_1", True): "/D/c/x.wav",
    }
    (tmp_path / "t2.json").write_text(json.dumps({"u1": {"wav": "/other.wav"}}))
    manifests["test"] = tmp_path / "t2.json"
    with pytest.raises(ValueError, match="two files"):
        manifest_cache_entries(manifests, ["train", "test"])
