"""Audio-MAE pretraining model.

:class:`AudioMAE` - the pretraining model (random / time / freq /
time+freq masking, MSE on masked patches, optional per-patch normalised
targets) and its masked reconstruction (:meth:`AudioMAE.reconstruct`,
:meth:`AudioMAE.mask_and_reconstruct`), which the
:class:`~speechbrain_masksr.inference.audio_mae.AudioMAEReconstruction`
interface calls.

Reconstruction with ``norm_pix_loss`` models: their predictions are
per-patch standardised, and the statistics of a masked patch are unknown.
``stats="visible"`` gives each masked patch the mean / standard deviation
of the visible patches of its frequency band (all visible patches if the
band is fully masked); ``stats="oracle"`` uses the true statistics of the
hidden patches, as the official visualisation does - an upper bound that
peeks at the answer.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from torch import nn

from speechbrain_masksr.lobes.masking import MASK_MODES, mask_tokens
from speechbrain_masksr.lobes.patching import patchify, unpatchify

__all__ = ["RECONSTRUCTION_STATS", "AudioMAE"]

#: Patch statistics of :meth:`AudioMAE.reconstruct` (``norm_pix_loss``).
RECONSTRUCTION_STATS = ("visible", "oracle")


def _patch_stats(target):
    """Per-patch mean and ``sqrt(unbiased var + 1e-6)``."""
    mean = target.mean(dim=-1, keepdim=True)
    std = (target.var(dim=-1, keepdim=True) + 1e-6).sqrt()
    return mean, std


def _visible_stats(target, mask, grid):
    """Per-patch mean / std estimated from the visible patches.

    Each patch gets the average statistics of the visible patches in its
    frequency column (all visible patches when the column is fully masked).
    """
    batch = target.shape[0]
    n_time, n_freq = grid
    mean = target.mean(dim=-1)
    std = (target.var(dim=-1) + 1e-6).sqrt()
    visible = (1 - mask).reshape(batch, n_time, n_freq)
    out = []
    for stat in (mean, std):
        stat = stat.reshape(batch, n_time, n_freq)
        total = (stat * visible).sum(dim=1)  # [batch, n_freq]
        count = visible.sum(dim=1)
        overall = (stat * visible).sum(dim=(1, 2)) / visible.sum(dim=(1, 2))
        col = torch.where(
            count > 0, total / count.clamp(min=1), overall[:, None]
        )
        out.append(col[:, None, :].expand(batch, n_time, n_freq))
    return [s.reshape(batch, -1, 1) for s in out]


def _check_stats(stats):
    """Refuses an unknown ``stats`` name of the reconstruction."""
    if stats not in RECONSTRUCTION_STATS:
        raise ValueError(f"stats must be 'visible' or 'oracle', not {stats}")


class AudioMAE(nn.Module):
    """Audio-MAE pretraining model: mask, encode visible, decode, MSE.

    Arguments
    ---------
    encoder : AudioMAEEncoder
        The encoder.
    decoder : AudioMAEDecoder
        The decoder (same grid).
    mask_ratio : float
        Masking ratio of the ``random``, ``time`` and ``freq`` modes.
    norm_pix_loss : bool
        Normalise each target patch by its own mean and standard deviation
        (unbiased variance + 1e-6) before the MSE.
    mask_mode : str
        ``"random"``, ``"time"``, ``"freq"`` or ``"time+freq"``.
    mask_t_prob : float
        Time-row ratio of the ``time+freq`` mode.
    mask_f_prob : float
        Frequency-column ratio of the ``time+freq`` mode.
    loss_on : str
        ``"masked"`` (MAE pretraining: masked patches only) or ``"all"``
        (restoration: every patch, visible ones included).

    Restoration: ``forward(noisy, target=clean)`` regresses a target other
    than the input; per-patch target normalisation is refused there, since
    it would remove the level an enhancer must output.

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEDecoder,
    ...     AudioMAEEncoder,
    ... )
    >>> enc = AudioMAEEncoder(grid=(8, 4), d_model=32, depth=1, num_heads=2)
    >>> dec = AudioMAEDecoder((8, 4), 32, 16, depth=1, num_heads=2)
    >>> model = AudioMAE(enc, dec)
    >>> out = model(torch.randn(2, 128, 64))
    >>> out["pred"].shape, out["mask"].shape, int(out["mask"][0].sum())
    (torch.Size([2, 32, 256]), torch.Size([2, 32]), 26)
    """

    def __init__(
        self,
        encoder,
        decoder,
        mask_ratio=0.8,
        norm_pix_loss=True,
        mask_mode="random",
        mask_t_prob=0.6,
        mask_f_prob=0.5,
        loss_on="masked",
    ):
        super().__init__()
        if loss_on not in ("masked", "all"):
            raise ValueError(f"loss_on must be 'masked' or 'all': {loss_on!r}")
        if tuple(encoder.grid) != tuple(decoder.grid):
            raise ValueError(
                f"Encoder grid {encoder.grid} != decoder grid {decoder.grid}"
            )
        if mask_mode not in MASK_MODES:
            raise ValueError(f"mask_mode must be one of {MASK_MODES}")
        if mask_mode == "none" and loss_on == "masked":
            raise ValueError(
                "mask_mode 'none' masks nothing: use loss_on='all'"
            )
        self.encoder = encoder
        self.decoder = decoder
        self.mask_ratio = float(mask_ratio)
        self.norm_pix_loss = bool(norm_pix_loss)
        self.mask_mode = mask_mode
        self.mask_t_prob = float(mask_t_prob)
        self.mask_f_prob = float(mask_f_prob)
        self.loss_on = loss_on

    @property
    def grid(self):
        """The patch grid ``(T, F)``."""
        return self.encoder.grid

    def forward_encoder(self, fbank, mask_ratio=None, noise=None):
        """Embeds, masks and encodes the visible patches.

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]``.
        mask_ratio : float, optional
            Overrides ``self.mask_ratio``; ``0`` disables masking in every
            mode (also ``time+freq``).
        noise : torch.Tensor, optional
            ``[batch, T * F]`` scores for random masking (smallest kept).

        Returns
        -------
        latent : torch.Tensor
            ``[batch, 1 + n_visible, d_model]``.
        mask : torch.Tensor
            ``[batch, T * F]``, 1 = masked.
        ids_restore : torch.Tensor
            ``[batch, T * F]``.
        """
        tokens = self.encoder.embed(fbank)
        ratio = self.mask_ratio if mask_ratio is None else mask_ratio
        # An explicit mask_ratio of 0 (inference) masks nothing in any mode.
        mode = "none" if mask_ratio is not None and ratio == 0 else None
        visible, mask, ids_restore = mask_tokens(
            tokens,
            self.grid,
            mode or self.mask_mode,
            mask_ratio=ratio,
            mask_t_prob=self.mask_t_prob,
            mask_f_prob=self.mask_f_prob,
            noise=noise,
        )
        return self.encoder.forward_tokens(visible), mask, ids_restore

    def forward_loss(self, fbank, pred, mask, target=None):
        """MSE between predicted and target patches.

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]`` input.
        pred : torch.Tensor
            ``[batch, T * F, patch_size ** 2]``.
        mask : torch.Tensor
            ``[batch, T * F]``, 1 = masked.
        target : torch.Tensor, optional
            ``[batch, time, freq]`` restoration target (default: the input,
            i.e. MAE reconstruction).

        Returns
        -------
        torch.Tensor
            Scalar loss: mean over pixels, averaged over the masked patches
            (``loss_on="masked"``) or over all patches (``"all"``).
        """
        if target is not None and self.norm_pix_loss:
            raise ValueError(
                "norm_pix_loss normalises each target patch by its own "
                "statistics, which removes the level a restoration target "
                "carries; build AudioMAE(norm_pix_loss=False) for targets "
                "other than the input"
            )
        target = patchify(
            fbank if target is None else target, self.encoder.patch_size
        )
        if self.norm_pix_loss:
            mean, std = _patch_stats(target)
            target = (target - mean) / std
        loss = ((pred - target) ** 2).mean(dim=-1)
        weights = mask if self.loss_on == "masked" else torch.ones_like(mask)
        return (loss * weights).sum() / weights.sum().clamp(min=1)

    def forward(self, fbank, mask_ratio=None, noise=None, target=None):
        """Runs masking, encoder, decoder and loss.

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]`` normalised fbank.
        mask_ratio : float, optional
            Overrides ``self.mask_ratio``.
        noise : torch.Tensor, optional
            ``[batch, T * F]`` random-masking scores (for reproducibility).
        target : torch.Tensor, optional
            ``[batch, time, freq]`` restoration target (default: ``fbank``).

        Returns
        -------
        dict
            ``loss`` (scalar), ``pred`` ``[batch, T * F, patch_size ** 2]``
            and ``mask`` ``[batch, T * F]`` (1 = masked).
        """
        latent, mask, ids_restore = self.forward_encoder(
            fbank, mask_ratio, noise
        )
        pred = self.decoder(latent, ids_restore)
        loss = self.forward_loss(fbank, pred, mask, target)
        return {"loss": loss, "pred": pred, "mask": mask}

    def reconstruct(
        self, fbank, pred, mask, paste_visible=True, stats="oracle"
    ):
        """Turns predicted patches into a spectrogram.

        With ``norm_pix_loss`` the predictions are per-patch standardised;
        they are mapped back with per-patch statistics: the *input's*
        (``stats="oracle"``, an oracle, as in the official visualisation:
        for inspection, not as a restoration output) or those estimated
        from the visible patches of each frequency band
        (``stats="visible"``; see the module docstring).

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]`` input.
        pred : torch.Tensor
            ``[batch, T * F, patch_size ** 2]``.
        mask : torch.Tensor
            ``[batch, T * F]``, 1 = masked.
        paste_visible : bool
            Copy the visible input patches into the output.
        stats : str
            ``"oracle"`` or ``"visible"`` (``norm_pix_loss`` models only).

        Returns
        -------
        torch.Tensor
            ``[batch, time, freq]``.

        Example
        -------
        >>> from speechbrain_masksr.lobes.audio_mae import (
        ...     AudioMAEDecoder,
        ...     AudioMAEEncoder,
        ... )
        >>> enc = AudioMAEEncoder(grid=(8, 4), d_model=32, depth=1,
        ...                       num_heads=2)
        >>> model = AudioMAE(enc, AudioMAEDecoder((8, 4), 32, 16, depth=1,
        ...                                       num_heads=2))
        >>> fbank = torch.randn(1, 128, 64)
        >>> out = model(fbank)
        >>> model.reconstruct(fbank, out["pred"], out["mask"],
        ...                   stats="visible").shape
        torch.Size([1, 128, 64])
        """
        _check_stats(stats)
        target = patchify(fbank, self.encoder.patch_size)
        if self.norm_pix_loss:
            if stats == "oracle":
                mean, std = _patch_stats(target)
            else:
                mean, std = _visible_stats(target, mask, self.grid)
            pred = pred * std + mean
        if paste_visible:
            keep = mask[..., None] < 0.5
            pred = torch.where(keep, target, pred)
        return unpatchify(pred, self.grid, self.encoder.patch_size)

    def mask_and_reconstruct(
        self,
        fbank,
        mask_ratio=None,
        seed=0,
        stats="visible",
        paste_visible=True,
    ):
        """Masks with a seeded mask, predicts and reconstructs (Fig. 6).

        The random-masking scores come from a CPU generator seeded with
        ``seed``; the structured mask modes draw from the global generator,
        seeded with ``seed`` inside a forked RNG state (the caller's state
        is left as it was).

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]`` normalised fbank.
        mask_ratio : float, optional
            Fraction of patches hidden (default ``self.mask_ratio``; ``0``
            hides nothing in any mode).
        seed : int
            Seed of the mask.
        stats : str
            ``"visible"`` or ``"oracle"`` patch statistics for
            ``norm_pix_loss`` models (see :meth:`reconstruct`).
        paste_visible : bool
            Copy the visible patches of the input into the output.

        Returns
        -------
        dict
            ``mask`` ``[batch, time, freq]`` (1 = hidden), ``mask_patches``
            ``[batch, T * F]``, ``pred`` (raw decoder output
            ``[batch, T * F, patch_size ** 2]``) and ``reconstruction``
            ``[batch, time, freq]``.

        Example
        -------
        >>> from speechbrain_masksr.lobes.audio_mae import (
        ...     AudioMAEDecoder,
        ...     AudioMAEEncoder,
        ... )
        >>> enc = AudioMAEEncoder(grid=(8, 4), d_model=32, depth=1,
        ...                       num_heads=2)
        >>> model = AudioMAE(enc, AudioMAEDecoder((8, 4), 32, 16, depth=1,
        ...                                       num_heads=2)).eval()
        >>> out = model.mask_and_reconstruct(torch.randn(1, 128, 64), 0.5)
        >>> out["reconstruction"].shape, int(out["mask_patches"].sum())
        (torch.Size([1, 128, 64]), 16)
        """
        _check_stats(stats)
        grid, patch = self.grid, self.encoder.patch_size
        gen = torch.Generator().manual_seed(int(seed))
        noise = torch.rand(fbank.shape[0], grid[0] * grid[1], generator=gen)
        device = fbank.device
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(seed))  # structured mask modes
            out = self(fbank, mask_ratio=mask_ratio, noise=noise.to(fbank))
        pred, mask = out["pred"], out["mask"]
        pixel_mask = unpatchify(
            mask[..., None].expand(-1, -1, patch * patch), grid, patch
        )
        return {
            "mask": pixel_mask,
            "mask_patches": mask,
            "pred": pred,
            "reconstruction": self.reconstruct(
                fbank, pred, mask, paste_visible, stats
            ),
        }
