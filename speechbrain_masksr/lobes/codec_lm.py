"""Masked codec language model of MaskSR.

Input: a codegram ``[batch, n_codebooks, time]`` of DAC tokens in which
masked positions hold the mask id ``codebook_size``, plus one conditioning
vector per frame from the speech encoder. Each codebook has its own learned
embedding table of ``codebook_size + 1`` rows (the last row is the mask
token); the embeddings of the codebooks of a frame are summed
(:class:`SummedCodebookEmbedding`, also the conditioning of the DAC-token
input ablation), the projected
conditioning is added and a bidirectional pre-norm transformer predicts one
softmax over ``codebook_size`` entries per codebook and frame.

For classifier-free guidance the model owns a learned null embedding
``[d_model]`` that replaces the whole conditioning sequence (repeated over
time) for unconditional predictions.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from torch import nn

from speechbrain_masksr.lobes.transformer import TransformerStack

__all__ = ["MaskedCodecLM", "SummedCodebookEmbedding"]


class SummedCodebookEmbedding(nn.ModuleList):
    """One embedding table per codebook; a frame's embeddings are summed.

    A ``ModuleList`` of ``nn.Embedding`` (state-dict keys
    ``<q>.weight``) whose :meth:`forward` maps a codegram
    ``[batch, n_codebooks, time]`` to ``sum_q table_q[tokens[:, q]]``.

    Arguments
    ---------
    n_codebooks : int
        Number of codebooks ``Q`` (one table each).
    n_entries : int
        Rows per table (``codebook_size``, plus one for a mask id).
    d_model : int
        Embedding dimension.

    Example
    -------
    >>> emb = SummedCodebookEmbedding(n_codebooks=2, n_entries=4, d_model=3)
    >>> tokens = torch.tensor([[[1, 0], [3, 2]]])  # [batch, Q, time]
    >>> out = emb(tokens)
    >>> out.shape
    torch.Size([1, 2, 3])
    >>> torch.equal(out[0, 0], emb[0].weight[1] + emb[1].weight[3])
    True
    """

    def __init__(self, n_codebooks, n_entries, d_model):
        super().__init__(
            nn.Embedding(n_entries, d_model) for _ in range(n_codebooks)
        )
        self.d_model = d_model

    def forward(self, tokens):
        """Sum the per-codebook embeddings of each frame.

        Arguments
        ---------
        tokens : torch.Tensor
            Long ``[batch, n_codebooks, time]`` in ``[0, n_entries)``.

        Returns
        -------
        emb : torch.Tensor
            ``[batch, time, d_model]``.
        """
        emb = self[0](tokens[:, 0])
        for q in range(1, len(self)):
            emb = emb + self[q](tokens[:, q])
        return emb


class MaskedCodecLM(nn.Module):
    """Bidirectional transformer over summed per-codebook token embeddings.

    Arguments
    ---------
    n_codebooks : int
        Number of codebooks ``Q`` (9 for DAC 44.1 kHz 8 kbps).
    codebook_size : int
        Entries per codebook ``V`` (1024); ``codebook_size`` is the mask id.
    d_model : int
        Model dimension (also the conditioning dimension).
    num_layers : int
        Transformer blocks.
    nhead : int
        Attention heads.
    dropout : float
        Dropout in the transformer.

    Example
    -------
    >>> lm = MaskedCodecLM(n_codebooks=3, codebook_size=16, d_model=32,
    ...                    num_layers=1, nhead=4)
    >>> tokens = torch.randint(0, 17, (2, 3, 10))
    >>> cond = torch.randn(2, 10, 32)
    >>> lm(tokens, cond).shape
    torch.Size([2, 3, 10, 16])
    >>> lm.null_cond(2, 10).shape
    torch.Size([2, 10, 32])
    """

    def __init__(
        self,
        n_codebooks=9,
        codebook_size=1024,
        d_model=512,
        num_layers=8,
        nhead=16,
        dropout=0.1,
    ):
        super().__init__()
        self.n_codebooks = n_codebooks
        self.codebook_size = codebook_size
        self.mask_id = codebook_size
        self.d_model = d_model
        self.embeddings = SummedCodebookEmbedding(
            n_codebooks, codebook_size + 1, d_model
        )
        self.cond_proj = nn.Linear(d_model, d_model)
        self.null_embedding = nn.Parameter(torch.zeros(d_model))
        self.transformer = TransformerStack(
            d_model, num_layers, nhead, dropout=dropout
        )
        # One independent Linear(d_model, codebook_size) head per codebook.
        self.heads = nn.ModuleList(
            nn.Linear(d_model, codebook_size) for _ in range(n_codebooks)
        )
        self._reset_parameters()

    def _reset_parameters(self):
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)
        nn.init.normal_(self.null_embedding, std=0.02)

    def null_cond(self, batch, time):
        """The unconditional (null) conditioning sequence.

        Arguments
        ---------
        batch : int
            Batch size.
        time : int
            Number of frames.

        Returns
        -------
        null : torch.Tensor
            The learned null embedding repeated to ``[batch, time, d_model]``.

        Example
        -------
        >>> lm = MaskedCodecLM(2, 8, d_model=16, num_layers=1, nhead=2)
        >>> null = lm.null_cond(1, 3)
        >>> bool((null[0, 0] == null[0, 2]).all())
        True
        """
        return self.null_embedding.expand(batch, time, self.d_model)

    def embed(self, tokens):
        """Sum of per-codebook token embeddings.

        Arguments
        ---------
        tokens : torch.Tensor
            Long ``[batch, n_codebooks, time]`` in ``[0, codebook_size]``.

        Returns
        -------
        emb : torch.Tensor
            ``[batch, time, d_model]``.

        Example
        -------
        >>> lm = MaskedCodecLM(2, 8, d_model=16, num_layers=1, nhead=2)
        >>> lm.embed(torch.zeros(1, 2, 5, dtype=torch.long)).shape
        torch.Size([1, 5, 16])
        """
        return self.embeddings(tokens)

    def check_inputs(self, tokens, cond):
        """Validate token and conditioning shapes and dtypes (clear errors).

        Runs on every :meth:`forward` (every sampling step), so it only
        reads metadata and never synchronises with the device; token
        *values* are checked once, at the entry points, by
        :meth:`check_token_range`.

        Arguments
        ---------
        tokens : torch.Tensor
            Long ``[batch, n_codebooks, time]``.
        cond : torch.Tensor
            ``[batch, time, d_model]``.

        Example
        -------
        >>> lm = MaskedCodecLM(2, 8, d_model=16, num_layers=1, nhead=2)
        >>> lm.check_inputs(torch.zeros(1, 3, 5, dtype=torch.long),
        ...                 torch.zeros(1, 5, 16))
        Traceback (most recent call last):
        ...
        ValueError: tokens must have shape [batch, 2, time], got (1, 3, 5)
        """
        if tokens.dim() != 3 or tokens.shape[1] != self.n_codebooks:
            raise ValueError(
                f"tokens must have shape [batch, {self.n_codebooks}, time], "
                f"got {tuple(tokens.shape)}"
            )
        if tokens.dtype not in (torch.long, torch.int, torch.int16):
            raise TypeError(f"tokens must be integers, got {tokens.dtype}")
        expected = (tokens.shape[0], tokens.shape[2], self.d_model)
        if tuple(cond.shape) != expected:
            raise ValueError(
                f"cond must have shape [batch, time, d_model] = {expected} "
                f"to match tokens {tuple(tokens.shape)}, got "
                f"{tuple(cond.shape)}"
            )

    def check_token_range(self, tokens, allow_mask=True, name="token ids"):
        """Check token values once at an entry point (one device sync).

        Out-of-range ids would otherwise fail inside ``nn.Embedding`` (a
        device-side assert on GPU). Not called by :meth:`forward`, which
        runs on every sampling step: callers that take tokens from users
        (e.g. ``MaskSR.forward``) call it once per batch.

        Arguments
        ---------
        tokens : torch.Tensor
            Integer ``[batch, n_codebooks, time]``.
        allow_mask : bool
            Accept the mask id ``codebook_size`` (LM inputs); ``False`` for
            targets, which must be codebook entries.
        name : str
            What the tokens are, for the message.

        Raises
        ------
        ValueError
            If a value is outside ``[0, codebook_size]`` (``allow_mask``)
            or ``[0, codebook_size - 1]``.

        Example
        -------
        >>> lm = MaskedCodecLM(2, 8, d_model=16, num_layers=1, nhead=2)
        >>> lm.check_token_range(torch.full((1, 2, 3), 8))  # the mask id
        >>> lm.check_token_range(torch.full((1, 2, 3), 8), allow_mask=False,
        ...                      name="target tokens")
        Traceback (most recent call last):
        ...
        ValueError: target tokens must be in [0, 7], got [8, 8]
        """
        if tokens.numel() == 0:
            return
        high = self.mask_id if allow_mask else self.codebook_size - 1
        low_found, high_found = torch.stack(
            [tokens.min(), tokens.max()]
        ).tolist()
        if low_found < 0 or high_found > high:
            mask = f" (mask id {self.mask_id})" if allow_mask else ""
            raise ValueError(
                f"{name} must be in [0, {high}]{mask}, got "
                f"[{low_found}, {high_found}]"
            )

    def forward(self, tokens, cond, valid=None):
        """Predict every codebook entry of every frame.

        Shapes and dtypes are checked (:meth:`check_inputs`, no device
        sync); token values are not, as this runs on every sampling step:
        entry points that take tokens from users call
        :meth:`check_token_range` once.

        Arguments
        ---------
        tokens : torch.Tensor
            Long ``[batch, n_codebooks, time]``; masked positions hold
            ``codebook_size``.
        cond : torch.Tensor
            Conditioning ``[batch, time, d_model]`` (speech encoder output
            or :meth:`null_cond`).
        valid : torch.Tensor, optional
            Bool ``[batch, time]``, True on non-padded frames.

        Returns
        -------
        logits : torch.Tensor
            ``[batch, n_codebooks, time, codebook_size]``.
        """
        self.check_inputs(tokens, cond)
        x = self.embed(tokens.long()) + self.cond_proj(cond)
        x = self.transformer(x, valid)
        return torch.stack([head(x) for head in self.heads], dim=1)
