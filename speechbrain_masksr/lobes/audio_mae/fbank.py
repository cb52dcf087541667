"""Audio-MAE front end: normalised 128-bin Kaldi fbanks.

:class:`AudioMAEFbank` - 128-bin Kaldi fbank front end (25 ms Hann
window, 10 ms shift, htk_compat, no dither, 16 kHz) after per-utterance DC
removal, zero-padded / cropped to ``target_length`` frames, then
normalised as ``(x - mean) / (2 std)`` (AudioSet statistics by default:
:data:`AUDIOSET_MEAN`, :data:`AUDIOSET_STD`).

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from torch import nn
from torchaudio.compliance import kaldi

from speechbrain_masksr.errors import AudioError
from speechbrain_masksr.utils.lengths import relative_to_absolute

__all__ = ["AUDIOSET_MEAN", "AUDIOSET_STD", "AudioMAEFbank"]

AUDIOSET_MEAN = -4.2677393
AUDIOSET_STD = 4.5689974


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
            raise AudioError(
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
            raise AudioError("Waveforms contain NaN or infinite values")
        batch, time = wavs.shape
        num_samples = relative_to_absolute(wav_lens, time, batch).tolist()
        feats = wavs.new_zeros(
            batch, self.target_length, self.num_mel_bins, dtype=torch.float32
        )
        for index, length in enumerate(num_samples):
            fbank = self.raw_fbank(wavs[index, :length])
            n_frames = min(fbank.shape[0], self.target_length)
            feats[index, :n_frames] = fbank[:n_frames]
        return self.normalize(feats)
