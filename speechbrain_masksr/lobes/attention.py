"""Shifted-window (local) transformer blocks for the Audio-MAE decoder.

* :class:`SwinBlock` - the local block of the released Audio-MAE decoder
  (timm_patch's Swin-V2-CR style block): scaled *cosine* attention with a
  learned per-head temperature ``tau`` (clamped at 0.01), a continuous
  relative position bias produced by ``meta_mlp`` (2 -> 384 -> heads, ReLU)
  from log-spaced relative coordinates, *post-norm* residual branches, and a
  cyclic shift with a -100 attention mask for shifted windows. Windows larger
  than the patch grid are clipped to it (and the shift on that axis is
  dropped). Parameter names match the official decoder so that its weights
  load unchanged. It is not a variant of the global pre-norm
  :class:`~speechbrain_masksr.lobes.transformer.TransformerBlock` (norm
  placement and attention differ); it shares its :class:`Mlp` and
  :class:`DropPath`.
* :func:`build_blocks` - a stack of global
  (:class:`~speechbrain_masksr.lobes.transformer.TransformerBlock`, LayerNorm
  eps 1e-6, no dropout, as timm 0.3.2's ViT ``Block``), local, or hybrid
  (local in all but the last ``n_global`` layers, global at the top) blocks.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from torch import nn

from speechbrain_masksr.lobes.transformer import (
    DropPath,
    Mlp,
    TransformerBlock,
)

__all__ = [
    "SwinBlock",
    "WindowAttention",
    "build_blocks",
    "shifted_window_mask",
    "window_config",
    "window_partition",
    "window_reverse",
]

ATTENTION_MODES = ("global", "local", "hybrid")


def window_config(grid, window_size=(4, 4), shift_size=(0, 0)):
    """Clips windows to the grid, as the official decoder does.

    On an axis where the grid is not larger than the window, the window
    becomes the whole axis and the shift on that axis is set to 0.

    Arguments
    ---------
    grid : tuple
        Patch grid ``(T, F)``.
    window_size : tuple
        Requested window ``(w_t, w_f)``.
    shift_size : tuple
        Requested cyclic shift ``(s_t, s_f)``.

    Returns
    -------
    tuple
        ``(window, shift)``, each a 2-tuple.

    Raises
    ------
    ValueError
        If the grid is not a multiple of the (clipped) window.

    Example
    -------
    >>> window_config((64, 8), (4, 4), (2, 0))
    ((4, 4), (2, 0))
    >>> window_config((4, 2), (4, 4), (2, 0))
    ((4, 2), (0, 0))
    """
    window = tuple(min(g, w) for g, w in zip(grid, window_size))
    shift = tuple(
        0 if g <= w else s for g, w, s in zip(grid, window, shift_size)
    )
    for g, w, s in zip(grid, window, shift):
        if g % w != 0:
            raise ValueError(
                f"Patch grid {tuple(grid)} is not a multiple of the local "
                f"attention window {window}; choose another target_length "
                "or window_size."
            )
        if not 0 <= s < w:
            raise ValueError(f"Shift {shift} must be smaller than {window}")
    return window, shift


def window_partition(x, window):
    """Cuts ``[batch, T, F, C]`` into windows ``[batch * n_win, w_t*w_f, C]``.

    Windows are ordered batch-major, then time-major; tokens inside a window
    are time-major.

    Arguments
    ---------
    x : torch.Tensor
        ``[batch, T, F, channels]``.
    window : tuple
        ``(w_t, w_f)`` dividing ``(T, F)``.

    Returns
    -------
    torch.Tensor
        ``[batch * (T / w_t) * (F / w_f), w_t * w_f, channels]``.

    Example
    -------
    >>> x = torch.arange(16.0).reshape(1, 4, 4, 1)
    >>> window_partition(x, (2, 2))[1, :, 0].tolist()
    [2.0, 3.0, 6.0, 7.0]
    """
    batch, n_time, n_freq, channels = x.shape
    w_t, w_f = window
    x = x.reshape(batch, n_time // w_t, w_t, n_freq // w_f, w_f, channels)
    x = x.permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, w_t * w_f, channels)


def window_reverse(windows, window, grid):
    """Inverse of :func:`window_partition`.

    Arguments
    ---------
    windows : torch.Tensor
        ``[batch * n_win, w_t * w_f, channels]``.
    window : tuple
        ``(w_t, w_f)``.
    grid : tuple
        ``(T, F)``.

    Returns
    -------
    torch.Tensor
        ``[batch, T, F, channels]``.

    Example
    -------
    >>> x = torch.randn(2, 4, 6, 3)
    >>> w = window_partition(x, (2, 3))
    >>> bool(torch.equal(window_reverse(w, (2, 3), (4, 6)), x))
    True
    """
    (w_t, w_f), (n_time, n_freq) = window, grid
    channels = windows.shape[-1]
    x = windows.reshape(-1, n_time // w_t, n_freq // w_f, w_t, w_f, channels)
    x = x.permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, n_time, n_freq, channels)


def shifted_window_mask(grid, window, shift):
    """Additive attention mask (0 / -100) for cyclically shifted windows.

    After the grid is rolled by ``-shift``, a window may hold tokens that
    were not neighbours (they wrapped around); pairs from different regions
    get -100, as in the official decoder.

    Arguments
    ---------
    grid : tuple
        ``(T, F)``.
    window : tuple
        ``(w_t, w_f)``.
    shift : tuple
        ``(s_t, s_f)``.

    Returns
    -------
    torch.Tensor or None
        ``[n_windows, w_t * w_f, w_t * w_f]``, or None without a shift.

    Example
    -------
    >>> mask = shifted_window_mask((8, 4), (4, 4), (2, 0))
    >>> mask.shape
    torch.Size([2, 16, 16])
    >>> int((mask[1] < 0).sum()), int((mask[0] < 0).sum())
    (128, 0)
    """
    if not any(shift):
        return None
    labels = []
    for size, w, s in zip(grid, window, shift):
        axis = torch.zeros(size, dtype=torch.long)
        if s > 0:
            axis[size - w : size - s] = 1
            axis[size - s :] = 2
        labels.append(axis)
    region = labels[0][:, None] * 3 + labels[1][None, :]
    region = window_partition(region[None, :, :, None], window)[..., 0]
    diff = region[:, None, :] != region[:, :, None]
    return torch.zeros(diff.shape).masked_fill(diff, -100.0)


class WindowAttention(nn.Module):
    """Scaled cosine attention inside windows with a continuous position bias.

    ``softmax(cos(q, k) / max(tau, 0.01) + B + M) v`` where ``B`` comes from
    ``meta_mlp`` applied to ``sign(d) * log(1 + |d|)`` of the relative
    coordinates ``d`` of each pair of tokens in a window, and ``M`` is the
    optional shifted-window mask.

    Arguments
    ---------
    dim : int
        Model width.
    num_heads : int
        Attention heads.
    window_size : tuple
        ``(w_t, w_f)``.
    attn_drop : float
        Dropout on attention weights.
    proj_drop : float
        Dropout after the output projection.
    meta_hidden_dim : int
        Hidden width of ``meta_mlp``.
    meta_drop : float
        Dropout inside ``meta_mlp`` (0.1 in the official decoder; training
        only).

    Example
    -------
    >>> attn = WindowAttention(16, 2, (2, 2))
    >>> attn(torch.randn(3, 4, 16)).shape
    torch.Size([3, 4, 16])
    """

    def __init__(
        self,
        dim,
        num_heads,
        window_size,
        attn_drop=0.0,
        proj_drop=0.0,
        meta_hidden_dim=384,
        meta_drop=0.1,
    ):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f"dim {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.window_size = tuple(window_size)
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.meta_mlp = Mlp(
            2, meta_hidden_dim, num_heads, act_layer=nn.ReLU, drop=meta_drop
        )
        self.tau = nn.Parameter(torch.ones(num_heads))
        w_t, w_f = self.window_size
        coords = torch.stack(
            torch.meshgrid(torch.arange(w_t), torch.arange(w_f), indexing="ij")
        ).flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        rel = rel.reshape(-1, 2).float()
        rel_log = torch.sign(rel) * torch.log1p(rel.abs())
        self.register_buffer(
            "relative_coordinates_log", rel_log, persistent=False
        )

    def relative_position_bias(self):
        """Returns the ``[1, heads, area, area]`` relative position bias.

        Returns
        -------
        torch.Tensor
            Bias added to the attention logits.
        """
        area = self.window_size[0] * self.window_size[1]
        bias = self.meta_mlp(self.relative_coordinates_log)
        return bias.transpose(0, 1).reshape(1, self.num_heads, area, area)

    def forward(self, x, mask=None):
        """Attention within each window.

        Arguments
        ---------
        x : torch.Tensor
            ``[batch * n_windows, area, dim]``.
        mask : torch.Tensor, optional
            ``[n_windows, area, area]`` additive mask.

        Returns
        -------
        torch.Tensor
            ``[batch * n_windows, area, dim]``.
        """
        n_win_total, area, dim = x.shape
        heads = self.num_heads
        qkv = self.qkv(x).reshape(n_win_total, area, 3, heads, dim // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        denom = q.norm(dim=-1, keepdim=True) @ k.norm(dim=-1, keepdim=True).mT
        attn = (q @ k.mT) / denom.clamp(min=1e-6)
        attn = attn / self.tau.clamp(min=0.01).reshape(1, heads, 1, 1)
        attn = attn + self.relative_position_bias()
        if mask is not None:
            n_win = mask.shape[0]
            attn = attn.reshape(-1, n_win, heads, area, area)
            attn = attn + mask[None, :, None].to(attn.dtype)
            attn = attn.reshape(-1, heads, area, area)
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(n_win_total, area, dim)
        return self.proj_drop(self.proj(x))


class SwinBlock(nn.Module):
    """Post-norm shifted-window block of the official Audio-MAE decoder.

    ``x + norm1(window_attn(x))`` then ``x + norm2(mlp(x))`` on a ``(T, F)``
    token grid (time-major, no cls token).

    Arguments
    ---------
    dim : int
        Model width.
    num_heads : int
        Attention heads.
    grid : tuple
        Patch grid ``(T, F)`` of the input tokens.
    window_size : tuple
        Requested window; clipped to the grid (see :func:`window_config`).
    shift_size : tuple
        Requested cyclic shift ``(s_t, s_f)``; ``(2, 0)`` on odd official
        blocks.
    mlp_ratio : float
        MLP width relative to ``dim``.
    drop : float
        Dropout after projections / in the MLP.
    attn_drop : float
        Dropout on attention weights.
    drop_path : float
        Stochastic-depth probability.
    meta_hidden_dim : int
        Hidden width of the position-bias MLP.
    meta_drop : float
        Dropout of the position-bias MLP (official: 0.1, training only).
    norm_eps : float
        LayerNorm epsilon.

    Example
    -------
    >>> block = SwinBlock(16, 2, grid=(8, 4), shift_size=(2, 0))
    >>> block(torch.randn(2, 32, 16)).shape
    torch.Size([2, 32, 16])
    """

    def __init__(
        self,
        dim,
        num_heads,
        grid,
        window_size=(4, 4),
        shift_size=(0, 0),
        mlp_ratio=4.0,
        drop=0.0,
        attn_drop=0.0,
        drop_path=0.0,
        meta_hidden_dim=384,
        meta_drop=0.1,
        norm_eps=1e-6,
    ):
        super().__init__()
        self.grid = tuple(grid)
        self.window_size, self.shift_size = window_config(
            self.grid, tuple(window_size), tuple(shift_size)
        )
        self.attn = WindowAttention(
            dim,
            num_heads,
            self.window_size,
            attn_drop=attn_drop,
            proj_drop=drop,
            meta_hidden_dim=meta_hidden_dim,
            meta_drop=meta_drop,
        )
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.drop_path1 = DropPath(drop_path)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.drop_path2 = DropPath(drop_path)
        mask = shifted_window_mask(self.grid, self.window_size, self.shift_size)
        self.register_buffer("attn_mask", mask, persistent=False)

    def _window_attention(self, x):
        """Shift, partition, attend, merge, unshift."""
        batch, length, dim = x.shape
        n_time, n_freq = self.grid
        if length != n_time * n_freq:
            raise ValueError(
                f"SwinBlock built for grid {self.grid} ({n_time * n_freq} "
                f"tokens) got {length} tokens"
            )
        x = x.reshape(batch, n_time, n_freq, dim)
        s_t, s_f = self.shift_size
        if s_t or s_f:
            x = torch.roll(x, shifts=(-s_t, -s_f), dims=(1, 2))
        windows = window_partition(x, self.window_size)
        windows = self.attn(windows, mask=self.attn_mask)
        x = window_reverse(windows, self.window_size, self.grid)
        if s_t or s_f:
            x = torch.roll(x, shifts=(s_t, s_f), dims=(1, 2))
        return x.reshape(batch, length, dim)

    def forward(self, x):
        """Runs the block.

        Arguments
        ---------
        x : torch.Tensor
            ``[batch, T * F, dim]`` in time-major order.

        Returns
        -------
        torch.Tensor
            ``[batch, T * F, dim]``.
        """
        x = x + self.drop_path1(self.norm1(self._window_attention(x)))
        return x + self.drop_path2(self.norm2(self.mlp(x)))


def build_blocks(
    mode,
    depth,
    dim,
    num_heads,
    grid=None,
    mlp_ratio=4.0,
    window_size=(4, 4),
    shift=True,
    n_global=2,
    drop_path=0.0,
    meta_drop=0.1,
    norm_eps=1e-6,
):
    """Builds a stack of global, local or hybrid blocks.

    Local blocks alternate unshifted and shifted windows (shift of half a
    window in time on odd blocks, none in frequency), as in the official
    decoder. ``"hybrid"`` uses local blocks for the first ``depth -
    n_global`` layers and global
    :class:`~speechbrain_masksr.lobes.transformer.TransformerBlock` layers at
    the top.

    Arguments
    ---------
    mode : str
        ``"global"``, ``"local"`` or ``"hybrid"``.
    depth : int
        Total number of blocks.
    dim : int
        Model width.
    num_heads : int
        Attention heads.
    grid : tuple, optional
        Patch grid ``(T, F)``; required for local and hybrid modes.
    mlp_ratio : float
        MLP width relative to ``dim``.
    window_size : tuple
        Local window ``(w_t, w_f)``.
    shift : bool
        Shift the windows on odd local blocks.
    n_global : int
        Global layers at the top of a hybrid stack.
    drop_path : float
        Stochastic-depth probability of every block.
    meta_drop : float
        Dropout of the local blocks' position-bias MLP.
    norm_eps : float
        LayerNorm epsilon.

    Returns
    -------
    torch.nn.ModuleList
        The blocks.

    Example
    -------
    >>> blocks = build_blocks("hybrid", 4, 16, 2, grid=(8, 4), n_global=1)
    >>> [type(b).__name__ for b in blocks]
    ['SwinBlock', 'SwinBlock', 'SwinBlock', 'TransformerBlock']
    >>> [b.shift_size for b in blocks[:3]]
    [(0, 0), (2, 0), (0, 0)]
    """
    if mode not in ATTENTION_MODES:
        raise ValueError(f"mode must be one of {ATTENTION_MODES}, got {mode!r}")
    if mode == "global":
        n_local = 0
    elif mode == "local":
        n_local = depth
    else:
        if not 0 < n_global < depth:
            raise ValueError(
                f"hybrid mode needs 0 < n_global < depth, got {n_global}, "
                f"{depth}"
            )
        n_local = depth - n_global
    if n_local and grid is None:
        raise ValueError("Local attention blocks need the patch grid")
    blocks = []
    for index in range(depth):
        if index < n_local:
            odd = index % 2 == 1
            shift_size = (window_size[0] // 2, 0) if (shift and odd) else (0, 0)
            blocks.append(
                SwinBlock(
                    dim,
                    num_heads,
                    grid,
                    window_size=window_size,
                    shift_size=shift_size,
                    mlp_ratio=mlp_ratio,
                    drop_path=drop_path,
                    meta_drop=meta_drop,
                    norm_eps=norm_eps,
                )
            )
        else:
            blocks.append(
                TransformerBlock(
                    dim,
                    num_heads,
                    d_ffn=int(dim * mlp_ratio),
                    dropout=0.0,
                    drop_path=drop_path,
                    norm_eps=norm_eps,
                )
            )
    return nn.ModuleList(blocks)
