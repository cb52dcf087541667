"""The pre-norm transformer block shared by the MaskSR and Audio-MAE lobes.

* :class:`TransformerBlock` - pre-norm self-attention block (multi-head
  attention through ``torch.nn.functional.scaled_dot_product_attention``
  with an optional key mask or additive bias, a GELU MLP, dropout and
  stochastic depth), the timm ViT ``Block`` with the parameter names of the
  official Audio-MAE weights. It is used by the MaskSR speech encoder and
  codec LM (through :class:`TransformerStack`) and by the Audio-MAE encoder
  and global decoder layers. The shifted-window block of the Audio-MAE
  local decoder (:class:`~speechbrain_masksr.lobes.attention.SwinBlock`) is
  a different block: post-norm branches and scaled cosine attention.
* :class:`Attention`, :class:`Mlp`, :class:`DropPath` - its parts.
* :class:`TransformerStack` - MaskSR's stack: absolute sinusoidal
  positions, blocks, final LayerNorm.

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

from speechbrain_masksr.codecs.base import codec_frames
from speechbrain_masksr.utils.lengths import length_mask as frame_padding_mask
from speechbrain_masksr.utils.lengths import relative_to_absolute

__all__ = [
    "sinusoidal_positions",
    "relative_to_frame_lengths",
    "frame_padding_mask",  # re-export of utils.lengths.length_mask
    "Attention",
    "DropPath",
    "MASKSR_BLOCK_KEYS",
    "Mlp",
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


def relative_to_frame_lengths(wav_lens, n_samples, n_frames, hop_length):
    """Convert SpeechBrain relative lengths into numbers of valid frames.

    A waveform of ``round(rel * n_samples)`` samples
    (:func:`~speechbrain_masksr.utils.lengths.relative_to_absolute`) has
    ``ceil(samples / hop_length)`` codec / encoder frames
    (:func:`~speechbrain_masksr.codecs.base.codec_frames`).

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
        Samples per frame (the codec's ``hop_length``).

    Returns
    -------
    frames : torch.Tensor or None
        Long tensor ``[batch]`` with values in ``[1, n_frames]`` (``None``
        when ``wav_lens`` is ``None``).

    Example
    -------
    >>> relative_to_frame_lengths(torch.tensor([1.0, 0.5]), 2048, 4, 512)
    tensor([4, 2])
    """
    if wav_lens is None:
        return None
    samples = relative_to_absolute(wav_lens, n_samples)
    return codec_frames(samples, hop_length).clamp(1, n_frames)


class DropPath(nn.Module):
    """Stochastic depth: drops a whole residual branch per example.

    Arguments
    ---------
    drop_prob : float
        Probability of dropping the branch (training only).

    Example
    -------
    >>> drop = DropPath(0.5).eval()
    >>> x = torch.ones(4, 3, 2)
    >>> bool(torch.equal(drop(x), x))
    True
    """

    def __init__(self, drop_prob=0.0):
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x):
        """Scales kept branches by ``1 / (1 - drop_prob)`` in training.

        Arguments
        ---------
        x : torch.Tensor
            ``[batch, ...]`` branch output.

        Returns
        -------
        torch.Tensor
            Same shape as ``x``.
        """
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        shape = (x.shape[0],) + (1,) * (x.dim() - 1)
        noise = x.new_empty(shape).bernoulli_(keep)
        return x * noise / keep

    def extra_repr(self):
        """Shows the drop probability."""
        return f"drop_prob={self.drop_prob}"


class Mlp(nn.Module):
    """Two-layer MLP (``fc1`` -> activation -> ``fc2``) with dropout.

    Arguments
    ---------
    in_features : int
        Input channels.
    hidden_features : int
        Hidden channels.
    out_features : int, optional
        Output channels (default: ``in_features``).
    act_layer : type
        Activation class (``nn.GELU`` or ``nn.ReLU``).
    drop : float
        Dropout after the activation and after ``fc2``.

    Example
    -------
    >>> Mlp(8, 32)(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    """

    def __init__(
        self,
        in_features,
        hidden_features,
        out_features=None,
        act_layer=nn.GELU,
        drop=0.0,
    ):
        super().__init__()
        out_features = out_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = act_layer()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x):
        """Applies the MLP to the last dimension.

        Arguments
        ---------
        x : torch.Tensor
            ``[..., in_features]``.

        Returns
        -------
        torch.Tensor
            ``[..., out_features]``.
        """
        x = self.drop1(self.act(self.fc1(x)))
        return self.drop2(self.fc2(x))


class Attention(nn.Module):
    """Multi-head self-attention, ``softmax(q k^T / sqrt(d)) v``.

    Arguments
    ---------
    dim : int
        Model width.
    num_heads : int
        Number of heads (must divide ``dim``).
    qkv_bias : bool
        Bias on the fused ``qkv`` projection.
    attn_drop : float
        Dropout on the attention weights (training only).
    proj_drop : float
        Dropout after the output projection.

    Example
    -------
    >>> attn = Attention(16, 4).eval()
    >>> x = torch.randn(2, 7, 16)
    >>> attn(x).shape
    torch.Size([2, 7, 16])
    >>> valid = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    >>> x2 = x.clone()
    >>> x2[1, 4:] = 100.0  # masked keys do not change the outputs
    >>> torch.allclose(attn(x, valid)[1, :4], attn(x2, valid)[1, :4])
    True
    """

    def __init__(
        self, dim, num_heads=8, qkv_bias=True, attn_drop=0.0, proj_drop=0.0
    ):
        super().__init__()
        if dim % num_heads != 0:
            raise ValueError(f"dim {dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x, attn_mask=None):
        """Self-attention over the sequence axis.

        Arguments
        ---------
        x : torch.Tensor
            ``[batch, length, dim]``.
        attn_mask : torch.Tensor, optional
            A bool ``[batch, length]`` key mask, True on the tokens that may
            be attended to (valid, non-padded tokens); or a mask
            broadcastable to ``[batch, heads, length, length]``: bool (True =
            may attend) or float, added to the logits (e.g. a relative
            position bias).

        Returns
        -------
        torch.Tensor
            ``[batch, length, dim]``.
        """
        batch, length, dim = x.shape
        qkv = self.qkv(x).reshape(
            batch, length, 3, self.num_heads, dim // self.num_heads
        )
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if attn_mask is not None and attn_mask.dim() == 2:
            attn_mask = attn_mask[:, None, None, :]
        if attn_mask is not None and attn_mask.is_floating_point():
            attn_mask = attn_mask.to(q.dtype)
        drop = self.attn_drop if self.training else 0.0
        x = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask, dropout_p=drop
        )
        x = x.transpose(1, 2).reshape(batch, length, dim)
        return self.proj_drop(self.proj(x))


class TransformerBlock(nn.Module):
    """Pre-norm transformer block (the timm ViT ``Block``).

    ``x = x + DropPath(Attention(LN(x)))`` then
    ``x = x + DropPath(Mlp(LN(x)))`` with ``Mlp = fc1 -> GELU -> Dropout ->
    fc2 -> Dropout``; :class:`Attention` uses
    ``F.scaled_dot_product_attention`` with dropout on the attention
    weights and after its output projection. The same block serves the
    MaskSR speech encoder and codec LM (default ``dropout=0.1``, LayerNorm
    eps 1e-5, no stochastic depth) and the Audio-MAE encoder and global
    decoder (``dropout=0``, eps 1e-6, ``drop_path``); its parameter names
    (``norm1``, ``attn.qkv``, ``attn.proj``, ``norm2``, ``mlp.fc1``,
    ``mlp.fc2``) are those of the official Audio-MAE weights.
    (:class:`TransformerStack` keeps the older MaskSR names in its state
    dict.)

    Arguments
    ---------
    d_model : int
        Model dimension.
    nhead : int
        Number of attention heads (must divide ``d_model``).
    d_ffn : int, optional
        Hidden width of the MLP (default ``4 * d_model``).
    dropout : float
        Dropout on the attention weights, after the attention output
        projection and in the MLP.
    drop_path : float
        Stochastic-depth probability of both residual branches.
    norm_eps : float
        LayerNorm epsilon.

    Example
    -------
    >>> block = TransformerBlock(32, nhead=4)
    >>> x = torch.randn(2, 10, 32)
    >>> block(x).shape
    torch.Size([2, 10, 32])
    >>> sorted(block.state_dict())[:4]
    ['attn.proj.bias', 'attn.proj.weight', 'attn.qkv.bias', 'attn.qkv.weight']
    """

    def __init__(
        self,
        d_model,
        nhead,
        d_ffn=None,
        dropout=0.1,
        drop_path=0.0,
        norm_eps=1e-5,
    ):
        super().__init__()
        d_ffn = d_ffn or 4 * d_model
        self.norm1 = nn.LayerNorm(d_model, eps=norm_eps)
        self.attn = Attention(
            d_model, nhead, attn_drop=dropout, proj_drop=dropout
        )
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(d_model, eps=norm_eps)
        self.mlp = Mlp(d_model, d_ffn, drop=dropout)

    def forward(self, x, attn_mask=None):
        """Apply the block.

        Arguments
        ---------
        x : torch.Tensor
            Input ``[batch, time, d_model]``.
        attn_mask : torch.Tensor, optional
            Bool key mask ``[batch, time]``, True on frames that may be
            attended to (valid frames), or an attention mask / bias (see
            :meth:`Attention.forward`).

        Returns
        -------
        y : torch.Tensor
            Output ``[batch, time, d_model]``.
        """
        x = x + self.drop_path(self.attn(self.norm1(x), attn_mask))
        return x + self.drop_path(self.mlp(self.norm2(x)))


#: Names of the block layers in MaskSR checkpoints -> :class:`TransformerBlock`
#: names. MaskSR's block was merged into the Audio-MAE one, whose names are
#: fixed by the official weights; :class:`TransformerStack` keeps writing
#: and reading the MaskSR names so that its checkpoints are unchanged.
MASKSR_BLOCK_KEYS = {
    "qkv.": "attn.qkv.",
    "out_proj.": "attn.proj.",
    "mlp.0.": "mlp.fc1.",
    "mlp.3.": "mlp.fc2.",
}


def _rename_layer_keys(state_dict, prefix, mapping):
    """Renames ``{prefix}layers.<i>.<old>*`` keys in place, keeping order.

    Arguments
    ---------
    state_dict : dict
        State dict being written or read.
    prefix : str
        Prefix of the stack's keys.
    mapping : dict
        ``{old: new}`` name starts inside a layer.
    """
    layers = prefix + "layers."
    for key in [k for k in state_dict if k.startswith(prefix)]:
        value = state_dict.pop(key)
        if key.startswith(layers):
            index, _, tail = key[len(layers) :].partition(".")
            for old, new in mapping.items():
                if tail.startswith(old):
                    key = f"{layers}{index}.{new}{tail[len(old) :]}"
                    break
        state_dict[key] = value


def _save_masksr_keys(module, state_dict, prefix, local_metadata):
    """``state_dict`` post-hook of :class:`TransformerStack`."""
    _rename_layer_keys(
        state_dict, prefix, {v: k for k, v in MASKSR_BLOCK_KEYS.items()}
    )


def _load_masksr_keys(module, state_dict, prefix, *args):
    """``load_state_dict`` pre-hook of :class:`TransformerStack`."""
    _rename_layer_keys(state_dict, prefix, MASKSR_BLOCK_KEYS)


class TransformerStack(nn.Module):
    """Sinusoidal positions, a stack of pre-norm blocks and a final norm.

    The state dict names the layers of each block as MaskSR checkpoints do
    (``layers.<i>.qkv``, ``out_proj``, ``mlp.0``, ``mlp.3``, see
    :data:`MASKSR_BLOCK_KEYS`); loading accepts these names and the
    :class:`TransformerBlock` ones.

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
    >>> list(stack.state_dict())[2:5]
    ['layers.0.qkv.weight', 'layers.0.qkv.bias', 'layers.0.out_proj.weight']
    >>> _ = stack.load_state_dict(stack.state_dict())
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
        # MaskSR checkpoint names of the block layers (MASKSR_BLOCK_KEYS);
        # the public hook API of recent torch, the private one before.
        post = getattr(self, "register_state_dict_post_hook", None)
        (post or self._register_state_dict_hook)(_save_masksr_keys)
        pre = getattr(self, "register_load_state_dict_pre_hook", None)
        if pre is not None:
            pre(_load_masksr_keys)
        else:
            self._register_load_state_dict_pre_hook(
                _load_masksr_keys, with_module=True
            )

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
