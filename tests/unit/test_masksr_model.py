"""Tests of the MaskSR lobes: alignment, masking, loss, guidance, learning.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import pytest
import torch

from speechbrain_masksr.codecs.dac import DACTokenizer, save_tiny_dac
from speechbrain_masksr.lobes.codec_lm import MaskedCodecLM
from speechbrain_masksr.lobes.masksr import (
    MaskSR,
    build_masksr,
    cosine_flat_mask,
    hierarchical_mask,
)
from speechbrain_masksr.lobes.speech_encoder import SpeechEncoder
from speechbrain_masksr.lobes.transformer import frame_padding_mask
from speechbrain_masksr.sampling import guided_logits


def tiny_model(variant="flat", q=3, v=16, d=32, dropout=0.0, **kw):
    kw.setdefault("hop_length", 512)
    return build_masksr(
        variant=variant,
        n_codebooks=q,
        codebook_size=v,
        d_model=d,
        encoder_layers=1,
        lm_layers=1,
        nhead=4,
        dropout=dropout,
        **kw,
    )


def test_encoder_frames_match_dac(tmp_path):
    codec = DACTokenizer(load_path=save_tiny_dac(tmp_path / "w.pth"))
    enc = SpeechEncoder(d_model=16, num_layers=1, nhead=2, hop_length=512)
    for n in (1, 300, 511, 512, 513, 1024, 1025, 2048, 2049, 5120, 5121):
        wav = torch.randn(1, n)
        frames = math.ceil(n / 512)
        assert enc(wav).shape == (1, frames, 16)
        assert codec.encode(wav).shape[-1] == frames == enc.num_frames(n)


def test_encoder_features_are_padded_centred_stft_minus_last_frame():
    enc = SpeechEncoder(d_model=16, num_layers=1, nhead=2, hop_length=512)
    wav = torch.randn(1, 1500)
    padded = torch.nn.functional.pad(wav, (0, 36))  # 1536 = 3 * 512
    ref = torch.stft(
        padded,
        2048,
        512,
        window=torch.hann_window(2048),
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    assert ref.shape[-1] == 4  # n / hop + 1
    expected = ref[..., :3].abs().pow(0.3).transpose(1, 2)
    assert torch.allclose(enc.features(wav), expected, atol=1e-5)
    # appending silence does not move existing frames
    longer = torch.nn.functional.pad(wav, (0, 2000))
    assert torch.allclose(enc.features(longer)[:, :3], expected, atol=1e-5)


def test_padded_batch_matches_single_examples():
    model = tiny_model().eval()
    long, short = torch.randn(6000), torch.randn(2600)
    batch = torch.stack([long, torch.nn.functional.pad(short, (0, 3400))])
    wav_lens = torch.tensor([1.0, 2600 / 6000])
    cond = model.encoder(batch, wav_lens)
    alone = model.encoder(short[None])
    assert alone.shape[1] == 6  # ceil(2600 / 512)
    assert torch.allclose(cond[1, :6], alone[0], atol=1e-5)
    # deterministic decoding: the padded example gives the same tokens
    kw = dict(steps=6, temperature=0.0, noise="none", guidance=2.0)
    out = model.generate(batch, wav_lens=wav_lens, **kw)
    assert torch.equal(out[1, :, :6], model.generate(short[None], **kw)[0])
    assert (out[1, :, 6:] == 0).all()
    # seeded random decoding: each item gets the tokens it gets alone
    for noise in ("gaussian", "gumbel"):
        kw = dict(steps=4, seed=5, noise=noise)
        out = model.generate(batch, wav_lens=wav_lens, **kw)
        assert torch.equal(out[1, :, :6], model.generate(short[None], **kw)[0])
        assert torch.equal(out[0], model.generate(long[None], **kw)[0])


def test_flat_mask_ratio_and_counts():
    g = torch.Generator().manual_seed(0)
    mask = cosine_flat_mask(2, 9, 40, ratios=torch.tensor([0.3, 1.0]))
    assert mask.sum(dim=(1, 2)).tolist() == [108, 360]
    assert cosine_flat_mask(1, 9, 40, ratios=0.0).sum() == 1  # at least 1
    valid = frame_padding_mask(torch.tensor([40, 10]), 40)
    mask = cosine_flat_mask(2, 9, 40, valid=valid, ratios=0.5, generator=g)
    assert mask.sum(dim=(1, 2)).tolist() == [180, 45]
    assert not mask[1, :, 10:].any()
    # random draws: ratio = cos(pi r / 2), r ~ U(0, 1)
    mask = cosine_flat_mask(4000, 9, 40, generator=g)
    frac = mask.float().mean(dim=(1, 2))
    assert abs(frac.mean().item() - 2 / math.pi) < 0.02
    # P(cos(pi r / 2) <= 0.5) = P(r >= 2/3) = 1/3
    assert abs((frac <= 0.5).float().mean().item() - 1 / 3) < 0.03
    # the masked positions are spread over codebooks and frames
    per_cb = mask.float().mean(dim=(0, 2))
    assert (per_cb - per_cb.mean()).abs().max() < 0.02


def test_hierarchical_mask_levels():
    g = torch.Generator().manual_seed(0)
    valid = frame_padding_mask(torch.tensor([50, 20]), 50)
    loss_mask, input_mask, levels = hierarchical_mask(
        2, 9, 50, valid=valid, levels=torch.tensor([0, 4]), ratios=0.4
    )
    assert loss_mask.sum(dim=(0, 2)).tolist() == [20, 0, 0, 0, 8] + [0] * 4
    assert input_mask[0, 1:].sum() == 8 * 50  # higher levels fully masked
    assert input_mask[1, :4].sum() == 0  # lower levels given
    assert input_mask[1, 5:].sum() == 4 * 20  # valid frames only
    assert not input_mask[1, :, 20:].any()
    _, _, levels = hierarchical_mask(900, 9, 5, generator=g)
    assert torch.bincount(levels, minlength=9).min() > 60


def test_loss_only_on_masked_tokens():
    model = tiny_model()
    wavs = torch.randn(2, 4000)
    tokens = torch.randint(0, 16, (2, 3, 8))
    out = model(wavs, tokens)
    mask = out["mask"]
    assert (out["inputs"][mask] == 16).all()
    assert torch.equal(out["inputs"][~mask], tokens[~mask])
    logits = out["logits"].detach().requires_grad_(True)
    loss, acc = model.loss(logits, tokens, mask)
    loss.backward()
    grad_norm = logits.grad.abs().sum(-1)
    assert (grad_norm[~mask] == 0).all() and (grad_norm[mask] > 0).all()
    # changing logits of unmasked positions leaves the loss unchanged
    other = logits.detach().clone()
    other[~mask] = torch.randn_like(other[~mask]) * 10
    assert torch.allclose(model.loss(other, tokens, mask)[0], loss)
    # exact value: per-codebook mean CE, then mean over codebooks
    ce = torch.nn.functional.cross_entropy(
        logits.detach().permute(0, 3, 1, 2), tokens, reduction="none"
    )
    per_cb = [ce[:, q][mask[:, q]].mean() for q in range(3)]
    assert torch.allclose(loss, torch.stack(per_cb).mean())
    hit = logits.argmax(-1) == tokens
    assert torch.allclose(
        acc,
        torch.stack([hit[:, q][mask[:, q]].float().mean() for q in range(3)]),
    )


def test_hierarchical_forward_scores_one_level():
    model = tiny_model("hierarchical")
    tokens = torch.randint(0, 16, (6, 3, 8))
    out = model(torch.randn(6, 4000), tokens)
    levels_per_example = out["mask"].any(dim=2).sum(dim=1)
    assert (levels_per_example == 1).all()
    loss, acc = model.loss(out["logits"], tokens, out["mask"])
    assert torch.isfinite(loss)


def test_condition_dropout():
    wavs, tokens = torch.randn(400, 600), torch.randint(0, 16, (400, 3, 2))
    model = tiny_model(cond_dropout=0.1).train()
    frac = model(wavs, tokens)["dropped"].float().mean().item()
    assert 0.06 < frac < 0.14
    assert not model.eval()(wavs, tokens)["dropped"].any()
    # dropped examples really see the null embedding
    model = tiny_model(cond_dropout=1.0).train()
    out = model(wavs[:2], tokens[:2])
    null = model.lm.null_cond(2, 2)
    assert torch.allclose(out["logits"], model.lm(out["inputs"], null))


def test_guided_logits_formula_and_single_batched_call():
    l_c, l_u = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 4, 5)
    assert torch.allclose(guided_logits(l_c, l_u, 2.0), 3 * l_c - 2 * l_u)
    # w = 2 equals scale 3 in the l_u + s (l_c - l_u) convention
    assert torch.allclose(guided_logits(l_c, l_u, 2.0), l_u + 3 * (l_c - l_u))
    assert torch.equal(guided_logits(l_c, l_u, 0.0), l_c)
    model = tiny_model().eval()
    cond = torch.randn(2, 4, 32)
    tokens = torch.randint(0, 17, (2, 3, 4))
    calls = []
    lm_forward = model.lm.forward
    model.lm.forward = lambda *a: calls.append(a[0].shape) or lm_forward(*a)
    fn = model.guided_logits_fn(cond, None, 2.0)
    with torch.no_grad():
        guided = fn(tokens)
        expected = 3 * lm_forward(tokens, cond) - 2 * lm_forward(
            tokens, model.lm.null_cond(2, 4)
        )
    assert calls == [(4, 3, 4)]  # one call, cond + null batched
    assert torch.allclose(guided, expected, atol=1e-5)


def test_generate_calls_and_reproducibility():
    model = tiny_model()
    wavs = torch.randn(2, 5000)
    counts = {"lm": 0, "enc": 0}
    lm_forward, enc_forward = model.lm.forward, model.encoder.forward

    def lm_counted(*args, **kwargs):
        counts["lm"] += 1
        return lm_forward(*args, **kwargs)

    def enc_counted(*args, **kwargs):
        counts["enc"] += 1
        return enc_forward(*args, **kwargs)

    model.lm.forward, model.encoder.forward = lm_counted, enc_counted
    out = model.generate(wavs, steps=7, seed=3)
    assert counts == {"lm": 7, "enc": 1}
    assert out.shape == (2, 3, 10) and ((out >= 0) & (out < 16)).all()
    assert model.training  # mode restored
    assert torch.equal(out, model.generate(wavs, steps=7, seed=3))
    assert not torch.equal(out, model.generate(wavs, steps=7, seed=4))
    gumbel = model.generate(wavs, steps=7, seed=3, noise="gumbel")
    assert torch.equal(
        gumbel, model.generate(wavs, steps=7, seed=3, noise="gumbel")
    )
    counts["lm"] = 0
    hier = tiny_model("hierarchical")
    hier.load_state_dict(model.state_dict())
    hier.lm.forward = lm_counted
    out = hier.generate(wavs, steps=5, seed=0, level_steps=[5, 2, 1])
    assert counts["lm"] == 8 and out.shape == (2, 3, 10)
    with pytest.raises(ValueError, match="upper_levels"):
        hier.generate(wavs, steps=5, upper_levels="random")


def test_hierarchical_generate_makes_48_lm_calls_with_9_codebooks():
    """MaskSR's hierarchical variant: 40 steps + one greedy pass x 8."""
    model = tiny_model("hierarchical", q=9).eval()
    wavs = torch.randn(1, 3000)
    calls = []
    lm_forward = model.lm.forward

    def lm_counted(tokens, *args, **kwargs):
        logits = lm_forward(tokens, *args, **kwargs)
        calls.append((tokens[0].clone(), logits))
        return logits

    model.lm.forward = lm_counted
    out = model.generate(wavs, steps=40, guidance=2.0, seed=0)
    assert len(calls) == 48 and out.shape == (1, 9, 6)
    for level in range(1, 9):
        tokens, logits = calls[40 + level - 1]
        assert (tokens[level:] == 16).all() and (tokens[:level] < 16).all()
        l_c, l_u = logits.chunk(2)  # [cond; null] in one call
        guided = 3 * l_c - 2 * l_u
        assert torch.equal(out[0, level], guided[0, level].argmax(-1))
    calls.clear()
    model.generate(wavs, steps=40, seed=0, upper_levels="iterative")
    assert len(calls) == 40 + 8 * 4
    with pytest.raises(ValueError, match="noise"):
        model.generate(wavs, steps=2, noise="uniform")


def test_bad_inputs():
    model = tiny_model()
    with pytest.raises(ValueError, match="tokens must have shape"):
        model(torch.randn(2, 5000), torch.randint(0, 16, (2, 3, 9)))
    with pytest.raises(ValueError, match=r"\[0, 15\]"):
        model(torch.randn(1, 5000), torch.full((1, 3, 10), 16))
    with pytest.raises(ValueError, match=r"\[batch, time\]"):
        model.generate(torch.randn(5000))
    with pytest.raises(ValueError, match="NaN"):
        model.generate(torch.full((1, 100), float("nan")))
    with pytest.raises(ValueError, match="d_model"):
        MaskSR(
            SpeechEncoder(16, 1, 2, hop_length=512),
            MaskedCodecLM(3, 16, 32, 1, 4),
            0.1,
        )
    with pytest.raises(ValueError, match="variant"):
        tiny_model("soundstorm")


def test_overfit_one_utterance():
    """A tiny MaskSR memorises one utterance; decoding recovers >= 95 %."""
    torch.manual_seed(0)
    q, v, n = 9, 1024, 22050  # real codegram size, 0.5 s (44 frames)
    t = torch.arange(n) / 44100
    wav = 0.3 * torch.sin(2 * math.pi * 220 * t * (1 + t))
    wav = wav + 0.05 * torch.randn(n)
    target = torch.randint(0, v, (1, q, math.ceil(n / 512)))
    model = tiny_model(q=q, v=v, d=64, cond_dropout=0.1)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    batch = 4
    wavs, tokens = wav.expand(batch, n), target.expand(batch, -1, -1)
    for _ in range(200):
        out = model(wavs, tokens)
        loss, _ = model.loss(out["logits"], tokens, out["mask"])
        opt.zero_grad()
        loss.backward()
        opt.step()
    pred = model.generate(wav[None], steps=40, guidance=2.0, seed=0)
    match = (pred == target).float().mean().item()
    assert match >= 0.95, f"only {match:.3f} of the tokens were recovered"
    # an untrained model of the same size is at chance level
    untrained = tiny_model(q=q, v=v, d=64)
    chance = untrained.generate(wav[None], steps=40, seed=0) == target
    assert chance.float().mean().item() < 0.05
