"""Fine-tuning helpers of the Audio-MAE recipes (training side).

Used by
:class:`~speechbrain_masksr.brains.audiomae_brain.AudioMAEClassifierBrain`
and ``hparams/audiomae_finetune.yaml``, following the released
facebookresearch/AudioMAE fine-tuning recipe:

* :func:`param_groups_lrd` - layer-wise learning-rate decay groups;
* :func:`mixup` - within-batch mixup with ``lam ~ Beta(alpha, alpha)``;
* :class:`SpecAugment` - one time and one frequency mask per example;
* :func:`fbank_noise` - the Speech Commands noise + time-roll augmentation;
* :func:`fit_pos_embed` - a pretrained positional table cut to the
  fine-tuning grid (shorter clips: ESC-50, Speech Commands).

Authors
 * speechbrain-masksr contributors 2026
"""

import logging

import torch
from torch import nn

from speechbrain_masksr.lobes.audio_mae.fbank import AUDIOSET_MEAN, AUDIOSET_STD

logger = logging.getLogger(__name__)

__all__ = [
    "SpecAugment",
    "fbank_noise",
    "fit_pos_embed",
    "mixup",
    "param_groups_lrd",
]


def param_groups_lrd(
    model,
    weight_decay=0.05,
    no_weight_decay_list=("cls_token", "pos_embed"),
    layer_decay=0.75,
    lr=None,
):
    """Parameter groups with layer-wise learning-rate decay.

    With ``L = len(encoder.blocks) + 1``, the patch embedding, cls token and
    positions are layer 0, block ``i`` is layer ``i + 1`` and everything else
    (``fc_norm``, ``head``, the decoder) is layer ``L``; layer ``n`` gets
    ``lr_scale = layer_decay ** (L - n)``. Biases, norms and 1-D parameters
    and the names in ``no_weight_decay_list`` get no weight decay. Frozen
    parameters are skipped. Names are taken relative to the encoder
    (``encoder.`` prefix removed).

    Arguments
    ---------
    model : nn.Module
        An encoder or a model with an ``encoder`` attribute.
    weight_decay : float
        Weight decay of the decayed groups.
    no_weight_decay_list : sequence
        Encoder-relative names without weight decay.
    layer_decay : float
        Per-layer lr factor.
    lr : float, optional
        Base lr; if given, each group also gets ``lr = lr * lr_scale``.

    Returns
    -------
    list
        Groups ``{"params", "weight_decay", "lr_scale", "layer_id"(, "lr")}``
        for ``torch.optim.AdamW``; the Brain's
        :class:`~speechbrain_masksr.brains.audiomae_brain.WarmupCosineSchedule`
        sets each group's lr to ``lr * lr_scale``.

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEClassifierModel,
    ...     AudioMAEEncoder,
    ... )
    >>> enc = AudioMAEEncoder(grid=(4, 2), embed_dim=32, depth=2, num_heads=2)
    >>> clf = AudioMAEClassifierModel(enc, n_classes=3)
    >>> groups = param_groups_lrd(clf, layer_decay=0.5)
    >>> sorted({(g["layer_id"], g["lr_scale"]) for g in groups})
    [(0, 0.125), (1, 0.25), (2, 0.5), (3, 1.0)]
    >>> opt = torch.optim.AdamW(groups, lr=1e-3)
    """
    encoder = getattr(model, "encoder", model)
    num_layers = len(encoder.blocks) + 1
    groups = {}
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        rel = name[len("encoder.") :] if name.startswith("encoder.") else name
        if param.ndim == 1 or rel in no_weight_decay_list:
            decay_name, decay = "no_decay", 0.0
        else:
            decay_name, decay = "decay", weight_decay
        if rel in ("cls_token", "pos_embed") or rel.startswith("patch_embed"):
            layer_id = 0
        elif rel.startswith("blocks."):
            layer_id = int(rel.split(".")[1]) + 1
        else:
            layer_id = num_layers
        key = (layer_id, decay_name)
        if key not in groups:
            scale = layer_decay ** (num_layers - layer_id)
            groups[key] = {
                "params": [],
                "weight_decay": decay,
                "lr_scale": scale,
                "layer_id": layer_id,
            }
            if lr is not None:
                groups[key]["lr"] = lr * scale
        groups[key]["params"].append(param)
    return [groups[key] for key in sorted(groups)]


def mixup(inputs, targets, alpha=10.0, prob=0.5, permutation=None):
    """Mixup within a batch, ``lam ~ Beta(alpha, alpha)`` per example.

    Example ``i`` becomes ``lam_i x_i + (1 - lam_i) x_perm(i)`` with
    probability ``prob`` (otherwise ``lam_i = 1``); targets are mixed the
    same way. The official recipe mixes *waveforms* (then recomputes the
    fbank, whose DC removal
    :class:`~speechbrain_masksr.lobes.audio_mae.fbank.AudioMAEFbank` does)
    with ``alpha=10`` and ``prob=0.5``; mixing fbanks works with the same
    call.
    Zero padding of a shorter partner waveform matches the official
    pad-to-length.

    Arguments
    ---------
    inputs : torch.Tensor
        ``[batch, ...]`` waveforms ``[batch, time]`` or fbanks
        ``[batch, time, freq]``.
    targets : torch.Tensor
        ``[batch, n_classes]`` float (multi-)hot targets.
    alpha : float
        Beta distribution parameter.
    prob : float
        Probability of mixing each example.
    permutation : torch.Tensor, optional
        ``[batch]`` partner indices (default: a random permutation).

    Returns
    -------
    mixed_inputs : torch.Tensor
        Same shape as ``inputs``.
    mixed_targets : torch.Tensor
        ``[batch, n_classes]``.
    lam : torch.Tensor
        ``[batch]`` weights of the original examples.

    Example
    -------
    >>> x, y = torch.randn(4, 100), torch.eye(4)
    >>> mixed, y_mix, lam = mixup(x, y, prob=1.0)
    >>> bool(torch.allclose(y_mix.sum(dim=1), torch.ones(4)))
    True
    """
    if targets.dim() != 2 or not targets.is_floating_point():
        raise ValueError("mixup needs float targets [batch, n_classes]")
    batch = inputs.shape[0]
    if permutation is None:
        permutation = torch.randperm(batch, device=inputs.device)
    beta = torch.distributions.Beta(float(alpha), float(alpha))
    lam = beta.sample((batch,)).to(inputs.device)
    apply = torch.rand(batch, device=inputs.device) < prob
    lam = torch.where(apply, lam, torch.ones_like(lam))
    shape = (batch,) + (1,) * (inputs.dim() - 1)
    lam_x = lam.reshape(shape).to(inputs.dtype)
    mixed = lam_x * inputs + (1 - lam_x) * inputs[permutation]
    lam_y = lam[:, None].to(targets.dtype)
    mixed_targets = lam_y * targets + (1 - lam_y) * targets[permutation]
    return mixed, mixed_targets, lam


class SpecAugment(nn.Module):
    """One time mask and one frequency mask per example (SpecAugment).

    Widths are drawn uniformly in ``[0, freq_mask)`` / ``[0, time_mask)``
    (``torchaudio.functional.mask_along_axis_iid``). The official fine-tuning
    recipe uses ``freq_mask=48``, ``time_mask=192`` on 1024 x 128 fbanks and
    masks the raw log-mel values with 0 before normalisation; the default
    ``mask_value`` is that zero after normalisation with ``norm_mean`` /
    ``norm_std`` (AudioSet statistics by default; give the dataset's, as
    the fbank front end uses). Applied whenever called: call it in
    training only.

    SpeechBrain's ``speechbrain.augment.freq_domain.SpectrogramDrop`` is
    not used because it differs from the official recipe (torchaudio
    ``FrequencyMasking`` / ``TimeMasking`` with ``iid_masks``): it draws
    one mask count for the whole batch, places masks anywhere in
    ``[0, D)`` (a mask may run off the end) instead of inside the
    spectrogram, fills with zeros / mean / random values instead of a
    given constant, and masks its input in place.

    Arguments
    ---------
    freq_mask : int
        Maximum frequency-mask width (bins); 0 disables.
    time_mask : int
        Maximum time-mask width (frames); 0 disables.
    mask_value : float, optional
        Fill value; default ``-norm_mean / (2 * norm_std)``.
    norm_mean : float
        Mean of the fbank normalisation (default AudioSet's).
    norm_std : float
        Standard deviation of the fbank normalisation.

    Example
    -------
    >>> aug = SpecAugment(freq_mask=8, time_mask=16, mask_value=0.0)
    >>> out = aug(torch.ones(2, 64, 32))
    >>> out.shape, bool((out == 0).any())
    (torch.Size([2, 64, 32]), True)
    >>> round(SpecAugment(norm_mean=-6.0, norm_std=5.0).mask_value, 2)
    0.6
    """

    def __init__(
        self,
        freq_mask=48,
        time_mask=192,
        mask_value=None,
        norm_mean=AUDIOSET_MEAN,
        norm_std=AUDIOSET_STD,
    ):
        super().__init__()
        self.freq_mask = int(freq_mask)
        self.time_mask = int(time_mask)
        if mask_value is None:
            mask_value = -norm_mean / (2 * norm_std)
        self.mask_value = float(mask_value)

    def forward(self, fbank):
        """Masks a random band of frequencies and of frames per example.

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]``.

        Returns
        -------
        torch.Tensor
            Masked copy, ``[batch, time, freq]``.
        """
        from torchaudio.functional import mask_along_axis_iid

        x = fbank.unsqueeze(1)
        if self.time_mask > 0:
            width = min(self.time_mask, x.shape[2])
            x = mask_along_axis_iid(x, width, self.mask_value, axis=2)
        if self.freq_mask > 0:
            width = min(self.freq_mask, x.shape[3])
            x = mask_along_axis_iid(x, width, self.mask_value, axis=3)
        return x.squeeze(1)


def fbank_noise(fbank, max_level=0.1, max_shift=10, generator=None):
    """Noise and a time roll of normalised fbanks (official ``noise``).

    Per example, uniform noise ``U(0, 1) * a`` with ``a ~ U(0, max_level)``
    is added to every bin, then the frames are rolled (cyclically) by an
    integer shift in ``[-max_shift, max_shift)``, as ``dataset.py`` of
    facebookresearch/AudioMAE (from AST) does on normalised fbanks for
    Speech Commands (paper Table 3, augmentation "N"). Use in training
    only.

    Arguments
    ---------
    fbank : torch.Tensor
        ``[batch, time, freq]`` normalised fbanks.
    max_level : float
        Largest noise amplitude.
    max_shift : int
        Largest roll in frames (0 disables the roll).
    generator : torch.Generator, optional
        Random source (default: the global one).

    Returns
    -------
    torch.Tensor
        ``[batch, time, freq]``.

    Example
    -------
    >>> x = torch.zeros(2, 20, 4)
    >>> y = fbank_noise(x, max_shift=0)
    >>> bool((y >= 0).all() and (y < 0.1).all())
    True
    >>> ramp = torch.arange(20.0)[None, :, None].expand(1, 20, 4)
    >>> rolled = fbank_noise(ramp, max_level=0.0, max_shift=3)
    >>> any(torch.equal(rolled, ramp.roll(k, dims=1)) for k in range(-3, 3))
    True
    """
    batch = fbank.shape[0]
    device = fbank.device
    level = torch.rand(batch, 1, 1, generator=generator) * max_level
    noise = torch.rand(fbank.shape, generator=generator) * level
    out = fbank + noise.to(device=device, dtype=fbank.dtype)
    if max_shift > 0:
        shifts = torch.randint(
            -max_shift, max_shift, (batch,), generator=generator
        )
        out = torch.stack(
            [row.roll(int(k), dims=0) for row, k in zip(out, shifts)]
        )
    return out


def fit_pos_embed(state, grid, keys=("pos_embed", "encoder.pos_embed")):
    """Cut a checkpoint's positional table to a patch grid with fewer rows.

    A table ``[1, 1 + T' F, dim]`` (cls row first, tokens time-major)
    made for ``T'`` time rows keeps its cls row and its first ``T`` time
    rows when the model's grid is ``(T, F)`` with ``T < T'``: each kept
    token has the position it had in pretraining, whatever the layout of
    the table (the official transposed one included). Used to fine-tune
    the 1024-frame (64 x 8) AudioSet model on 512-frame ESC-50 (32 x 8) or
    128-frame Speech Commands (8 x 8) inputs, since the released code
    keeps the pretrained table frozen. Tables that already fit, or that do
    not split into ``F`` columns, are left for the strict loader to check.

    Arguments
    ---------
    state : dict
        State dict (not modified).
    grid : tuple
        Target patch grid ``(T, F)``.
    keys : tuple of str
        Names of positional tables in ``state``.

    Returns
    -------
    dict
        ``state`` with the tables cut (a new dict).

    Raises
    ------
    ValueError
        If the model's grid has more time rows than the table.

    Example
    -------
    >>> table = torch.arange(9.0).reshape(1, 9, 1)  # cls + 4 x 2 grid
    >>> fit_pos_embed({"pos_embed": table}, (2, 2))["pos_embed"].flatten()
    tensor([0., 1., 2., 3., 4.])
    """
    n_time, n_freq = (int(g) for g in grid)
    out = dict(state)
    for key in keys:
        table = state.get(key)
        if table is None or table.dim() != 3:
            continue
        n_tokens = table.shape[1] - 1
        if n_tokens == n_time * n_freq or n_tokens % n_freq:
            continue
        src_time = n_tokens // n_freq
        if src_time < n_time:
            raise ValueError(
                f"{key} covers {src_time} x {n_freq} patches, fewer time rows "
                f"than the model's grid {tuple(grid)}: shorten target_length "
                f"to at most {src_time} patches"
            )
        patches = table[:, 1:].reshape(1, src_time, n_freq, -1)[:, :n_time]
        out[key] = torch.cat(
            [table[:, :1], patches.reshape(1, n_time * n_freq, -1)], dim=1
        )
        logger.info(
            "%s: kept the first %d of %d time rows of the pretrained table",
            key,
            n_time,
            src_time,
        )
    return out
