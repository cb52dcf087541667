"""Log-spectral distance (LSD) exactly as the VoiceFixer authors compute it.

The formula is the one of ``AudioMetrics.lsd`` in ``haoheliu/ssr_eval``
(the evaluation package of VoiceFixer / NVSR; ``voicefixer_main``'s
``evaluation_proc`` uses the same STFT)::

    S = |librosa.stft(x, n_fft, hop_length)|        # magnitudes, [freq, time]
    d = log10( S_ref**2 / (S_est + eps)**2 + eps )**2  # eps = 1e-12
    lsd = mean_over_time( sqrt( mean_over_freq(d) ) )

* **Unit**: base-10 logarithm of a power ratio with no ``10*`` or ``20*``
  factor, i.e. *Bels*, not dB (multiply by 10 for dB). Lower is better;
  identical signals give 0.
* **STFT**: ``librosa.stft`` defaults: Hann window, ``center=True``,
  ``pad_mode="constant"`` (the default since librosa 0.9; the original
  evaluations may have run on librosa 0.8, whose default was ``"reflect"``,
  available as ``pad_mode="reflect"``; it changes only the first and last
  frame, by about 0.005 on 6 s clips), on float32 audio as ``librosa.load``
  returns it.
* **Rate**: like every metric here, LSD resamples to its own rate,
  44.1 kHz (``librosa.resample``, soxr_hq, i.e. what
  ``librosa.load(path, sr=44100)`` gives), then uses n_fft 2048 / hop 441.
  ``rate=None`` keeps the signals' own rate with ``ssr_eval``'s rule
  ``hop = int(sr / 100)``, ``n_fft = int(2048 / (44100 / sr))`` (n_fft 743 /
  hop 160 at 16 kHz, VoiceFixer's 16 kHz setting). For band-limited inputs
  (e.g. 16 kHz files) the two differ: upsampling leaves an empty 8-22 kHz
  band whose ratio of numerical floors enters the mean, so compare LSD only
  between systems evaluated the same way, ideally on 44.1 kHz files as in
  the VoiceFixer / MaskSR tables.
* **Length**: both signals are truncated to the shorter one (at the end).
* Frames where both signals are digital silence count with
  ``log10(eps)**2 = 144`` per bin, as in the reference.

Authors
 * speechbrain-masksr contributors 2026
"""

import numpy as np

from speechbrain_masksr.metrics._utils import check_pair, resample_np

#: The eps of ``ssr_eval`` (``EPS = 1e-12``).
LSD_EPS = 1e-12
#: The rate at which VoiceFixer's protocol defines the LSD.
LSD_RATE = 44100


def lsd_stft_params(sample_rate):
    """STFT size and hop of VoiceFixer's LSD at a sample rate.

    Arguments
    ---------
    sample_rate : int
        Rate of the signals.

    Returns
    -------
    n_fft : int
        ``int(2048 / (44100 / sample_rate))``.
    hop_length : int
        ``int(sample_rate / 100)``.

    Example
    -------
    >>> lsd_stft_params(44100), lsd_stft_params(16000)
    ((2048, 441), (743, 160))
    """
    sample_rate = int(sample_rate)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    return int(2048 / (44100 / sample_rate)), int(sample_rate / 100)


def magnitude_spectrogram(wav, n_fft, hop_length, pad_mode="constant"):
    """Magnitude STFT as used by the LSD (librosa defaults, float32 input).

    Arguments
    ---------
    wav : numpy.ndarray
        ``[time]``.
    n_fft : int
        FFT size (also the Hann window length).
    hop_length : int
        Hop in samples.
    pad_mode : str
        Padding of the centred frames (``librosa.stft``).

    Returns
    -------
    numpy.ndarray
        ``[freq, frames]`` with ``freq = n_fft // 2 + 1``.

    Example
    -------
    >>> magnitude_spectrogram(np.zeros(4410), 2048, 441).shape
    (1025, 11)
    """
    import librosa

    wav = np.ascontiguousarray(wav, dtype=np.float32)
    spec = librosa.stft(
        wav,
        n_fft=n_fft,
        hop_length=hop_length,
        window="hann",
        center=True,
        pad_mode=pad_mode,
    )
    return np.abs(spec)


def lsd_from_spectrograms(ref_mag, est_mag, eps=LSD_EPS):
    """VoiceFixer's LSD between two magnitude spectrograms.

    Arguments
    ---------
    ref_mag : numpy.ndarray
        Reference magnitudes ``[freq, frames]``.
    est_mag : numpy.ndarray
        Estimate magnitudes ``[freq, frames]``.
    eps : float
        Added to the estimate's magnitude and to the power ratio.

    Returns
    -------
    float
        ``mean_t sqrt(mean_f log10(ref**2 / (est + eps)**2 + eps)**2)``.

    Example
    -------
    >>> ref = np.ones((3, 2))
    >>> round(lsd_from_spectrograms(ref, 10 * ref), 6)  # log10(1/100) = -2
    2.0
    """
    ref_mag = np.asarray(ref_mag, dtype=np.float64)
    est_mag = np.asarray(est_mag, dtype=np.float64)
    if ref_mag.shape != est_mag.shape:
        raise ValueError(
            f"spectrogram shapes differ: {ref_mag.shape} vs {est_mag.shape}"
        )
    dist = np.log10(ref_mag**2 / (est_mag + eps) ** 2 + eps) ** 2
    return float(np.mean(np.sqrt(np.mean(dist, axis=0))))


def lsd(
    ref,
    est,
    sample_rate=44100,
    eps=LSD_EPS,
    pad_mode="constant",
    rate=LSD_RATE,
):
    """Log-spectral distance in Bels (VoiceFixer's formula, see module doc).

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference (clean) audio ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimated (processed) audio ``[time]`` at the same rate.
    sample_rate : int
        Rate of both signals.
    eps : float
        Stabiliser, 1e-12 as in the reference.
    pad_mode : str
        ``librosa.stft`` padding: ``"constant"`` (librosa >= 0.9 default)
        or ``"reflect"`` (librosa 0.8 default).
    rate : int or None
        Rate the LSD is computed at (44.1 kHz, VoiceFixer's protocol);
        ``None`` keeps ``sample_rate``. Fixes the STFT
        (:func:`lsd_stft_params`).

    Returns
    -------
    float
        LSD (lower is better, 0 for identical signals).

    Example
    -------
    >>> import torch
    >>> x = torch.randn(44100)
    >>> round(lsd(x, x), 6)
    0.0
    >>> round(lsd(x, 10 * x), 4)  # |log10(1/100)| = 2 Bels everywhere
    2.0
    """
    ref, est = check_pair(ref, est, dtype=np.float32)
    if rate is not None and int(rate) != int(sample_rate):
        ref = resample_np(ref, sample_rate, rate).astype(np.float32)
        est = resample_np(est, sample_rate, rate).astype(np.float32)
        sample_rate = rate
    n_fft, hop_length = lsd_stft_params(sample_rate)
    ref_mag = magnitude_spectrogram(ref, n_fft, hop_length, pad_mode)
    est_mag = magnitude_spectrogram(est, n_fft, hop_length, pad_mode)
    return lsd_from_spectrograms(ref_mag, est_mag, eps)
