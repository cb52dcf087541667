"""Spectral front ends of the MAE speech enhancers.

* :class:`HifiganMel` - the log-mel of HiFi-GAN's ``meldataset.py``
  (reflect-pad by ``(n_fft - hop) / 2``, STFT without centring, magnitude,
  Slaney mel basis, natural log of the mel clamped at ``1e-5``), so that a
  mel-to-mel enhancer works in exactly its vocoder's feature space;
  ``frames = samples // hop``.
* :class:`CompressedSTFT` - a centred STFT whose magnitude is compressed
  with ``log1p`` or a power law (``|X| ** 0.3``), the Nyquist bin dropped so
  that the bin count is a multiple of the patch size; ``istft`` goes back
  to a waveform (noisy or predicted phase).

Both map ``[batch, time]`` waveforms to ``[batch, frames, bins]`` features
and expose ``compress`` / ``decompress`` between linear magnitudes and
features, which the enhancer's multiplicative (mask) heads need.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch
from torch import nn
from torchaudio.functional import melscale_fbanks

__all__ = ["COMPRESSIONS", "CompressedSTFT", "HifiganMel"]

COMPRESSIONS = ("log1p", "power", "log")


class HifiganMel(nn.Module):
    """HiFi-GAN's log-mel spectrogram (the vocoder's input features).

    Arguments
    ---------
    sample_rate : int
        Audio rate (22050 for the released HiFi-GAN V1 generators).
    n_fft : int
        FFT size.
    hop_length : int
        Hop in samples.
    win_length : int
        Hann window length.
    n_mels : int
        Mel bands.
    f_min : float
        Lowest mel frequency.
    f_max : float
        Highest mel frequency.
    floor : float
        Clamp of the linear mel before the log.
    padding : str
        ``"hifigan"``: reflect-pad ``(n_fft - hop) / 2`` on both sides and
        an uncentred STFT (training features of the released generators,
        ``frames = samples // hop``); ``"center"``: ``torch.stft`` with
        ``center=True`` (``frames = samples // hop + 1``).
    power : float
        Exponent of the magnitude before the mel (1: HiFi-GAN).

    Example
    -------
    >>> mel = HifiganMel()
    >>> feats = mel(torch.randn(2, 22050))
    >>> feats.shape  # 22050 // 256 frames
    torch.Size([2, 86, 80])
    >>> round(float(mel(torch.zeros(1, 2560)).max()), 4)  # log(1e-5)
    -11.5129
    """

    def __init__(
        self,
        sample_rate=22050,
        n_fft=1024,
        hop_length=256,
        win_length=1024,
        n_mels=80,
        f_min=0.0,
        f_max=8000.0,
        floor=1e-5,
        padding="hifigan",
        power=1.0,
    ):
        super().__init__()
        if padding not in ("hifigan", "center"):
            raise ValueError(
                f"padding must be 'hifigan' or 'center', got {padding!r}"
            )
        self.sample_rate = int(sample_rate)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.win_length = int(win_length)
        self.n_mels = int(n_mels)
        self.f_min = float(f_min)
        self.f_max = float(f_max)
        self.floor = float(floor)
        self.padding = padding
        self.power = float(power)
        fb = melscale_fbanks(
            self.n_fft // 2 + 1,
            float(f_min),
            float(f_max),
            self.n_mels,
            self.sample_rate,
            norm="slaney",
            mel_scale="slaney",
        )  # [freq, n_mels], equal to librosa.filters.mel(...).T
        self.register_buffer("mel_basis", fb, persistent=False)
        self.register_buffer(
            "window", torch.hann_window(self.win_length), persistent=False
        )

    @property
    def n_bins(self):
        """Feature bins (mel bands)."""
        return self.n_mels

    @property
    def silence(self):
        """Feature value of digital silence."""
        return math.log(self.floor)

    def num_frames(self, num_samples):
        """Frames produced for ``num_samples`` samples.

        Arguments
        ---------
        num_samples : int
            Waveform length.

        Returns
        -------
        int
            Number of frames.
        """
        extra = 1 if self.padding == "center" else 0
        return int(num_samples) // self.hop_length + extra

    def magnitude(self, wavs):
        """Linear STFT magnitude ``[batch, frames, n_fft // 2 + 1]``.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]``.

        Returns
        -------
        torch.Tensor
            The magnitude (``sqrt(re^2 + im^2 + 1e-9)``, as HiFi-GAN).
        """
        wavs = wavs.float()
        center = self.padding == "center"
        if not center:
            pad = (self.n_fft - self.hop_length) // 2
            wavs = nn.functional.pad(
                wavs.unsqueeze(1), (pad, pad), mode="reflect"
            ).squeeze(1)
        spec = torch.stft(
            wavs,
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            center=center,
            pad_mode="reflect",
            return_complex=True,
        )
        return (spec.real**2 + spec.imag**2 + 1e-9).sqrt().transpose(1, 2)

    def band_to_bin(self):
        """Mel-band -> STFT-bin interpolation ``[n_fft // 2 + 1, n_mels]``.

        Each bin takes the filterbank-weighted mean of the bands that cover
        it (the rows of the filterbank, normalised to sum to one); bins
        above ``f_max`` take the top band.

        Returns
        -------
        torch.Tensor
            Rows sum to one.

        Example
        -------
        >>> weights = HifiganMel().band_to_bin()
        >>> weights.shape
        torch.Size([513, 80])
        >>> bool(torch.allclose(weights.sum(1), torch.ones(513)))
        True
        """
        weights = self.mel_basis.clone()
        total = weights.sum(dim=1, keepdim=True)
        weights = weights / total.clamp(min=1e-12)
        uncovered = total[:, 0] <= 0
        weights[uncovered] = 0.0
        weights[uncovered, -1] = 1.0
        return weights

    def apply_band_gains(self, wavs, gains):
        """Apply mel-band gains to the STFT of ``wavs`` and invert it.

        The gains ``[batch, frames, n_mels]`` (one per frame of
        :meth:`forward`) are spread over the STFT bins by
        :meth:`band_to_bin`, moved to the frame centres of a centred STFT
        with the same window and hop (with ``padding="hifigan"`` a mel frame
        is centred half a hop later, so two neighbours are averaged), and
        multiply that STFT; the noisy phase is kept.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]``.
        gains : torch.Tensor
            ``[batch, num_frames(time), n_mels]`` non-negative gains.

        Returns
        -------
        torch.Tensor
            ``[batch, time]``.

        Example
        -------
        >>> mel = HifiganMel()
        >>> wav = torch.randn(1, 4000)
        >>> ones = torch.ones(1, mel.num_frames(4000), 80)
        >>> bool(torch.allclose(mel.apply_band_gains(wav, ones), wav,
        ...                     atol=1e-5))
        True
        """
        num_samples = wavs.shape[-1]
        spec = torch.stft(
            wavs.float(),
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            center=True,
            return_complex=True,
        )
        bins = gains.float() @ self.band_to_bin().T  # [batch, frames, freq]
        if self.padding == "hifigan":
            edges = torch.cat([bins[:, :1], bins, bins[:, -1:]], dim=1)
            bins = 0.5 * (edges[:, :-1] + edges[:, 1:])
        frames = spec.shape[-1]
        if bins.shape[1] < frames:
            tail = bins[:, -1:].expand(-1, frames - bins.shape[1], -1)
            bins = torch.cat([bins, tail], dim=1)
        spec = spec * bins[:, :frames].transpose(1, 2)
        return torch.istft(
            spec,
            self.n_fft,
            self.hop_length,
            self.win_length,
            self.window,
            center=True,
            length=num_samples,
        )

    def mel(self, wavs):
        """Linear mel spectrogram ``[batch, frames, n_mels]``.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]``.

        Returns
        -------
        torch.Tensor
            Mel energies (before the log).
        """
        return (self.magnitude(wavs) ** self.power) @ self.mel_basis

    def compress(self, mel):
        """Linear mel -> log-mel features.

        Arguments
        ---------
        mel : torch.Tensor
            Linear mel.

        Returns
        -------
        torch.Tensor
            ``log(max(mel, floor))``.
        """
        return torch.log(torch.clamp(mel, min=self.floor))

    def decompress(self, feats):
        """Log-mel features -> linear mel.

        Arguments
        ---------
        feats : torch.Tensor
            Log-mel.

        Returns
        -------
        torch.Tensor
            ``exp(feats)``.
        """
        return torch.exp(feats)

    def forward(self, wavs):
        """Log-mel features ``[batch, frames, n_mels]``.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` at ``sample_rate``.

        Returns
        -------
        torch.Tensor
            Natural-log mel spectrogram.
        """
        return self.compress(self.mel(wavs))


class CompressedSTFT(nn.Module):
    """Centred STFT with compressed magnitude features.

    Arguments
    ---------
    n_fft : int
        FFT size; ``n_fft // 2`` bins are kept (the Nyquist bin is dropped
        and restored as zero by :meth:`istft`).
    hop_length : int
        Hop in samples.
    compression : str
        ``"log1p"`` (``log(1 + |X|)``), ``"power"`` (``|X| ** power``) or
        ``"log"`` (``log(max(|X|, floor))``).
    power : float
        Exponent of the ``"power"`` compression.
    floor : float
        Clamp of the ``"log"`` compression.
    sample_rate : int
        Audio rate (informative; the STFT does not depend on it).

    Example
    -------
    >>> stft = CompressedSTFT(n_fft=512, hop_length=128)
    >>> wav = torch.randn(2, 16000)
    >>> spec = stft.stft(wav)
    >>> spec.shape, stft(wav).shape
    (torch.Size([2, 126, 256]), torch.Size([2, 126, 256]))
    >>> tone = torch.sin(torch.arange(16000.0) / 5)[None]
    >>> back = stft.istft(stft.stft(tone), 16000)  # no Nyquist content
    >>> bool(torch.allclose(back, tone, atol=1e-3))
    True
    """

    def __init__(
        self,
        n_fft=1024,
        hop_length=256,
        compression="log1p",
        power=0.3,
        floor=1e-5,
        sample_rate=22050,
    ):
        super().__init__()
        if compression not in COMPRESSIONS:
            raise ValueError(
                f"compression must be one of {COMPRESSIONS}, got "
                f"{compression!r}"
            )
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.compression = compression
        self.power = float(power)
        self.floor = float(floor)
        self.sample_rate = int(sample_rate)
        self.register_buffer(
            "window", torch.hann_window(self.n_fft), persistent=False
        )

    @property
    def n_bins(self):
        """Feature bins (``n_fft // 2``)."""
        return self.n_fft // 2

    @property
    def silence(self):
        """Feature value of digital silence."""
        return self.compress(torch.zeros(())).item()

    def num_frames(self, num_samples):
        """Frames produced for ``num_samples`` samples (centred STFT).

        Arguments
        ---------
        num_samples : int
            Waveform length.

        Returns
        -------
        int
            ``num_samples // hop + 1``.
        """
        return int(num_samples) // self.hop_length + 1

    def stft(self, wavs):
        """Complex STFT ``[batch, frames, n_fft // 2]`` (no Nyquist bin).

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]``.

        Returns
        -------
        torch.Tensor
            Complex spectrogram.
        """
        spec = torch.stft(
            wavs.float(),
            self.n_fft,
            self.hop_length,
            window=self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )
        return spec[:, : self.n_bins].transpose(1, 2)

    def istft(self, spec, length):
        """Waveform from a ``[batch, frames, n_fft // 2]`` complex STFT.

        Arguments
        ---------
        spec : torch.Tensor
            Complex spectrogram as from :meth:`stft`.
        length : int
            Output samples.

        Returns
        -------
        torch.Tensor
            ``[batch, length]``.
        """
        spec = nn.functional.pad(spec.transpose(1, 2), (0, 0, 0, 1))
        return torch.istft(
            spec,
            self.n_fft,
            self.hop_length,
            window=self.window,
            center=True,
            length=int(length),
        )

    def compress(self, mag):
        """Linear magnitude -> features.

        Arguments
        ---------
        mag : torch.Tensor
            Non-negative magnitudes.

        Returns
        -------
        torch.Tensor
            Compressed magnitudes.
        """
        if self.compression == "log1p":
            return torch.log1p(mag)
        if self.compression == "power":
            return mag.clamp(min=0) ** self.power
        return torch.log(torch.clamp(mag, min=self.floor))

    def decompress(self, feats):
        """Features -> linear magnitude (inverse of :meth:`compress`).

        Arguments
        ---------
        feats : torch.Tensor
            Compressed magnitudes.

        Returns
        -------
        torch.Tensor
            Linear magnitudes.
        """
        if self.compression == "log1p":
            return torch.expm1(feats.clamp(min=0))
        if self.compression == "power":
            return feats.clamp(min=0) ** (1.0 / self.power)
        return torch.exp(feats)

    def forward(self, wavs):
        """Compressed magnitude features ``[batch, frames, n_fft // 2]``.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]``.

        Returns
        -------
        torch.Tensor
            Features.
        """
        return self.compress(self.stft(wavs).abs())
