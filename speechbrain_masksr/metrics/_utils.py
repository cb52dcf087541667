"""Shared helpers of the metrics: input checks, length matching, resampling.

Every metric accepts 1-D torch tensors or numpy arrays (a leading channel
axis of size one is allowed) and converts them here, so that bad input
(stereo, empty, NaN) gets one clear error before any model sees it.

Authors
 * speechbrain-masksr contributors 2026
"""

import warnings

import numpy as np
import torch

from speechbrain_masksr.dataio import check_waveform
from speechbrain_masksr.errors import AudioError, MetricWarning

#: Length differences (in samples) above this are reported by a warning
#: before truncating to the shorter signal (``ssr_eval`` refuses >= 100).
LENGTH_TOLERANCE = 100


def as_mono_numpy(wav, name="audio", dtype=np.float64):
    """Convert a waveform to a 1-D numpy array after checking it.

    Arguments
    ---------
    wav : torch.Tensor or numpy.ndarray
        Audio ``[time]`` or ``[1, time]``; signed integer PCM (e.g.
        ``int16``) is scaled to [-1, 1) like ``soundfile`` does.
    name : str
        Used in error messages.
    dtype : numpy dtype
        Output type.

    Returns
    -------
    numpy.ndarray
        ``[time]``.

    Raises
    ------
    AudioError
        For several channels, empty audio or NaN/Inf values.

    Example
    -------
    >>> as_mono_numpy(torch.ones(1, 4)).shape
    (4,)
    >>> as_mono_numpy(np.array([16384, -32768], dtype=np.int16))
    array([ 0.5, -1. ])
    >>> as_mono_numpy(torch.ones(2, 4), "x.wav")
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.AudioError: x.wav: expected mono audio [time], got shape (2, 4); average the channels first
    """
    if torch.is_tensor(wav):
        wav = wav.detach().cpu()
        wav = (wav.double() if wav.is_floating_point() else wav).numpy()
    wav = np.asarray(wav)
    if np.issubdtype(wav.dtype, np.signedinteger):
        # integer PCM (e.g. int16 from scipy.io.wavfile): full scale = 1.0
        scale = float(np.iinfo(wav.dtype).max) + 1.0
        wav = wav.astype(np.float64) / scale
    wav = np.asarray(wav, dtype=np.float64)
    while wav.ndim > 1 and wav.shape[0] == 1:
        wav = wav[0]
    if wav.ndim != 1:
        raise AudioError(
            f"{name}: expected mono audio [time], got shape "
            f"{tuple(wav.shape)}; average the channels first"
        )
    check_waveform(torch.from_numpy(wav), name)
    return wav.astype(dtype, copy=False)


def match_lengths(ref, est, tolerance=LENGTH_TOLERANCE):
    """Truncate two signals to the length of the shorter one.

    Both are cut at the end (the start stays aligned), as ``ssr_eval`` does.
    A difference larger than ``tolerance`` samples is reported with a
    :class:`MetricWarning`, since it usually means the files do not match.

    Arguments
    ---------
    ref : numpy.ndarray
        Reference ``[time]``.
    est : numpy.ndarray
        Estimate ``[time]``.
    tolerance : int
        Largest difference accepted silently.

    Returns
    -------
    ref, est : numpy.ndarray
        Both ``[min(len(ref), len(est))]``.

    Example
    -------
    >>> r, e = match_lengths(np.zeros(5), np.ones(3))
    >>> len(r), len(e)
    (3, 3)
    """
    n_ref, n_est = len(ref), len(est)
    if n_ref == n_est:
        return ref, est
    if abs(n_ref - n_est) > tolerance:
        warnings.warn(
            f"reference has {n_ref} samples and estimate {n_est}; "
            "truncating both to the shorter",
            MetricWarning,
            stacklevel=3,
        )
    n = min(n_ref, n_est)
    return ref[:n], est[:n]


def resample_np(wav, orig_sr, new_sr):
    """Resample a 1-D numpy signal with ``librosa.resample`` (``soxr_hq``).

    ``soxr_hq`` is librosa's default, i.e. what ``librosa.load(path, sr=...)``
    and the DNSMOS and Resemblyzer reference code use.

    Arguments
    ---------
    wav : numpy.ndarray
        ``[time]``.
    orig_sr : int
        Rate of ``wav``.
    new_sr : int
        Wanted rate.

    Returns
    -------
    numpy.ndarray
        ``[time * new_sr / orig_sr]`` (``wav`` itself when the rates match).

    Example
    -------
    >>> resample_np(np.zeros(441), 44100, 16000).shape
    (160,)
    """
    if int(orig_sr) == int(new_sr):
        return wav
    import librosa

    return librosa.resample(
        np.ascontiguousarray(wav),
        orig_sr=int(orig_sr),
        target_sr=int(new_sr),
        res_type="soxr_hq",
    )


def check_pair(ref, est, dtype=np.float64):
    """Check and convert a reference/estimate pair, matching their lengths.

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimate ``[time]``.
    dtype : numpy dtype
        Output type.

    Returns
    -------
    ref, est : numpy.ndarray
        Same length, ``[time]``.

    Example
    -------
    >>> r, e = check_pair(torch.ones(4), torch.ones(1, 6))
    >>> r.shape, e.shape
    ((4,), (4,))
    """
    ref = as_mono_numpy(ref, "reference", dtype)
    est = as_mono_numpy(est, "estimate", dtype)
    return match_lengths(ref, est)


__all__ = [
    "AudioError",
    "LENGTH_TOLERANCE",
    "MetricWarning",
    "as_mono_numpy",
    "check_pair",
    "match_lengths",
    "resample_np",
]
