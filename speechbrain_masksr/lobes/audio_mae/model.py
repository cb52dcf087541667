"""Audio-MAE: masked autoencoder pretraining and fine-tuning on fbanks.

Pieces (Huang et al., "Masked Autoencoders that Listen", NeurIPS 2022):

* :class:`AudioMAEFbank` - 128-bin Kaldi fbank front end (25 ms Hann
  window, 10 ms shift, htk_compat, no dither, 16 kHz) after per-utterance DC
  removal, zero-padded / cropped to ``target_length`` frames, then
  normalised as ``(x - mean) / (2 std)`` (AudioSet statistics by default).
* :class:`AudioMAEEncoder` - ViT encoder (cls token, fixed 2-D sin-cos
  positions, pre-norm blocks, final ``norm``); see :func:`vit_config`.
* :class:`AudioMAEDecoder` - projects the visible latents, inserts mask
  tokens, restores the order, adds decoder positions and runs global,
  shifted-window local (the released decoder, 16 blocks) or hybrid blocks.
* :class:`AudioMAE` - the pretraining model (random / time / freq /
  time+freq masking, MSE on masked patches, optional per-patch normalised
  targets).
* :class:`AudioMAEClassifierModel` - encoder-only fine-tuning model with
  training-time time/frequency row-column dropping, mean pooling,
  ``fc_norm`` and a linear ``head``.
* :func:`param_groups_lrd` - layer-wise learning-rate decay groups;
  :func:`mixup` and :class:`SpecAugment` - fine-tuning augmentations.
* :func:`official_to_ours` / :func:`ours_to_official` /
  :func:`load_official_state_dict` - the official checkpoint layout.

Official <-> ours state-dict keys
---------------------------------
Submodule names are the official ones; only a prefix is added:

========================================  ==================================
official key (``checkpoint["model"]``)    ours
========================================  ==================================
``patch_embed.proj.{weight,bias}``        ``encoder.patch_embed.proj.*``
``cls_token``                             ``encoder.cls_token``
``pos_embed``                             ``encoder.pos_embed``
``blocks.N.{norm1,attn.qkv,attn.proj,``   ``encoder.blocks.N.*`` (same tail)
``norm2,mlp.fc1,mlp.fc2}.{weight,bias}``
``norm.{weight,bias}``                    ``encoder.norm.*``
``decoder_embed.*`` (pretrained)          ``decoder.decoder_embed.*``
``mask_token``                            ``decoder.mask_token``
``decoder_pos_embed``                     ``decoder.decoder_pos_embed``
``decoder_blocks.N.*``                    ``decoder.decoder_blocks.N.*``
  (local: ``attn.{qkv,proj,meta_mlp.fc1,``
  ``meta_mlp.fc2}.*``, ``attn.tau``,
  ``norm1.*``, ``mlp.fc{1,2}.*``,
  ``norm2.*``; global: as ``blocks.N``)
``decoder_norm.*``                        ``decoder.decoder_norm.*``
``decoder_pred.*``                        ``decoder.decoder_pred.*``
``fc_norm.*`` (finetuned)                 ``fc_norm.*``
``head.*`` (finetuned)                    ``head.*``
========================================  ==================================

The released ``pretrained.pth`` holds a 16-block local decoder: build
``AudioMAEDecoder(mode="local")`` for it. The released fine-tuned model
uses global pooling, so it has ``fc_norm`` and no ``norm``. Both store their
positional tables, which were generated on the transposed 8 x 64 grid
(``sincos_pos_embed_2d(..., layout="official")``); loading a checkpoint
replaces the regenerated tables (``keep_pos_embed=True``).

Authors
 * speechbrain-masksr contributors 2026
"""

import re

import torch
from torch import nn
from torchaudio.compliance import kaldi

from speechbrain_masksr.lobes.attention import Block, build_blocks
from speechbrain_masksr.lobes.masking import (
    MASK_MODES,
    drop_time_freq,
    gather_tokens,
    mask_tokens,
)
from speechbrain_masksr.lobes.patching import (
    PatchEmbed,
    grid_size,
    patchify,
    sincos_pos_embed_2d,
    unpatchify,
)
from speechbrain_masksr.utils.checkpoints import load_state_dict_strict
from speechbrain_masksr.utils.lengths import relative_to_absolute

__all__ = [
    "AUDIOSET_MEAN",
    "AUDIOSET_STD",
    "AudioMAE",
    "AudioMAEClassifierModel",
    "AudioMAEDecoder",
    "AudioMAEEncoder",
    "AudioMAEFbank",
    "OFFICIAL_KEY_MAP",
    "SpecAugment",
    "VIT_CONFIGS",
    "apply_lr_scale",
    "load_official_state_dict",
    "mixup",
    "official_to_ours",
    "ours_to_official",
    "param_groups_lrd",
    "vit_config",
]

AUDIOSET_MEAN = -4.2677393
AUDIOSET_STD = 4.5689974

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


class AudioMAEFbank(nn.Module):
    """Kaldi fbank front end of Audio-MAE.

    Per utterance: remove the mean (DC), compute a Kaldi-compatible fbank
    (``torchaudio.compliance.kaldi.fbank`` with htk_compat, Hann window,
    25 ms / 10 ms, no dither, no energy; Kaldi's pre-emphasis 0.97 and
    per-frame DC removal), zero-pad or crop to ``target_length`` frames and
    normalise with ``(x - norm_mean) / (2 * norm_std)``. Padding is done
    before normalisation, as in the official data loader.

    Arguments
    ---------
    sample_rate : int
        Expected sampling rate (16 kHz for the released models).
    num_mel_bins : int
        Mel bins (the frequency axis).
    target_length : int
        Output frames (1024 for 10 s AudioSet clips); a multiple of the
        patch size.
    norm_mean : float
        Dataset mean of the log-mel values (AudioSet default).
    norm_std : float
        Dataset standard deviation (AudioSet default).
    frame_length : float
        Window length in ms.
    frame_shift : float
        Hop in ms.

    Example
    -------
    >>> fbank = AudioMAEFbank(target_length=128)
    >>> feats = fbank(torch.randn(2, 8000), torch.tensor([1.0, 0.5]))
    >>> feats.shape
    torch.Size([2, 128, 128])
    """

    def __init__(
        self,
        sample_rate=16000,
        num_mel_bins=128,
        target_length=1024,
        norm_mean=AUDIOSET_MEAN,
        norm_std=AUDIOSET_STD,
        frame_length=25.0,
        frame_shift=10.0,
    ):
        super().__init__()
        self.sample_rate = int(sample_rate)
        self.num_mel_bins = int(num_mel_bins)
        self.target_length = int(target_length)
        self.norm_mean = float(norm_mean)
        self.norm_std = float(norm_std)
        self.frame_length = float(frame_length)
        self.frame_shift = float(frame_shift)
        self.min_samples = int(
            round(self.sample_rate * self.frame_length / 1000)
        )

    def normalize(self, fbank):
        """Maps log-mel values to the model's input scale.

        Arguments
        ---------
        fbank : torch.Tensor
            Raw Kaldi log-mel values, any shape.

        Returns
        -------
        torch.Tensor
            ``(fbank - norm_mean) / (2 * norm_std)``.
        """
        return (fbank - self.norm_mean) / (2 * self.norm_std)

    def denormalize(self, feats):
        """Inverse of :meth:`normalize`.

        Arguments
        ---------
        feats : torch.Tensor
            Normalised features, any shape.

        Returns
        -------
        torch.Tensor
            Raw log-mel values.
        """
        return feats * (2 * self.norm_std) + self.norm_mean

    def raw_fbank(self, wav):
        """Kaldi fbank of one DC-removed waveform, before padding.

        Arguments
        ---------
        wav : torch.Tensor
            ``[time]`` waveform at ``sample_rate``.

        Returns
        -------
        torch.Tensor
            ``[frames, num_mel_bins]`` log-mel values.
        """
        if wav.numel() < self.min_samples:
            raise ValueError(
                f"Waveform of {wav.numel()} samples is shorter than one "
                f"{self.frame_length} ms frame ({self.min_samples} samples)"
            )
        wav = wav.float()
        wav = wav - wav.mean()
        return kaldi.fbank(
            wav[None],
            htk_compat=True,
            sample_frequency=self.sample_rate,
            use_energy=False,
            window_type="hanning",
            num_mel_bins=self.num_mel_bins,
            dither=0.0,
            frame_shift=self.frame_shift,
            frame_length=self.frame_length,
        )

    def forward(self, wavs, wav_lens=None, sample_rate=None):
        """Computes normalised fbanks of a batch of waveforms.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` mono waveforms (or ``[time]``).
        wav_lens : torch.Tensor, optional
            ``[batch]`` relative lengths in ``(0, 1]``; padding beyond each
            length is ignored.
        sample_rate : int, optional
            Rate of ``wavs``; if given it must equal ``self.sample_rate``.

        Returns
        -------
        torch.Tensor
            ``[batch, target_length, num_mel_bins]``.
        """
        if sample_rate is not None and int(sample_rate) != self.sample_rate:
            raise ValueError(
                f"Audio-MAE expects {self.sample_rate} Hz audio, got "
                f"{sample_rate} Hz; resample first "
                "(speechbrain_masksr.dataio.resample)."
            )
        if wavs.dim() == 1:
            wavs = wavs[None]
        if wavs.dim() != 2:
            raise ValueError(
                "Expected mono waveforms [batch, time], got shape "
                f"{tuple(wavs.shape)}; mix multi-channel audio down first."
            )
        if not torch.isfinite(wavs).all():
            raise ValueError("Waveforms contain NaN or infinite values")
        batch, time = wavs.shape
        lengths = relative_to_absolute(wav_lens, time, batch).tolist()
        feats = wavs.new_zeros(
            batch, self.target_length, self.num_mel_bins, dtype=torch.float32
        )
        for index, length in enumerate(lengths):
            fbank = self.raw_fbank(wavs[index, :length])
            n_frames = min(fbank.shape[0], self.target_length)
            feats[index, :n_frames] = fbank[:n_frames]
        return self.normalize(feats)


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
                Block(embed_dim, num_heads, mlp_ratio, drop_path=rate)
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
        table = sincos_pos_embed_2d(
            self.embed_dim,
            self.grid,
            cls_token=True,
            layout=layout or self.pos_layout,
        )
        with torch.no_grad():
            self.pos_embed.copy_(table[None])

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
        Blocks; default 8 for global, 16 for local / hybrid (the released
        local decoder).
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
        Global layers at the top of the hybrid stack (the paper's hybrid
        decoder is not in the released code; 2 is our default).
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
        n_global=2,
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
            depth = 8 if mode == "global" else 16
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
        table = sincos_pos_embed_2d(
            self.decoder_dim,
            self.grid,
            cls_token=True,
            layout=layout or self.pos_layout,
        )
        with torch.no_grad():
            self.decoder_pos_embed.copy_(table[None])

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


def _patch_stats(target):
    """Per-patch mean and ``sqrt(unbiased var + 1e-6)``."""
    mean = target.mean(dim=-1, keepdim=True)
    std = (target.var(dim=-1, keepdim=True) + 1e-6).sqrt()
    return mean, std


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
    >>> enc = AudioMAEEncoder(grid=(8, 4), embed_dim=32, depth=1, num_heads=2)
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
            ``[batch, 1 + n_visible, embed_dim]``.
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

    def reconstruct(self, fbank, pred, mask, paste_visible=True):
        """Turns predicted patches into a spectrogram.

        With ``norm_pix_loss`` the predictions are per-patch standardised;
        they are mapped back with the *input's* per-patch statistics (an
        oracle, as in the official visualisation), so use this for
        inspection, not as a restoration output.

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

        Returns
        -------
        torch.Tensor
            ``[batch, time, freq]``.
        """
        target = patchify(fbank, self.encoder.patch_size)
        if self.norm_pix_loss:
            mean, std = _patch_stats(target)
            pred = pred * std + mean
        if paste_visible:
            keep = mask[..., None] < 0.5
            pred = torch.where(keep, target, pred)
        return unpatchify(pred, self.grid, self.encoder.patch_size)


class AudioMAEClassifierModel(nn.Module):
    """Encoder-only Audio-MAE fine-tuning model.

    In training (and when either probability is > 0) whole time rows and
    frequency columns of the patch grid are dropped before the encoder
    (:func:`~speechbrain_masksr.lobes.masking.drop_time_freq`); in eval the
    whole grid is used. With ``global_pool`` the non-cls tokens are averaged
    and normalised by ``fc_norm`` (the encoder's final ``norm`` is removed,
    as in the official model); otherwise the cls token after ``norm`` is
    used. A linear ``head`` gives the logits.

    Arguments
    ---------
    encoder : AudioMAEEncoder
        The encoder (modified in place when ``global_pool``).
    n_classes : int
        Output classes (527 for AudioSet).
    mask_t_prob : float
        Fraction of time rows dropped in training (released scripts: 0.2;
        paper: 0.3).
    mask_f_prob : float
        Fraction of frequency columns dropped in training.
    global_pool : bool
        Mean pooling + ``fc_norm`` (official default) or cls token.
    pos_trainable : bool
        Whether ``pos_embed`` is fine-tuned (False in the official recipe,
        which keeps the pretrained table fixed).
    head_init_std : float
        Std of the truncated-normal head initialisation.

    Example
    -------
    >>> enc = AudioMAEEncoder(grid=(4, 2), embed_dim=32, depth=1, num_heads=2)
    >>> model = AudioMAEClassifierModel(enc, n_classes=5)
    >>> model(torch.randn(3, 64, 32)).shape
    torch.Size([3, 5])
    """

    def __init__(
        self,
        encoder,
        n_classes=527,
        mask_t_prob=0.2,
        mask_f_prob=0.2,
        global_pool=True,
        pos_trainable=False,
        head_init_std=2e-5,
    ):
        super().__init__()
        self.encoder = encoder
        self.mask_t_prob = float(mask_t_prob)
        self.mask_f_prob = float(mask_f_prob)
        self.global_pool = bool(global_pool)
        embed_dim = encoder.embed_dim
        if self.global_pool:
            encoder.norm = nn.Identity()
            self.fc_norm = nn.LayerNorm(embed_dim, eps=1e-6)
        encoder.pos_embed.requires_grad_(pos_trainable)
        self.head = nn.Linear(embed_dim, n_classes)
        nn.init.trunc_normal_(self.head.weight, std=head_init_std)
        nn.init.zeros_(self.head.bias)

    def features(self, fbank):
        """Pooled utterance embedding (with training-time row/col drop).

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]``.

        Returns
        -------
        torch.Tensor
            ``[batch, embed_dim]``.
        """
        tokens = self.encoder.embed(fbank)
        if self.training and (self.mask_t_prob > 0 or self.mask_f_prob > 0):
            tokens, _ = drop_time_freq(
                tokens, self.encoder.grid, self.mask_t_prob, self.mask_f_prob
            )
        return self.pool(self.encoder.forward_tokens(tokens))

    def pool(self, tokens):
        """Clip embedding of encoder outputs (what the head sees).

        Arguments
        ---------
        tokens : torch.Tensor
            ``[batch, 1 + n_patches, embed_dim]`` encoder outputs (cls
            token first).

        Returns
        -------
        torch.Tensor
            ``[batch, embed_dim]``: ``fc_norm`` of the mean patch token
            with ``global_pool``, else the cls token.

        Example
        -------
        >>> enc = AudioMAEEncoder(grid=(2, 1), embed_dim=16, depth=1,
        ...                       num_heads=2)
        >>> model = AudioMAEClassifierModel(enc, n_classes=3)
        >>> model.pool(torch.randn(2, 3, 16)).shape
        torch.Size([2, 16])
        """
        if self.global_pool:
            return self.fc_norm(tokens[:, 1:].mean(dim=1))
        return tokens[:, 0]

    def forward(self, fbank):
        """Computes class logits.

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]``.

        Returns
        -------
        torch.Tensor
            ``[batch, n_classes]`` logits.
        """
        return self.head(self.features(fbank))

    def load_pretrained_encoder(self, state_dict):
        """Loads pretrained encoder weights (strict, clear errors).

        Accepts an encoder state dict, an :class:`AudioMAE` state dict
        (``encoder.*`` keys; ``decoder.*`` keys are ignored) or the output
        of ``official_to_ours(..., kind="pretrained")``. The final ``norm``
        is skipped when it was removed for global pooling. The positional
        table of the checkpoint is loaded.

        Arguments
        ---------
        state_dict : dict
            The weights.

        Example
        -------
        >>> kw = dict(grid=(4, 2), embed_dim=32, depth=1, num_heads=2)
        >>> src = AudioMAEEncoder(**kw)
        >>> model = AudioMAEClassifierModel(AudioMAEEncoder(**kw), n_classes=3)
        >>> model.load_pretrained_encoder(src.state_dict())
        >>> bool(torch.equal(model.encoder.cls_token, src.cls_token))
        True
        """
        prefixed = any(key.startswith("encoder.") for key in state_dict)
        weights = {}
        for key, value in state_dict.items():
            if prefixed:
                if not key.startswith("encoder."):
                    continue
                key = key[len("encoder.") :]
            if self.global_pool and key.startswith("norm."):
                continue
            weights[key] = value
        load_state_dict_strict(
            self.encoder,
            weights,
            "pretrained encoder",
            type(self.encoder).__name__,
            _CONFIG_HINT,
        )


_CONFIG_HINT = (
    "Check the model configuration (size, grid/target_length, decoder mode "
    "and depth)."
)
_ENCODER_KEY = (
    r"patch_embed\.proj\.(weight|bias)|cls_token|pos_embed"
    r"|blocks\.\d+\..+|norm\.(weight|bias)"
)
_DECODER_KEY = (
    r"decoder_embed\.(weight|bias)|mask_token|decoder_pos_embed"
    r"|decoder_blocks\.\d+\..+|decoder_norm\.(weight|bias)"
    r"|decoder_pred\.(weight|bias)"
)
_HEAD_KEY = r"fc_norm\.(weight|bias)|head\.(weight|bias)"

#: Official-key regular expressions and the prefix they get in our models.
OFFICIAL_KEY_MAP = {
    "pretrained": ((_ENCODER_KEY, "encoder."), (_DECODER_KEY, "decoder.")),
    "finetuned": ((_ENCODER_KEY, "encoder."), (_HEAD_KEY, "")),
}

# Buffers that some versions save and that our modules rebuild.
_REBUILT_BUFFERS = ("relative_coordinates_log", "attn_mask")


def _unwrap_checkpoint(state_dict):
    """Returns the model weights of an official training checkpoint."""
    if "model" in state_dict and isinstance(state_dict["model"], dict):
        state_dict = state_dict["model"]
    keys = list(state_dict)
    if keys and all(key.startswith("module.") for key in keys):
        state_dict = {key[len("module.") :]: v for key, v in state_dict.items()}
    return state_dict


def official_to_ours(state_dict, kind="pretrained"):
    """Renames an official Audio-MAE state dict to our module names.

    Arguments
    ---------
    state_dict : dict
        Official weights, or a training checkpoint holding them under
        ``"model"`` (a DDP ``module.`` prefix is stripped).
    kind : str
        ``"pretrained"`` (encoder + decoder, for :class:`AudioMAE`) or
        ``"finetuned"`` (encoder + ``fc_norm`` / ``head``, for
        :class:`AudioMAEClassifierModel`).

    Returns
    -------
    dict
        Renamed weights (same tensors).

    Raises
    ------
    KeyError
        Listing every key that matches no rule of ``kind``.

    Example
    -------
    >>> sd = {"cls_token": torch.zeros(1, 1, 4), "head.bias": torch.zeros(2)}
    >>> sorted(official_to_ours(sd, kind="finetuned"))
    ['encoder.cls_token', 'head.bias']
    """
    if kind not in OFFICIAL_KEY_MAP:
        raise ValueError(f"kind must be one of {sorted(OFFICIAL_KEY_MAP)}")
    state_dict = _unwrap_checkpoint(state_dict)
    converted, leftovers = {}, []
    for key, value in state_dict.items():
        if key.rsplit(".", 1)[-1] in _REBUILT_BUFFERS:
            continue
        for pattern, prefix in OFFICIAL_KEY_MAP[kind]:
            if re.fullmatch(pattern, key):
                converted[prefix + key] = value
                break
        else:
            leftovers.append(key)
    if leftovers:
        raise KeyError(
            f"Keys not part of an official {kind!r} Audio-MAE model: "
            f"{sorted(leftovers)}"
        )
    return converted


def ours_to_official(state_dict, kind="pretrained"):
    """Inverse of :func:`official_to_ours` (for export and comparisons).

    Arguments
    ---------
    state_dict : dict
        Our :class:`AudioMAE` or :class:`AudioMAEClassifierModel` weights.
    kind : str
        ``"pretrained"`` or ``"finetuned"``.

    Returns
    -------
    dict
        Official key names.

    Example
    -------
    >>> sorted(ours_to_official({"decoder.mask_token": torch.zeros(1)}))
    ['mask_token']
    """
    if kind not in OFFICIAL_KEY_MAP:
        raise ValueError(f"kind must be one of {sorted(OFFICIAL_KEY_MAP)}")
    converted, leftovers = {}, []
    for key, value in state_dict.items():
        for pattern, prefix in OFFICIAL_KEY_MAP[kind]:
            if key.startswith(prefix) and re.fullmatch(
                pattern, key[len(prefix) :]
            ):
                converted[key[len(prefix) :]] = value
                break
        else:
            leftovers.append(key)
    if leftovers:
        raise KeyError(f"Keys without an official name: {sorted(leftovers)}")
    return converted


def load_official_state_dict(model, state_dict, kind=None, keep_pos_embed=True):
    """Loads official weights into our model (strict).

    Arguments
    ---------
    model : AudioMAE or AudioMAEClassifierModel
        Target model, configured like the checkpoint (e.g. ViT-B, grid
        ``(64, 8)``, ``AudioMAEDecoder(mode="local")`` for the released
        ``pretrained.pth``).
    state_dict : dict
        Official weights (``torch.load(path, weights_only=True)``).
    kind : str, optional
        ``"pretrained"`` or ``"finetuned"``; inferred from the model type.
    keep_pos_embed : bool
        Keep the checkpoint's positional tables (needed to reproduce the
        official outputs); if False they are regenerated afterwards.

    Raises
    ------
    ModelFileError
        (a ``RuntimeError``) With the missing / unexpected keys and shape
        mismatches.

    Example
    -------
    >>> enc = AudioMAEEncoder(grid=(4, 2), embed_dim=32, depth=1, num_heads=2)
    >>> clf = AudioMAEClassifierModel(enc, n_classes=3)
    >>> official = ours_to_official(clf.state_dict(), "finetuned")
    >>> load_official_state_dict(clf, official)
    """
    if kind is None:
        kind = "pretrained" if isinstance(model, AudioMAE) else "finetuned"
    converted = official_to_ours(state_dict, kind)
    load_state_dict_strict(
        model,
        converted,
        f"official {kind} weights",
        type(model).__name__,
        _CONFIG_HINT,
    )
    if not keep_pos_embed:
        for module in model.modules():
            if isinstance(module, (AudioMAEEncoder, AudioMAEDecoder)):
                module.reset_pos_embed()


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
        for ``torch.optim.AdamW``; see :func:`apply_lr_scale`.

    Example
    -------
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


def apply_lr_scale(optimizer, lr):
    """Sets every group's lr to ``lr * group["lr_scale"]`` (default 1).

    Arguments
    ---------
    optimizer : torch.optim.Optimizer
        Optimizer built from :func:`param_groups_lrd` groups.
    lr : float
        Current base learning rate (e.g. from a warmup-cosine schedule).

    Example
    -------
    >>> p = torch.nn.Parameter(torch.zeros(1))
    >>> opt = torch.optim.SGD([{"params": [p], "lr_scale": 0.5}], lr=1.0)
    >>> apply_lr_scale(opt, 0.1)
    >>> opt.param_groups[0]["lr"]
    0.05
    """
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)


def mixup(inputs, targets, alpha=10.0, prob=0.5, permutation=None):
    """Mixup within a batch, ``lam ~ Beta(alpha, alpha)`` per example.

    Example ``i`` becomes ``lam_i x_i + (1 - lam_i) x_perm(i)`` with
    probability ``prob`` (otherwise ``lam_i = 1``); targets are mixed the
    same way. The official recipe mixes *waveforms* (then recomputes the
    fbank, whose DC removal :class:`AudioMAEFbank` does) with
    ``alpha=10`` and ``prob=0.5``; mixing fbanks works with the same call.
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
