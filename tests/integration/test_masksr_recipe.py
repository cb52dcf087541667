"""End-to-end runs of the MaskSR DNS recipe on a tiny generated corpus.

Two runs of ``recipes/DNS/train.py hparams/masksr.yaml`` as a user would
(from the repository root, in a subprocess) on a mini DNS-layout corpus, a
tiny random DAC and a tiny model: one in SpeechBrain's ``--debug`` mode
(run once by a module fixture, each of its outputs checked by its own
test), one under ``torchrun`` with two CPU processes (gloo).

Authors
 * speechbrain-masksr contributors 2026
"""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from speechbrain_masksr.dataio import load_audio

ROOT = Path(__file__).resolve().parents[2]
TRAIN = "recipes/DNS/train.py"
HPARAMS = "hparams/masksr.yaml"

#: Tiny model and fast evaluation (no DNSMOS / speaker model in tests). The
#: mini corpus has no DNS 4 subsets and no AISHELL-1.
TINY = [
    "--dns_clean_subsets=[]",
    "--aishell_folder=null",
    "--d_model=32",
    "--nhead=4",
    "--encoder_layers=1",
    "--lm_layers=1",
    "--n_fft=256",
    "--segment_seconds=0.5",
    "--batch_size=2",
    "--num_workers=0",
    "--number_of_epochs=1",
    "--valid_ratio=0.2",
    "--test_ratio=0.2",
    "--valid_restore_clips=1",
    "--sampling_steps=3",
    "--valid_metrics=[lsd]",
    "--test_metrics=[lsd,estoi]",
    "--noprogressbar",
]


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """Mini corpus, tiny DAC weights and a token folder shared by the runs."""
    from mini_corpus import make_mini_corpus

    from speechbrain_masksr.codecs.dac import save_tiny_dac

    root = tmp_path_factory.mktemp("masksr_recipe")
    make_mini_corpus(
        root / "corpus",
        n_speech=6,
        n_noise=2,
        n_rir=2,
        n_test=1,
        n_real=1,
        min_duration=1.1,
        max_duration=1.3,
        seed=0,
    )
    dac = save_tiny_dac(root / "dac.pth")
    return {
        "data": str(root / "corpus"),
        "dac": dac,
        "tokens": str(root / "tokens"),
    }


def _run(cmd, timeout=600):
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        cmd,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, (
        f"{' '.join(cmd)}\nexit {proc.returncode}\n"
        f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-6000:]}"
    )
    return proc


def _common(assets, out, effective_batch=2):
    """Arguments of every run; ``effective_batch`` = the tiny batch of 2 x
    grad_accumulation_factor x processes."""
    return [
        f"--data_folder={assets['data']}",
        f"--output_folder={out}",
        f"--codec_path={assets['dac']}",
        f"--token_folder={assets['tokens']}",
        f"--effective_batch_size={effective_batch}",
        *TINY,
    ]


def _metrics_rows(table_text):
    rows = {}
    for line in table_text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) > 1 and cells[0] in ("Unprocessed", "MaskSR", "Target"):
            rows.setdefault(cells[0], cells[1:])
    return rows


@pytest.fixture(scope="module")
def debug_run(assets, tmp_path_factory):
    """One ``--debug`` run with two test sets; returns its output folder."""
    out = tmp_path_factory.mktemp("masksr_debug") / "out"
    _run(
        [
            sys.executable,
            TRAIN,
            HPARAMS,
            *_common(assets, out, effective_batch=4),
            "--debug",
            "--debug_persistently",
            "--test_sets=[test,test_no_reverb,test_real]",
            # 2 batches of 2 per optimizer step; stop after the first step
            "--grad_accumulation_factor=2",
            "--total_steps=1",
        ]
    )
    return out


def test_debug_run_writes_the_experiment_folder(debug_run):
    """SpeechBrain experiment folder + our logs."""
    for name in ("hyperparams.yaml", "log.txt", "env.log", "train.py"):
        assert (debug_run / name).is_file(), name


def test_debug_run_logs_losses_accuracies_and_restored_metrics(debug_run):
    log = (debug_run / "train_log.txt").read_text()
    epochs = [ln for ln in log.splitlines() if ln.startswith("epoch:")]
    # --debug runs 2 epochs; the step limit (total_steps) ends the first
    assert len(epochs) == 1, log
    epoch_line = epochs[0]
    assert epoch_line.startswith("epoch: 1, steps: 1,")
    assert "train loss" in epoch_line and "valid loss" in epoch_line
    for q in range(1, 10):  # per-codebook token accuracy of the 9 codebooks
        acc = re.search(rf"valid acc_q{q}: ([0-9.e+-]+)", epoch_line)
        assert acc and 0.0 <= float(acc.group(1)) <= 1.0
    # restored-audio metrics of the validation clip (model and input)
    assert "valid masksr_lsd" in epoch_line
    assert "valid unprocessed_lsd" in epoch_line
    assert "test set: test_no_reverb" in log


def test_debug_run_checkpoint_stores_the_model(debug_run):
    """One checkpoint, with the MaskSR module stored as ``model``."""
    ckpts = sorted((debug_run / "save").glob("CKPT+*"))
    assert len(ckpts) == 1
    brain_state = (ckpts[0] / "brain.ckpt").read_text()
    assert "optimizer_step: 1\n" in brain_state
    state = torch.load(ckpts[0] / "model.ckpt", weights_only=True)
    assert any(k.startswith("lm.heads.") for k in state)
    assert state["lm.null_embedding"].shape == (32,)


def test_debug_run_caches_clean_tokens(assets, debug_run):
    """Clean tokens cached once per clean file (train/valid/test + paired)."""
    cached = list(Path(assets["tokens"]).glob("codec-*/*.npy"))
    n_clean = sum(
        len(json.loads((debug_run / "save" / f"{s}.json").read_text()))
        for s in ("train", "valid", "test", "test_no_reverb")
    )
    assert len(cached) >= n_clean


def test_debug_run_restores_both_test_sets(debug_run):
    """Restored files: 44.1 kHz, whole frames, not silent."""
    test_ids = json.loads((debug_run / "save" / "test.json").read_text())
    restored = debug_run / "restored"
    for uid in test_ids:
        wav, sr = load_audio(restored / "test" / f"{uid}.wav")
        assert sr == 44100 and wav.shape[0] % 512 == 0
        assert float(wav.abs().max()) > 0
        assert (restored / "test" / "unprocessed" / f"{uid}.wav").is_file()
    assert list((restored / "test_no_reverb").glob("fileid_*.wav"))


def test_debug_run_writes_the_metrics_tables(debug_run, tmp_path):
    """Rows for the input, the model and the clean target, per test set."""
    table = (debug_run / "test_metrics.md").read_text()
    assert "## test (" in table and "## test_no_reverb (" in table
    rows = _metrics_rows(table)
    assert set(rows) == {"Unprocessed", "MaskSR", "Target"}
    assert rows["Target"][:2] == ["0.000", "1.000"]  # lsd, estoi of ref
    results = json.loads((debug_run / "test_metrics.json").read_text())
    assert set(results) == {"test", "test_no_reverb", "test_real"}
    assert len(results["test"]["accuracy"]) == 9
    _check_reference_free_set(debug_run, table, results["test_real"], tmp_path)


def _check_reference_free_set(out, table, result, tmp_path):
    """DNS real_recordings: restored, then scored as masksr-eval --est."""
    from speechbrain_masksr.cli.evaluate import main as masksr_eval

    assert "## test_real (1 clips, no reference)" in table
    assert result["reference_free"] and result["metrics"] == [
        "dnsmos_sig",
        "dnsmos_bak",
        "dnsmos_ovrl",
    ]
    (uid,) = json.loads((out / "save" / "test_real.json").read_text())
    entry = json.loads((out / "save" / "test_real.json").read_text())[uid]
    wav, sr = load_audio(out / "restored" / "test_real" / f"{uid}.wav")
    assert sr == 44100 and float(wav.abs().max()) > 0
    # the input's duration (16 kHz file restored at 44.1 kHz)
    assert abs(wav.shape[0] / sr - entry["duration"]) < 1e-3
    for system, folder in (
        ("MaskSR", out / "restored" / "test_real"),
        ("Unprocessed", out / "restored" / "test_real" / "unprocessed"),
    ):
        means = result["systems"][system]
        assert means["files"] == 1
        assert all(1.0 <= means[k] <= 5.0 for k in result["metrics"])
        # the same numbers as masksr-eval --est on the written file
        cli_csv = tmp_path / f"{system}.csv"
        code = masksr_eval(
            ["--est", str(folder / f"{uid}.wav"), "--metrics", "dnsmos"]
            + ["--csv", str(cli_csv), "--no-progress"]
        )
        assert code == 0
        with open(cli_csv, newline="") as fin:
            cli = next(csv.DictReader(fin))
        with open(folder / "scores.csv", newline="") as fin:
            recipe = next(csv.DictReader(fin))
        assert recipe == cli
        for key in result["metrics"]:
            assert means[key] == pytest.approx(float(cli[key]), abs=1e-6)
    rows = _metrics_rows(table.split("## test_real")[1])
    assert set(rows) == {"Unprocessed", "MaskSR"}
    assert rows["MaskSR"][0] == "1"  # files column, then DNSMOS


def test_torchrun_two_cpu_processes(assets, tmp_path):
    out = tmp_path / "ddp"
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            TRAIN,
            HPARAMS,
            *_common(assets, out, effective_batch=4),  # 2 processes x 2
            "--device=cpu",
            "--distributed_backend=gloo",
        ]
    )
    ckpts = sorted((out / "save").glob("CKPT+*"))
    assert len(ckpts) == 1  # saved once, by the main process
    assert (ckpts[0] / "model.ckpt").is_file()
    # each process's random generators, in the one (renamed) folder
    assert (ckpts[0] / "rng_state.ckpt").is_file()
    assert (ckpts[0] / "rng_state.rank1.ckpt").is_file()
    assert not list((out / "save").glob(".tmp-*"))
    log = (out / "train_log.txt").read_text()
    assert len([ln for ln in log.splitlines() if ln.startswith("epoch:")]) == 1
    assert "valid acc_q9" in log
    assert (out / "test_metrics.md").is_file()
