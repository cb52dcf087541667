"""Intrusive metrics: PESQ (wide/narrow band), ESTOI and SI-SDR.

* **PESQ** (ITU-T P.862.2 wide band, P.862 narrow band) with the ``pesq``
  package, always at 16 kHz: both signals are resampled to 16 kHz with
  ``librosa.resample`` (``soxr_hq``, what ``librosa.load(path, sr=16000)``
  gives). A pair PESQ cannot score (silence: ``NoUtterancesError``; under
  0.25 s: ``BufferTooShortError``) gives NaN and a :class:`MetricWarning`
  instead of stopping a whole evaluation.
* **ESTOI** (Jensen & Taal 2016) with ``pystoi.stoi(ref, est, fs,
  extended=True)`` at the signals' own rate; pystoi resamples to its 10 kHz
  itself, so the value equals a direct ``pystoi`` call on the same files.
  Where pystoi finds fewer than 30 non-silent frames it returns a
  placeholder 1e-5; here that case gives NaN and a warning.
* **SI-SDR** (Le Roux et al. 2019) in dB, both signals made zero-mean,
  at the given rate (no resampling). It is undefined when either signal
  has zero variance (silent or constant): that gives NaN and a
  :class:`MetricWarning`, never a plausible-looking 0 dB.

Signals of different lengths are truncated to the shorter one (at the end).

Authors
 * speechbrain-masksr contributors 2026
"""

import math
import warnings

import numpy as np

from speechbrain_masksr.errors import MetricWarning
from speechbrain_masksr.metrics._utils import check_pair, resample_np

PESQ_RATE = 16000


def pesq_score(ref, est, sample_rate, mode="wb"):
    """PESQ at 16 kHz, wide band (``"wb"``) or narrow band (``"nb"``).

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference (clean) audio ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimated audio ``[time]`` at the same rate.
    sample_rate : int
        Rate of both signals (resampled to 16 kHz here).
    mode : str
        ``"wb"`` (P.862.2, MOS-LQO 1.04-4.64) or ``"nb"`` (P.862).

    Returns
    -------
    float
        PESQ, or NaN (with a :class:`MetricWarning`) when the pair cannot
        be scored.

    Example
    -------
    >>> import torch
    >>> t = torch.arange(16000) / 16000
    >>> x = torch.sin(2 * math.pi * 150 * t) * (1 + torch.sin(2 * math.pi * 3 * t))
    >>> pesq_score(x, x, 16000) > 4.5
    True
    """
    from pesq import PesqError, pesq

    if mode not in ("wb", "nb"):
        raise ValueError(f"mode must be 'wb' or 'nb', got {mode!r}")
    ref, est = check_pair(ref, est)
    ref = resample_np(ref, sample_rate, PESQ_RATE)
    est = resample_np(est, sample_rate, PESQ_RATE)
    if not np.any(ref) or not np.any(est):
        warnings.warn(
            "pesq: reference or estimate is digital silence; returning NaN",
            MetricWarning,
            stacklevel=2,
        )
        return math.nan
    try:
        return float(pesq(PESQ_RATE, ref, est, mode))
    except PesqError as err:
        msg = err.args[0] if err.args else err
        if isinstance(msg, bytes):
            msg = msg.decode(errors="replace")
        warnings.warn(
            f"pesq: {type(err).__name__}: {msg}; returning NaN",
            MetricWarning,
            stacklevel=2,
        )
        return math.nan


def pesq_wb(ref, est, sample_rate):
    """Wide-band PESQ (P.862.2) at 16 kHz; see :func:`pesq_score`.

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference audio ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimated audio ``[time]``.
    sample_rate : int
        Rate of both signals.

    Returns
    -------
    float
        WB-PESQ or NaN.

    Example
    -------
    >>> import torch
    >>> pesq_wb(torch.zeros(16000), torch.zeros(16000), 16000)
    nan
    """
    return pesq_score(ref, est, sample_rate, mode="wb")


def pesq_nb(ref, est, sample_rate):
    """Narrow-band PESQ (P.862) at 16 kHz; see :func:`pesq_score`.

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference audio ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimated audio ``[time]``.
    sample_rate : int
        Rate of both signals.

    Returns
    -------
    float
        NB-PESQ or NaN.

    Example
    -------
    >>> import torch
    >>> t = torch.arange(16000) / 16000
    >>> x = torch.sin(2 * math.pi * 150 * t) * (1 + torch.sin(2 * math.pi * 3 * t))
    >>> pesq_nb(x, x, 16000) > 4.0
    True
    """
    return pesq_score(ref, est, sample_rate, mode="nb")


def estoi(ref, est, sample_rate):
    """Extended STOI with ``pystoi`` at the signals' own rate.

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference audio ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimated audio ``[time]``.
    sample_rate : int
        Rate of both signals (pystoi resamples to 10 kHz itself).

    Returns
    -------
    float
        ESTOI (about 0-1, higher is better), or NaN with a warning if the
        clip has too few non-silent frames.

    Example
    -------
    >>> import torch
    >>> x = torch.randn(16000)
    >>> round(estoi(x, x, 16000), 4)
    1.0
    """
    from pystoi import stoi

    ref, est = check_pair(ref, est)
    failure = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            score = float(stoi(ref, est, int(sample_rate), extended=True))
        except (ValueError, IndexError) as err:
            # pystoi fails inside its framing for clips under one frame
            # (256 samples at 10 kHz)
            failure = f"{type(err).__name__}: {err}"
    if failure is not None:
        warnings.warn(
            f"estoi: clip too short to score ({len(ref)} samples; "
            f"{failure}); returning NaN",
            MetricWarning,
            stacklevel=2,
        )
        return math.nan
    too_short = [
        w for w in caught if "Not enough STFT frames" in str(w.message)
    ]
    if too_short:
        warnings.warn(
            "estoi: fewer than 30 non-silent frames (clip too short or "
            "silent); returning NaN",
            MetricWarning,
            stacklevel=2,
        )
        return math.nan
    return score


def si_sdr(ref, est, eps=1e-12):
    """Scale-invariant SDR in dB (Le Roux et al., 2019), zero-mean signals.

    ``alpha = <est, ref> / ||ref||^2``, target ``alpha * ref``, error
    ``est - target``; ``10 log10((||target||^2 + eps) / (||error||^2 + eps))``.
    A silent or constant (zero-variance) estimate or reference has no
    defined SI-SDR: the result is NaN with a :class:`MetricWarning`.

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference audio ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimated audio ``[time]`` (same rate).
    eps : float
        Keeps the ratio finite for perfect estimates or silence.

    Returns
    -------
    float
        SI-SDR in dB (higher is better); NaN for a zero-variance signal.

    Example
    -------
    >>> import torch
    >>> ref = torch.tensor([1.0, -1.0, 1.0, -1.0])
    >>> noise = torch.tensor([1.0, 1.0, -1.0, -1.0])  # orthogonal, same power
    >>> round(si_sdr(ref, 0.5 * ref + 0.1 * noise), 4)  # 10 log10(0.25 / 0.01)
    13.9794
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     score = si_sdr(ref, torch.zeros(4))
    >>> score, str(caught[0].message)
    (nan, 'si_sdr: the estimate is silent or constant (zero variance); SI-SDR is undefined, returning NaN')
    """
    ref, est = check_pair(ref, est)
    ref = ref - ref.mean()
    est = est - est.mean()
    for name, signal in (("estimate", est), ("reference", ref)):
        if not np.any(signal) or np.dot(signal, signal) <= eps:
            warnings.warn(
                f"si_sdr: the {name} is silent or constant (zero "
                "variance); SI-SDR is undefined, returning NaN",
                MetricWarning,
                stacklevel=2,
            )
            return math.nan
    alpha = np.dot(est, ref) / (np.dot(ref, ref) + eps)
    target = alpha * ref
    error = est - target
    ratio = (np.dot(target, target) + eps) / (np.dot(error, error) + eps)
    return float(10 * np.log10(ratio))
