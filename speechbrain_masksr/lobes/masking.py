"""Token masking for Audio-MAE pretraining and fine-tuning.

Pretraining masks (the decoder later re-inserts mask tokens):

* :func:`random_masking` - unstructured, MAE style: keep the
  ``int(L * (1 - mask_ratio))`` tokens with the smallest uniform noise.
* :func:`structured_masking` - mask whole time rows and/or frequency columns
  of the ``(T, F)`` patch grid; the masked set is the union of the masked
  rows and columns, so ``int(T (1 - p_t)) * int(F (1 - p_f))`` tokens stay.
  ``mask_tokens(..., mode="time" | "freq" | "time+freq")`` picks the variant.

All pretraining maskers return ``(x_visible, mask, ids_restore)``: ``mask``
is ``[batch, L]`` with 1 for masked (removed) tokens and 0 for visible ones,
and ``ids_restore`` undoes the ordering used to gather the visible tokens
(visible tokens first, then masked ones).

Fine-tuning masking (:func:`drop_time_freq`) physically removes whole time
rows and frequency columns, returning only the kept tokens; nothing is
restored later.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch

__all__ = [
    "MASK_MODES",
    "drop_time_freq",
    "gather_tokens",
    "mask_tokens",
    "random_masking",
    "structured_masking",
]

MASK_MODES = ("random", "time", "freq", "time+freq", "none")


def gather_tokens(x, ids):
    """Gathers tokens of ``x`` along the sequence axis.

    Arguments
    ---------
    x : torch.Tensor
        ``[batch, length, dim]``.
    ids : torch.Tensor
        ``[batch, n]`` indices into the sequence axis.

    Returns
    -------
    torch.Tensor
        ``[batch, n, dim]``.

    Example
    -------
    >>> x = torch.arange(6.0).reshape(1, 3, 2)
    >>> gather_tokens(x, torch.tensor([[2, 0]])).tolist()
    [[[4.0, 5.0], [0.0, 1.0]]]
    """
    return torch.gather(x, 1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


def _rand(shape, device, generator=None):
    """Uniform noise on ``device`` (drawn on the generator's device)."""
    if generator is None:
        return torch.rand(shape, device=device)
    return torch.rand(shape, generator=generator, device=generator.device).to(
        device
    )


def random_masking(x, mask_ratio=0.8, noise=None, generator=None):
    """Unstructured per-example random masking (MAE).

    Arguments
    ---------
    x : torch.Tensor
        ``[batch, length, dim]`` tokens.
    mask_ratio : float
        Fraction of tokens to mask; ``int(length * (1 - mask_ratio))`` stay.
    noise : torch.Tensor, optional
        ``[batch, length]`` scores; the smallest are kept. Drawn uniformly
        with ``torch.rand`` when not given (as the official code does).
    generator : torch.Generator, optional
        Random generator for the noise.

    Returns
    -------
    x_visible : torch.Tensor
        ``[batch, n_keep, dim]`` visible tokens.
    mask : torch.Tensor
        ``[batch, length]``, 1 = masked, 0 = visible (float).
    ids_restore : torch.Tensor
        ``[batch, length]`` indices restoring the original order.

    Example
    -------
    >>> x = torch.randn(2, 512, 4)
    >>> visible, mask, ids_restore = random_masking(x, 0.8)
    >>> visible.shape, mask.sum(dim=1).tolist()
    (torch.Size([2, 102, 4]), [410.0, 410.0])
    """
    batch, length, _ = x.shape
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"mask_ratio must be in [0, 1), got {mask_ratio}")
    n_keep = int(length * (1 - mask_ratio))
    if n_keep < 1:
        raise ValueError(
            f"mask_ratio {mask_ratio} leaves no visible token of {length}"
        )
    if noise is None:
        noise = _rand((batch, length), x.device, generator)
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    x_visible = gather_tokens(x, ids_shuffle[:, :n_keep])
    mask = torch.ones(batch, length, device=x.device)
    mask[:, :n_keep] = 0
    mask = torch.gather(mask, 1, ids_restore)
    return x_visible, mask, ids_restore


def _keep_mask(batch, size, prob, device, generator):
    """``[batch, size]`` bool, True for the ``int(size*(1-prob))`` kept."""
    n_keep = int(size * (1 - prob))
    if n_keep < 1:
        raise ValueError(
            f"Masking probability {prob} leaves nothing of an axis of {size}"
        )
    ids = torch.argsort(_rand((batch, size), device, generator), dim=1)
    keep = torch.zeros(batch, size, dtype=torch.bool, device=device)
    keep.scatter_(1, ids[:, :n_keep], True)
    return keep


def structured_masking(
    x, grid, mask_t_prob=0.6, mask_f_prob=0.5, generator=None
):
    """Masks whole time rows and frequency columns of the patch grid.

    A token stays visible only if neither its time row nor its frequency
    column is masked, so ``int(T (1 - mask_t_prob)) * int(F (1 -
    mask_f_prob))`` tokens stay. ``mask_f_prob=0`` gives pure time masking,
    ``mask_t_prob=0`` pure frequency masking. The visible tokens are kept in
    their original (time-major) order.

    Arguments
    ---------
    x : torch.Tensor
        ``[batch, T * F, dim]`` tokens in time-major order.
    grid : tuple
        Patch grid ``(T, F)``.
    mask_t_prob : float
        Fraction of time rows to mask.
    mask_f_prob : float
        Fraction of frequency columns to mask.
    generator : torch.Generator, optional
        Random generator.

    Returns
    -------
    x_visible : torch.Tensor
        ``[batch, n_keep, dim]``.
    mask : torch.Tensor
        ``[batch, T * F]``, 1 = masked (float).
    ids_restore : torch.Tensor
        ``[batch, T * F]``.

    Example
    -------
    >>> x = torch.randn(2, 32, 4)
    >>> visible, mask, _ = structured_masking(x, (8, 4), 0.5, 0.5)
    >>> visible.shape
    torch.Size([2, 8, 4])
    >>> rows = mask.reshape(2, 8, 4)
    >>> bool(((rows.sum(-1) == 4) | (rows.sum(-1) == 2)).all())
    True
    """
    batch, length, _ = x.shape
    n_time, n_freq = grid
    if length != n_time * n_freq:
        raise ValueError(f"{length} tokens do not fit grid {tuple(grid)}")
    keep_t = _keep_mask(batch, n_time, mask_t_prob, x.device, generator)
    keep_f = _keep_mask(batch, n_freq, mask_f_prob, x.device, generator)
    keep = (keep_t[:, :, None] & keep_f[:, None, :]).reshape(batch, length)
    mask = (~keep).float()
    # Stable sort: visible tokens first (in order), then the masked ones.
    ids_shuffle = torch.argsort(mask, dim=1, stable=True)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    n_keep = int(keep[0].sum())
    x_visible = gather_tokens(x, ids_shuffle[:, :n_keep])
    return x_visible, mask, ids_restore


def mask_tokens(
    x,
    grid,
    mode="random",
    mask_ratio=0.8,
    mask_t_prob=0.6,
    mask_f_prob=0.5,
    noise=None,
    generator=None,
):
    """Applies one of the pretraining masking strategies.

    Arguments
    ---------
    x : torch.Tensor
        ``[batch, T * F, dim]`` tokens in time-major order.
    grid : tuple
        Patch grid ``(T, F)``.
    mode : str
        ``"random"`` (unstructured, ``mask_ratio``), ``"time"`` (time rows,
        ``mask_ratio``), ``"freq"`` (frequency columns, ``mask_ratio``) or
        ``"time+freq"`` (rows with ``mask_t_prob`` and columns with
        ``mask_f_prob``) or ``"none"`` (every token visible, e.g. for
        enhancement training without masking).
    mask_ratio : float
        Ratio for the ``random``, ``time`` and ``freq`` modes.
    mask_t_prob : float
        Time-row ratio of the ``time+freq`` mode.
    mask_f_prob : float
        Frequency-column ratio of the ``time+freq`` mode.
    noise : torch.Tensor, optional
        ``[batch, T * F]`` scores for the ``random`` mode.
    generator : torch.Generator, optional
        Random generator.

    Returns
    -------
    tuple
        ``(x_visible, mask, ids_restore)`` as in :func:`random_masking`.

    Example
    -------
    >>> x = torch.randn(1, 128, 8)
    >>> for mode in MASK_MODES:
    ...     print(mode, mask_tokens(x, (16, 8), mode)[0].shape[1])
    random 25
    time 24
    freq 16
    time+freq 24
    none 128
    """
    if mode == "none":
        batch, length, _ = x.shape
        ids = torch.arange(length, device=x.device).expand(batch, -1)
        return x, x.new_zeros(batch, length), ids
    if mode == "random":
        return random_masking(x, mask_ratio, noise=noise, generator=generator)
    if mode == "time":
        return structured_masking(x, grid, mask_ratio, 0.0, generator)
    if mode == "freq":
        return structured_masking(x, grid, 0.0, mask_ratio, generator)
    if mode == "time+freq":
        return structured_masking(x, grid, mask_t_prob, mask_f_prob, generator)
    raise ValueError(f"mask mode must be one of {MASK_MODES}, got {mode!r}")


def drop_time_freq(x, grid, mask_t_prob=0.2, mask_f_prob=0.2, generator=None):
    """Fine-tuning masking: drops whole time rows, then frequency columns.

    Keeps ``int(T (1 - mask_t_prob))`` random rows and ``int(F (1 -
    mask_f_prob))`` random columns of the patch grid per example and returns
    only those tokens (time-major over the kept rows and columns). The
    released fine-tuning scripts use 0.2 / 0.2; the paper quotes 0.3.

    Arguments
    ---------
    x : torch.Tensor
        ``[batch, T * F, dim]`` tokens in time-major order.
    grid : tuple
        Patch grid ``(T, F)``.
    mask_t_prob : float
        Fraction of time rows to drop.
    mask_f_prob : float
        Fraction of frequency columns to drop.
    generator : torch.Generator, optional
        Random generator.

    Returns
    -------
    x_kept : torch.Tensor
        ``[batch, T' * F', dim]``.
    kept_grid : tuple
        ``(T', F')``.

    Example
    -------
    >>> x = torch.randn(2, 64 * 8, 16)
    >>> kept, kept_grid = drop_time_freq(x, (64, 8))
    >>> kept.shape, kept_grid
    (torch.Size([2, 306, 16]), (51, 6))
    """
    batch, length, dim = x.shape
    n_time, n_freq = grid
    if length != n_time * n_freq:
        raise ValueError(f"{length} tokens do not fit grid {tuple(grid)}")
    keep_t = int(n_time * (1 - mask_t_prob))
    keep_f = int(n_freq * (1 - mask_f_prob))
    if keep_t < 1 or keep_f < 1:
        raise ValueError(
            f"mask_t_prob={mask_t_prob}, mask_f_prob={mask_f_prob} drop the "
            f"whole {n_time}x{n_freq} grid"
        )
    ids_t = torch.argsort(_rand((batch, n_time), x.device, generator), dim=1)
    ids_f = torch.argsort(_rand((batch, n_freq), x.device, generator), dim=1)
    ids_t = ids_t[:, :keep_t].sort(dim=1).values
    ids_f = ids_f[:, :keep_f].sort(dim=1).values
    ids = (ids_t[:, :, None] * n_freq + ids_f[:, None, :]).reshape(batch, -1)
    return gather_tokens(x, ids), (keep_t, keep_f)
