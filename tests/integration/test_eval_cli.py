"""End-to-end tests of the ``masksr-eval`` console script on generated files.

Authors
 * speechbrain-masksr contributors 2026
"""

import csv
import importlib.metadata
import subprocess
import sys

import librosa
import numpy as np
import pytest
import torch

from speechbrain_masksr.cli.evaluate import main
from speechbrain_masksr.dataio import load_audio, save_audio
from speechbrain_masksr.metrics import lsd, si_sdr

SR = 16000
HEADER = "file,lsd,pesq,estoi,si_sdr,dnsmos_sig,dnsmos_bak,dnsmos_ovrl,spk_sim"


def speech_like(seed, sr=SR, dur=1.5, f0=130.0):
    """Amplitude-modulated harmonic complex with a decaying spectrum."""
    t = np.arange(int(sr * dur)) / sr
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.05 * np.sin(4 * t))) / sr
    x = sum(np.sin(k * phase) / k**1.5 for k in range(1, 30))
    x = x * (0.05 + np.clip(np.sin(2 * np.pi * 2.5 * t + seed), 0, None))
    x = x + 0.003 * np.random.RandomState(seed).randn(len(t))
    return torch.from_numpy(0.4 * x / np.max(np.abs(x))).float()


@pytest.fixture
def folders(tmp_path):
    """ref/{a,b,sub/c}.wav; est/{a,sub/c (44.1 kHz), d}.wav."""
    ref, est = tmp_path / "ref", tmp_path / "est"
    gen = torch.Generator().manual_seed(0)
    clean = {name: speech_like(i) for i, name in enumerate("abc")}
    save_audio(ref / "a.wav", clean["a"], SR)
    save_audio(ref / "b.wav", clean["b"], SR)
    save_audio(ref / "sub" / "c.wav", clean["c"], SR)
    noisy_a = clean["a"] + 0.02 * torch.randn(len(clean["a"]), generator=gen)
    save_audio(est / "a.wav", noisy_a, SR)
    up = torch.from_numpy(
        librosa.resample(clean["c"].numpy(), orig_sr=SR, target_sr=44100)
    )
    save_audio(est / "sub" / "c.wav", up, 44100)
    save_audio(est / "d.wav", clean["b"], SR)
    return ref, est


def read_csv(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_cli_pairs_lists_unpaired_and_writes_csv(folders, tmp_path, capsys):
    ref, est = folders
    out_csv = tmp_path / "out" / "scores.csv"
    code = main(
        [
            "--ref",
            str(ref),
            "--est",
            str(est),
            "--csv",
            str(out_csv),
            "--metrics",
            "lsd,pesq,estoi,si_sdr",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    # Files without a partner are listed, in both directions.
    assert "reference file(s) without a matching estimate" in captured.err
    assert "  b.wav" in captured.err
    assert "estimate file(s) without a matching reference" in captured.err
    assert "  d.wav" in captured.err
    # Markdown table of means on stdout.
    lines = captured.out.strip().splitlines()
    assert lines[0].startswith("| system | files | lsd ↓ | pesq ↑")
    assert lines[2].startswith("| est | 2 |")
    # Per-file CSV: exact columns, skipped metrics left empty.
    rows = read_csv(out_csv)
    assert ",".join(rows[0]) == HEADER
    by_file = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert sorted(by_file) == ["a.wav", "sub/c.wav"]
    for row in by_file.values():
        assert row["dnsmos_ovrl"] == "" and row["spk_sim"] == ""
        assert 1.0 <= float(row["pesq"]) <= 4.65
    # Values agree with the library on the files as written.
    ref_a, _ = load_audio(ref / "a.wav")
    est_a, _ = load_audio(est / "a.wav")
    row_a = by_file["a.wav"]
    assert float(row_a["si_sdr"]) == pytest.approx(
        si_sdr(ref_a, est_a), abs=1e-5
    )
    assert float(row_a["lsd"]) == pytest.approx(lsd(ref_a, est_a, SR), abs=1e-5)
    # The 44.1 kHz estimate of c is resampled to the reference's 16 kHz.
    row_c = by_file["sub/c.wav"]
    assert float(row_c["si_sdr"]) > 25
    assert float(row_c["pesq"]) > float(row_a["pesq"])
    means = np.mean([float(r["pesq"]) for r in by_file.values()])
    assert f"{means:.3f}" in lines[2]


def test_cli_all_metrics_fill_every_column(folders, tmp_path, capsys):
    ref, est = folders
    out_csv = tmp_path / "all.csv"
    code = main(
        [
            "--ref",
            str(ref / "a.wav"),
            "--est",
            str(est / "a.wav"),
            "--csv",
            str(out_csv),
            "--no-progress",
        ]
    )
    assert code == 0
    rows = read_csv(out_csv)
    assert ",".join(rows[0]) == HEADER
    assert len(rows) == 2
    values = [float(v) for v in rows[1][1:]]
    assert all(np.isfinite(values))
    assert 1 <= values[6] <= 5 and 0 < values[7] <= 1.0  # dnsmos_ovrl, spk


def test_cli_skips_unreadable_audio_and_fails_when_nothing_left(
    folders, capsys
):
    ref, est = folders
    (est / "b.wav").write_text("this is not audio")
    code = main(["--ref", str(ref), "--est", str(est), "--metrics", "si_sdr"])
    err = capsys.readouterr().err
    assert code == 0
    assert "skipping b.wav" in err and "not a readable audio file" in err
    # Only unreadable pairs: nothing evaluated, non-zero exit status.
    code = main(
        [
            "--ref",
            str(ref / "b.wav"),
            "--est",
            str(est / "b.wav"),
            "--metrics",
            "si_sdr",
        ]
    )
    assert code == 1
    assert "no pair could be evaluated" in capsys.readouterr().err


def test_cli_bad_arguments(folders, tmp_path, capsys):
    ref, est = folders
    assert main(["--ref", str(tmp_path / "nope"), "--est", str(est)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["--ref", str(ref), "--est", str(est), "--metrics", "x"]) == 2
    assert "unknown metric" in capsys.readouterr().err
    missing = str(tmp_path / "nope.pt")
    args = ["--ref", str(ref), "--est", str(est), "--spk-weights", missing]
    assert main(args + ["--metrics", "spk_sim"]) == 2
    assert f"--spk-weights {missing} not found" in capsys.readouterr().err


def test_cli_keeps_going_on_a_clip_too_short_to_score(tmp_path, capsys):
    ref, est = tmp_path / "ref", tmp_path / "est"
    for name, n in (("long.wav", SR), ("tiny.wav", 200)):
        save_audio(ref / name, speech_like(0)[:n], SR)
        save_audio(est / name, speech_like(0)[:n], SR)
    out_csv = tmp_path / "s.csv"
    code = main(
        [
            "--ref",
            str(ref),
            "--est",
            str(est),
            "--metrics",
            "estoi,si_sdr",
            "--csv",
            str(out_csv),
            "--no-progress",
        ]
    )
    assert code == 0
    assert "tiny.wav: estoi: clip too short" in capsys.readouterr().err
    rows = {r[0]: r for r in read_csv(out_csv)[1:]}
    assert rows["tiny.wav"][3] == "nan" and float(rows["long.wav"][3]) > 0.99


def test_console_script_is_declared_and_runs(folders):
    scripts = importlib.metadata.entry_points(group="console_scripts")
    targets = {ep.name: ep.value for ep in scripts}
    assert targets["masksr-eval"] == "speechbrain_masksr.cli.evaluate:main"
    ref, est = folders
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechbrain_masksr.cli.evaluate",
            "--ref",
            str(ref),
            "--est",
            str(est),
            "--metrics",
            "si_sdr",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "| est | 2 |" in proc.stdout
