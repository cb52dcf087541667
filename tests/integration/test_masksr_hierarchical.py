"""The hierarchical (SoundStorm-style) MaskSR variant, end to end.

* the DNS recipe trains, validates and tests a tiny hierarchical model
  (``--variant=hierarchical``, the tiny settings and fixtures of
  ``test_masksr_recipe.py``);
* a tiny hierarchical model overfit on one utterance gives its tokens back
  with level-by-level sampling, calling the LM ``sum(level_steps)`` times
  (by default ``steps`` for the first level, then one greedy pass per
  level).

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import math
import re
import sys

import pytest
import test_masksr_recipe as recipe  # pytest puts this folder on sys.path
import torch

from speechbrain_masksr.dataio import load_audio
from speechbrain_masksr.lobes.masksr import build_masksr

#: The recipe test's module-scoped fixture: mini DNS corpus + tiny DAC.
assets = recipe.assets


def _accuracies(line, stage, n_codebooks=9):
    """Per-codebook accuracies ``stage acc_q<k>`` of one train-log line."""
    accs = []
    for q in range(1, n_codebooks + 1):
        match = re.search(rf"{stage} acc_q{q}: ([0-9.e+-]+|nan)", line)
        assert match, f"{stage} acc_q{q} missing from: {line}"
        accs.append(float(match.group(1)))
    return accs


def test_recipe_hierarchical_variant(assets, tmp_path):
    out = tmp_path / "out"
    recipe._run(
        [
            sys.executable,
            recipe.TRAIN,
            recipe.HPARAMS,
            *recipe._common(assets, out),
            "--debug",
            "--debug_persistently",
            "--variant=hierarchical",
            "--overlap_seconds=0.0",  # the paper's non-overlapping windows
        ]
    )
    hparams = (out / "hyperparams.yaml").read_text()
    assert re.search(r"^variant: hierarchical\b", hparams, re.M)
    assert re.search(r"^upper_levels: greedy\b", hparams, re.M)
    assert re.search(r"^overlap_seconds: 0.0\b", hparams, re.M)
    log = (out / "train_log.txt").read_text().splitlines()
    epoch = next(ln for ln in log if ln.startswith("epoch: 1"))
    test = next(ln for ln in log if "test set: test" in ln)
    for line, stage in ((epoch, "valid"), (test, "test")):
        accs = _accuracies(line, stage)
        scored = [a for a in accs if not math.isnan(a)]
        assert all(0.0 <= a <= 1.0 for a in scored)
        # one level is scored per example (flat training scores all 9)
        n_examples = len(
            json.loads((out / "save" / f"{stage}.json").read_text())
        )
        assert 1 <= len(scored) <= min(n_examples, 8), line
        assert re.search(rf"{stage} loss: [0-9.]+", line)
    assert list((out / "save").glob("CKPT+*/model.ckpt"))
    # the test stage restored audio with the hierarchical sampler, in
    # back-to-back 0.5 s windows (1.1-1.3 s clips: 3 windows, same length)
    for uid in json.loads((out / "save" / "test.json").read_text()):
        wav, sr = load_audio(out / "restored" / "test" / f"{uid}.wav")
        raw, _ = load_audio(
            out / "restored" / "test" / "unprocessed" / f"{uid}.wav"
        )
        assert sr == 44100 and torch.isfinite(wav).all()
        assert wav.shape == raw.shape and wav.shape[0] > 2 * 22016
        assert float(wav.abs().max()) > 0


Q, V, N = 3, 16, 22050  # codebooks, entries, samples (0.5 s -> 44 frames)


def _tiny():
    return build_masksr(
        variant="hierarchical",
        n_codebooks=Q,
        codebook_size=V,
        hop_length=512,
        d_model=32,
        encoder_layers=1,
        lm_layers=1,
        nhead=4,
        dropout=0.0,
        cond_dropout=0.1,
    )


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op thread for the module (training and sampling)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def overfit(one_thread):
    """``(model, wav, target)``: a tiny hierarchical model trained (400
    Adam steps) to memorise the tokens ``target`` of one utterance."""
    torch.manual_seed(0)
    t = torch.arange(N) / 44100
    wav = 0.3 * torch.sin(2 * math.pi * 220 * t * (1 + t))
    wav = wav + 0.05 * torch.randn(N)
    target = torch.randint(0, V, (1, Q, math.ceil(N / 512)))
    model = _tiny()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    batch = 8
    wavs, tokens = wav.expand(batch, N), target.expand(batch, -1, -1)
    for _ in range(400):
        out = model(wavs, tokens)
        loss, _ = model.loss(out["logits"], tokens, out["mask"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, wav, target


def _lm_inputs(model, monkeypatch):
    """Record the token input of every LM call."""
    calls = []
    lm_forward = model.lm.forward

    def counted(*args, **kwargs):
        calls.append(args[0])
        return lm_forward(*args, **kwargs)

    monkeypatch.setattr(model.lm, "forward", counted)
    return calls


def test_hierarchical_sampling_goes_level_by_level(overfit, monkeypatch):
    model, wav, target = overfit
    calls = _lm_inputs(model, monkeypatch)
    model.generate(wav[None], steps=10, guidance=2.0, seed=0)
    # default: 10 steps for level 0, one greedy pass for each other one
    assert len(calls) == 10 + 1 + 1
    frames = target.shape[-1]
    assert all(c.shape == (2, Q, frames) for c in calls)  # cond + null
    # level by level: higher levels stay fully masked (mask id = V)
    masked = [(c[0] == V).sum(dim=1).tolist() for c in calls]
    assert masked[0] == [frames] * 3
    assert all(m[1:] == [frames, frames] for m in masked[:10])
    assert masked[10] == [0, frames, frames]
    assert masked[11] == [0, 0, frames]


def test_overfit_model_gives_its_tokens_back(overfit):
    """A tiny hierarchical model memorises one utterance (>= 95 % tokens)."""
    model, wav, target = overfit
    pred = model.generate(wav[None], steps=10, guidance=2.0, seed=0)
    match = (pred == target).float().mean().item()
    assert match >= 0.95, f"only {match:.3f} of the tokens were recovered"


def test_level_steps_set_the_calls_per_level(overfit, monkeypatch):
    model, wav, target = overfit
    calls = _lm_inputs(model, monkeypatch)
    again = model.generate(
        wav[None], guidance=2.0, seed=1, level_steps=[6, 3, 2]
    )
    assert len(calls) == 11
    assert (again == target).float().mean().item() >= 0.95


def test_untrained_model_is_near_chance(overfit):
    """The same sampler on an untrained model is near chance (1 / 16)."""
    _, wav, target = overfit
    chance = _tiny().generate(wav[None], steps=10, seed=0) == target
    assert chance.float().mean().item() < 0.25
