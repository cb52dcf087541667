"""MAE speech enhancers: the Audio-MAE ViT autoencoder as a restorer.

Zhong et al., "Extending Audio Masked Autoencoders Toward Audio
Restoration" (WASPAA 2023) and "Masked Autoencoders as Universal Speech
Enhancer" (2026). :class:`MAEEnhancer` wraps the project's
:class:`~speechbrain_masksr.lobes.audio_mae.model.AudioMAE` (same encoder,
decoder, masking and patch grid) around a spectral front end and one of
these output heads:

===================  =======================================================
``variant``          output
===================  =======================================================
``vanilla``          the clean features directly (mel-to-mel: the clean
                     log-mel; STFT front end: compressed magnitude, noisy
                     phase)
``additive``         a correction added to the noisy features
``multiplicative``   a mask ``mask_bound * sigmoid(p + logit(0.9 /
                     mask_bound))`` in ``[0, mask_bound]`` on the noisy
                     linear magnitude (mel or STFT)
``complex_mask``     ViT-AE-iSTFT: a complex mask ``m = 1 + p`` on the STFT
                     with magnitude bounded as ``mask_bound * tanh(|m| /
                     mask_bound)`` (predicted phase); STFT front end only
===================  =======================================================

The decoder's output layer starts at zero, so every head starts near the
identity (correction 0, masks about 0.9 - 1): training refines the noisy
input instead of first learning to reproduce it.

``input_skip`` (our addition, not in the papers) adds a linear map from each
visible input patch to its output patch (``patch_size ** 2`` values in and
out, zero at the start): the head then sees the noisy value of every bin
directly, so a mask can follow the fine time-frequency detail that a patch
token summarises coarsely; masked patches get no skip (their input stays
hidden).

Features are normalised with fixed scalars (``(x - feat_mean) /
feat_std``), never per patch, so the level stays in the target. The time
axis is padded with the silence value up to the patch grid
(``segment_frames`` rounded up to a multiple of the patch size) and cropped
back, so any input of at most ``segment_frames`` frames works; longer audio
is cut into windows by the interface. The loss is the MSE between enhanced
and target normalised features, or with ``loss_power`` between their
power-compressed linear magnitudes (plus, for ``complex_mask``, the MSE of
the power-compressed complex spectra), on all patches or on the masked ones.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch
from torch import nn

from speechbrain_masksr.lobes.audio_mae import (
    AudioMAE,
    AudioMAEDecoder,
    AudioMAEEncoder,
)
from speechbrain_masksr.lobes.patching import patchify, unpatchify
from speechbrain_masksr.lobes.spectral import CompressedSTFT

__all__ = ["SYNTHESES", "VARIANTS", "MAEEnhancer", "build_mae_enhancer"]

VARIANTS = ("vanilla", "additive", "multiplicative", "complex_mask")
SYNTHESES = ("vocoder", "mel_mask")


class MAEEnhancer(nn.Module):
    """Spectral front end + Audio-MAE autoencoder + enhancement head.

    Arguments
    ---------
    mae : AudioMAE
        Encoder/decoder pair on the front end's grid, built with
        ``norm_pix_loss=False`` (its decoder outputs 2 channels for
        ``complex_mask``).
    front_end : HifiganMel or CompressedSTFT
        Waveform -> features.
    variant : str
        One of :data:`VARIANTS`.
    feat_mean : float
        Feature normalisation offset.
    feat_std : float
        Feature normalisation scale.
    mask_bound : float
        Upper bound of the (magnitude of the) masks.
    complex_weight : float
        Weight of the complex-spectrum term of ``complex_mask``.
    complex_power : float
        Compression exponent of that term.
    input_skip : bool
        Add the zero-initialised linear input-patch -> output-patch skip.
    loss_power : float, optional
        ``None``: MSE of the normalised features. A value ``p`` in
        ``(0, 1]``: MSE of the power-compressed linear magnitudes
        ``|X| ** p`` (mel or STFT), which weighs speech-dominated bins more
        and the log floor of silent bins less than a log-domain loss.
    synthesis : str
        Waveform of a mel-to-mel output: ``"vocoder"`` (the paper: the
        enhanced log-mel through HiFi-GAN, outside this module) or
        ``"mel_mask"`` (multiplicative variant only, our addition: the mel
        gains spread over the STFT bins by the filterbank and applied to the
        noisy STFT, as RNNoise does with its band gains; see
        :meth:`waveform`).

    Example
    -------
    >>> from speechbrain_masksr.lobes.spectral import HifiganMel
    >>> model = build_mae_enhancer(
    ...     HifiganMel(), segment_samples=8192, variant="multiplicative",
    ...     d_model=32, depth=1, num_heads=2, decoder_dim=16,
    ...     decoder_depth=1, decoder_num_heads=2)
    >>> model.grid
    (2, 5)
    >>> noisy, clean = torch.randn(2, 7000), torch.randn(2, 7000)
    >>> out = model(noisy)
    >>> out["feats"].shape  # 7000 // 256 frames, 80 mels
    torch.Size([2, 27, 80])
    >>> model.loss(out, clean).dim()
    0
    """

    def __init__(
        self,
        mae,
        front_end,
        variant="vanilla",
        feat_mean=0.0,
        feat_std=1.0,
        mask_bound=1.0,
        complex_weight=1.0,
        complex_power=0.3,
        input_skip=False,
        loss_power=None,
        synthesis="vocoder",
    ):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}: {variant!r}")
        is_stft = isinstance(front_end, CompressedSTFT)
        if variant == "complex_mask" and not is_stft:
            raise ValueError("variant 'complex_mask' needs a CompressedSTFT")
        if mae.norm_pix_loss:
            raise ValueError(
                "an enhancer needs AudioMAE(norm_pix_loss=False): per-patch "
                "normalisation removes the level it must output"
            )
        self.mae = mae
        self.front_end = front_end
        self.variant = variant
        self.is_stft = is_stft
        self.feat_mean = float(feat_mean)
        self.feat_std = float(feat_std)
        self.mask_bound = float(mask_bound)
        self.complex_weight = float(complex_weight)
        self.complex_power = float(complex_power)
        self.loss_power = None if loss_power is None else float(loss_power)
        if self.loss_power is not None and not 0 < self.loss_power <= 1:
            raise ValueError(f"loss_power must be in (0, 1]: {loss_power}")
        self.patch_size = mae.encoder.patch_size
        self.out_chans = 2 if variant == "complex_mask" else 1
        expected = self.patch_size**2 * self.out_chans
        if mae.decoder.decoder_pred.out_features != expected:
            raise ValueError(
                f"variant {variant!r} needs a decoder with "
                f"in_chans={self.out_chans}"
            )
        if variant == "multiplicative" and self.mask_bound <= 0.9:
            raise ValueError("multiplicative masks need mask_bound > 0.9")
        if synthesis not in SYNTHESES:
            raise ValueError(
                f"synthesis must be one of {SYNTHESES}: {synthesis!r}"
            )
        if synthesis == "mel_mask" and (is_stft or variant != "multiplicative"):
            raise ValueError(
                "synthesis 'mel_mask' needs the multiplicative mel variant"
            )
        self.synthesis = synthesis
        pred_layer = mae.decoder.decoder_pred
        nn.init.zeros_(pred_layer.weight)
        nn.init.zeros_(pred_layer.bias)
        self.skip = None
        if input_skip:
            size = self.patch_size**2
            self.skip = nn.Linear(size, size * self.out_chans)
            nn.init.zeros_(self.skip.weight)
            nn.init.zeros_(self.skip.bias)
        if self.grid[1] * self.patch_size != front_end.n_bins:
            raise ValueError(
                f"grid {self.grid} does not cover {front_end.n_bins} bins"
            )

    @property
    def grid(self):
        """The patch grid ``(T, F)``."""
        return self.mae.grid

    @property
    def sample_rate(self):
        """Audio rate of the front end."""
        return self.front_end.sample_rate

    @property
    def max_frames(self):
        """Frames the grid holds."""
        return self.grid[0] * self.patch_size

    def normalize(self, feats):
        """Fixed-scalar normalisation of features.

        Arguments
        ---------
        feats : torch.Tensor
            Front-end features.

        Returns
        -------
        torch.Tensor
            ``(feats - feat_mean) / feat_std``.
        """
        return (feats - self.feat_mean) / self.feat_std

    def denormalize(self, feats):
        """Inverse of :meth:`normalize`.

        Arguments
        ---------
        feats : torch.Tensor
            Normalised features.

        Returns
        -------
        torch.Tensor
            Front-end features.
        """
        return feats * self.feat_std + self.feat_mean

    def analyse(self, wavs):
        """Normalised features (and the complex STFT for STFT front ends).

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` at :attr:`sample_rate`.

        Returns
        -------
        feats : torch.Tensor
            ``[batch, frames, bins]``, normalised.
        spec : torch.Tensor or None
            ``[batch, frames, bins]`` complex STFT (STFT front ends).
        """
        if self.is_stft:
            spec = self.front_end.stft(wavs)
            feats = self.front_end.compress(spec.abs())
        else:
            spec, feats = None, self.front_end(wavs)
        if feats.shape[1] > self.max_frames:
            raise ValueError(
                f"{wavs.shape[-1]} samples give {feats.shape[1]} frames, the "
                f"model holds {self.max_frames}; cut longer audio into "
                "windows (MAEEnhancement does)"
            )
        return self.normalize(feats), spec

    def _to_grid(self, feats):
        """Pad the time axis with silence up to the grid."""
        pad = self.max_frames - feats.shape[1]
        silence = (self.front_end.silence - self.feat_mean) / self.feat_std
        return nn.functional.pad(feats, (0, 0, 0, pad), value=silence)

    def _unpatch(self, pred):
        """``[batch, L, p^2 * C]`` -> ``[batch, C, time, freq]``."""
        size = self.patch_size**2
        chans = [
            unpatchify(
                pred[..., c * size : (c + 1) * size], self.grid, self.patch_size
            )
            for c in range(self.out_chans)
        ]
        return torch.stack(chans, dim=1)

    def forward(self, wavs, mask_ratio=None):
        """Enhance ``[batch, time]`` audio (at most :attr:`max_frames`).

        Arguments
        ---------
        wavs : torch.Tensor
            Noisy audio at :attr:`sample_rate`.
        mask_ratio : float, optional
            Overrides the model's masking ratio (``0`` at inference).

        Returns
        -------
        dict
            ``feats`` (enhanced normalised features ``[batch, frames,
            bins]``), ``spec`` (enhanced complex STFT, STFT front ends, else
            ``None``), ``mask`` (``[batch, T * F]``, 1 = masked) and
            ``num_samples``.
        """
        feats, spec = self.analyse(wavs)
        frames = feats.shape[1]
        gain = None
        grid_feats = self._to_grid(feats)
        latent, mask, ids_restore = self.mae.forward_encoder(
            grid_feats, mask_ratio
        )
        pred = self.mae.decoder(latent, ids_restore)
        if self.skip is not None:  # visible patches only
            skip = self.skip(patchify(grid_feats, self.patch_size))
            pred = pred + skip * (1.0 - mask)[..., None]
        pred = self._unpatch(pred)
        pred = pred[:, :, :frames]
        if self.variant == "vanilla":
            out = pred[:, 0]
        elif self.variant == "additive":
            out = feats + pred[:, 0]
        elif self.variant == "multiplicative":
            offset = math.log(0.9 / (self.mask_bound - 0.9))  # gain 0.9 at 0
            gain = self.mask_bound * torch.sigmoid(pred[:, 0] + offset)
            lin = self.front_end.decompress(self.denormalize(feats))
            out = self.normalize(self.front_end.compress(gain * lin))
        else:  # complex mask, bounded magnitude, predicted phase
            m = torch.complex(1.0 + pred[:, 0], pred[:, 1])
            mag = m.abs().clamp(min=1e-8)
            bound = self.mask_bound
            spec = spec * (bound * torch.tanh(mag / bound) / mag * m)
            out = self.normalize(self.front_end.compress(spec.abs()))
        if self.is_stft and self.variant != "complex_mask":
            mag = self.front_end.decompress(self.denormalize(out))
            spec = mag * torch.exp(1j * torch.angle(spec))
        return {
            "feats": out,
            "spec": spec,
            "mask": mask,
            "gain": gain,
            "num_samples": wavs.shape[-1],
        }

    def loss(self, out, targets):
        """MSE to the target audio's features (all or masked patches).

        Arguments
        ---------
        out : dict
            Output of :meth:`forward`.
        targets : torch.Tensor
            ``[batch, time]`` target audio (clean speech, or the input
            before augmentation), aligned with the input.

        Returns
        -------
        torch.Tensor
            Scalar loss (``loss_on="masked"`` without any masked patch, as
            in evaluation, scores every patch).
        """
        feats, spec = self.analyse(targets)
        if self.loss_power is None:
            err = (out["feats"] - feats) ** 2
        else:  # power-compressed linear magnitudes (mel or STFT)
            err = (
                self._compressed(out["feats"]) - self._compressed(feats)
            ) ** 2
        if self.variant == "complex_mask":
            p = self.complex_power
            est = out["spec"]
            c_est = est.abs().clamp(min=1e-8) ** (p - 1) * est
            c_ref = spec.abs().clamp(min=1e-8) ** (p - 1) * spec
            err = err + self.complex_weight * (c_est - c_ref).abs() ** 2
        frames = err.shape[1]
        err = nn.functional.pad(err, (0, 0, 0, self.max_frames - frames))
        per_patch = patchify(err, self.patch_size).mean(dim=-1)
        # Padded frames carry no error; rescale to the real frames.
        per_patch = per_patch * (self.max_frames / frames)
        weights = out["mask"]
        if self.mae.loss_on == "all" or not bool(weights.any()):
            weights = torch.ones_like(weights)  # no masking: every patch
        return (per_patch * weights).sum() / weights.sum().clamp(min=1)

    def _compressed(self, feats):
        """``|X| ** loss_power`` of normalised features."""
        mag = self.front_end.decompress(self.denormalize(feats))
        return mag.clamp(min=1e-8) ** self.loss_power

    @property
    def needs_vocoder(self):
        """Whether the waveform comes from a vocoder (mel-to-mel)."""
        return not self.is_stft and self.synthesis == "vocoder"

    def waveform(self, out, wavs=None):
        """Waveform of an output without a vocoder.

        STFT front ends: inverse STFT of ``out["spec"]``. Mel front end with
        ``synthesis="mel_mask"``: the mel gains ``out["gain"]`` applied to
        the STFT of the noisy input ``wavs``
        (:meth:`HifiganMel.apply_band_gains`).

        Arguments
        ---------
        out : dict
            Output of :meth:`forward`.
        wavs : torch.Tensor, optional
            ``[batch, time]``: the input of :meth:`forward` (``mel_mask``).

        Returns
        -------
        torch.Tensor
            ``[batch, num_samples]``.

        Example
        -------
        >>> from speechbrain_masksr.lobes.spectral import HifiganMel
        >>> model = build_mae_enhancer(
        ...     HifiganMel(), 8192, "multiplicative", d_model=32, depth=1,
        ...     num_heads=2, decoder_dim=16, decoder_depth=1,
        ...     decoder_num_heads=2, synthesis="mel_mask")
        >>> noisy = torch.randn(1, 7000)
        >>> model.waveform(model(noisy), noisy).shape
        torch.Size([1, 7000])
        """
        if self.is_stft:
            return self.front_end.istft(out["spec"], out["num_samples"])
        if self.synthesis != "mel_mask":
            raise ValueError(
                "mel-to-mel enhancers need a vocoder: use "
                "Vocoder(self.denormalize(out['feats']))"
            )
        if wavs is None or wavs.shape[-1] != out["num_samples"]:
            raise ValueError("synthesis 'mel_mask' needs the noisy input")
        return self.front_end.apply_band_gains(wavs, out["gain"])

    def set_trainable_encoder(self, top_blocks=None):
        """Freeze the encoder, fully or all but its top blocks.

        Arguments
        ---------
        top_blocks : int, optional
            ``None``: everything trains; ``0``: the encoder is frozen; ``N``:
            only its top ``N`` blocks and final norm train.

        Example
        -------
        >>> from speechbrain_masksr.lobes.spectral import HifiganMel
        >>> model = build_mae_enhancer(
        ...     HifiganMel(), 4096, d_model=32, depth=3, num_heads=2,
        ...     decoder_dim=16, decoder_depth=1, decoder_num_heads=2)
        >>> model.set_trainable_encoder(1)
        >>> [b.mlp.fc1.weight.requires_grad for b in model.mae.encoder.blocks]
        [False, False, True]
        """
        encoder = self.mae.encoder
        for param in encoder.parameters():
            param.requires_grad_(top_blocks is None)
        encoder.pos_embed.requires_grad_(False)
        if top_blocks:
            for block in encoder.blocks[len(encoder.blocks) - top_blocks :]:
                block.requires_grad_(True)
            encoder.norm.requires_grad_(True)


def build_mae_enhancer(
    front_end,
    segment_samples,
    variant="vanilla",
    d_model=192,
    depth=6,
    num_heads=4,
    decoder_dim=128,
    decoder_depth=2,
    decoder_num_heads=4,
    decoder_mode="global",
    mlp_ratio=4.0,
    patch_size=16,
    mask_mode="none",
    mask_ratio=0.0,
    mask_t_prob=0.2,
    mask_f_prob=0.2,
    loss_on="all",
    drop_path=0.0,
    feat_mean=0.0,
    feat_std=1.0,
    mask_bound=1.0,
    complex_weight=1.0,
    input_skip=False,
    loss_power=None,
    synthesis="vocoder",
):
    """Build an :class:`MAEEnhancer` whose grid follows the front end.

    Arguments
    ---------
    front_end : HifiganMel or CompressedSTFT
        Front end; its bin count must be a multiple of ``patch_size``.
    segment_samples : int
        Longest input in samples (training crop = inference window); the
        grid holds its frames rounded up to the patch size.
    variant : str
        See :data:`VARIANTS`.
    d_model : int
        Encoder width.
    depth : int
        Encoder blocks.
    num_heads : int
        Encoder heads.
    decoder_dim : int
        Decoder width.
    decoder_depth : int
        Decoder blocks.
    decoder_num_heads : int
        Decoder heads.
    decoder_mode : str
        ``"global"``, ``"local"`` or ``"hybrid"`` (Audio-MAE decoders).
    mlp_ratio : float
        MLP width ratio.
    patch_size : int
        Patch side.
    mask_mode : str
        Training-time masking: ``"none"``, ``"random"``, ``"time"``,
        ``"freq"`` or ``"time+freq"``.
    mask_ratio : float
        Masking ratio (random / time / freq).
    mask_t_prob : float
        Time-row ratio of ``time+freq``.
    mask_f_prob : float
        Frequency-column ratio of ``time+freq``.
    loss_on : str
        ``"all"`` or ``"masked"`` patches.
    drop_path : float
        Encoder stochastic depth.
    feat_mean : float
        Feature normalisation offset.
    feat_std : float
        Feature normalisation scale.
    mask_bound : float
        Mask upper bound.
    complex_weight : float
        Complex-spectrum loss weight (``complex_mask``).
    input_skip : bool
        Linear input-patch -> output-patch skip (see :class:`MAEEnhancer`).
    loss_power : float, optional
        Loss on ``|X| ** loss_power`` of the linear magnitudes (mel or
        STFT) instead of the normalised features (see
        :class:`MAEEnhancer`).
    synthesis : str
        ``"vocoder"`` or ``"mel_mask"`` (see :class:`MAEEnhancer`).

    Returns
    -------
    MAEEnhancer
        The model.

    Example
    -------
    >>> stft = CompressedSTFT(n_fft=512, hop_length=128)
    >>> model = build_mae_enhancer(stft, 4992, "complex_mask", d_model=32,
    ...     depth=1, num_heads=2, decoder_dim=16, decoder_depth=1,
    ...     decoder_num_heads=2)
    >>> model.grid
    (3, 16)
    >>> wav = torch.randn(1, 4000)
    >>> model.waveform(model(wav)).shape
    torch.Size([1, 4000])
    """
    n_bins = front_end.n_bins
    if n_bins % patch_size:
        raise ValueError(
            f"the front end gives {n_bins} bins, not a multiple of the patch "
            f"size {patch_size}"
        )
    frames = front_end.num_frames(int(segment_samples))
    grid = (math.ceil(frames / patch_size), n_bins // patch_size)
    encoder = AudioMAEEncoder(
        grid=grid,
        patch_size=patch_size,
        d_model=d_model,
        depth=depth,
        num_heads=num_heads,
        mlp_ratio=mlp_ratio,
        drop_path=drop_path,
    )
    decoder = AudioMAEDecoder(
        grid=grid,
        d_model=d_model,
        decoder_dim=decoder_dim,
        depth=decoder_depth,
        num_heads=decoder_num_heads,
        mode=decoder_mode,
        patch_size=patch_size,
        in_chans=2 if variant == "complex_mask" else 1,
        mlp_ratio=mlp_ratio,
    )
    mae = AudioMAE(
        encoder,
        decoder,
        mask_ratio=mask_ratio,
        norm_pix_loss=False,
        mask_mode=mask_mode,
        mask_t_prob=mask_t_prob,
        mask_f_prob=mask_f_prob,
        loss_on=loss_on,
    )
    return MAEEnhancer(
        mae,
        front_end,
        variant=variant,
        feat_mean=feat_mean,
        feat_std=feat_std,
        mask_bound=mask_bound,
        complex_weight=complex_weight,
        input_skip=input_skip,
        loss_power=loss_power,
        synthesis=synthesis,
    )
