"""The evaluation-set maker and the float16 model-folder export.

Authors
 * speechbrain-masksr contributors 2026
"""

import csv
import importlib.util
import math
from pathlib import Path

import pytest
import torch

from speechbrain_masksr.augment.levels import measure_snr
from speechbrain_masksr.dataio import load_audio, save_audio
from speechbrain_masksr.inference.restoration import (
    load_model_weights,
    write_model_folder,
)

ROOT = Path(__file__).resolve().parents[2]


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        "make_eval_set", ROOT / "tools" / "make_eval_set.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def folders(tmp_path):
    g = torch.Generator().manual_seed(0)
    sr = 16000
    t = torch.arange(2 * sr) / sr
    for i in range(3):
        f0 = 120.0 + 40 * i
        speech = 0.3 * torch.sin(2 * math.pi * f0 * t) * (t % 0.5 < 0.35)
        save_audio(tmp_path / "clean" / f"utt{i}.wav", speech, sr)
    for i in range(2):
        noise = 0.1 * torch.randn(3 * sr, generator=g)
        save_audio(tmp_path / "noise" / f"n{i}.wav", noise, sr)
    rir = torch.zeros(sr // 4)
    rir[0] = 1.0
    rir[200:] = 0.05 * torch.randn(sr // 4 - 200, generator=g)
    save_audio(tmp_path / "rir" / "room.wav", rir, sr)
    return tmp_path


def test_make_eval_set_snr_reverb_and_no_overwrite(folders):
    tool = _load_tool()
    out = folders / "set"
    args = ["--clean", str(folders / "clean"), "--noise"]
    args += [str(folders / "noise"), "--out", str(out), "--n", "2"]
    args += ["--snr-low", "5", "--snr-high", "10"]
    assert tool.main(args) == 0
    rows = list(csv.DictReader(open(out / "manifest.csv")))
    assert [r["id"] for r in rows] == ["utt0", "utt1"]
    for row in rows:
        clean, _ = load_audio(out / "clean" / f"{row['id']}.wav")
        noisy, _ = load_audio(out / "noisy" / f"{row['id']}.wav")
        assert clean.shape == noisy.shape
        snr = float(measure_snr(clean[None], (noisy - clean)[None]))
        assert 5.0 - 0.5 <= snr <= 10.0 + 0.5
        assert abs(snr - float(row["snr_db"])) < 0.5
    # the same seed gives the same set; an existing folder is never touched
    before = (out / "noisy" / "utt0.wav").read_bytes()
    assert tool.main(args) == 2
    assert (out / "noisy" / "utt0.wav").read_bytes() == before
    again = folders / "again"
    assert tool.main(args[:5] + [str(again)] + args[6:]) == 0
    assert (again / "noisy" / "utt0.wav").read_bytes() == before
    # with reverberation the noisy file keeps energy after the speech
    rev = folders / "rev"
    args_rev = args[:5] + [str(rev)] + args[6:]
    args_rev += ["--rir", str(folders / "rir"), "--reverb-prob", "1"]
    args_rev += ["--snr-low", "40", "--snr-high", "40"]
    assert tool.main(args_rev) == 0
    dry, _ = load_audio(out / "noisy" / "utt0.wav")  # SNR 5-10 dB, no room
    wet, _ = load_audio(rev / "noisy" / "utt0.wav")  # SNR 40 dB, the room
    clean, _ = load_audio(rev / "clean" / "utt0.wav")
    t = torch.arange(clean.numel()) / 16000
    gap = (t % 0.5 >= 0.36) & (t % 0.5 < 0.45)  # just after each tone
    tail = wet[gap].pow(2).mean() / clean[~gap].pow(2).mean()
    assert float(tail) > 10 ** (-30 / 10)  # the tail is far above -40 dB
    assert float(clean[gap].abs().max()) == 0.0
    assert dry.shape == wet.shape
    assert all(
        r["rir"] == "room.wav"
        for r in csv.DictReader(open(rev / "manifest.csv"))
    )
    assert (
        tool.main(
            [
                "--clean",
                "x",
                "--noise",
                "y",
                "--out",
                str(folders / "z"),
                "--reverb-prob",
                "0.5",
            ]
        )
        == 2
    )


def test_float16_model_file_is_half_and_loads(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 8))
    codec = tmp_path / "codec.pth"
    torch.save({}, codec)
    cfg = dict(
        sample_rate=44100,
        segment_seconds=3.0,
        d_model=32,
        nhead=4,
        encoder_layers=1,
        lm_layers=1,
        n_codebooks=9,
        codebook_size=1024,
        variant="flat",
        cond_dropout=0.1,
        sampling_steps=8,
        guidance=2.0,
    )
    full = write_model_folder(tmp_path / "f32", model, cfg, codec)
    half = write_model_folder(
        tmp_path / "f16", model, cfg, codec, weights_dtype=torch.float16
    )
    size32 = (full / "model.ckpt").stat().st_size
    size16 = (half / "model.ckpt").stat().st_size
    assert size16 < 0.6 * size32
    state = torch.load(half / "model.ckpt", weights_only=True)
    assert all(v.dtype == torch.float16 for v in state.values())
    fresh = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 8))
    load_model_weights(fresh, half / "model.ckpt")
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert b.dtype == torch.float32
        assert torch.equal(a.detach().half().float(), b.detach())
        assert not torch.equal(a.detach(), b.detach()) or a.abs().max() == 0
