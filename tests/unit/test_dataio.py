"""Audio I/O boundary: clear errors for bad files, mono/resampling."""

import math

import pytest
import torch

from speechbrain_masksr.dataio import (
    AudioError,
    find_audio_files,
    load_audio,
    save_audio,
)


def test_roundtrip_stereo_to_mono_and_resample(tmp_path):
    t = torch.arange(8000) / 8000
    left = 0.5 * torch.sin(2 * math.pi * 440 * t)
    path = tmp_path / "st.wav"
    save_audio(path, torch.stack([left, torch.zeros_like(left)]), 8000)
    wav, sr = load_audio(path)
    assert sr == 8000 and wav.dim() == 1
    assert torch.allclose(wav, left / 2, atol=1e-3)  # channel mean
    both, _ = load_audio(path, mono=False)
    assert both.shape == (2, 8000)
    up, sr = load_audio(path, sample_rate=16000)
    assert sr == 16000 and up.shape[-1] == 16000


@pytest.mark.parametrize(
    "content, message",
    [(b"this is not audio", "not a readable audio file"), (None, "not found")],
)
def test_bad_files_raise_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError, match=message) as err:
        load_audio(path)
    assert "bad.wav" in str(err.value)


def test_empty_and_too_short(tmp_path):
    path = tmp_path / "short.wav"
    save_audio(path, torch.zeros(10), 16000)
    with pytest.raises(AudioError, match="at least 100"):
        load_audio(path, min_samples=100)


def test_find_audio_files(tmp_path):
    save_audio(tmp_path / "a" / "1.wav", torch.zeros(16), 16000)
    save_audio(tmp_path / "a" / "b" / "2.flac", torch.zeros(16), 16000)
    (tmp_path / "a" / "notes.txt").write_text("x")
    names = [p.name for p in find_audio_files(tmp_path / "a")]
    assert names == ["1.wav", "2.flac"]
    with pytest.raises(AudioError):
        find_audio_files(tmp_path / "nope")


def test_folder_and_rate_in_messages(tmp_path):
    with pytest.raises(AudioError, match="is a folder"):
        load_audio(tmp_path)
    path = tmp_path / "short.wav"
    save_audio(path, torch.zeros(441), 44100)  # 10 ms -> 160 at 16 kHz
    with pytest.raises(AudioError, match=r"160 samples.*16000 Hz.*0\.025 s"):
        load_audio(path, sample_rate=16000, min_samples=400)
