"""SpeechRestoration: save a tiny model folder, load it, restore audio.

Authors
 * speechbrain-masksr contributors 2026
"""

import importlib.util
import os
import re
import shutil
from pathlib import Path

import pytest
import torch
from helpers import TINY_MASKSR, tiny_masksr, write_tiny_model_folder
from hyperpyyaml import load_hyperpyyaml
from speechbrain.dataio import audio_io

from speechbrain_masksr.cli.restore import model_kind
from speechbrain_masksr.dataio import AudioError, save_audio
from speechbrain_masksr.inference import SpeechRestoration
from speechbrain_masksr.inference.restoration import (
    ModelFileError,
    check_device,
    write_model_folder,
)
from speechbrain_masksr.utils.windowing import (
    crossfade_weights,
    overlap_add,
    window_starts,
)

SR = 44100
CONFIG = TINY_MASKSR


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A model folder written by write_model_folder (+ the model)."""
    return write_tiny_model_folder(tmp_path_factory.mktemp("masksr_model"))


@pytest.fixture(scope="module")
def restorer(folder, tmp_path_factory):
    """The interface loaded from the folder."""
    savedir = tmp_path_factory.mktemp("savedir")
    return SpeechRestoration.from_folder(  # allowlist-checked loading
        source=str(folder[0]), savedir=str(savedir)
    )


def test_round_trip_weights_and_files(folder, restorer):
    out, model = folder
    names = sorted(p.name for p in out.iterdir())
    assert names == ["codec.pth", "hyperparams.yaml", "model.ckpt"]
    loaded = restorer.mods.model.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(loaded[key], value), key
    assert restorer.hparams.sample_rate == SR
    assert restorer.mods.codec.hop_length == 512
    assert not any(p.requires_grad for p in restorer.mods.parameters())


def test_restore_batch_lengths_seed(restorer):
    wavs = 0.1 * torch.randn(2, 12000)
    lens = torch.tensor([1.0, 0.6])
    a = restorer.restore_batch(wavs, lens, seed=3)
    b = restorer(wavs, lens, seed=3)  # forward is restore_batch
    c = restorer.restore_batch(wavs, lens, seed=4, steps=1, guidance=0.0)
    assert a.shape == wavs.shape
    assert torch.isfinite(a).all()
    assert torch.equal(a, b)  # same seed, same output
    assert not torch.equal(a, c)
    assert a[0].abs().sum() > 0
    assert torch.all(a[1, 7200:] == 0)  # zero past the relative length
    assert a[1, :7200].abs().sum() > 0


def test_windowing_identity_and_weights(restorer, monkeypatch):
    # With an identity "restoration", the windowed path must give the
    # input back exactly: windows, padding, cross-fade and trimming.
    monkeypatch.setattr(
        restorer, "generate_windows", lambda chunks, seed=None, **kw: chunks
    )
    wavs = torch.randn(2, 70001)
    lens = torch.tensor([1.0, 0.5])
    out = restorer.restore_batch(wavs, lens)
    assert torch.allclose(out[0], wavs[0], atol=1e-5)
    assert torch.allclose(out[1, :35000], wavs[1, :35000], atol=1e-5)
    assert torch.all(out[1, 35000:] == 0)


def test_crossfade_seven_seconds_three_second_windows():
    length, window, overlap = 7 * SR, 3 * SR // 512 * 512, 22016
    starts = window_starts(length, window, overlap, align=512)
    assert starts[0] == 0 and len(starts) == 3
    assert all(s % 512 == 0 for s in starts)
    assert starts[-1] + window >= length > starts[-1] + window - 512
    for shape in ("hann", "linear"):
        w = crossfade_weights(starts, window, length, shape)
        total = torch.zeros(length, dtype=w.dtype)
        for s, wi in zip(starts, w):
            n = min(window, length - s)
            total[s : s + n] += wi[:n]
        assert torch.allclose(total, torch.ones_like(total))
        assert (w >= 0).all()
        # a real fade: the second window rises over its overlap
        rise = w[1, : starts[0] + window - starts[1]]
        assert rise[0] < 0.05 and rise[-1] > 0.95
    chunks = torch.ones(len(starts), window)
    assert overlap_add(chunks, starts, length).shape == (length,)


def test_long_input_seven_seconds(folder, tmp_path):
    restorer = SpeechRestoration.from_hparams(
        source=str(folder[0]),
        savedir=str(tmp_path),
        overrides={"window_seconds": 3.0, "sampling_steps": 1},
    )
    wav = 0.1 * torch.randn(1, 7 * SR)
    out = restorer.restore_batch(wav, seed=0)
    assert out.shape == (1, 7 * SR)
    assert torch.isfinite(out).all()
    assert out[0, -SR:].abs().sum() > 0  # the tail was restored too


def test_restore_file_any_rate_and_channels(restorer, tmp_path):
    src = tmp_path / "stereo16k.flac"
    t = torch.arange(16000 * 3 // 5) / 16000
    stereo = torch.stack([0.3 * torch.sin(2 * 3.14 * 200 * t), 0.1 * t])
    save_audio(src, stereo, 16000)
    before = src.read_bytes()
    dst = tmp_path / "out" / "restored.wav"
    wav = restorer.restore_file(src, dst, seed=0)
    assert wav.dim() == 1 and wav.shape[0] == round(0.6 * SR)
    data, sr = audio_io.load(str(dst))
    assert sr == SR and data.shape == (1, round(0.6 * SR))
    assert torch.isfinite(data).all()
    assert src.read_bytes() == before
    with pytest.raises(ValueError, match="refusing to overwrite"):
        restorer.restore_file(src, tmp_path / "." / "stereo16k.flac")
    assert src.read_bytes() == before


def test_bad_inputs(restorer, tmp_path):
    with pytest.raises(AudioError, match="NaN"):
        restorer.restore_batch(torch.full((1, 5000), float("nan")))
    with pytest.raises(AudioError, match="at least"):
        restorer.restore_batch(torch.zeros(1, 100))
    with pytest.raises(ValueError, match=r"\[batch, time\]"):
        restorer.restore_batch(torch.zeros(5000))
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioError, match="bad.wav"):
        restorer.restore_file(bad)
    short = tmp_path / "short.wav"
    save_audio(short, torch.zeros(200), SR)
    with pytest.raises(AudioError, match="short.wav"):
        restorer.restore_file(short)


def test_missing_files_and_strict_weights(folder, tmp_path):
    out, _ = folder
    # a folder lacking codec.pth: the error names the file and the source
    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("hyperparams.yaml", "model.ckpt"):
        (partial / name).write_bytes((out / name).read_bytes())
    with pytest.raises(ModelFileError, match=r"codec\.pth.*partial"):
        SpeechRestoration.from_hparams(source=str(partial))
    (partial / "model.ckpt").unlink()
    with pytest.raises(ModelFileError, match=r"model\.ckpt.*partial"):
        SpeechRestoration.from_folder(source=str(partial))
    # weights that do not fit the YAML's model are refused, not half-loaded
    wrong = write_model_folder(
        tmp_path / "wrong", tiny_masksr(d_model=16), CONFIG, out / "codec.pth"
    )
    with pytest.raises(ModelFileError, match="shape mismatch"):
        SpeechRestoration.from_hparams(source=str(wrong))


def _export_module():
    """recipes/DNS/export_model.py as a module (recipes are not a package)."""
    path = Path(__file__).resolve().parents[2] / "recipes/DNS/export_model.py"
    spec = importlib.util.spec_from_file_location("export_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_from_training_yaml(folder, tmp_path):
    """The recipe's own YAML -> checkpoint -> export -> SpeechRestoration."""
    root = Path(__file__).resolve().parents[2]
    overrides = {
        "data_folder": str(tmp_path / "data"),
        "aishell_folder": None,
        "codec_path": str(folder[0] / "codec.pth"),
        "output_folder": str(tmp_path / "results"),
        "d_model": 32,
        "nhead": 4,
        "encoder_layers": 1,
        "lm_layers": 1,
        "n_fft": 1024,
        "segment_seconds": 0.5,
        "sampling_steps": 3,
        "overlap_seconds": 0.0,
        "upper_levels": "iterative",
    }
    with open(root / "hparams" / "masksr.yaml", encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)
    with torch.no_grad():  # "trained" weights differ from a fresh init
        for p in hparams["model"].parameters():
            p.add_(0.01 * torch.randn_like(p))
    hparams["checkpointer"].save_checkpoint(meta={"loss": 1.0})
    export = _export_module()
    out = export.export(
        root / "hparams" / "masksr.yaml",
        tmp_path / "exported",
        overrides=overrides,
    )
    restorer = SpeechRestoration.from_hparams(source=str(out))
    loaded = restorer.mods.model.state_dict()
    for key, value in hparams["model"].state_dict().items():
        assert torch.equal(loaded[key], value), key
    assert restorer.mods.model.encoder.n_fft == 1024
    assert restorer.hparams.sampling_steps == 3
    assert restorer.hparams.window_seconds == 0.5
    # the recipe's test-stage decoding and windowing travel with the model
    assert restorer.hparams.overlap_seconds == 0.0
    assert restorer.hparams.crossfade == "hann"
    assert restorer.hparams.upper_levels == "iterative"
    # weights that do not fit the YAML are refused, naming the problem
    bad = dict(overrides, d_model=16, nhead=2)
    with pytest.raises(ModelFileError, match="shape mismatch"):
        export.export(
            root / "hparams" / "masksr.yaml", tmp_path / "bad", overrides=bad
        )
    assert not (tmp_path / "bad").exists()


def test_batch_input_checks_and_window_edges(restorer, monkeypatch):
    with pytest.raises(ValueError, match="floating-point"):
        restorer.restore_batch((3000 * torch.randn(1, 5000)).short())
    with pytest.raises(ValueError, match=r"\[batch, time\]"):
        restorer.restore_batch(torch.zeros(1, 1, 5000))
    # a [time, channels] waveform: named as such, not "1 samples"
    for shape in ((5000, 1), (5000, 2)):
        with pytest.raises(ValueError, match=r"\[time, channels\]") as err:
            restorer.restore_batch(torch.zeros(*shape))
        assert "expected [batch, time]" in str(err.value)
        assert "samples" not in str(err.value)
    for lens in (torch.ones(2), torch.ones(1, 1), torch.tensor([1.5])):
        with pytest.raises(ValueError, match=r"\[batch\] = \[1\]"):
            restorer.restore_batch(torch.zeros(1, 5000), lens)
    # Identity "restoration": lengths one hop around one window come back
    # whole (window = 0.5 s -> 22016 samples).
    monkeypatch.setattr(
        restorer, "generate_windows", lambda chunks, seed=None, **kw: chunks
    )
    for n in (22015, 22016, 22017, 22050, 3 * 22016 + 1):
        x = torch.randn(1, n)
        assert torch.allclose(restorer.restore_batch(x), x, atol=1e-5), n


def test_restore_file_output_checked_first(restorer, tmp_path, monkeypatch):
    src = tmp_path / "in.wav"
    save_audio(src, 0.1 * torch.randn(5000), SR)
    before = src.read_bytes()
    link = tmp_path / "hard.wav"
    os.link(src, link)
    monkeypatch.setattr(restorer, "restore_batch", None)  # never reached
    for dst, match in (
        (link, "refusing to overwrite"),
        (tmp_path, "is a folder"),
        (tmp_path / "x.mp3", r"\.wav or \.flac"),
    ):
        with pytest.raises(ValueError, match=match):
            restorer.restore_file(src, dst)
    assert src.read_bytes() == before


def test_devices_and_sources(folder, tmp_path):
    assert check_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        check_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            SpeechRestoration.from_hparams(
                source=str(folder[0]), run_opts={"device": "cuda"}
            )
    # from_hparams is SpeechBrain's own: a source that is no folder is
    # tried on the hub and refused there, naming it; masksr-restore checks
    # its --source first (model_kind) with the messages below.
    for source in (tmp_path / "none", folder[0] / "model.ckpt"):
        with pytest.raises(ValueError, match=re.escape(str(source))):
            SpeechRestoration.from_hparams(source=str(source))
        # from_folder fetches hyperparams.yaml first: a ModelFileError
        with pytest.raises(ModelFileError, match=re.escape(str(source))):
            SpeechRestoration.from_folder(source=str(source))
    with pytest.raises(ValueError, match="does not exist"):
        model_kind(str(tmp_path / "none"))
    with pytest.raises(ValueError, match="is a file"):
        model_kind(str(folder[0] / "model.ckpt"))
    bad = tmp_path / "bad"
    shutil.copytree(folder[0], bad)
    (bad / "model.ckpt").write_text("not a checkpoint")
    with pytest.raises(ModelFileError, match="corrupt"):
        SpeechRestoration.from_hparams(source=str(bad))
