"""Tests of the MaskGIT / hierarchical samplers, schedules and guidance.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import pytest
import torch

from speechbrain_masksr.sampling import (
    cosine_schedule,
    default_level_steps,
    guided_logits,
    hierarchical_sample,
    maskgit_fill,
    maskgit_sample,
    num_still_masked,
)

V = 16  # codebook size, mask id


class Recorder:
    """logits_fn that records the masked count of each call."""

    def __init__(self, logits):
        self.logits = logits
        self.masked = []

    def __call__(self, tokens):
        self.masked.append((tokens == V).sum(dim=(1, 2)).tolist())
        return self.logits.expand(tokens.shape[0], *self.logits.shape[1:])


def test_cosine_schedule_and_counts():
    assert cosine_schedule(0.0) == 1.0
    assert abs(cosine_schedule(2 / 3) - 0.5) < 1e-9
    n = torch.tensor([360, 5])
    counts = [num_still_masked(n, n, i, 40) for i in range(40)]
    assert counts[-1].tolist() == [0, 0]
    assert counts[0].tolist() == [math.floor(360 * math.cos(math.pi / 80)), 4]
    # at least one token fixed per step while some remain
    remaining = n.clone()
    for i in range(40):
        keep = num_still_masked(n, remaining, i, 40)
        assert ((keep < remaining) | (remaining == 0)).all()
        remaining = keep


def test_sampler_schedule_fill_and_call_count():
    logits = torch.randn(1, 3, 20, V)
    rec = Recorder(logits)
    out = maskgit_sample(rec, 2, 3, 20, V, steps=8)
    assert len(rec.masked) == 8
    assert ((out >= 0) & (out < V)).all()
    n = 60
    expected = [n] + [
        math.floor(n * math.cos(math.pi / 2 * (i + 1) / 8)) for i in range(7)
    ]
    assert [m[0] for m in rec.masked] == expected


def test_lowest_scores_are_remasked():
    # position p has confidence growing with p: with no noise the most
    # confident half is kept after the first of two steps
    conf = torch.linspace(1, 8, 10)
    logits = torch.zeros(1, 1, 10, V)
    logits[0, 0, :, 3] = conf
    rec = Recorder(logits)
    start = torch.full((1, 1, 10), V)
    maskgit_fill(rec, start, start == V, steps=2, temperature=0.0, noise="none")
    # floor(10 * cos(pi / 4)) = 7 stay masked: the 7 least confident
    assert rec.masked == [[10], [7]]
    # with temperature 0 every token is the argmax
    out = maskgit_fill(
        rec, start, start == V, steps=2, temperature=0.0, noise="none"
    )
    assert (out == 3).all()


def test_remask_choice_uses_scores():
    conf = torch.linspace(1, 8, 10)
    logits = torch.zeros(1, 1, 10, V)
    logits[0, 0, :, 3] = conf
    start = torch.full((1, 1, 10), V)
    seen = []

    def fn(tokens):
        seen.append(tokens.clone())
        return logits

    maskgit_fill(fn, start, start == V, steps=2, temperature=0.0, noise="none")
    kept = (seen[1][0, 0] != V).nonzero().flatten().tolist()
    assert kept == [7, 8, 9]
    # Gaussian noise with a large variance makes the choice random
    kept_sets = set()
    for seed in range(10):
        seen.clear()
        g = torch.Generator().manual_seed(seed)
        maskgit_fill(
            fn,
            start,
            start == V,
            steps=2,
            temperature=0.0,
            noise="gaussian",
            noise_variance=400.0,
            generator=g,
        )
        kept_sets.add(tuple((seen[1][0, 0] != V).nonzero().flatten().tolist()))
    assert len(kept_sets) > 3


def test_known_tokens_are_never_changed():
    logits = torch.randn(1, 2, 12, V)
    start = torch.full((1, 2, 12), V)
    start[0, 0, :4] = torch.tensor([1, 2, 3, 4])
    out = maskgit_fill(Recorder(logits), start, start == V, steps=5)
    assert out[0, 0, :4].tolist() == [1, 2, 3, 4]
    assert (out != V).all()


def test_sampling_follows_distribution():
    # one position, 2 tokens with p = (0.8, 0.2); 1 step samples exactly
    logits = torch.log(torch.tensor([0.8, 0.2]))[None, None, None, :]
    logits = torch.cat([logits, torch.full((1, 1, 1, V - 2), -1e9)], -1)
    g = torch.Generator().manual_seed(0)
    outs = torch.stack(
        [
            maskgit_sample(lambda t: logits, 1, 1, 1, V, steps=1, generator=g)
            for _ in range(2000)
        ]
    )
    assert abs((outs == 1).float().mean().item() - 0.2) < 0.03


def test_seeded_reproducibility():
    logits = torch.randn(2, 3, 15, V)

    def run(seed, noise):
        g = torch.Generator().manual_seed(seed)
        return maskgit_sample(
            lambda t: logits, 2, 3, 15, V, steps=6, noise=noise, generator=g
        )

    for noise in ("gaussian", "gumbel"):
        assert torch.equal(run(0, noise), run(0, noise))
        assert not torch.equal(run(0, noise), run(1, noise))


def test_per_item_generators_make_items_independent():
    # with one generator per item, an item's tokens do not depend on the
    # other items of the batch (nor on the padded length of the batch)
    logits = torch.randn(2, 3, 12, V)
    valid = torch.tensor([[True] * 12, [True] * 5 + [False] * 7])

    def gens(n):
        return [torch.Generator().manual_seed(7) for _ in range(n)]

    for noise in ("gaussian", "gumbel"):
        kw = dict(steps=5, noise=noise)
        both = maskgit_sample(
            lambda t: logits, 2, 3, 12, V, valid=valid, generator=gens(2), **kw
        )
        short = maskgit_sample(
            lambda t: logits[1:, :, :5], 1, 3, 5, V, generator=gens(1), **kw
        )
        long = maskgit_sample(
            lambda t: logits[:1], 1, 3, 12, V, generator=gens(1), **kw
        )
        assert torch.equal(both[1, :, :5], short[0])
        assert torch.equal(both[0], long[0])
        hier = hierarchical_sample(
            lambda t: logits,
            2,
            3,
            12,
            V,
            [3, 1, 1],
            noise=noise,
            valid=valid,
            generator=gens(2),
        )
        hier_short = hierarchical_sample(
            lambda t: logits[1:, :, :5],
            1,
            3,
            5,
            V,
            [3, 1, 1],
            noise=noise,
            generator=gens(1),
        )
        assert torch.equal(hier[1, :, :5], hier_short[0])


def test_hierarchical_ranks_within_level():
    logits = torch.randn(1, 3, 10, V)
    rec = Recorder(logits)
    seen = []

    def fn(tokens):
        seen.append((tokens == V).sum(dim=2)[0].tolist())
        return rec(tokens)

    out = hierarchical_sample(fn, 1, 3, 10, V, level_steps=[4, 2, 1])
    assert len(seen) == 7 and (out != V).all()
    # level 0 follows its own schedule while levels 1, 2 stay fully masked
    expected0 = [10] + [
        math.floor(10 * math.cos(math.pi / 2 * (i + 1) / 4)) for i in range(3)
    ]
    assert [s[0] for s in seen[:4]] == expected0
    assert all(s[1:] == [10, 10] for s in seen[:4])
    # level 1: 2 steps, 7 = floor(10 cos(pi/4)) left after the first step
    assert seen[4] == [0, 10, 10] and seen[5] == [0, 7, 10]
    assert seen[6] == [0, 0, 10]
    assert default_level_steps(40, 9) == [40] + [1] * 8
    assert default_level_steps(40, 9, "iterative") == [40] + [4] * 8
    with pytest.raises(ValueError, match="level_steps"):
        hierarchical_sample(fn, 1, 3, 10, V, level_steps=[4, 2])
    with pytest.raises(ValueError, match="upper_levels"):
        hierarchical_sample(fn, 1, 3, 10, V, [4, 2, 1], upper_levels="sampled")


def test_hierarchical_default_is_40_then_one_greedy_pass_per_level():
    """MaskSR paper: 40 MaskGIT steps for codebook 1, then 8 greedy passes."""
    q, t = 9, 12
    gen = torch.Generator().manual_seed(0)
    calls = []  # (masked count per level, logits returned)

    def fn(tokens):
        logits = torch.randn(*tokens.shape, V, generator=gen)
        calls.append(((tokens == V).sum(dim=(0, 2)).tolist(), logits))
        return logits

    steps = default_level_steps(40, q)
    out = hierarchical_sample(
        fn, 1, q, t, V, steps, generator=torch.Generator().manual_seed(1)
    )
    assert len(calls) == 48 == 40 + (q - 1)
    for level in range(1, q):
        masked, logits = calls[40 + level - 1]
        # one call fills the whole level: it starts fully masked ...
        assert masked == [0] * level + [t] * (q - level)
        # ... and takes the argmax of that call's logits at every frame
        assert torch.equal(out[:, level], logits[:, level].argmax(-1))
    # the former default stays available: 40 + 8 x 4 sampled steps
    calls.clear()
    iterative = default_level_steps(40, q, upper_levels="iterative")
    hierarchical_sample(fn, 1, q, t, V, iterative, upper_levels="iterative")
    assert len(calls) == 72


def test_padded_frames_not_generated():
    logits = torch.randn(2, 2, 6, V)
    rec = Recorder(logits)
    valid = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    out = maskgit_sample(rec, 2, 2, 6, V, steps=3, valid=valid)
    assert (out[1, :, 3:] == 0).all()
    # the schedule of example 1 counts its 6 valid positions only
    assert rec.masked[1][1] - 6 == math.floor(6 * math.cos(math.pi / 6))


def test_guidance_values():
    l_c = torch.tensor([2.0, 0.0])
    l_u = torch.tensor([1.0, 1.0])
    assert guided_logits(l_c, l_u, 2.0).tolist() == [4.0, -2.0]
    assert guided_logits(l_c, l_u, 0.0).tolist() == [2.0, 0.0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="steps"):
        maskgit_sample(lambda t: None, 1, 1, 1, V, steps=0)
    with pytest.raises(ValueError, match="noise"):
        maskgit_sample(lambda t: None, 1, 1, 1, V, noise="laplace")
    with pytest.raises(ValueError, match="temperature"):
        maskgit_sample(lambda t: None, 1, 1, 1, V, temperature=-1.0)


def test_gaussian_noise_variance_falls_linearly_from_4_to_0():
    from speechbrain_masksr.sampling import gaussian_noise_variance

    var = [gaussian_noise_variance(i, 40) for i in range(40)]
    assert var[0] == 4.0 and var[-1] == 0.0
    steps = [a - b for a, b in zip(var, var[1:])]
    assert max(steps) - min(steps) < 1e-12  # linear
    assert gaussian_noise_variance(0, 1) == 0.0
