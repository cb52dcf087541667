"""End-to-end runs of the MAE speech-enhancement recipes on generated audio.

Each recipe runs as a user runs it (from the repository root, in a
subprocess, on CPU) with a tiny model and a tiny generated corpus:

* ``recipes/VoiceBank/train.py hparams/mae_se_vbd_istft.yaml`` on a
  VoiceBank-DEMAND layout (48 kHz pairs, noisy = clean + noise): scored
  ``metrics.md`` and an exported model folder that
  ``MAEEnhancement.from_hparams`` loads;
* ``recipes/UniversalSE/pretrain.py
  hparams/mae_universal_pretrain_small.yaml`` on noisy-only audio, then
  ``recipes/Folders/train.py`` fine-tuning its encoder
  (``hparams/mae_universal_finetune_denoise_small.yaml``: the frozen
  bottom blocks stay bit-identical, the top ones train) and the baseline
  from scratch (``hparams/mae_universal_scratch_denoise_small.yaml``);
* ``recipes/DNS/train_enhancer.py hparams/mae_se_dns_istft.yaml`` on a DNS
  layout (``datasets/clean``, ``datasets/noise``).

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from speechbrain_masksr.dataio import load_audio, save_audio

ROOT = Path(__file__).resolve().parents[2]

#: Tiny model, 16 kHz STFT grid, one epoch (``key: value`` overrides).
TINY = {
    "embed_dim": 32,
    "depth": 1,
    "num_heads": 2,
    "decoder_dim": 16,
    "decoder_depth": 1,
    "decoder_num_heads": 2,
    "segment_samples": 8192,
    "sample_rate": 16000,
    "n_fft": 512,
    "hop_length": 128,
    "number_of_epochs": 1,
    "batch_size": 2,
    "test_items": 1,
    "num_workers": 0,
}
#: SpeechBrain run options (not YAML keys).
RUN_OPTS = ["--device=cpu", "--noprogressbar"]


def yaml_keys(hparams):
    """Top-level keys of a recipe YAML."""
    text = (ROOT / hparams).read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z_]\w*):", text, flags=re.MULTILINE))


def run_recipe(script, hparams, overrides, timeout=300):
    """Run ``script hparams --key=value ...`` from the repository root.

    Every override must be a top-level key of the YAML (HyperPyYAML fails
    on the others, with a less helpful message).
    """
    missing = sorted(set(overrides) - yaml_keys(hparams))
    assert not missing, f"{hparams} has no keys {missing}"
    cmd = [
        sys.executable,
        script,
        hparams,
        *(f"--{k}={v}" for k, v in overrides.items()),
        *RUN_OPTS,
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, (
        f"{' '.join(cmd)}\nexit {proc.returncode}\n"
        f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-6000:]}"
    )
    return proc


def metrics_rows(path):
    """``{system: {column: cell}}`` of a ``metrics.md`` table."""
    lines = [ln for ln in path.read_text().splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header[1:], cells[1:]))
    return rows


def assert_scored(out, files=1):
    """``metrics.md``: Unprocessed and Enhanced rows of finite scores."""
    rows = metrics_rows(out / "metrics.md")
    assert set(rows) == {"Unprocessed", "Enhanced"}
    for system, row in rows.items():
        assert row.pop("files") == str(files), system
        assert {"pesq ↑", "estoi ↑", "si_sdr ↑"} <= set(row), row
        for column, cell in row.items():
            assert math.isfinite(float(cell)), (system, column, cell)
    return rows


def speech(rate, seconds, seed, f0):
    from mini_corpus import synthetic_speech

    rng = np.random.default_rng(seed)
    return synthetic_speech(seconds, rate, rng, f0=f0)


def noise(rate, seconds, seed, scale=0.05):
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(round(seconds * rate), generator=g)


def state(path):
    return torch.load(path, map_location="cpu", weights_only=True)


def block_keys(sd, block):
    prefix = f"mae.encoder.blocks.{block}."
    keys = [k for k in sd if k.startswith(prefix)]
    assert keys, prefix
    return keys


def same(a, b, keys):
    return all(torch.equal(a[k], b[k]) for k in keys)


def differs_everywhere(a, b, keys):
    """Every tensor of ``keys`` changed (shapes equal)."""
    return all(
        a[k].shape == b[k].shape and not torch.equal(a[k], b[k]) for k in keys
    )


# ------------------------------------------------------------ VoiceBank ---


@pytest.fixture(scope="module")
def voicebank_run(tmp_path_factory):
    """``(data, out)``: the VoiceBank recipe run once on a generated corpus."""
    root = tmp_path_factory.mktemp("voicebank")
    data = root / "vbd"
    rate = 48000  # the original release; resampled to 16 kHz on the fly
    utterances = {
        "trainset_28spk": ["p226_001", "p287_001", "p230_001", "p230_002"],
        "testset": ["p232_001", "p232_002"],
    }
    seed = 0
    for part, names in utterances.items():
        for name in names:
            clean = speech(rate, 1.0, seed, f0=100.0 + 15 * seed)
            noisy = clean + noise(rate, 1.0, 100 + seed)
            save_audio(
                str(data / f"clean_{part}_wav" / f"{name}.wav"), clean, rate
            )
            save_audio(
                str(data / f"noisy_{part}_wav" / f"{name}.wav"), noisy, rate
            )
            seed += 1
    out = root / "out"
    run_recipe(
        "recipes/VoiceBank/train.py",
        "hparams/mae_se_vbd_istft.yaml",
        {"data_folder": data, "output_folder": out, **TINY},
    )
    return data, out


def test_voicebank_holds_out_speakers(voicebank_run):
    """p226 and p287 held out for validation, the test speaker for testing."""
    save = voicebank_run[1] / "save"
    manifests = {
        s: sorted(json.loads((save / f"vbd_{s}.json").read_text()))
        for s in ("train", "valid", "test")
    }
    assert manifests == {
        "train": ["p230_001", "p230_002"],
        "valid": ["p226_001", "p287_001"],
        "test": ["p232_001", "p232_002"],
    }


def test_voicebank_trains_one_epoch_and_scores(voicebank_run):
    out = voicebank_run[1]
    log = (out / "train_log.txt").read_text()
    assert len([ln for ln in log.splitlines() if ln.startswith("epoch:")]) == 1
    assert "valid si_sdr" in log
    assert_scored(out)


def test_voicebank_enhances_one_test_file(voicebank_run):
    """At the model's rate, as long as its input."""
    enhanced = sorted((voicebank_run[1] / "enhanced" / "enhanced").glob("*"))
    assert len(enhanced) == 1
    wav, sr = load_audio(str(enhanced[0]))
    assert sr == 16000 and wav.shape == (16000,)


@pytest.fixture(scope="module")
def voicebank_model(voicebank_run):
    """The exported model folder, loaded by ``MAEEnhancement``."""
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    return MAEEnhancement.from_hparams(
        source=str(voicebank_run[1] / "model"), run_opts={"device": "cpu"}
    )


def test_voicebank_exports_the_checkpoint(voicebank_run, voicebank_model):
    ckpt = next((voicebank_run[1] / "save").glob("CKPT+*"))
    saved = state(ckpt / "enhancer.ckpt")
    exported = voicebank_model.mods.enhancer.state_dict()
    assert saved.keys() == exported.keys()
    assert all(torch.equal(saved[k], exported[k]) for k in saved)
    assert voicebank_model.sample_rate == 16000
    assert voicebank_model.mods.enhancer.variant == "complex_mask"


def test_voicebank_model_enhances_a_48khz_file(
    voicebank_run, voicebank_model, tmp_path
):
    """A 48 kHz file comes out at the model's 16 kHz."""
    noisy_file = voicebank_run[0] / "noisy_testset_wav" / "p232_002.wav"
    result = voicebank_model.enhance_file(
        str(noisy_file), str(tmp_path / "e.wav")
    )
    assert result.shape == (16000,)
    assert torch.isfinite(result).all() and result.abs().max() > 0
    written, sr = load_audio(str(tmp_path / "e.wav"))
    assert sr == 16000 and written.shape == (16000,)


# ---------------------------------------------------------- UniversalSE ---

#: Three encoder blocks: with ``trainable_encoder_blocks: 2`` of the
#: fine-tuning YAML, block 0 (and the patch embedding) stays frozen.
UNIVERSAL = {**TINY, "depth": 3, "valid_ratio": 0.25}


@pytest.fixture(scope="module")
def universal_data(tmp_path_factory):
    """Noisy-only audio (pretraining), clean speech and noise folders."""
    root = tmp_path_factory.mktemp("universal")
    rate = 16000
    for i in range(4):
        clean = speech(rate, 1.0, 10 + i, f0=110.0 + 20 * i)
        save_audio(str(root / "clean" / f"c{i}.wav"), clean, rate)
        noisy = clean + noise(rate, 1.0, 20 + i)
        save_audio(str(root / "noisy" / f"n{i}.wav"), noisy, rate)
    for i in range(2):
        save_audio(
            str(root / "noise" / f"z{i}.wav"), noise(rate, 1.5, 30 + i), rate
        )
    return root


@pytest.fixture(scope="module")
def pretrained(universal_data):
    """The pretraining run (speaker_folder null: the noisy audio itself
    provides the interfering talkers)."""
    out = universal_data / "pretrain"
    run_recipe(
        "recipes/UniversalSE/pretrain.py",
        "hparams/mae_universal_pretrain_small.yaml",
        {
            "speech_folder": universal_data / "noisy",
            "noise_folder": universal_data / "noise",
            "output_folder": out,
            **UNIVERSAL,
        },
    )
    assert_scored(out)
    path = out / "model" / "enhancer.ckpt"
    assert path.is_file()
    return path


def downstream(universal_data, hparams, out, **extra):
    run_recipe(
        "recipes/Folders/train.py",
        hparams,
        {
            "speech_folder": universal_data / "clean",
            "noise_folder": universal_data / "noise",
            "output_folder": out,
            "train_items": 2,
            **UNIVERSAL,
            **extra,
        },
    )
    assert_scored(out)
    return state(out / "model" / "enhancer.ckpt")


def test_universal_finetune_keeps_frozen_blocks(
    universal_data, pretrained, tmp_path
):
    pre = state(pretrained)
    assert pre["mae.encoder.blocks.2.attn.qkv.weight"].shape == (96, 32)
    fine = downstream(
        universal_data,
        "hparams/mae_universal_finetune_denoise_small.yaml",
        tmp_path / "finetune",
        pretrained_path=pretrained,
    )
    # frozen: block 0, patch embedding, positions: bit-identical
    frozen = [*block_keys(fine, 0)]
    frozen += [k for k in fine if k.startswith("mae.encoder.patch_embed.")]
    frozen.append("mae.encoder.pos_embed")
    assert same(fine, pre, frozen)
    # the top two blocks and the final norm trained
    for block in (1, 2):
        assert differs_everywhere(fine, pre, block_keys(fine, block)), block
    assert not torch.equal(
        fine["mae.encoder.norm.weight"], pre["mae.encoder.norm.weight"]
    )
    log = (tmp_path / "finetune" / "log.txt").read_text()
    assert f"['encoder'] from {pretrained}" in log


def test_universal_scratch_trains_its_own_encoder(
    universal_data, pretrained, tmp_path
):
    pre = state(pretrained)
    scratch = downstream(
        universal_data,
        "hparams/mae_universal_scratch_denoise_small.yaml",
        tmp_path / "scratch",
    )
    for block in (0, 1, 2):
        keys = block_keys(scratch, block)
        assert differs_everywhere(scratch, pre, keys), block
    log = (tmp_path / "scratch" / "log.txt").read_text()
    assert "trained from scratch" in log


# ------------------------------------------------------------------ DNS ---


def test_dns_enhancer_recipe(tmp_path):
    data = tmp_path / "dns"
    rate = 16000
    for i in range(8):
        clean = speech(rate, 1.0, 40 + i, f0=100.0 + 10 * i)
        save_audio(str(data / "datasets" / "clean" / f"c{i}.wav"), clean, rate)
    for i in range(2):
        save_audio(
            str(data / "datasets" / "noise" / f"z{i}.wav"),
            noise(rate, 1.5, 50 + i),
            rate,
        )
    out = tmp_path / "out"
    run_recipe(
        "recipes/DNS/train_enhancer.py",
        "hparams/mae_se_dns_istft.yaml",
        {
            "data_folder": data,
            "output_folder": out,
            **TINY,
            "segment_seconds": 0.1,
            "valid_ratio": 0.25,
            "test_ratio": 0.25,
        },
    )
    for name in ("train", "valid", "test", "noise"):
        assert (out / "save" / f"{name}.json").is_file(), name
    assert_scored(out)
    enhanced = list((out / "enhanced" / "enhanced").glob("*.wav"))
    assert len(enhanced) == 1
    assert (out / "model" / "enhancer.ckpt").is_file()
