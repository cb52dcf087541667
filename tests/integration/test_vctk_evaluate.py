"""End-to-end run of ``recipes/VCTK/evaluate.py`` on a tiny fake TestSets.

A tiny random MaskSR + tiny random DAC model folder (``write_model_folder``)
restores a miniature copy of VoiceFixer's ``TestSets`` layout (generated
44.1 kHz audio with the real folder and file naming patterns of ALL_GSR, SR
and DECLI), exactly as a user would run the script (subprocess, from the
repository root). The scores are checked against the metric functions.

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import math
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import torch
from helpers import speech_like, write_tiny_model_folder

from speechbrain_masksr.dataio import load_audio, save_audio
from speechbrain_masksr.metrics import lsd

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = "recipes/VCTK/evaluate.py"
SR = 44100
METRICS = "lsd,estoi,si_sdr"
#: Table columns of METRICS, in metrics_table order.
COLUMNS = ["lsd", "estoi", "si_sdr"]
#: Clean voices (shared generator): ``voice(samples=, f0=, seed=)``.
voice = partial(speech_like, rate=SR, n_harmonics=11, peak=0.2, noise=0.002)
#: Conditions of the fake TestSets -> ids of their degraded files.
CONDITIONS = {
    "test_gsr": ["0_p360_001_mic1", "1_p361_002_mic1"],
    "test_sr_butter_4000": ["p362_003"],
    "test_sr_cheby1_2000": ["p362_003"],
    "test_decli_0.25": ["p363_004"],
}


def lowpass(wav, cutoff):
    """Brick-wall low-pass (zeroes the FFT bins above ``cutoff`` Hz)."""
    spec = torch.fft.rfft(wav)
    freqs = torch.fft.rfftfreq(wav.shape[0], 1 / SR)
    return torch.fft.irfft(spec * (freqs <= cutoff), n=wav.shape[0])


def make_testsets(root):
    """VoiceFixer TestSets layout; returns ``{condition: {id: (in, ref)}}``."""
    g = torch.Generator().manual_seed(1)
    pairs = {c: {} for c in CONDITIONS}
    # ALL_GSR: simulated/<N>_<...>.wav paired with target/<N>_clean.wav
    for i, uid in enumerate(CONDITIONS["test_gsr"]):
        clean = voice(samples=30000 + 3001 * i, f0=120 + 40 * i, seed=i)
        noisy = lowpass(clean, 6000) + 0.03 * torch.randn(
            clean.shape, generator=g
        )
        pairs["test_gsr"][uid] = (
            root / "ALL_GSR" / "simulated" / f"{uid}.wav",
            root / "ALL_GSR" / "target" / f"{uid.split('_')[0]}_clean.wav",
        )
        save_audio(pairs["test_gsr"][uid][0], noisy, SR)
        save_audio(pairs["test_gsr"][uid][1], clean, SR)
    # SR/<filter>/<cutoff>/<spk>_<utt>.wav with SR/GroundTruth/..._mic1.wav
    clean = voice(samples=27777, f0=180, seed=5)
    ref = root / "SR" / "GroundTruth" / "p362_003_mic1.wav"
    save_audio(ref, clean, SR)
    for filt, cutoff in (("butter", 4000), ("cheby1", 2000)):
        path = root / "SR" / filt / str(cutoff) / "p362_003.wav"
        # quieter than the reference: peak normalisation must undo it
        save_audio(path, 0.5 * lowpass(clean, cutoff), SR)
        pairs[f"test_sr_{filt}_{cutoff}"]["p362_003"] = (path, ref)
    # DECLI/<threshold>/<spk>_<utt>.wav with DECLI/GroundTruth/..._mic1.wav
    clean = voice(samples=25000, f0=150, seed=6)
    peak = float(clean.abs().max())
    clipped = clean.clamp(-0.25 * peak, 0.25 * peak)
    ref = root / "DECLI" / "GroundTruth" / "p363_004_mic1.wav"
    path = root / "DECLI" / "0.25" / "p363_004.wav"
    save_audio(ref, clean, SR)
    save_audio(path, clipped, SR)
    pairs["test_decli_0.25"]["p363_004"] = (path, ref)
    return pairs


def table_rows(text):
    """``{section: {row name: [cells]}}`` of the Markdown tables."""
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), {})
        elif line.startswith("| ") and current is not None:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            current[cells[0]] = cells[1:]
    return sections


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Model folder + TestSets, then one evaluate.py run over all sets."""
    root = tmp_path_factory.mktemp("vctk_eval")
    source, _ = write_tiny_model_folder(root, sampling_steps=4)
    pairs = make_testsets(root / "TestSets")
    before = {
        p: p.read_bytes()
        for cond in pairs.values()
        for pr in cond.values()
        for p in pr
    }
    out = root / "results"
    cmd = [
        sys.executable,
        SCRIPT,
        "--source",
        str(source),
        "--data_folder",
        str(root / "TestSets"),
        "--output_folder",
        str(out),
        "--sets",
        "gsr,sr,decli",
        "--steps",
        "2",
        "--metrics",
        METRICS,
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    return dict(proc=proc, out=out, pairs=pairs, before=before)


def test_exit_status_and_inputs_untouched(run):
    proc = run["proc"]
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\n"
        f"stderr:\n{proc.stderr[-6000:]}"
    )
    for path, data in run["before"].items():
        assert path.read_bytes() == data, f"{path} was modified"


def test_restored_files_match_inputs(run):
    assert run["proc"].returncode == 0, run["proc"].stderr[-4000:]
    for cond, files in run["pairs"].items():
        written = sorted(p.stem for p in (run["out"] / cond).glob("*.wav"))
        assert written == sorted(files), cond
        for uid, (noisy_path, _) in files.items():
            noisy, _ = load_audio(noisy_path)
            restored, sr = load_audio(run["out"] / cond / f"{uid}.wav")
            assert sr == SR
            assert restored.shape == noisy.shape, (cond, uid)
            assert torch.isfinite(restored).all()
            assert float(restored.abs().max()) > 0
            assert not torch.allclose(restored, noisy, atol=1e-3)


def test_tables_one_row_per_condition_and_system(run):
    assert run["proc"].returncode == 0, run["proc"].stderr[-4000:]
    saved = (run["out"] / "metrics.md").read_text(encoding="utf-8")
    assert saved.strip() in run["proc"].stdout  # printed as well
    sections = table_rows(saved)
    assert list(sections) == ["GSR", "SR", "DECLI"]
    expected = {
        "GSR": ["test_gsr"],
        "SR": ["test_sr_butter_4000", "test_sr_cheby1_2000", "all"],
        "DECLI": ["test_decli_0.25"],
    }
    for section, conds in expected.items():
        rows = sections[section]
        assert rows.pop("system")[:1] == ["lsd ↓"]
        wanted = [
            f"{c} / {s}" for c in conds for s in ("Unprocessed", "MaskSR")
        ]
        assert list(rows) == wanted, section
        for name, cells in rows.items():
            assert len(cells) == len(COLUMNS), name
            assert all(math.isfinite(float(c)) for c in cells), (name, cells)
    # "all" pools the files of the SR conditions (one file each here)
    sr = sections["SR"]
    for system in ("Unprocessed", "MaskSR"):
        pooled = [float(sr[f"{c} / {system}"][0]) for c in expected["SR"][:2]]
        assert float(sr[f"all / {system}"][0]) == pytest.approx(
            sum(pooled) / 2, abs=1e-3
        )
    scores = json.loads((run["out"] / "scores.json").read_text())
    assert set(scores) == set(CONDITIONS)
    for cond, files in scores.items():
        assert set(files) == set(CONDITIONS[cond])
        for per_system in files.values():
            assert set(per_system) == {"Unprocessed", "MaskSR"}
            for values in per_system.values():
                assert list(values) == COLUMNS
                assert all(math.isfinite(v) for v in values.values())


def test_unprocessed_lsd_matches_metric(run):
    """Scores of the inputs equal the LSD computed directly on the pairs."""
    assert run["proc"].returncode == 0, run["proc"].stderr[-4000:]
    scores = json.loads((run["out"] / "scores.json").read_text())
    pairs = run["pairs"]
    direct = []
    for uid, (noisy_path, clean_path) in pairs["test_gsr"].items():
        noisy, _ = load_audio(noisy_path)
        clean, _ = load_audio(clean_path)
        value = lsd(clean, noisy, SR)
        assert scores["test_gsr"][uid]["Unprocessed"]["lsd"] == pytest.approx(
            value, rel=1e-6
        )
        direct.append(value)
    # the table's GSR row is the mean over the files
    gsr = table_rows((run["out"] / "metrics.md").read_text())["GSR"]
    assert float(gsr["test_gsr / Unprocessed"][0]) == pytest.approx(
        sum(direct) / len(direct), abs=6e-4
    )
    # SR is scored after peak normalisation of both signals (VoiceFixer)
    noisy_path, clean_path = pairs["test_sr_cheby1_2000"]["p362_003"]
    noisy, _ = load_audio(noisy_path)
    clean, _ = load_audio(clean_path)
    normalised = lsd(clean / clean.abs().max(), noisy / noisy.abs().max(), SR)
    got = scores["test_sr_cheby1_2000"]["p362_003"]["Unprocessed"]["lsd"]
    assert got == pytest.approx(normalised, rel=1e-6)
    assert abs(got - lsd(clean, noisy, SR)) > 0.1  # it matters
