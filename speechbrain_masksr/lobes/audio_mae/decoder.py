"""Audio-MAE decoder.

:class:`AudioMAEDecoder` - projects the visible latents, inserts mask
tokens, restores the order, adds decoder positions and runs global,
shifted-window local (the paper's default and the released decoder, 16
blocks) or hybrid blocks.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from torch import nn

from speechbrain_masksr.lobes.attention import build_blocks
from speechbrain_masksr.lobes.audio_mae.encoder import (
    _fill_sincos,
    _init_linear_and_norm,
)
from speechbrain_masksr.lobes.masking import gather_tokens

__all__ = ["AudioMAEDecoder"]


class AudioMAEDecoder(nn.Module):
    """Audio-MAE decoder (global, shifted-window local, or hybrid).

    ``decoder_embed`` projects the encoder output, ``mask_token`` fills the
    masked positions, ``ids_restore`` puts the tokens back in time-major
    order and ``decoder_pos_embed`` is added. Global mode keeps the cls
    token through the blocks (official ``decoder_mode=0``); local and
    hybrid modes drop it before the blocks (official ``decoder_mode=1``).
    Then ``decoder_norm`` and ``decoder_pred`` give one patch per token.

    Arguments
    ---------
    grid : tuple
        Patch grid ``(T, F)``.
    embed_dim : int
        Encoder width.
    decoder_dim : int
        Decoder width.
    depth : int, optional
        Blocks; default the paper's depth for ``mode`` (Huang et al. 2022,
        Table 1c): 8 global, 16 local, and 8 local + ``n_global`` global
        for hybrid ("Hwin, local (8) + global (4)").
    num_heads : int
        Attention heads.
    mode : str
        ``"global"``, ``"local"`` or ``"hybrid"``.
    patch_size : int
        Patch side (``decoder_pred`` outputs ``patch_size ** 2`` values).
    in_chans : int
        Input channels.
    mlp_ratio : float
        MLP width ratio.
    window_size : tuple
        Local window on the patch grid.
    shift : bool
        Shift the windows by half a window in time on odd local blocks.
    n_global : int
        Global layers at the top of the hybrid stack (paper Table 1c: 4;
        the hybrid decoder is not in the released code).
    meta_drop : float
        Dropout of the local position-bias MLP (official 0.1, training only).
    pos_layout : str
        Layout of the generated decoder table.

    Example
    -------
    >>> dec = AudioMAEDecoder((8, 4), 32, 16, 2, num_heads=2, mode="local")
    >>> latent = torch.randn(2, 1 + 6, 32)
    >>> ids_restore = torch.argsort(torch.rand(2, 32), dim=1)
    >>> dec(latent, ids_restore).shape
    torch.Size([2, 32, 256])
    """

    def __init__(
        self,
        grid=(64, 8),
        embed_dim=768,
        decoder_dim=512,
        depth=None,
        num_heads=16,
        mode="global",
        patch_size=16,
        in_chans=1,
        mlp_ratio=4.0,
        window_size=(4, 4),
        shift=True,
        n_global=4,
        meta_drop=0.1,
        pos_layout="grid",
    ):
        super().__init__()
        self.grid = tuple(int(g) for g in grid)
        self.num_patches = self.grid[0] * self.grid[1]
        self.decoder_dim = int(decoder_dim)
        self.patch_size = int(patch_size)
        self.mode = mode
        self.pos_layout = pos_layout
        if depth is None:
            depth = {"global": 8, "local": 16}.get(mode, 8 + n_global)
        self.decoder_embed = nn.Linear(embed_dim, decoder_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        self.decoder_pos_embed = nn.Parameter(
            torch.zeros(1, self.num_patches + 1, decoder_dim),
            requires_grad=False,
        )
        self.decoder_blocks = build_blocks(
            mode,
            depth,
            decoder_dim,
            num_heads,
            grid=self.grid,
            mlp_ratio=mlp_ratio,
            window_size=tuple(window_size),
            shift=shift,
            n_global=n_global,
            meta_drop=meta_drop,
        )
        self.decoder_norm = nn.LayerNorm(decoder_dim, eps=1e-6)
        self.decoder_pred = nn.Linear(decoder_dim, patch_size**2 * in_chans)
        _init_linear_and_norm(self)
        nn.init.normal_(self.mask_token, std=0.02)
        self.reset_pos_embed()

    def reset_pos_embed(self, layout=None):
        """Regenerates the decoder sin-cos table.

        Arguments
        ---------
        layout : str, optional
            ``"grid"`` or ``"official"``; default: the constructor's.
        """
        _fill_sincos(
            self.decoder_pos_embed, self.grid, layout or self.pos_layout
        )

    def forward(self, latent, ids_restore):
        """Predicts every patch from the visible latents.

        Arguments
        ---------
        latent : torch.Tensor
            ``[batch, 1 + n_visible, embed_dim]`` encoder output (cls first,
            visible tokens in the order given by ``ids_restore``).
        ids_restore : torch.Tensor
            ``[batch, T * F]`` from the masking function.

        Returns
        -------
        torch.Tensor
            ``[batch, T * F, patch_size ** 2]`` predicted patches.
        """
        x = self.decoder_embed(latent)
        batch, n_tokens, dim = x.shape
        if ids_restore.shape[1] != self.num_patches:
            raise ValueError(
                f"ids_restore covers {ids_restore.shape[1]} patches, the "
                f"decoder was built for grid {self.grid}"
            )
        n_masked = self.num_patches + 1 - n_tokens
        tokens = torch.cat(
            [x[:, 1:], self.mask_token.expand(batch, n_masked, dim)], dim=1
        )
        tokens = gather_tokens(tokens, ids_restore)
        x = torch.cat([x[:, :1], tokens], dim=1) + self.decoder_pos_embed
        if self.mode != "global":
            x = x[:, 1:]
        for block in self.decoder_blocks:
            x = block(x)
        pred = self.decoder_pred(self.decoder_norm(x))
        if self.mode == "global":
            pred = pred[:, 1:]
        return pred
