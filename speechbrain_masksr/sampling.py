"""MaskGIT-style iterative decoding of codec tokens, schedules and guidance.

Decoding starts from a fully masked codegram. At step ``i`` of ``S``
(``i = 0 .. S-1``, ``r = (i + 1) / S``):

1. the model predicts logits for every position (one call per step);
2. a token is sampled for every still-masked position from
   ``softmax(logits / temperature)`` (``temperature = 0``: argmax);
3. each sampled token gets the score ``log p(token)`` under that
   distribution (already known tokens get ``+inf``), plus a random
   perturbation:

   * ``noise="gaussian"`` (MaskSR paper rule): ``N(0, sigma^2)`` with
     ``sigma^2 = noise_variance * (1 - i / (S - 1))`` at step ``i`` of
     ``S``, i.e. the variance falls linearly from exactly 4 at the first
     step to exactly 0 at the last;
   * ``noise="gumbel"`` (MaskGIT choice-temperature rule):
     ``choice_temperature * (1 - r) * Gumbel(0, 1)``;
   * ``noise="none"``: pure confidence ranking;

4. ``floor(N * cos(pi / 2 * r))`` positions stay masked, where ``N`` is the
   number of positions to generate; the count is clamped so that at least
   one new token is kept per step while masked positions remain, and it is
   0 at the last step. The lowest-scored newly sampled tokens are re-masked,
   all the others are kept for good.

Hierarchical (SoundStorm-style) decoding, :func:`hierarchical_sample`,
fills one codebook level after the other. By default (``upper_levels=
"greedy"``, the MaskSR paper's ablation, following SoundStorm) the first
level gets ``steps`` MaskGIT iterations and every higher level ONE greedy
pass (argmax of the guided logits for all its positions at once): with the
9 DAC codebooks and 40 steps that is ``40 + 8 = 48`` model calls.
``upper_levels="iterative"`` instead samples the higher levels like the
first one, with ``max(1, steps // 10)`` iterations each (``40 + 8 x 4 =
72`` calls).

Classifier-free guidance follows MaskSR: ``l = (1 + w) * l_c - w * l_u``.
With ``w = 2`` (default) this equals ``cond_scale = 3`` in the
``l_u + s * (l_c - l_u)`` convention of MaskGIT / MUSE / SoundStorm code.

Authors
 * speechbrain-masksr contributors 2026
"""

import math
import operator

import torch

__all__ = [
    "NOISE_TYPES",
    "check_steps",
    "cosine_schedule",
    "guided_logits",
    "num_still_masked",
    "maskgit_fill",
    "maskgit_sample",
    "hierarchical_sample",
    "default_level_steps",
    "UPPER_LEVEL_MODES",
]

NOISE_TYPES = ("gaussian", "gumbel", "none")
#: How the hierarchical sampler fills the levels above the first one.
UPPER_LEVEL_MODES = ("greedy", "iterative")


def cosine_schedule(r):
    """Masking ratio ``cos(pi * r / 2)`` for progress ``r`` in ``[0, 1]``.

    Arguments
    ---------
    r : float or torch.Tensor
        Progress in ``[0, 1]``.

    Returns
    -------
    ratio : float or torch.Tensor
        Fraction of tokens masked (1 at ``r = 0``, 0 at ``r = 1``).

    Example
    -------
    >>> cosine_schedule(0.0)
    1.0
    >>> round(cosine_schedule(0.5), 4)
    0.7071
    >>> cosine_schedule(torch.tensor([1.0])).abs() < 1e-6
    tensor([True])
    """
    if isinstance(r, torch.Tensor):
        return torch.cos(math.pi / 2 * r)
    return math.cos(math.pi / 2 * r)


def guided_logits(l_c, l_u, w):
    """Classifier-free guidance in MaskSR's convention.

    ``l = (1 + w) * l_c - w * l_u``: ``w = 0`` is the conditional model,
    ``w = 2`` (MaskSR default) equals a guidance scale of 3 in the
    ``l_u + s * (l_c - l_u)`` convention (``s = 1 + w``).

    Arguments
    ---------
    l_c : torch.Tensor
        Conditional logits.
    l_u : torch.Tensor
        Unconditional logits (null conditioning), same shape.
    w : float
        Guidance weight.

    Returns
    -------
    logits : torch.Tensor
        Guided logits.

    Example
    -------
    >>> guided_logits(torch.tensor([1.0]), torch.tensor([0.5]), 2.0)
    tensor([2.])
    """
    return (1.0 + w) * l_c - w * l_u


def num_still_masked(n_total, n_remaining, step, steps):
    """Number of positions that stay masked after ``step`` (0-based).

    ``floor(n_total * cos(pi / 2 * (step + 1) / steps))``, clamped to
    ``[0, n_remaining - 1]`` (at least one token is fixed per step while
    some remain) and 0 after the last step.

    Arguments
    ---------
    n_total : torch.Tensor
        Long ``[batch]``: positions to generate in total.
    n_remaining : torch.Tensor
        Long ``[batch]``: positions masked before this step.
    step : int
        Step index ``0 .. steps - 1``.
    steps : int
        Number of steps.

    Returns
    -------
    n_masked : torch.Tensor
        Long ``[batch]``.

    Example
    -------
    >>> n = torch.tensor([100])
    >>> [int(num_still_masked(n, n, i, 4)) for i in range(4)]
    [92, 70, 38, 0]
    """
    if step >= steps - 1:
        return torch.zeros_like(n_total)
    ratio = math.cos(math.pi / 2 * (step + 1) / steps)
    keep = torch.floor(n_total.double() * ratio).long()
    return torch.minimum(keep, n_remaining - 1).clamp(min=0)


def _draw(draw_fn, rows, tail, generator, device):
    """Random draws for the selected positions (``rows``: their batch index).

    ``generator`` is one ``torch.Generator`` (or None) shared by the whole
    batch, or a sequence with one generator per batch item: then each item
    draws only for its own positions, so its result does not depend on the
    other items of the batch (``rows`` is sorted, as ``nonzero`` returns).
    """
    if isinstance(generator, (list, tuple)):
        counts = torch.bincount(rows, minlength=len(generator)).tolist()
        parts = [
            draw_fn((n, *tail), generator=g, device=device)
            for n, g in zip(counts, generator)
        ]
        return torch.cat(parts)
    return draw_fn((rows.numel(), *tail), generator=generator, device=device)


def _gumbel(rows, tail, generator, device):
    u = _draw(torch.rand, rows, tail, generator, device)
    # in place: the same values as -log(-log(clamp(u))), one buffer
    u.clamp_(torch.finfo(u.dtype).tiny, 1.0 - 1e-7)
    return u.log_().neg_().log_().neg_()


def check_steps(steps, name="steps"):
    """A number of sampling steps: an integer >= 1, else ``ValueError``.

    ``2.7``, ``"3"`` and ``True`` are refused rather than truncated or
    converted; integer types (Python, NumPy, 0-d integer tensors) are
    accepted.

    Arguments
    ---------
    steps : int
        The value to check.
    name : str
        How the error names it.

    Returns
    -------
    int
        ``steps`` as a Python ``int``.

    Example
    -------
    >>> check_steps(8)
    8
    >>> check_steps(2.7)
    Traceback (most recent call last):
    ...
    ValueError: steps must be an integer >= 1, got 2.7 (float)
    """
    if isinstance(steps, bool):
        value = None
    else:
        try:
            value = operator.index(steps)
        except TypeError:
            value = None
    if value is None:
        raise ValueError(
            f"{name} must be an integer >= 1, got {steps!r} "
            f"({type(steps).__name__})"
        )
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return value


def _check_sampling_args(steps, temperature, noise):
    check_steps(steps)
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if noise not in NOISE_TYPES:
        raise ValueError(f"noise must be one of {NOISE_TYPES}, got {noise!r}")


def gaussian_noise_variance(step, steps, noise_variance=4.0):
    """Variance of MaskSR's Gaussian score noise at a decoding step.

    It falls linearly from ``noise_variance`` at the first step to 0 at the
    last one (the MaskSR paper: 4 to 0).

    Arguments
    ---------
    step : int
        0-based step index.
    steps : int
        Number of decoding steps.
    noise_variance : float
        Variance at the first step.

    Returns
    -------
    float
        ``noise_variance * (1 - step / (steps - 1))`` (0 when ``steps == 1``).

    Example
    -------
    >>> [gaussian_noise_variance(i, 5) for i in range(5)]
    [4.0, 3.0, 2.0, 1.0, 0.0]
    """
    if steps <= 1:
        return 0.0
    return noise_variance * (1 - step / (steps - 1))


def maskgit_fill(
    logits_fn,
    tokens,
    active,
    steps,
    temperature=1.0,
    noise="gaussian",
    noise_variance=4.0,
    choice_temperature=4.5,
    generator=None,
):
    """Fill the ``active`` positions of ``tokens`` by iterative decoding.

    Only active positions are sampled and ranked: the re-masking schedule
    counts and ranks within them (this is what makes the hierarchical
    sampler rank within one level only). Exactly ``steps`` calls to
    ``logits_fn`` are made.

    Arguments
    ---------
    logits_fn : callable
        ``logits_fn(tokens[batch, Q, T]) -> logits[batch, Q, T, V]``
        (guidance already applied).
    tokens : torch.Tensor
        Long ``[batch, Q, T]``; active positions must hold the mask id.
    active : torch.Tensor
        Bool ``[batch, Q, T]``: positions to generate.
    steps : int
        Number of decoding steps (model calls).
    temperature : float
        Sampling temperature (0 = argmax).
    noise : str
        ``"gaussian"``, ``"gumbel"`` or ``"none"`` (see module docstring).
    noise_variance : float
        Initial variance of the Gaussian score noise (4 in MaskSR).
    choice_temperature : float
        Initial Gumbel scale of the MaskGIT rule (4.5 in MaskGIT).
    generator : torch.Generator or list of torch.Generator, optional
        Random generator (on the tokens' device) for reproducibility, or
        one generator per batch item: each item then only draws from its
        own generator, so its result is the same whatever else is in the
        batch.

    Returns
    -------
    tokens : torch.Tensor
        New tensor with every active position filled.

    Example
    -------
    >>> target = torch.randint(0, 8, (1, 2, 5))
    >>> fn = lambda t: torch.nn.functional.one_hot(target, 8).float() * 50
    >>> start = torch.full((1, 2, 5), 8)
    >>> out = maskgit_fill(fn, start, start == 8, steps=3)
    >>> bool((out == target).all())
    True
    """
    _check_sampling_args(steps, temperature, noise)
    tokens = tokens.clone()
    masked = active.clone()
    batch = tokens.shape[0]
    n_total = masked.flatten(1).sum(1)
    n_pos = masked[0].numel()
    positions = torch.arange(n_pos, device=tokens.device).expand(batch, -1)
    for step in range(steps):
        logits = logits_fn(tokens)
        r = (step + 1) / steps
        sel = masked.nonzero(as_tuple=True)
        if sel[0].numel() == 0:
            continue
        logits = logits[sel].float()
        if temperature > 0:
            if temperature != 1:  # x / 1 == x: no copy needed
                logits = logits / temperature
            logp = torch.log_softmax(logits, dim=-1)
            del logits
            gumbel = _gumbel(sel[0], logp.shape[1:], generator, logp.device)
            sampled = gumbel.add_(logp).argmax(-1)
            del gumbel
        else:
            logp = torch.log_softmax(logits, dim=-1)
            del logits
            sampled = logp.argmax(-1)
        score = logp.gather(-1, sampled[:, None]).squeeze(-1)
        variance = gaussian_noise_variance(step, steps, noise_variance)
        if noise == "gaussian" and variance > 0:
            std = math.sqrt(variance)
            score = score + std * _draw(
                torch.randn, sel[0], (), generator, score.device
            )
        elif noise == "gumbel" and choice_temperature * (1 - r) > 0:
            score = score + choice_temperature * (1 - r) * _gumbel(
                sel[0], (), generator, score.device
            )
        scores = torch.full(masked.shape, math.inf, device=tokens.device)
        scores[sel] = score
        keep = num_still_masked(n_total, masked.flatten(1).sum(1), step, steps)
        order = scores.flatten(1).argsort(dim=1, stable=True)
        ranks = torch.empty_like(order).scatter_(1, order, positions)
        still = (ranks < keep[:, None]).view_as(masked) & masked
        candidates = tokens.clone()
        candidates[sel] = sampled
        tokens = torch.where(masked & ~still, candidates, tokens)
        masked = still
    return tokens


def _masked_codegram(batch, n_codebooks, n_frames, mask_id, valid, device):
    """Fully masked ``[batch, Q, T]`` codegram and the valid-frame mask.

    ``valid`` (bool ``[batch, T]``) defaults to all frames.
    """
    tokens = torch.full(
        (batch, n_codebooks, n_frames), mask_id, dtype=torch.long, device=device
    )
    if valid is None:
        valid = torch.ones(batch, n_frames, dtype=torch.bool, device=device)
    return tokens, valid


def maskgit_sample(
    logits_fn,
    batch,
    n_codebooks,
    n_frames,
    mask_id,
    steps=40,
    temperature=1.0,
    noise="gaussian",
    noise_variance=4.0,
    choice_temperature=4.5,
    valid=None,
    generator=None,
    device=None,
    pad_value=0,
):
    """Flat MaskGIT decoding of a whole codegram (all codebooks at once).

    Arguments
    ---------
    logits_fn : callable
        ``logits_fn(tokens[batch, Q, T]) -> logits[batch, Q, T, V]``.
    batch : int
        Batch size.
    n_codebooks : int
        Number of codebooks ``Q``.
    n_frames : int
        Number of frames ``T``.
    mask_id : int
        Id of the mask token (``V``).
    steps : int
        Decoding steps = model calls (40 in MaskSR).
    temperature : float
        Sampling temperature.
    noise : str
        ``"gaussian"`` (MaskSR), ``"gumbel"`` (MaskGIT) or ``"none"``.
    noise_variance : float
        Initial Gaussian noise variance.
    choice_temperature : float
        Initial MaskGIT choice temperature.
    valid : torch.Tensor, optional
        Bool ``[batch, T]`` valid frames; padded frames are not generated.
    generator : torch.Generator or list of torch.Generator, optional
        Random generator, or one per batch item (see :func:`maskgit_fill`).
    device : torch.device, optional
        Device of the codegram.
    pad_value : int
        Token written at padded frames of the result.

    Returns
    -------
    tokens : torch.Tensor
        Long ``[batch, Q, T]`` without mask ids.

    Example
    -------
    >>> calls = []
    >>> def fn(tokens):
    ...     calls.append(1)
    ...     return torch.randn(*tokens.shape, 16)
    >>> out = maskgit_sample(fn, 2, 3, 10, mask_id=16, steps=5)
    >>> out.shape, len(calls), bool((out < 16).all())
    (torch.Size([2, 3, 10]), 5, True)
    """
    tokens, valid = _masked_codegram(
        batch, n_codebooks, n_frames, mask_id, valid, device
    )
    active = valid[:, None, :].expand_as(tokens)
    tokens = maskgit_fill(
        logits_fn,
        tokens,
        active,
        steps,
        temperature=temperature,
        noise=noise,
        noise_variance=noise_variance,
        choice_temperature=choice_temperature,
        generator=generator,
    )
    return tokens.masked_fill(~active, pad_value)


def _check_upper_levels(upper_levels):
    if upper_levels not in UPPER_LEVEL_MODES:
        raise ValueError(
            f"upper_levels must be one of {UPPER_LEVEL_MODES}, "
            f"got {upper_levels!r}"
        )


def default_level_steps(steps, n_codebooks, upper_levels="greedy"):
    """Default step split of the hierarchical sampler.

    Level 0 gets ``steps`` iterations. The higher levels get one pass
    each with ``upper_levels="greedy"`` (MaskSR / SoundStorm), or
    ``max(1, steps // 10)`` iterations each with ``"iterative"``.

    Arguments
    ---------
    steps : int
        Iterations of the first level.
    n_codebooks : int
        Number of levels.
    upper_levels : str
        ``"greedy"`` or ``"iterative"``.

    Returns
    -------
    level_steps : list of int
        Iterations per level (their sum is the number of model calls).

    Example
    -------
    >>> default_level_steps(40, 9)
    [40, 1, 1, 1, 1, 1, 1, 1, 1]
    >>> sum(default_level_steps(40, 9))
    48
    >>> default_level_steps(40, 4, upper_levels="iterative")
    [40, 4, 4, 4]
    """
    _check_upper_levels(upper_levels)
    steps = check_steps(steps)
    upper = 1 if upper_levels == "greedy" else max(1, steps // 10)
    return [steps] + [upper] * (n_codebooks - 1)


def hierarchical_sample(
    logits_fn,
    batch,
    n_codebooks,
    n_frames,
    mask_id,
    level_steps,
    temperature=1.0,
    noise="gaussian",
    noise_variance=4.0,
    choice_temperature=4.5,
    valid=None,
    generator=None,
    device=None,
    pad_value=0,
    upper_levels="greedy",
):
    """SoundStorm-style decoding, one codebook level after the other.

    Level ``q`` is generated with ``level_steps[q]`` iterations while
    levels ``< q`` are given (already generated) and levels ``> q`` stay
    fully masked, as in hierarchical training. Re-masking ranks tokens
    within the active level only. The model is called ``sum(level_steps)``
    times.

    Level 0 is always decoded with MaskGIT sampling (``temperature``,
    ``noise``). With ``upper_levels="greedy"`` (default; MaskSR's
    hierarchical variant, after SoundStorm) the higher levels are decoded
    greedily: each position takes the argmax of the guided logits and
    multi-step levels rank by plain confidence (no noise); with
    ``level_steps[q] = 1`` (see :func:`default_level_steps`) a level is one
    argmax pass. ``upper_levels="iterative"`` samples every level like
    level 0.

    Arguments
    ---------
    logits_fn : callable
        ``logits_fn(tokens[batch, Q, T]) -> logits[batch, Q, T, V]``.
    batch : int
        Batch size.
    n_codebooks : int
        Number of codebooks ``Q``.
    n_frames : int
        Number of frames ``T``.
    mask_id : int
        Id of the mask token.
    level_steps : sequence of int
        Iterations for each level (length ``Q``), e.g.
        ``default_level_steps(40, 9)`` = ``[40, 1, ..., 1]`` (48 calls).
    temperature : float
        Sampling temperature (level 0; every level if ``"iterative"``).
    noise : str
        ``"gaussian"``, ``"gumbel"`` or ``"none"`` (same levels).
    noise_variance : float
        Initial Gaussian noise variance.
    choice_temperature : float
        Initial MaskGIT choice temperature.
    valid : torch.Tensor, optional
        Bool ``[batch, T]`` valid frames.
    generator : torch.Generator or list of torch.Generator, optional
        Random generator, or one per batch item (see :func:`maskgit_fill`).
    device : torch.device, optional
        Device of the codegram.
    pad_value : int
        Token written at padded frames of the result.
    upper_levels : str
        ``"greedy"`` or ``"iterative"`` (see above).

    Returns
    -------
    tokens : torch.Tensor
        Long ``[batch, Q, T]``.

    Example
    -------
    >>> seen = []
    >>> def fn(tokens):
    ...     seen.append((tokens == 16).sum(dim=(0, 2)).tolist())
    ...     return torch.randn(*tokens.shape, 16)
    >>> out = hierarchical_sample(fn, 1, 2, 4, 16, level_steps=[2, 1])
    >>> seen  # level 1 starts once level 0 is complete: 2 + 1 calls
    [[4, 4], [2, 4], [0, 4]]
    """
    _check_upper_levels(upper_levels)
    if len(level_steps) != n_codebooks:
        raise ValueError(
            f"level_steps needs one entry per codebook ({n_codebooks}), "
            f"got {list(level_steps)}"
        )
    tokens, valid = _masked_codegram(
        batch, n_codebooks, n_frames, mask_id, valid, device
    )
    for level, steps in enumerate(level_steps):
        active = torch.zeros_like(tokens, dtype=torch.bool)
        active[:, level] = valid
        greedy = level > 0 and upper_levels == "greedy"
        tokens = maskgit_fill(
            logits_fn,
            tokens,
            active,
            steps,
            temperature=0.0 if greedy else temperature,
            noise="none" if greedy else noise,
            noise_variance=noise_variance,
            choice_temperature=choice_temperature,
            generator=generator,
        )
    return tokens.masked_fill(~valid[:, None, :], pad_value)
