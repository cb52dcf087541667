"""Patch embedding, 2-D sin-cos positions and (un)patchify for any grid.

Spectrograms are ``[batch, time, freq]`` tensors cut into non-overlapping
``patch_size`` x ``patch_size`` patches. Patches are numbered time-major, as
in the official Audio-MAE code: the patch at time row ``t`` and frequency
column ``f`` of a ``(T, F)`` patch grid has index ``t * F + f``; the pixels of
one patch are flattened time-major as well (``p_t * patch_size + p_f``).

Positional tables follow MAE's fixed 2-D sine-cosine embedding. The released
Audio-MAE checkpoints were built on a *transposed* grid (``(F, T)`` instead of
``(T, F)``, e.g. 8 x 64 for 64 x 8 patches); ``layout="official"`` rebuilds
that table exactly, ``layout="grid"`` gives the clean table whose first half
of channels encodes the frequency column and whose second half encodes the
time row of each patch.

Reference: Huang et al., "Masked Autoencoders that Listen", NeurIPS 2022.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from torch import nn

__all__ = [
    "PatchEmbed",
    "grid_size",
    "patchify",
    "sincos_pos_embed_1d",
    "sincos_pos_embed_2d",
    "unpatchify",
]


def _pair(value):
    """Returns ``(value, value)`` for an int, the tuple otherwise."""
    if isinstance(value, int):
        return (value, value)
    return tuple(int(v) for v in value)


def grid_size(time, freq, patch_size=16):
    """Returns the patch grid ``(T, F)`` of a ``time`` x ``freq`` input.

    Arguments
    ---------
    time : int
        Number of frames of the spectrogram.
    freq : int
        Number of frequency bins.
    patch_size : int
        Side of the square patches.

    Returns
    -------
    tuple
        ``(time // patch_size, freq // patch_size)``.

    Raises
    ------
    ValueError
        If a dimension is not a positive multiple of ``patch_size``.

    Example
    -------
    >>> grid_size(1024, 128)
    (64, 8)
    """
    for name, size in (("time", time), ("freq", freq)):
        if size <= 0 or size % patch_size != 0:
            raise ValueError(
                f"Spectrogram {name} size {size} must be a positive multiple "
                f"of the patch size {patch_size}; pad or crop the input "
                "(AudioMAEFbank(target_length=...))."
            )
    return (time // patch_size, freq // patch_size)


def sincos_pos_embed_1d(d_model, positions):
    """1-D sine-cosine embedding of (possibly fractional) positions.

    Channel ``d < d_model / 2`` holds ``sin(pos * w_d)`` and channel
    ``d_model / 2 + d`` holds ``cos(pos * w_d)``, with
    ``w_d = 10000 ** (-2 d / d_model)``. Computed in float64.

    Arguments
    ---------
    d_model : int
        Even number of output channels.
    positions : torch.Tensor
        Positions of any shape; flattened.

    Returns
    -------
    torch.Tensor
        ``[n_positions, d_model]`` float64 table.

    Example
    -------
    >>> emb = sincos_pos_embed_1d(4, torch.arange(3))
    >>> emb.shape
    torch.Size([3, 4])
    >>> emb[0].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """
    if d_model % 2 != 0:
        raise ValueError(f"d_model must be even, got {d_model}")
    half = d_model // 2
    omega = torch.arange(half, dtype=torch.float64) / half
    omega = 1.0 / (10000.0**omega)
    angles = positions.reshape(-1).to(torch.float64)[:, None] * omega[None]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def sincos_pos_embed_2d(d_model, grid, cls_token=False, layout="grid"):
    """Fixed 2-D sine-cosine positional table for a ``(T, F)`` patch grid.

    Arguments
    ---------
    d_model : int
        Channels, a multiple of 4.
    grid : tuple
        Patch grid ``(T, F)``; row ``t * F + f`` of the table belongs to the
        patch at time row ``t`` and frequency column ``f``.
    cls_token : bool
        If True, a row of zeros is prepended for the cls token.
    layout : str
        ``"grid"``: the first ``d_model / 2`` channels encode ``f`` and the
        rest encode ``t``. ``"official"``: the table the released Audio-MAE
        code builds, generated on the transposed ``(F, T)`` grid and read in
        token order, so patch ``k`` gets column ``k % T`` and row ``k // T``
        of that grid (a fixed scramble of time and frequency).

    Returns
    -------
    torch.Tensor
        ``[T * F (+1), d_model]`` float32 table.

    Example
    -------
    >>> table = sincos_pos_embed_2d(8, (4, 2), cls_token=True)
    >>> table.shape
    torch.Size([9, 8])
    >>> bool(table[0].eq(0).all())
    True
    >>> official = sincos_pos_embed_2d(8, (4, 2), layout="official")
    >>> bool(torch.allclose(official, table[1:]))
    False
    """
    n_time, n_freq = _pair(grid)
    if d_model % 4 != 0:
        raise ValueError(f"d_model must be a multiple of 4, got {d_model}")
    if layout == "grid":
        rows, cols = n_time, n_freq
    elif layout == "official":
        rows, cols = n_freq, n_time
    else:
        raise ValueError(f"layout must be 'grid' or 'official', got {layout!r}")
    # Row-major enumeration of a rows x cols grid; the row-major index is the
    # token index in both layouts.
    row = torch.arange(rows).repeat_interleave(cols)
    col = torch.arange(cols).repeat(rows)
    emb = torch.cat(
        [
            sincos_pos_embed_1d(d_model // 2, col),
            sincos_pos_embed_1d(d_model // 2, row),
        ],
        dim=1,
    )
    if cls_token:
        emb = torch.cat([emb.new_zeros(1, d_model), emb], dim=0)
    return emb.float()


def patchify(specs, patch_size=16):
    """Cuts spectrograms into flattened non-overlapping patches.

    Arguments
    ---------
    specs : torch.Tensor
        ``[batch, time, freq]`` (or ``[batch, 1, time, freq]``).
    patch_size : int
        Side of the square patches.

    Returns
    -------
    torch.Tensor
        ``[batch, T * F, patch_size ** 2]`` with patch ``t * F + f``.

    Example
    -------
    >>> x = torch.arange(2 * 32 * 16.0).reshape(2, 32, 16)
    >>> patchify(x).shape
    torch.Size([2, 2, 256])
    >>> bool(torch.equal(unpatchify(patchify(x), (2, 1)), x))
    True
    """
    if specs.dim() == 4:
        specs = specs.squeeze(1)
    if specs.dim() != 3:
        raise ValueError(
            f"Expected [batch, time, freq], got shape {tuple(specs.shape)}"
        )
    batch, time, freq = specs.shape
    n_time, n_freq = grid_size(time, freq, patch_size)
    x = specs.reshape(batch, n_time, patch_size, n_freq, patch_size)
    x = x.permute(0, 1, 3, 2, 4)
    return x.reshape(batch, n_time * n_freq, patch_size * patch_size)


def unpatchify(patches, grid, patch_size=16):
    """Inverse of :func:`patchify` for a ``(T, F)`` patch grid.

    Arguments
    ---------
    patches : torch.Tensor
        ``[batch, T * F, patch_size ** 2]``.
    grid : tuple
        Patch grid ``(T, F)``.
    patch_size : int
        Side of the square patches.

    Returns
    -------
    torch.Tensor
        ``[batch, T * patch_size, F * patch_size]``.

    Example
    -------
    >>> unpatchify(torch.zeros(1, 24, 256), (12, 2)).shape
    torch.Size([1, 192, 32])
    """
    n_time, n_freq = _pair(grid)
    batch, length, dim = patches.shape
    if length != n_time * n_freq or dim != patch_size * patch_size:
        raise ValueError(
            f"Patches of shape {tuple(patches.shape)} do not fit grid "
            f"{(n_time, n_freq)} with patch size {patch_size}"
        )
    x = patches.reshape(batch, n_time, n_freq, patch_size, patch_size)
    x = x.permute(0, 1, 3, 2, 4)
    return x.reshape(batch, n_time * patch_size, n_freq * patch_size)


class PatchEmbed(nn.Module):
    """Non-overlapping patch embedding (a strided ``Conv2d``).

    The submodule is named ``proj`` as in the official code, so official
    ``patch_embed.proj.*`` weights load unchanged.

    Arguments
    ---------
    patch_size : int
        Side of the square patches (kernel = stride).
    in_chans : int
        Input channels (1 for a spectrogram).
    d_model : int
        Output channels.

    Example
    -------
    >>> embed = PatchEmbed(patch_size=16, d_model=32)
    >>> embed(torch.randn(2, 64, 32)).shape
    torch.Size([2, 8, 32])
    """

    def __init__(self, patch_size=16, in_chans=1, d_model=768):
        super().__init__()
        self.patch_size = patch_size
        self.in_chans = in_chans
        self.proj = nn.Conv2d(
            in_chans, d_model, kernel_size=patch_size, stride=patch_size
        )
        # Initialised like a Linear layer (xavier on the flattened kernel).
        weight = self.proj.weight.data
        nn.init.xavier_uniform_(weight.view(weight.shape[0], -1))
        nn.init.zeros_(self.proj.bias)

    def forward(self, specs):
        """Embeds ``[batch, time, freq]`` into ``[batch, T * F, d_model]``.

        Arguments
        ---------
        specs : torch.Tensor
            ``[batch, time, freq]`` or ``[batch, in_chans, time, freq]``.

        Returns
        -------
        torch.Tensor
            ``[batch, T * F, d_model]`` in time-major patch order.
        """
        if specs.dim() == 3:
            specs = specs.unsqueeze(1)
        if specs.dim() != 4 or specs.shape[1] != self.in_chans:
            raise ValueError(
                f"Expected [batch, time, freq] input, got {tuple(specs.shape)}"
            )
        grid_size(specs.shape[-2], specs.shape[-1], self.patch_size)
        return self.proj(specs).flatten(2).transpose(1, 2)
