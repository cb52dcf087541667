"""MaskSR speech encoder: power-law compressed STFT, MLP and transformer.

The encoder turns the degraded waveform into one conditioning vector per
DAC frame. Features are ``|STFT(x)|^0.3`` (Hann window 2048, hop 512,
``center=True`` with zero padding, so any length works). To align STFT
frames with DAC frames exactly, the waveform is zero-padded to a multiple
of the hop (as DAC's ``preprocess`` does) and the extra frame that a
centred STFT produces (``n / hop + 1`` frames) is dropped, leaving
``n / hop == ceil(time / 512)`` frames.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
import torch.nn.functional as F
from torch import nn

from speechbrain_masksr.codecs.dac import DAC_HOP_LENGTH, codec_frames
from speechbrain_masksr.lobes.transformer import (
    TransformerStack,
    relative_to_frame_lengths,
)
from speechbrain_masksr.utils.lengths import length_mask

__all__ = ["SpeechEncoder", "check_wavs"]


def check_wavs(wavs, name="wavs"):
    """Validate a waveform batch ``[batch, time]`` at the model boundary.

    Arguments
    ---------
    wavs : torch.Tensor
        Waveform batch.
    name : str
        Name used in error messages.

    Returns
    -------
    wavs : torch.Tensor
        The same tensor (unchanged).

    Example
    -------
    >>> check_wavs(torch.zeros(2, 100)).shape
    torch.Size([2, 100])
    >>> check_wavs(torch.zeros(100))
    Traceback (most recent call last):
    ...
    ValueError: wavs must have shape [batch, time], got (100,)...
    """
    if not isinstance(wavs, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(wavs)}")
    if wavs.dim() != 2:
        raise ValueError(
            f"{name} must have shape [batch, time], got {tuple(wavs.shape)}"
            " (mono audio; for a single waveform use wav.unsqueeze(0), for"
            " [batch, 1, time] use wavs.squeeze(1))"
        )
    if not wavs.is_floating_point():
        raise TypeError(f"{name} must be a floating tensor, got {wavs.dtype}")
    if wavs.shape[0] == 0 or wavs.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(wavs.shape)}")
    if not torch.isfinite(wavs).all():
        raise ValueError(f"{name} contains NaN or Inf values")
    return wavs


class SpeechEncoder(nn.Module):
    """Conditioning encoder of MaskSR.

    ``|STFT|^power`` (``n_fft // 2 + 1`` bins) -> ``Linear -> GELU ->
    Linear`` -> sinusoidal positions -> ``num_layers`` pre-norm transformer
    blocks -> LayerNorm. Output frames are aligned with DAC frames:
    ``ceil(time / hop_length)`` frames.

    Arguments
    ---------
    d_model : int
        Output dimension.
    num_layers : int
        Number of transformer blocks.
    nhead : int
        Attention heads.
    n_fft : int
        FFT size and Hann window length.
    hop_length : int
        STFT hop; must equal the codec hop (512 for DAC 44.1 kHz).
    power : float
        Magnitude compression exponent.
    dropout : float
        Dropout in the transformer.

    Example
    -------
    >>> enc = SpeechEncoder(d_model=32, num_layers=1, nhead=4)
    >>> wavs = torch.randn(2, 44100)
    >>> enc(wavs).shape  # ceil(44100 / 512) = 87 frames
    torch.Size([2, 87, 32])
    """

    def __init__(
        self,
        d_model=512,
        num_layers=6,
        nhead=16,
        n_fft=2048,
        hop_length=DAC_HOP_LENGTH,
        power=0.3,
        dropout=0.1,
    ):
        super().__init__()
        self.d_model = d_model
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.power = power
        n_bins = n_fft // 2 + 1
        self.register_buffer(
            "window", torch.hann_window(n_fft), persistent=False
        )
        self.mlp = nn.Sequential(
            nn.Linear(n_bins, d_model),
            nn.GELU(),
            nn.Linear(d_model, d_model),
        )
        self.transformer = TransformerStack(
            d_model, num_layers, nhead, dropout=dropout
        )

    def num_frames(self, n_samples):
        """Number of output frames for ``n_samples`` input samples.

        Arguments
        ---------
        n_samples : int
            Waveform length.

        Returns
        -------
        frames : int
            ``ceil(n_samples / hop_length)``.

        Example
        -------
        >>> SpeechEncoder(32, 1, 4).num_frames(1025)
        3
        """
        return codec_frames(n_samples, self.hop_length)

    def features(self, wavs):
        """Compressed magnitude spectrogram aligned with codec frames.

        Arguments
        ---------
        wavs : torch.Tensor
            Waveforms ``[batch, time]``.

        Returns
        -------
        feats : torch.Tensor
            ``|X|^power`` of shape ``[batch, ceil(time / hop), n_fft//2+1]``.

        Example
        -------
        >>> enc = SpeechEncoder(32, 1, 4)
        >>> enc.features(torch.randn(1, 1024)).shape
        torch.Size([1, 2, 1025])
        """
        check_wavs(wavs)
        n_frames = self.num_frames(wavs.shape[1])
        pad = n_frames * self.hop_length - wavs.shape[1]
        wavs = F.pad(wavs.float(), (0, pad))
        spec = torch.stft(
            wavs,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.n_fft,
            window=self.window.to(wavs.device),
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        # center=True gives n / hop + 1 frames: drop the extra last one.
        spec = spec[..., :n_frames]
        return spec.abs().pow(self.power).transpose(1, 2)

    def forward(self, wavs, wav_lens=None):
        """Encode degraded waveforms into conditioning vectors.

        Arguments
        ---------
        wavs : torch.Tensor
            Waveforms ``[batch, time]`` at the codec sample rate.
        wav_lens : torch.Tensor, optional
            Relative lengths ``[batch]`` in ``(0, 1]``; padded frames are
            excluded from attention.

        Returns
        -------
        cond : torch.Tensor
            ``[batch, ceil(time / hop_length), d_model]``.
        """
        feats = self.features(wavs)
        frames = relative_to_frame_lengths(
            wav_lens, wavs.shape[1], feats.shape[1], self.hop_length
        )
        valid = length_mask(frames, feats.shape[1], feats.device)
        return self.transformer(self.mlp(feats), valid)
