"""Fine-tuning helpers of the Audio-MAE recipes (training side).

Used by
:class:`~speechbrain_masksr.brains.audiomae_brain.AudioMAEClassifierBrain`
and ``hparams/audiomae_finetune.yaml``, following the released
facebookresearch/AudioMAE fine-tuning recipe:

* :func:`param_groups_lrd` - layer-wise learning-rate decay groups;
* :func:`mixup` - within-batch mixup with ``lam ~ Beta(alpha, alpha)``;
* :class:`SpecAugment` - one time and one frequency mask per example.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from torch import nn

from speechbrain_masksr.lobes.audio_mae.fbank import AUDIOSET_MEAN, AUDIOSET_STD

__all__ = ["SpecAugment", "mixup", "param_groups_lrd"]


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
    >>> enc = AudioMAEEncoder(grid=(4, 2), d_model=32, depth=2, num_heads=2)
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
    ``mask_value`` is that zero after AudioSet normalisation. Applied
    whenever called: call it in training only.

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
        Fill value; default ``-AUDIOSET_MEAN / (2 * AUDIOSET_STD)``.

    Example
    -------
    >>> aug = SpecAugment(freq_mask=8, time_mask=16, mask_value=0.0)
    >>> out = aug(torch.ones(2, 64, 32))
    >>> out.shape, bool((out == 0).any())
    (torch.Size([2, 64, 32]), True)
    """

    def __init__(self, freq_mask=48, time_mask=192, mask_value=None):
        super().__init__()
        self.freq_mask = int(freq_mask)
        self.time_mask = int(time_mask)
        if mask_value is None:
            mask_value = -AUDIOSET_MEAN / (2 * AUDIOSET_STD)
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
