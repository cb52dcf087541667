"""Tests for the mini corpus generator (espeak-ng and fallback speech).

``tools/mini_corpus.py`` is imported as ``mini_corpus`` (``tools/`` is on
pytest's ``pythonpath``).

Authors
 * speechbrain-masksr contributors 2026
"""

import logging
import math
import re
from pathlib import Path

import mini_corpus
import numpy as np
import pytest
import soundfile
import torch
from helpers import load_recipe
from mini_corpus import make_mini_corpus

from speechbrain_masksr.augment.levels import active_power, measure_snr
from speechbrain_masksr.data.manifest import load_manifest

SR = 16000
SMALL = dict(
    n_speech=3,
    n_noise=4,  # white, pink, brown, babble
    n_rir=2,
    n_test=2,
    n_real=1,
    sample_rate=SR,
    min_duration=0.6,
    max_duration=0.9,
)


def _dns_prepare():
    return load_recipe("recipes/DNS/dns_prepare.py")


def _all_files(out):
    return sorted(f for group in out["files"].values() for f in group)


def _same_bytes(out_a, out_b):
    files = _all_files(out_a)
    assert files == _all_files(out_b)
    root_a, root_b = Path(out_a["data_folder"]), Path(out_b["data_folder"])
    return all(
        (root_a / f).read_bytes() == (root_b / f).read_bytes() for f in files
    )


def _check_corpus(out, tmp_path):
    """Files are where prepare_dns expects them, with the right content."""
    root = Path(out["data_folder"])
    for rel in _all_files(out):
        info = soundfile.info(str(root / rel))
        assert info.samplerate == SR and info.channels == 1
    for rel in out["files"]["clean"]:
        wav, _ = soundfile.read(str(root / rel))
        assert 0.6 <= len(wav) / SR <= 0.9
        assert np.abs(wav).max() > 0.01
    manifests = _dns_prepare().prepare_dns(
        root, tmp_path / "save", valid_ratio=0.34, test_ratio=0.0
    )
    counts = {k: len(load_manifest(v)) for k, v in manifests.items()}
    assert counts == {
        "train": 2,
        "valid": 1,
        "test": 0,
        "noise": 4,
        "rir": 2,
        "test_no_reverb": 2,
        "test_with_reverb": 2,
        "test_real": 1,
    }
    # noisy = clean + noise at the SNR and level written in the DNS name,
    # both measured on active 20 ms frames (the library's levels)
    frame = round(0.02 * SR)
    pairs = load_manifest(manifests["test_no_reverb"], data_root=str(root))
    for entry in pairs.values():
        noisy, _ = soundfile.read(entry["noisy_wav"], dtype="float32")
        clean, _ = soundfile.read(entry["clean_wav"], dtype="float32")
        noisy, clean = torch.from_numpy(noisy)[None], torch.from_numpy(clean)
        clean = clean[None]
        name = Path(entry["noisy_wav"]).name
        match = re.search(r"_snr(\d+)_tl(-\d+)_fileid_\d+\.wav$", name)
        snr, level = int(match.group(1)), int(match.group(2))
        measured = float(measure_snr(clean, noisy - clean, frame_length=frame))
        assert measured == pytest.approx(snr, abs=0.3)
        power = float(active_power(noisy, frame_length=frame)[0])
        if noisy.abs().max() < 0.98:  # not peak-limited
            assert 10 * math.log10(power) == pytest.approx(level, abs=0.3)


def test_fallback_corpus_deterministic_and_readable(tmp_path):
    a = make_mini_corpus(tmp_path / "a", seed=3, use_espeak=False, **SMALL)
    b = make_mini_corpus(tmp_path / "b", seed=3, use_espeak=False, **SMALL)
    assert a["speech_backend"] == "synthetic"
    assert _same_bytes(a, b)
    c = make_mini_corpus(tmp_path / "c", seed=4, use_espeak=False, **SMALL)
    for rel in a["files"]["clean"]:  # same names, other content
        assert (tmp_path / "a" / rel).read_bytes() != (
            Path(c["data_folder"]) / rel
        ).read_bytes()
    _check_corpus(a, tmp_path)


@pytest.mark.skipif(
    not mini_corpus.espeak_available(), reason="espeak-ng not installed"
)
def test_espeak_corpus_deterministic_and_readable(tmp_path):
    a = make_mini_corpus(tmp_path / "a", seed=0, use_espeak=True, **SMALL)
    b = make_mini_corpus(tmp_path / "b", seed=0, use_espeak=True, **SMALL)
    assert a["speech_backend"] == "espeak-ng"
    assert _same_bytes(a, b)
    _check_corpus(a, tmp_path)


def test_missing_espeak_falls_back_with_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(mini_corpus, "espeak_available", lambda: False)
    small = dict(SMALL, n_noise=1, n_rir=1, n_test=1, n_real=0)
    with caplog.at_level(logging.WARNING):
        out = make_mini_corpus(tmp_path / "a", **small)
    assert out["speech_backend"] == "synthetic"
    assert "espeak-ng not found" in caplog.text
    with pytest.raises(RuntimeError, match="apt-get install espeak-ng"):
        make_mini_corpus(tmp_path / "b", use_espeak=True, **small)


def test_corpus_reused_or_refused(tmp_path):
    small = dict(SMALL, n_speech=1, n_noise=1, n_rir=1, with_test_set=False)
    out = make_mini_corpus(tmp_path / "a", use_espeak=False, **small)
    path = tmp_path / "a" / out["files"]["clean"][0]
    stamp = path.stat().st_mtime_ns
    again = make_mini_corpus(tmp_path / "a", use_espeak=False, **small)
    assert again == out and path.stat().st_mtime_ns == stamp
    more = make_mini_corpus(
        tmp_path / "a", use_espeak=False, **dict(small, n_speech=2)
    )
    assert len(more["files"]["clean"]) == 2
    foreign = tmp_path / "foreign" / "datasets" / "clean"
    foreign.mkdir(parents=True)
    (foreign / "mine.wav").write_bytes(b"")
    with pytest.raises(FileExistsError, match="not made by make_mini_corpus"):
        make_mini_corpus(tmp_path / "foreign", use_espeak=False, **small)
    assert (foreign / "mine.wav").exists()


def test_synthetic_speech_is_speech_like():
    rng = np.random.default_rng(0)
    x = mini_corpus.synthetic_speech(2.0, SR, rng, f0=120.0).numpy()
    spec = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / SR)
    # most energy in the speech band, some above 2.5 kHz (fricatives)
    assert spec[freqs < 4000].sum() > 0.8 * spec.sum()
    assert spec[freqs > 2500].sum() > 0.005 * spec.sum()
    # syllabic amplitude modulation: 20 ms frame energies vary a lot
    frames = (x[: len(x) // 320 * 320].reshape(-1, 320) ** 2).mean(axis=1)
    assert (frames < 1e-3 * frames.max()).mean() > 0.05
    # voiced: autocorrelation peak at a pitch period near 1 / 120 Hz
    loud = x[np.argmax(frames) * 320 :][:1600]
    ac = np.correlate(loud, loud, "full")[len(loud) - 1 :]
    lag = np.argmax(ac[SR // 400 : SR // 60]) + SR // 400
    assert 90 < SR / lag < 170


def test_cli(tmp_path, capsys):
    args = [str(tmp_path / "cli"), "--n-speech", "1", "--n-noise", "1"]
    args += ["--n-rir", "1", "--no-test-set", "--sample-rate", "8000"]
    args += ["--min-duration", "0.3", "--max-duration", "0.4"]
    assert mini_corpus.main(args + ["--synthetic-speech"]) == 0
    assert "3 files (synthetic)" in capsys.readouterr().out
    assert (
        mini_corpus.main(
            args[:1] + ["--min-duration", "2", "--max-duration", "1"]
        )
        == 2
    )
