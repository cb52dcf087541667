"""The codec contract MaskSR depends on, and the codec frame geometry.

MaskSR (the model, its token cache and shards, recipe, sampler, windowing,
interfaces, export and CLI) sees a codec only through :class:`Codec`:

* ``sample_rate``: the rate of the waveforms it encodes and decodes (the
  rate MaskSR restores at);
* ``hop_length``: samples per frame (token); ``frame_rate`` is
  ``sample_rate / hop_length``;
* ``n_codebooks`` and ``codebook_size``: the token grid;
* :meth:`Codec.encode`: waveforms ``[batch, time]`` -> codes
  ``[batch, n_codebooks, ceil(time / hop_length)]`` (right-padded to a
  whole frame, :func:`codec_frames`);
* :meth:`Codec.decode`: codes -> waveforms ``[batch, frames * hop_length]``.

A codec is frozen: always in eval mode, no gradients. DAC
(:class:`~speechbrain_masksr.codecs.dac.DACTokenizer`) and the residual-VQ
codec of the HiFi-GAN log-mel
(:class:`~speechbrain_masksr.codecs.mel.MelCodec`) implement it; a model
folder or training YAML picks one with ``codec: !new:...``.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from torch import nn

from speechbrain_masksr.errors import AudioError

__all__ = ["Codec", "CodecFrames", "codec_frames", "codec_geometry"]


def codec_frames(n_samples, hop_length):
    """Number of codec frames of ``n_samples`` samples: ``ceil(n / hop)``.

    A codec right-pads its input to a multiple of the hop, so a partial
    last frame counts. This is the one place the package computes it.

    Arguments
    ---------
    n_samples : int or torch.Tensor
        Signal length(s) in samples (an integer tensor gives a tensor).
    hop_length : int
        Samples per frame (the codec's ``hop_length``).

    Returns
    -------
    int or torch.Tensor
        Number(s) of frames.

    Example
    -------
    >>> codec_frames(512, 512), codec_frames(513, 512), codec_frames(44100, 512)
    (1, 2, 87)
    >>> codec_frames(torch.tensor([0, 1, 1024, 1025]), 512)
    tensor([0, 1, 2, 3])
    """
    hop_length = int(hop_length)
    if torch.is_tensor(n_samples):
        return torch.div(
            n_samples + hop_length - 1, hop_length, rounding_mode="floor"
        )
    return -(-int(n_samples) // hop_length)


def codec_geometry(owner, codec=None, **values):
    """Codec geometry values (``hop_length``, ``n_codebooks``, ...): each
    given one, else the codec's attribute of that name.

    Modules outside ``codecs/`` take the codec geometry from their caller or
    from the codec object, never from a default: this resolves it and says
    what is missing.

    Arguments
    ---------
    owner : str
        Who asks (named in the error message).
    codec : Codec, optional
        The codec whose attributes fill in the values left ``None``.
    **values
        ``name=value`` pairs; ``None`` means "the codec's".

    Returns
    -------
    values : dict
        The same names, none of them ``None``.

    Raises
    ------
    TypeError
        A value is ``None`` and the codec (if any) does not have it (yet).

    Example
    -------
    >>> class Grid:
    ...     hop_length, n_codebooks = 256, 4
    >>> codec_geometry("f", Grid(), hop_length=None, n_codebooks=8)
    {'hop_length': 256, 'n_codebooks': 8}
    >>> codec_geometry("f", hop_length=None)
    Traceback (most recent call last):
    ...
    TypeError: f needs hop_length (the codec's): pass it, or pass the codec
    """
    out, missing = {}, []
    for name, value in values.items():
        if value is None and codec is not None:
            value = getattr(codec, name, None)
        if value is None:
            missing.append(name)
        out[name] = value
    if missing:
        what = "it" if len(missing) == 1 else "them"
        how = (
            "pass the codec"
            if codec is None
            else "load the codec's weights first"
        )
        raise TypeError(
            f"{owner} needs {', '.join(missing)} (the codec's): pass "
            f"{what}, or {how}"
        )
    return out


class CodecFrames:
    """Mixin: :meth:`num_frames` of a module with a ``hop_length``.

    The codec, the speech encoder and the codec-token conditioner all give
    one frame per ``hop_length`` samples, counted by :func:`codec_frames`.

    Example
    -------
    >>> class Framer(CodecFrames):
    ...     hop_length = 512
    >>> Framer().num_frames(1025)
    3
    """

    def num_frames(self, n_samples):
        """Number of frames for ``n_samples`` input samples.

        Arguments
        ---------
        n_samples : int
            Waveform length.

        Returns
        -------
        frames : int
            ``ceil(n_samples / hop_length)``.
        """
        return codec_frames(n_samples, self.hop_length)


class Codec(CodecFrames, nn.Module):
    """A frozen audio tokenizer: the contract of the module docstring.

    Subclasses set ``sample_rate``, ``hop_length``, ``n_codebooks`` and
    ``codebook_size`` and implement ``_encode`` (float32 ``[batch, time]``
    with ``time`` a multiple of ``hop_length``, on the codec's device ->
    long codes) and ``_decode`` (long codes on the codec's device ->
    ``[batch, frames * hop_length]``); :meth:`encode` and :meth:`decode`
    check their inputs and pad.

    Example
    -------
    >>> class Mean(Codec):
    ...     sample_rate, hop_length, n_codebooks, codebook_size = 8000, 4, 1, 2
    ...     def _encode(self, wavs):
    ...         frames = wavs.view(wavs.shape[0], 1, -1, 4).mean(-1)
    ...         return (frames > 0).long()
    ...     def _decode(self, codes):
    ...         return (codes.float() * 2 - 1).repeat_interleave(4, -1)[:, 0]
    >>> codec = Mean()
    >>> codes = codec.encode(torch.tensor([[1.0, 1, 1, 1, -1]]))
    >>> codes
    tensor([[[1, 0]]])
    >>> codec.decode(codes)
    tensor([[ 1.,  1.,  1.,  1., -1., -1., -1., -1.]])
    >>> codec.encode(torch.zeros(1, 8), sample_rate=16000)
    Traceback (most recent call last):
    ...
    ValueError: Mean expects 8000 Hz audio, got 16000 Hz: resample first (speechbrain_masksr.dataio.resample)
    """

    sample_rate = None
    hop_length = None
    n_codebooks = None
    codebook_size = None

    @property
    def frame_rate(self):
        """Frames (tokens per codebook) per second."""
        return self.sample_rate / self.hop_length

    def train(self, mode=True):
        """Keep the codec in eval mode whatever ``mode`` is asked.

        Arguments
        ---------
        mode : bool
            Ignored (the codec is frozen).

        Returns
        -------
        self : Codec
            The module, in eval mode.
        """
        return super().train(False)

    def _device(self):
        """The device of the codec's tensors (CPU if it has none)."""
        for tensor in (*self.parameters(), *self.buffers()):
            return tensor.device
        return torch.device("cpu")

    @torch.no_grad()
    def encode(self, wavs, sample_rate=None):
        """Tokenise waveforms (right-padded to a whole frame).

        Arguments
        ---------
        wavs : torch.Tensor
            Float ``[batch, time]`` mono waveforms at ``sample_rate`` (a
            ``[batch, 1, time]`` tensor is accepted too).
        sample_rate : int, optional
            Sample rate of ``wavs``; checked against the codec rate.

        Returns
        -------
        codes : torch.Tensor
            Long ``[batch, n_codebooks, ceil(time / hop_length)]``.
        """
        name = type(self).__name__
        if sample_rate is not None and int(sample_rate) != self.sample_rate:
            raise ValueError(
                f"{name} expects {self.sample_rate} Hz audio, got "
                f"{sample_rate} Hz: resample first "
                "(speechbrain_masksr.dataio.resample)"
            )
        if not isinstance(wavs, torch.Tensor):
            raise TypeError(f"wavs must be a torch.Tensor, got {type(wavs)}")
        if wavs.dim() == 3 and wavs.shape[1] == 1:
            wavs = wavs[:, 0]
        if wavs.dim() != 2:
            raise ValueError(
                f"{name}.encode expects mono waveforms [batch, time] at "
                f"{self.sample_rate} Hz, got shape {tuple(wavs.shape)}"
            )
        if not wavs.is_floating_point():
            raise TypeError(f"wavs must be floating point, got {wavs.dtype}")
        if wavs.shape[0] == 0 or wavs.shape[1] == 0:
            raise AudioError(f"wavs is empty: shape {tuple(wavs.shape)}")
        if not torch.isfinite(wavs).all():
            raise AudioError("wavs contains NaN or Inf values")
        wavs = wavs.to(device=self._device(), dtype=torch.float32)
        extra = self.num_frames(wavs.shape[-1]) * self.hop_length
        wavs = nn.functional.pad(wavs, (0, extra - wavs.shape[-1]))
        return self._encode(wavs).long()

    @torch.no_grad()
    def decode(self, codes):
        """Detokenise codes.

        Arguments
        ---------
        codes : torch.Tensor
            Integer ``[batch, n_codebooks, frames]`` in
            ``[0, codebook_size)``.

        Returns
        -------
        wavs : torch.Tensor
            ``[batch, frames * hop_length]`` waveforms at ``sample_rate``.
        """
        if not isinstance(codes, torch.Tensor) or codes.is_floating_point():
            raise TypeError("codes must be an integer torch.Tensor")
        if codes.dim() != 3 or codes.shape[1] != self.n_codebooks:
            raise ValueError(
                f"codes must have shape [batch, {self.n_codebooks}, frames],"
                f" got {tuple(codes.shape)}"
            )
        if codes.numel() == 0:
            raise ValueError(f"codes is empty: shape {tuple(codes.shape)}")
        low, high = int(codes.min()), int(codes.max())
        if low < 0 or high >= self.codebook_size:
            raise ValueError(
                f"codes must be in [0, {self.codebook_size - 1}] (no mask "
                f"ids), got [{low}, {high}]"
            )
        return self._decode(codes.long().to(self._device()))

    def _encode(self, wavs):
        raise NotImplementedError

    def _decode(self, codes):
        raise NotImplementedError
