"""Small pre-norm transformer blocks shared by the MaskSR lobes.

The speech encoder and the masked codec language model of MaskSR both use a
stack of pre-norm self-attention blocks (multi-head attention through
``torch.nn.functional.scaled_dot_product_attention``, an MLP of width
``4 * d_model`` with GELU) on top of absolute sinusoidal positions.

The sinusoidal table follows the same formula as SpeechBrain's
``speechbrain.lobes.models.transformer.Transformer.PositionalEncoding``
(sin on even channels, cos on odd channels, base 10000). That class is not
reused directly because it stores a ``max_len x d_model`` table as a
persistent buffer: the table would be written into every checkpoint, tie
checkpoints to ``max_len`` and make inputs longer than ``max_len`` fail deep
inside the model. Here the table is computed on the fly for any length.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from speechbrain_masksr.codecs.dac import DAC_HOP_LENGTH, codec_frames
from speechbrain_masksr.utils.lengths import length_mask as frame_padding_mask
from speechbrain_masksr.utils.lengths import relative_to_absolute

__all__ = [
    "sinusoidal_positions",
    "relative_to_frame_lengths",
    "frame_padding_mask",  # re-export of utils.lengths.length_mask
    "TransformerBlock",
    "TransformerStack",
]


def sinusoidal_positions(length, d_model, device=None, dtype=None):
    """Absolute sinusoidal position table.

    ``pe[t, 2i] = sin(t / 10000^(2i / d_model))`` and
    ``pe[t, 2i + 1] = cos(t / 10000^(2i / d_model))``, the same values as
    SpeechBrain's ``PositionalEncoding``.

    Arguments
    ---------
    length : int
        Number of positions.
    d_model : int
        Embedding dimension (must be even).
    device : torch.device, optional
        Device of the result.
    dtype : torch.dtype, optional
        Floating dtype of the result (default float32).

    Returns
    -------
    pe : torch.Tensor
        Table of shape ``[length, d_model]``.

    Example
    -------
    >>> from speechbrain.lobes.models.transformer.Transformer import (
    ...     PositionalEncoding,
    ... )
    >>> pe = sinusoidal_positions(50, 16)
    >>> pe.shape
    torch.Size([50, 16])
    >>> sb_pe = PositionalEncoding(16, max_len=50)(torch.zeros(1, 50, 16))
    >>> torch.allclose(pe, sb_pe[0], atol=1e-5)
    True
    """
    if d_model % 2 != 0:
        raise ValueError(
            f"sinusoidal positions need an even d_model, got {d_model}"
        )
    positions = torch.arange(length, device=device, dtype=torch.float32)
    freqs = torch.exp(
        torch.arange(0, d_model, 2, device=device, dtype=torch.float32)
        * (-math.log(10000.0) / d_model)
    )
    angles = positions[:, None] * freqs[None, :]
    pe = torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(1)
    return pe.to(dtype or torch.float32)


def relative_to_frame_lengths(
    wav_lens, n_samples, n_frames, hop_length=DAC_HOP_LENGTH
):
    """Convert SpeechBrain relative lengths into numbers of valid frames.

    A waveform of ``round(rel * n_samples)`` samples
    (:func:`~speechbrain_masksr.utils.lengths.relative_to_absolute`) has
    ``ceil(samples / hop_length)`` codec / encoder frames
    (:func:`~speechbrain_masksr.codecs.dac.codec_frames`).

    Arguments
    ---------
    wav_lens : torch.Tensor or None
        Relative lengths in ``(0, 1]``, shape ``[batch]``. ``None`` means
        every example uses all ``n_frames`` frames.
    n_samples : int
        Number of samples of the padded waveform batch.
    n_frames : int
        Number of frames of the padded batch (upper bound of the result).
    hop_length : int
        Samples per frame.

    Returns
    -------
    frames : torch.Tensor or None
        Long tensor ``[batch]`` with values in ``[1, n_frames]`` (``None``
        when ``wav_lens`` is ``None``).

    Example
    -------
    >>> relative_to_frame_lengths(torch.tensor([1.0, 0.5]), 2048, 4)
    tensor([4, 2])
    """
    if wav_lens is None:
        return None
    samples = relative_to_absolute(wav_lens, n_samples)
    return codec_frames(samples, hop_length).clamp(1, n_frames)


class TransformerBlock(nn.Module):
    """Pre-norm self-attention block.

    ``x = x + Drop(MHA(LN(x)))`` then ``x = x + Drop(MLP(LN(x)))`` with
    ``MLP = Linear(d, d_ffn) -> GELU -> Dropout -> Linear(d_ffn, d)``.
    Attention uses ``F.scaled_dot_product_attention``.

    Arguments
    ---------
    d_model : int
        Model dimension.
    nhead : int
        Number of attention heads (must divide ``d_model``).
    d_ffn : int, optional
        Hidden width of the MLP (default ``4 * d_model``).
    dropout : float
        Dropout on the attention weights and on both residual branches.

    Example
    -------
    >>> block = TransformerBlock(32, nhead=4)
    >>> x = torch.randn(2, 10, 32)
    >>> block(x).shape
    torch.Size([2, 10, 32])
    """

    def __init__(self, d_model, nhead, d_ffn=None, dropout=0.1):
        super().__init__()
        if d_model % nhead != 0:
            raise ValueError(
                f"d_model ({d_model}) must be divisible by nhead ({nhead})"
            )
        d_ffn = d_ffn or 4 * d_model
        self.nhead = nhead
        self.dropout = dropout
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, d_ffn),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(d_ffn, d_model),
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x, attn_mask=None):
        """Apply the block.

        Arguments
        ---------
        x : torch.Tensor
            Input ``[batch, time, d_model]``.
        attn_mask : torch.Tensor, optional
            Bool key mask ``[batch, time]``, True on frames that may be
            attended to (valid frames).

        Returns
        -------
        y : torch.Tensor
            Output ``[batch, time, d_model]``.
        """
        batch, time, dim = x.shape
        q, k, v = (
            self.qkv(self.norm1(x))
            .view(batch, time, 3, self.nhead, dim // self.nhead)
            .permute(2, 0, 3, 1, 4)
        )
        mask = None if attn_mask is None else attn_mask[:, None, None, :]
        att = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
        )
        att = att.transpose(1, 2).reshape(batch, time, dim)
        x = x + self.drop(self.out_proj(att))
        return x + self.drop(self.mlp(self.norm2(x)))


class TransformerStack(nn.Module):
    """Sinusoidal positions, a stack of pre-norm blocks and a final norm.

    Arguments
    ---------
    d_model : int
        Model dimension.
    num_layers : int
        Number of blocks.
    nhead : int
        Number of attention heads.
    d_ffn : int, optional
        MLP width (default ``4 * d_model``).
    dropout : float
        Dropout (input, attention, residual branches).

    Example
    -------
    >>> stack = TransformerStack(32, num_layers=2, nhead=4)
    >>> x = torch.randn(2, 10, 32)
    >>> valid = frame_padding_mask(torch.tensor([10, 6]), 10)
    >>> y = stack(x, valid)
    >>> y.shape
    torch.Size([2, 10, 32])
    >>> x2 = x.clone()
    >>> x2[1, 6:] = 100.0  # padded frames must not change valid outputs
    >>> torch.allclose(stack.eval()(x, valid)[1, :6], stack(x2, valid)[1, :6])
    True
    """

    def __init__(self, d_model, num_layers, nhead, d_ffn=None, dropout=0.1):
        super().__init__()
        self.d_model = d_model
        self.input_drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            TransformerBlock(d_model, nhead, d_ffn, dropout)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x, valid=None):
        """Add positions and run the blocks.

        Arguments
        ---------
        x : torch.Tensor
            Input ``[batch, time, d_model]``.
        valid : torch.Tensor, optional
            Bool ``[batch, time]``, True on valid (non-padded) frames.

        Returns
        -------
        y : torch.Tensor
            Normalised output ``[batch, time, d_model]``.
        """
        pe = sinusoidal_positions(x.shape[1], self.d_model, x.device, x.dtype)
        x = self.input_drop(x + pe)
        for layer in self.layers:
            x = layer(x, valid)
        return self.norm(x)
