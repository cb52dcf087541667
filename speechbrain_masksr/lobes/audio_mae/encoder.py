"""Audio-MAE ViT encoder and its named sizes.

:class:`AudioMAEEncoder` - ViT encoder (cls token, fixed 2-D sin-cos
positions, pre-norm blocks, final ``norm``); see :func:`vit_config`.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from torch import nn

from speechbrain_masksr.lobes.patching import (
    PatchEmbed,
    grid_size,
    sincos_pos_embed_2d,
)
from speechbrain_masksr.lobes.transformer import TransformerBlock

__all__ = ["VIT_CONFIGS", "AudioMAEEncoder", "vit_config"]

VIT_CONFIGS = {
    "small": {"embed_dim": 384, "depth": 12, "num_heads": 6},
    "base": {"embed_dim": 768, "depth": 12, "num_heads": 12},
    "large": {"embed_dim": 1024, "depth": 24, "num_heads": 16},
}


def vit_config(name):
    """Encoder size of a named ViT configuration.

    Arguments
    ---------
    name : str
        ``"small"`` (384 / 12 / 6), ``"base"`` (768 / 12 / 12) or
        ``"large"`` (1024 / 24 / 16); ``"vit_b"``-style aliases work too.

    Returns
    -------
    dict
        ``embed_dim``, ``depth`` and ``num_heads`` (a fresh copy).

    Example
    -------
    >>> vit_config("base")
    {'embed_dim': 768, 'depth': 12, 'num_heads': 12}
    >>> enc = AudioMAEEncoder(grid=(2, 1), **vit_config("small"))
    >>> enc.embed_dim
    384
    """
    aliases = {"s": "small", "b": "base", "l": "large"}
    key = str(name).lower().replace("vit_", "").replace("vit-", "")
    key = aliases.get(key, key)
    if key not in VIT_CONFIGS:
        raise ValueError(
            f"Unknown ViT config {name!r}; choose from {sorted(VIT_CONFIGS)}"
        )
    return dict(VIT_CONFIGS[key])


def _fill_sincos(table, grid, layout):
    """Overwrite a ``[1, 1 + T * F, dim]`` parameter with the fixed 2-D
    sin-cos table (class-token row zero) of ``grid`` in ``layout``."""
    values = sincos_pos_embed_2d(
        table.shape[-1], grid, cls_token=True, layout=layout
    )
    with torch.no_grad():
        table.copy_(values[None])


def _init_linear_and_norm(module):
    """MAE initialisation: xavier-uniform Linear, unit LayerNorm."""
    for sub in module.modules():
        if isinstance(sub, nn.Linear):
            nn.init.xavier_uniform_(sub.weight)
            if sub.bias is not None:
                nn.init.zeros_(sub.bias)
        elif isinstance(sub, nn.LayerNorm):
            nn.init.ones_(sub.weight)
            nn.init.zeros_(sub.bias)


_CONFIG_HINT = (
    "Check the model configuration (size, grid/target_length, decoder mode "
    "and depth)."
)


class AudioMAEEncoder(nn.Module):
    """ViT encoder of Audio-MAE (cls token, fixed sin-cos positions).

    ``embed`` adds ``pos_embed[1:]`` to the patch embeddings (before any
    masking); ``forward_tokens`` prepends ``cls_token + pos_embed[0]`` to
    the (visible) tokens and runs the pre-norm blocks and the final ``norm``.

    Arguments
    ---------
    grid : tuple
        Patch grid ``(T, F)``: input ``[batch, 16 T, 16 F]``.
    patch_size : int
        Patch side.
    embed_dim : int
        Width (384 / 768 / 1024 for S / B / L).
    depth : int
        Number of blocks.
    num_heads : int
        Attention heads.
    mlp_ratio : float
        MLP width relative to ``embed_dim``.
    in_chans : int
        Input channels.
    drop_path : float
        Maximum stochastic-depth rate (linear over the blocks).
    pos_layout : str
        Layout of the generated table (``"grid"`` or ``"official"``); a
        loaded checkpoint's table replaces it.
    pos_trainable : bool
        Whether ``pos_embed`` receives gradients.

    Example
    -------
    >>> enc = AudioMAEEncoder(grid=(4, 2), embed_dim=32, depth=1, num_heads=2)
    >>> enc(torch.randn(3, 64, 32)).shape
    torch.Size([3, 9, 32])
    """

    def __init__(
        self,
        grid=(64, 8),
        patch_size=16,
        embed_dim=768,
        depth=12,
        num_heads=12,
        mlp_ratio=4.0,
        in_chans=1,
        drop_path=0.0,
        pos_layout="grid",
        pos_trainable=False,
    ):
        super().__init__()
        self.grid = tuple(int(g) for g in grid)
        self.patch_size = int(patch_size)
        self.embed_dim = int(embed_dim)
        self.num_patches = self.grid[0] * self.grid[1]
        self.pos_layout = pos_layout
        self.patch_embed = PatchEmbed(patch_size, in_chans, embed_dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.num_patches + 1, embed_dim),
            requires_grad=pos_trainable,
        )
        rates = torch.linspace(0, drop_path, depth).tolist()
        self.blocks = nn.ModuleList(
            [
                TransformerBlock(
                    embed_dim,
                    num_heads,
                    d_ffn=int(embed_dim * mlp_ratio),
                    dropout=0.0,
                    drop_path=rate,
                    norm_eps=1e-6,
                )
                for rate in rates
            ]
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        _init_linear_and_norm(self.blocks)
        _init_linear_and_norm(self.norm)
        nn.init.normal_(self.cls_token, std=0.02)
        self.reset_pos_embed()

    def reset_pos_embed(self, layout=None):
        """Regenerates the sin-cos table (e.g. instead of a loaded one).

        Arguments
        ---------
        layout : str, optional
            ``"grid"`` or ``"official"``; default: the constructor's.
        """
        _fill_sincos(self.pos_embed, self.grid, layout or self.pos_layout)

    def embed(self, fbank):
        """Patch embeddings plus positions, time-major, without cls.

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]``.

        Returns
        -------
        torch.Tensor
            ``[batch, T * F, embed_dim]``.
        """
        if fbank.dim() == 4:
            fbank = fbank.squeeze(1)
        if fbank.dim() != 3:
            raise ValueError(
                f"Expected fbank [batch, time, freq], got {tuple(fbank.shape)}"
            )
        grid = grid_size(fbank.shape[1], fbank.shape[2], self.patch_size)
        if grid != self.grid:
            raise ValueError(
                f"Input of {fbank.shape[1]} frames x {fbank.shape[2]} bins "
                f"gives patch grid {grid}, but the encoder was built for "
                f"{self.grid}; set AudioMAEFbank(target_length="
                f"{self.grid[0] * self.patch_size}) or the encoder grid."
            )
        return self.patch_embed(fbank) + self.pos_embed[:, 1:]

    def forward_tokens(self, tokens):
        """Runs the transformer on (visible) tokens with a cls token.

        Arguments
        ---------
        tokens : torch.Tensor
            ``[batch, n, embed_dim]`` output of :meth:`embed`, possibly
            masked or dropped.

        Returns
        -------
        torch.Tensor
            ``[batch, 1 + n, embed_dim]``, cls first.
        """
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(
            tokens.shape[0], -1, -1
        )
        x = torch.cat([cls, tokens], dim=1)
        for block in self.blocks:
            x = block(x)
        return self.norm(x)

    def forward(self, fbank):
        """Encodes the whole spectrogram (no masking).

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]``.

        Returns
        -------
        torch.Tensor
            ``[batch, 1 + T * F, embed_dim]``.
        """
        return self.forward_tokens(self.embed(fbank))
