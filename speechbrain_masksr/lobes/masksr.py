"""MaskSR: masked codec language modelling for speech restoration.

The model predicts the codec tokens of clean speech (DAC 44.1 kHz in the
paper) from the degraded waveform. A
:class:`~speechbrain_masksr.lobes.speech_encoder.SpeechEncoder` turns the
degraded waveform into one vector per codec frame and a
:class:`~speechbrain_masksr.lobes.codec_lm.MaskedCodecLM` predicts masked
tokens of the clean codegram. The codec geometry (``n_codebooks``,
``codebook_size``, ``hop_length``) is the codec's, given or read from the
codec object. The input-feature ablation of the paper (|STFT|, learned
waveform front end, or the codec tokens of the degraded input without a
speech encoder) is the ``input_features`` option of :func:`build_masksr`
(:func:`~.speech_encoder.build_speech_encoder`).

Training (:meth:`MaskSR.forward` + :meth:`MaskSR.loss`):

* ``variant="flat"`` (MaskSR): per example ``r ~ U(0, 1)``, masking ratio
  ``cos(pi r / 2)``, ``max(1, round(ratio * Q * T))`` positions of the
  flattened ``Q x T`` codegram (valid frames only) masked uniformly at random;
* ``variant="hierarchical"`` (SoundStorm-style ablation): per example a
  random level ``q``; levels ``< q`` given, ``max(1, round(ratio * T))``
  positions of level ``q`` masked, levels ``> q`` fully masked; the loss
  only uses the masked positions of level ``q``;
* classifier-free guidance training: with probability ``cond_dropout`` (in
  train mode only) the whole conditioning sequence of an example is
  replaced by the LM's learned null embedding.

Inference (:meth:`MaskSR.generate`) runs the speech encoder once and then
iterative decoding (:mod:`speechbrain_masksr.sampling`) with guided logits
``(1 + w) * l_c - w * l_u`` (MaskSR convention, ``w = 2`` by default, which
is a scale of 3 in the ``l_u + s * (l_c - l_u)`` convention); the
conditional and unconditional logits come from one batched LM call per step.
The hierarchical variant decodes level by level: MaskGIT sampling for the
first codebook, then one greedy pass per remaining codebook (40 + 8 = 48 LM
calls with DAC's 9 codebooks; ``upper_levels="iterative"`` keeps sampling
the higher levels with ``steps // 10`` iterations each).

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

from speechbrain_masksr.codecs.base import codec_geometry
from speechbrain_masksr.errors import ConfigError
from speechbrain_masksr.lobes.codec_lm import MaskedCodecLM
from speechbrain_masksr.lobes.speech_encoder import (
    build_speech_encoder,
    check_wavs,
)
from speechbrain_masksr.lobes.transformer import relative_to_frame_lengths
from speechbrain_masksr.sampling import (
    _check_upper_levels,
    default_level_steps,
    guided_logits,
    hierarchical_sample,
    maskgit_sample,
)
from speechbrain_masksr.utils.lengths import length_mask

__all__ = [
    "VARIANTS",
    "MASKSR_CONFIGS",
    "random_subset",
    "cosine_flat_mask",
    "hierarchical_mask",
    "MaskSR",
    "build_masksr",
]

VARIANTS = ("flat", "hierarchical")

#: Architectures of the paper's small and medium models.
MASKSR_CONFIGS = {
    "S": dict(d_model=512, encoder_layers=6, lm_layers=8, nhead=16),
    "M": dict(d_model=768, encoder_layers=6, lm_layers=12, nhead=16),
}


def random_subset(candidates, counts, generator=None):
    """Choose ``counts[b]`` positions uniformly among ``candidates[b]``.

    Arguments
    ---------
    candidates : torch.Tensor
        Bool ``[batch, n]``.
    counts : torch.Tensor
        Long ``[batch]``, at most the number of candidates of each row.
    generator : torch.Generator, optional
        Random generator.

    Returns
    -------
    chosen : torch.Tensor
        Bool ``[batch, n]``, a subset of ``candidates``.

    Example
    -------
    >>> cand = torch.tensor([[True, False, True, True]])
    >>> chosen = random_subset(cand, torch.tensor([2]))
    >>> int(chosen.sum()), bool((chosen & ~cand).any())
    (2, False)
    """
    noise = torch.rand(
        candidates.shape, generator=generator, device=candidates.device
    )
    noise = noise.masked_fill(~candidates, 2.0)
    order = noise.argsort(dim=1)
    positions = torch.arange(candidates.shape[1], device=candidates.device)
    ranks = torch.empty_like(order).scatter_(
        1, order, positions.expand_as(order)
    )
    return (ranks < counts[:, None]) & candidates


def _cosine_counts(n_valid, ratios, generator):
    """Positions to mask per example: ``ratio * n_valid`` in ``[1, n_valid]``.

    ``ratio = cos(pi r / 2)``, ``r ~ U(0, 1)``, unless ``ratios`` is given.
    """
    batch, device = n_valid.shape[0], n_valid.device
    if ratios is None:
        r = torch.rand(batch, generator=generator, device=device)
        ratios = torch.cos(math.pi / 2 * r)
    else:
        ratios = torch.as_tensor(
            ratios, dtype=torch.float, device=device
        ).expand(batch)
    counts = torch.round(ratios * n_valid).long().clamp(min=1)
    return torch.minimum(counts, n_valid)


def cosine_flat_mask(
    batch,
    n_codebooks,
    n_frames,
    valid=None,
    ratios=None,
    generator=None,
    device=None,
):
    """MaskSR training mask over the flattened ``Q x T`` codegram.

    Per example ``ratio = cos(pi r / 2)`` with ``r ~ U(0, 1)`` and
    ``max(1, round(ratio * Q * T_valid))`` positions masked uniformly at
    random among the valid frames.

    Arguments
    ---------
    batch : int
        Batch size.
    n_codebooks : int
        Number of codebooks ``Q``.
    n_frames : int
        Number of frames ``T``.
    valid : torch.Tensor, optional
        Bool ``[batch, T]`` valid frames.
    ratios : float or torch.Tensor, optional
        Fixed masking ratios ``[batch]`` instead of the random cosine draw.
    generator : torch.Generator, optional
        Random generator.
    device : torch.device, optional
        Device.

    Returns
    -------
    mask : torch.Tensor
        Bool ``[batch, Q, T]``, True on masked positions.

    Example
    -------
    >>> mask = cosine_flat_mask(2, 9, 100, ratios=0.25)
    >>> mask.sum(dim=(1, 2))
    tensor([225, 225])
    """
    if valid is None:
        valid = torch.ones(batch, n_frames, dtype=torch.bool, device=device)
    cand = valid[:, None, :].expand(batch, n_codebooks, n_frames).flatten(1)
    counts = _cosine_counts(cand.sum(1), ratios, generator)
    mask = random_subset(cand, counts, generator)
    return mask.view(batch, n_codebooks, n_frames)


def hierarchical_mask(
    batch,
    n_codebooks,
    n_frames,
    valid=None,
    levels=None,
    ratios=None,
    generator=None,
    device=None,
):
    """SoundStorm-style training mask (one random level per example).

    Arguments
    ---------
    batch : int
        Batch size.
    n_codebooks : int
        Number of codebooks ``Q``.
    n_frames : int
        Number of frames ``T``.
    valid : torch.Tensor, optional
        Bool ``[batch, T]`` valid frames.
    levels : torch.Tensor, optional
        Long ``[batch]`` levels instead of a uniform random draw.
    ratios : float or torch.Tensor, optional
        Fixed masking ratios of the active level.
    generator : torch.Generator, optional
        Random generator.
    device : torch.device, optional
        Device.

    Returns
    -------
    loss_mask : torch.Tensor
        Bool ``[batch, Q, T]``: masked positions of the active level (the
        positions that enter the loss).
    input_mask : torch.Tensor
        Bool ``[batch, Q, T]``: every position replaced by the mask id
        (``loss_mask`` plus all valid positions of higher levels).
    levels : torch.Tensor
        Long ``[batch]`` active levels.

    Example
    -------
    >>> loss_mask, input_mask, levels = hierarchical_mask(
    ...     1, 4, 10, levels=torch.tensor([1]), ratios=0.5)
    >>> loss_mask.sum(dim=(0, 2)).tolist()
    [0, 5, 0, 0]
    >>> input_mask.sum(dim=(0, 2)).tolist()
    [0, 5, 10, 10]
    """
    if valid is None:
        valid = torch.ones(batch, n_frames, dtype=torch.bool, device=device)
    device = valid.device
    if levels is None:
        levels = torch.randint(
            0, n_codebooks, (batch,), generator=generator, device=device
        )
    levels = torch.as_tensor(levels, device=device).long()
    counts = _cosine_counts(valid.sum(1), ratios, generator)
    level_mask = random_subset(valid, counts, generator)
    q = torch.arange(n_codebooks, device=device)[None, :, None]
    lvl = levels[:, None, None]
    loss_mask = (q == lvl) & level_mask[:, None, :]
    input_mask = loss_mask | ((q > lvl) & valid[:, None, :])
    return loss_mask, input_mask, levels


class MaskSR(nn.Module):
    """Speech encoder + masked codec LM with classifier-free guidance.

    Arguments
    ---------
    encoder : torch.nn.Module
        Conditioning encoder, ``(wavs, wav_lens) -> [batch, frames,
        d_model]`` with ``d_model`` (must match the LM), ``hop_length``
        and ``num_frames``: a
        :class:`~speechbrain_masksr.lobes.speech_encoder.SpeechEncoder` or
        a :class:`~speechbrain_masksr.lobes.speech_encoder.CodecTokenConditioner`.
    lm : MaskedCodecLM
        Masked codec language model.
    cond_dropout : float
        Probability (train mode) of replacing an example's conditioning by
        the null embedding.
    variant : str
        ``"flat"`` (MaskSR) or ``"hierarchical"`` (SoundStorm-style).

    Example
    -------
    >>> model = build_masksr(d_model=32, encoder_layers=1, lm_layers=1,
    ...                      nhead=4, n_codebooks=3, codebook_size=16,
    ...                      hop_length=512)
    >>> wavs = torch.randn(2, 5000)
    >>> tokens = torch.randint(0, 16, (2, 3, 10))  # ceil(5000 / 512) = 10
    >>> out = model(wavs, tokens)
    >>> out["logits"].shape, out["mask"].shape
    (torch.Size([2, 3, 10, 16]), torch.Size([2, 3, 10]))
    >>> loss, acc = model.loss(out["logits"], tokens, out["mask"])
    >>> acc.shape
    torch.Size([3])
    >>> model.generate(wavs, steps=4, seed=0).shape
    torch.Size([2, 3, 10])
    """

    def __init__(self, encoder, lm, cond_dropout=0.1, variant="flat"):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(
                f"variant must be one of {VARIANTS}, got {variant!r}"
            )
        if not 0.0 <= cond_dropout <= 1.0:
            raise ValueError(f"cond_dropout must be in [0, 1]: {cond_dropout}")
        if encoder.d_model != lm.d_model:
            raise ValueError(
                f"encoder d_model ({encoder.d_model}) differs from the LM "
                f"d_model ({lm.d_model})"
            )
        self.encoder = encoder
        self.lm = lm
        self.cond_dropout = cond_dropout
        self.variant = variant

    @property
    def n_codebooks(self):
        """Number of codebooks ``Q`` of the LM."""
        return self.lm.n_codebooks

    @property
    def codebook_size(self):
        """Entries per codebook ``V`` (also the mask id)."""
        return self.lm.codebook_size

    def _frames(self, wavs, wav_lens):
        n_frames = self.encoder.num_frames(wavs.shape[1])
        frames = relative_to_frame_lengths(
            wav_lens, wavs.shape[1], n_frames, self.encoder.hop_length
        )
        return n_frames, length_mask(frames, n_frames, wavs.device)

    def _check_tokens(self, tokens, wavs, n_frames):
        expected = (wavs.shape[0], self.n_codebooks, n_frames)
        if tokens.dim() != 3 or tuple(tokens.shape) != expected:
            raise ValueError(
                f"tokens must have shape [batch, n_codebooks, "
                f"ceil(time / {self.encoder.hop_length})] = {expected} for "
                f"wavs of shape {tuple(wavs.shape)}, got {tuple(tokens.shape)}"
            )
        if tokens.is_floating_point():
            raise TypeError(f"tokens must be integers, got {tokens.dtype}")
        self.lm.check_token_range(
            tokens, allow_mask=False, name="target tokens"
        )

    def make_masks(self, batch, n_frames, valid=None, generator=None):
        """Draw the training masks of the configured variant.

        Arguments
        ---------
        batch : int
            Batch size.
        n_frames : int
            Number of frames.
        valid : torch.Tensor, optional
            Bool ``[batch, T]`` valid frames.
        generator : torch.Generator, optional
            Random generator.

        Returns
        -------
        loss_mask : torch.Tensor
            Bool ``[batch, Q, T]`` positions that enter the loss.
        input_mask : torch.Tensor
            Bool ``[batch, Q, T]`` positions replaced by the mask id.

        Example
        -------
        >>> model = build_masksr(d_model=16, encoder_layers=1, lm_layers=1,
        ...                      nhead=2, n_codebooks=2, codebook_size=8,
        ...                      hop_length=512)
        >>> loss_mask, input_mask = model.make_masks(2, 5)
        >>> bool((loss_mask == input_mask).all())  # flat variant
        True
        """
        device = self.lm.null_embedding.device
        if self.variant == "flat":
            mask = cosine_flat_mask(
                batch,
                self.n_codebooks,
                n_frames,
                valid=valid,
                generator=generator,
                device=device,
            )
            return mask, mask
        loss_mask, input_mask, _ = hierarchical_mask(
            batch,
            self.n_codebooks,
            n_frames,
            valid=valid,
            generator=generator,
            device=device,
        )
        return loss_mask, input_mask

    def forward(self, wavs, tokens, wav_lens=None, generator=None):
        """Training forward: mask the clean tokens and predict them.

        Arguments
        ---------
        wavs : torch.Tensor
            Degraded waveforms ``[batch, time]`` at the codec's rate.
        tokens : torch.Tensor
            Clean codec tokens ``[batch, Q, ceil(time / hop)]``.
        wav_lens : torch.Tensor, optional
            Relative lengths ``[batch]``; padded frames are never masked,
            attended to or scored.
        generator : torch.Generator, optional
            Random generator for the masks and the condition dropout.

        Returns
        -------
        out : dict
            ``logits`` ``[batch, Q, T, V]``, ``mask`` (bool ``[batch, Q,
            T]``, the positions to score), ``inputs`` (the masked token
            input of the LM), ``valid`` (bool ``[batch, T]`` or None) and
            ``dropped`` (bool ``[batch]``, examples that used the null
            conditioning).
        """
        check_wavs(wavs)
        n_frames, valid = self._frames(wavs, wav_lens)
        self._check_tokens(tokens, wavs, n_frames)
        cond = self.encoder(wavs, wav_lens)
        batch = wavs.shape[0]
        loss_mask, input_mask = self.make_masks(
            batch, n_frames, valid, generator
        )
        inputs = tokens.long().masked_fill(input_mask, self.lm.mask_id)
        if self.training and self.cond_dropout > 0:
            dropped = (
                torch.rand(batch, generator=generator, device=cond.device)
                < self.cond_dropout
            )
        else:
            dropped = torch.zeros(batch, dtype=torch.bool, device=cond.device)
        null = self.lm.null_cond(batch, n_frames).to(cond.dtype)
        cond = torch.where(dropped[:, None, None], null, cond)
        logits = self.lm(inputs, cond, valid)
        return dict(
            logits=logits,
            mask=loss_mask,
            inputs=inputs,
            valid=valid,
            dropped=dropped,
        )

    def loss(self, logits, tokens, mask):
        """Cross-entropy on masked positions only, averaged per codebook.

        For each codebook ``q`` the CE is averaged over its masked
        positions in the whole batch; the loss is the mean of these
        per-codebook averages over the codebooks that have at least one
        masked position (so every codebook weighs the same whatever its
        number of masked tokens).

        Arguments
        ---------
        logits : torch.Tensor
            ``[batch, Q, T, V]``.
        tokens : torch.Tensor
            Target tokens ``[batch, Q, T]``.
        mask : torch.Tensor
            Bool ``[batch, Q, T]`` positions to score.

        Returns
        -------
        loss : torch.Tensor
            Scalar loss.
        accuracy : torch.Tensor
            ``[Q]`` token accuracy (argmax) on the masked positions of each
            codebook; NaN for a codebook without masked positions.

        Example
        -------
        >>> logits = torch.zeros(1, 2, 3, 4)
        >>> logits[0, 0, :, 1] = 10.0  # codebook 0 predicts token 1
        >>> tokens = torch.ones(1, 2, 3, dtype=torch.long)
        >>> mask = torch.tensor([[[True, False, False], [True, True, True]]])
        >>> loss, acc = MaskSR.loss(None, logits, tokens, mask)
        >>> round(float(loss), 4)  # (~0 + log 4) / 2
        0.6932
        >>> acc
        tensor([1., 0.])
        """
        n_codebooks = logits.shape[1]
        if mask.shape != tokens.shape or logits.shape[:3] != tokens.shape:
            raise ValueError(
                f"shape mismatch: logits {tuple(logits.shape)}, tokens "
                f"{tuple(tokens.shape)}, mask {tuple(mask.shape)}"
            )
        sel = mask.nonzero(as_tuple=True)
        if sel[0].numel() == 0:
            raise ValueError("the mask selects no position to score")
        picked = logits[sel].float()
        targets = tokens[sel].long()
        ce = F.cross_entropy(picked, targets, reduction="none")
        correct = (picked.argmax(-1) == targets).float()
        level = sel[1]
        counts = torch.zeros(n_codebooks, device=logits.device)
        counts = counts.index_add(0, level, torch.ones_like(ce))
        ce_sum = torch.zeros_like(counts).index_add(0, level, ce)
        acc_sum = torch.zeros_like(counts).index_add(0, level, correct)
        present = counts > 0
        loss = (ce_sum[present] / counts[present]).mean()
        accuracy = torch.where(
            present, acc_sum / counts.clamp(min=1), float("nan")
        )
        return loss, accuracy.detach()

    def guided_logits_fn(self, cond, valid=None, guidance=2.0):
        """Build ``logits_fn(tokens)`` for the samplers.

        With ``guidance != 0`` each call is ONE batched LM call on
        ``[cond; null]`` that returns ``(1 + w) * l_c - w * l_u``.

        Arguments
        ---------
        cond : torch.Tensor
            Encoder output ``[batch, T, d_model]`` (computed once).
        valid : torch.Tensor, optional
            Bool ``[batch, T]`` valid frames.
        guidance : float
            Guidance weight ``w`` (0 = conditional only).

        Returns
        -------
        logits_fn : callable
            ``tokens[batch, Q, T] -> logits[batch, Q, T, V]``.

        Example
        -------
        >>> model = build_masksr(d_model=16, encoder_layers=1, lm_layers=1,
        ...                      nhead=2, n_codebooks=2, codebook_size=8,
        ...                      hop_length=512)
        >>> fn = model.eval().guided_logits_fn(torch.zeros(1, 5, 16), None, 2.0)
        >>> fn(torch.full((1, 2, 5), 8)).shape
        torch.Size([1, 2, 5, 8])
        """
        batch, n_frames = cond.shape[:2]
        if guidance == 0:
            return lambda tokens: self.lm(tokens, cond, valid)
        both = torch.cat([cond, self.lm.null_cond(batch, n_frames)], dim=0)
        both_valid = None if valid is None else torch.cat([valid, valid])

        def logits_fn(tokens):
            logits = self.lm(torch.cat([tokens, tokens]), both, both_valid)
            l_c, l_u = logits.chunk(2)
            return guided_logits(l_c, l_u, guidance)

        return logits_fn

    @torch.no_grad()
    def generate(
        self,
        wavs,
        steps=40,
        guidance=2.0,
        noise="gaussian",
        temperature=1.0,
        seed=None,
        wav_lens=None,
        noise_variance=4.0,
        choice_temperature=4.5,
        level_steps=None,
        upper_levels="greedy",
    ):
        """Restore: predict clean codec tokens from degraded waveforms.

        The speech encoder runs once; each decoding step makes one batched
        LM call (conditional + unconditional). The model is put in eval
        mode for the call and restored afterwards.

        Arguments
        ---------
        wavs : torch.Tensor
            Degraded waveforms ``[batch, time]`` at the codec's rate.
        steps : int
            Decoding steps (LM calls) of the flat sampler, or of level 0
            for the hierarchical variant (which then makes ``steps +
            Q - 1`` calls by default: 48 for 40 steps and 9 codebooks).
        guidance : float
            Guidance weight ``w`` in ``(1 + w) * l_c - w * l_u``.
        noise : str
            ``"gaussian"`` (MaskSR: variance ``4 -> 0``), ``"gumbel"``
            (MaskGIT choice temperature) or ``"none"``.
        temperature : float
            Token sampling temperature (0 = argmax).
        seed : int, optional
            Seed of private ``torch.Generator`` objects, one per item: same
            seed, same tokens, whatever else is in the batch.
        wav_lens : torch.Tensor, optional
            Relative lengths ``[batch]``; padded frames are returned as 0.
        noise_variance : float
            Initial variance of the Gaussian rule.
        choice_temperature : float
            Initial temperature of the Gumbel rule.
        level_steps : sequence of int, optional
            Hierarchical variant only: steps per level (default
            :func:`~speechbrain_masksr.sampling.default_level_steps`:
            ``steps`` for level 0, then one pass per level for
            ``"greedy"``, ``max(1, steps // 10)`` for ``"iterative"``).
        upper_levels : str
            Hierarchical variant only (the flat sampler ignores it):
            ``"greedy"`` (MaskSR / SoundStorm: one argmax pass per level
            above the first) or ``"iterative"`` (the higher levels are
            sampled like the first, see
            :func:`~speechbrain_masksr.sampling.hierarchical_sample`).

        Returns
        -------
        tokens : torch.Tensor
            Long ``[batch, Q, ceil(time / hop)]``.
        """
        check_wavs(wavs)
        _check_upper_levels(upper_levels)
        if self.variant == "flat" and level_steps is not None:
            raise ValueError(
                "level_steps is only used by the hierarchical variant"
            )
        was_training = self.training
        self.eval()
        try:
            generator = None
            if seed is not None:
                # One generator per item, all with the same seed: an item's
                # tokens do not depend on the rest of the batch.
                generator = [
                    torch.Generator(device=wavs.device).manual_seed(int(seed))
                    for _ in range(wavs.shape[0])
                ]
            n_frames, valid = self._frames(wavs, wav_lens)
            cond = self.encoder(wavs, wav_lens)
            logits_fn = self.guided_logits_fn(cond, valid, guidance)
            common = dict(
                logits_fn=logits_fn,
                batch=wavs.shape[0],
                n_codebooks=self.n_codebooks,
                n_frames=n_frames,
                mask_id=self.lm.mask_id,
                temperature=temperature,
                noise=noise,
                noise_variance=noise_variance,
                choice_temperature=choice_temperature,
                valid=valid,
                generator=generator,
                device=wavs.device,
            )
            if self.variant == "flat":
                return maskgit_sample(steps=steps, **common)
            if level_steps is None:
                level_steps = default_level_steps(
                    steps, self.n_codebooks, upper_levels
                )
            return hierarchical_sample(
                level_steps=level_steps, upper_levels=upper_levels, **common
            )
        finally:
            self.train(was_training)


def build_masksr(
    size="S",
    variant="flat",
    cond_dropout=0.1,
    n_codebooks=None,
    codebook_size=None,
    dropout=0.1,
    input_features="stft",
    codec=None,
    hop_length=None,
    **overrides,
):
    """Build a MaskSR model from a named size (``"S"`` or ``"M"``).

    The codec geometry has no default: pass ``n_codebooks``,
    ``codebook_size`` and ``hop_length``, or a ``codec`` to read them from.

    Arguments
    ---------
    size : str
        ``"S"`` (d 512, encoder 6, LM 8 blocks, 16 heads) or ``"M"`` (d
        768, encoder 6, LM 12 blocks, 16 heads).
    variant : str
        ``"flat"`` or ``"hierarchical"``.
    cond_dropout : float
        Condition dropout probability.
    n_codebooks : int, optional
        Codebooks of the codec (default: ``codec.n_codebooks``).
    codebook_size : int, optional
        Entries per codebook (default: ``codec.codebook_size``).
    dropout : float
        Transformer dropout.
    input_features : str
        Conditioning input: ``"stft"`` (MaskSR), ``"waveform"`` or
        ``"dac"`` (see :func:`~.speech_encoder.build_speech_encoder`; the
        paper gives the LM 14 blocks with ``"dac"``: pass
        ``lm_layers=14``).
    codec : Codec, optional
        The frozen codec: required by ``input_features="dac"``; it gives
        the geometry (``n_codebooks``, ``codebook_size``, ``hop_length``)
        not passed explicitly.
    hop_length : int, optional
        Samples per codec frame, the speech encoder's hop (default:
        ``codec.hop_length``).
    **overrides
        Replace ``d_model``, ``encoder_layers``, ``lm_layers`` or
        ``nhead``, or set a front-end option of
        :func:`~.speech_encoder.build_speech_encoder` (``n_fft``,
        ``power``, ``conv_channels``, ``conv_kernel``).

    Returns
    -------
    model : MaskSR
        The model.

    Example
    -------
    >>> dac = dict(n_codebooks=9, codebook_size=1024, hop_length=512)
    >>> model = build_masksr("S", **dac)
    >>> round(sum(p.numel() for p in model.parameters()) / 1e6, 1)
    54.6
    >>> model = build_masksr("S", input_features="waveform", **dac)
    >>> round(sum(p.numel() for p in model.encoder.parameters()) / 1e6, 1)
    24.1
    >>> build_masksr("S", n_codebooks=9, codebook_size=1024)
    Traceback (most recent call last):
    ...
    TypeError: build_masksr needs hop_length (the codec's): pass it, or pass the codec
    """
    if size not in MASKSR_CONFIGS:
        raise ValueError(f"size must be one of {list(MASKSR_CONFIGS)}: {size}")
    cfg = dict(MASKSR_CONFIGS[size])
    front_end = {
        k: overrides.pop(k)
        for k in ("n_fft", "power", "conv_channels", "conv_kernel")
        if k in overrides
    }
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise ConfigError(f"unknown overrides {sorted(unknown)}")
    cfg.update(overrides)
    geometry = codec_geometry(
        "build_masksr",
        codec,
        n_codebooks=n_codebooks,
        codebook_size=codebook_size,
        hop_length=hop_length,
    )
    encoder = build_speech_encoder(
        input_features,
        d_model=cfg["d_model"],
        num_layers=cfg["encoder_layers"],
        nhead=cfg["nhead"],
        dropout=dropout,
        codec=codec,
        **geometry,
        **front_end,
    )
    lm = MaskedCodecLM(
        n_codebooks=geometry["n_codebooks"],
        codebook_size=geometry["codebook_size"],
        d_model=cfg["d_model"],
        num_layers=cfg["lm_layers"],
        nhead=cfg["nhead"],
        dropout=dropout,
    )
    return MaskSR(encoder, lm, cond_dropout=cond_dropout, variant=variant)
