"""Codec LM token values are validated once at the entry, not per step."""

import pytest
import torch

from speechbrain_masksr.lobes.codec_lm import MaskedCodecLM
from speechbrain_masksr.lobes.masksr import build_masksr


def tiny_model(variant="flat"):
    return build_masksr(
        variant=variant,
        n_codebooks=3,
        codebook_size=16,
        hop_length=512,
        d_model=32,
        encoder_layers=1,
        lm_layers=1,
        nhead=4,
        dropout=0.0,
    )


def count_range_checks(model, monkeypatch):
    calls = []
    original = model.lm.check_token_range

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(model.lm, "check_token_range", counted)
    return calls


@pytest.mark.parametrize("variant", ["flat", "hierarchical"])
def test_values_checked_once_per_entry_never_per_step(variant, monkeypatch):
    torch.manual_seed(0)
    model = tiny_model(variant)
    calls = count_range_checks(model, monkeypatch)
    wavs = 0.1 * torch.randn(2, 5000)  # 10 frames
    model(wavs, torch.randint(0, 16, (2, 3, 10)))
    assert len(calls) == 1  # training forward: once
    calls.clear()
    model.generate(wavs, steps=4, seed=0)  # 4+ LM calls, tokens are ours
    assert calls == []


def test_bad_tokens_raise_clearly_at_the_entry():
    model = tiny_model()
    wavs = torch.randn(1, 5000)
    for bad, got in ((16, r"\[16, 16\]"), (-1, r"\[-1, -1\]")):
        tokens = torch.full((1, 3, 10), bad)
        with pytest.raises(ValueError, match=r"target tokens .*\[0, 15\]"):
            model(wavs, tokens)
        with pytest.raises(ValueError, match=got):
            model(wavs, tokens)


def test_check_token_range_bounds():
    lm = MaskedCodecLM(2, 8, d_model=16, num_layers=1, nhead=2)
    ok = torch.tensor([[[0, 8]], [[7, 3]]]).transpose(1, 2)
    lm.check_token_range(ok)  # the mask id 8 is a valid LM input
    with pytest.raises(ValueError, match=r"must be in \[0, 8\] \(mask id 8\)"):
        lm.check_token_range(ok + 1)
    with pytest.raises(ValueError, match=r"target tokens must be in \[0, 7\]"):
        lm.check_token_range(ok, allow_mask=False, name="target tokens")
    lm.check_token_range(torch.zeros(1, 2, 0, dtype=torch.long))  # empty
    # forward keeps the cheap shape checks
    with pytest.raises(ValueError, match="tokens must have shape"):
        lm(torch.zeros(1, 3, 5, dtype=torch.long), torch.zeros(1, 5, 16))
