"""Simulated room impulse responses and RIR alignment helpers.

:func:`simulate_rir` draws a simple statistical room impulse response: a unit
direct-path peak followed by an exponentially decaying noise tail whose decay
rate matches a requested RT60 (time for the energy to fall by 60 dB). It is
used when no measured RIR files are available (tests, the mini corpus, and the
``RoomReverb`` fallback). :func:`align_rir` moves a measured or simulated RIR so
that its direct path sits at index 0, which keeps reverberant speech
time-aligned with the dry target. :func:`measure_drr` and :func:`set_drr`
measure and set the direct-to-reverberant ratio (direct path = +-2.5 ms
around the peak), used to place interfering talkers farther from the
microphone than the target.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch

from speechbrain_masksr.errors import AudioError


def simulate_rir(
    sample_rate, rt60, duration=None, direct_delay=0.0025, generator=None
):
    """Simulate a room impulse response with an exponential decay.

    The response is zero before the direct path, ``1.0`` at the direct-path
    index ``round(direct_delay * sample_rate)``, and after it a Gaussian noise
    tail (starting 1 ms after the direct path, like early reflections) whose
    amplitude envelope decays by 60 dB in ``rt60`` seconds. The tail energy is
    scaled so the direct-to-reverberant ratio is a plausible small-room value
    (about 0 dB for ``rt60=0.5``, lower for longer rooms). The peak of the
    returned response is always the direct path.

    Arguments
    ---------
    sample_rate : int
        Sampling rate of the response in Hz.
    rt60 : float
        Reverberation time in seconds (> 0).
    duration : float, optional
        Length of the response in seconds; default ``min(1.2 * rt60, 2.0)``
        plus the direct delay (at least 10 ms).
    direct_delay : float
        Position of the direct path in seconds (>= 0).
    generator : torch.Generator, optional
        Random generator, for reproducible responses.

    Returns
    -------
    torch.Tensor
        The impulse response ``[time]`` (float32), peak at
        ``round(direct_delay * sample_rate)``.

    Example
    -------
    >>> g = torch.Generator().manual_seed(0)
    >>> rir = simulate_rir(16000, rt60=0.3, generator=g)
    >>> int(rir.abs().argmax())
    40
    >>> float(rir[40])
    1.0
    >>> bool(torch.equal(rir, simulate_rir(
    ...     16000, 0.3, generator=torch.Generator().manual_seed(0))))
    True
    """
    sample_rate = int(sample_rate)
    rt60 = float(rt60)
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not rt60 > 0:
        raise ValueError(f"rt60 must be positive, got {rt60}")
    if direct_delay < 0:
        raise ValueError(f"direct_delay must be >= 0, got {direct_delay}")
    if duration is None:
        duration = max(min(1.2 * rt60, 2.0), 0.01) + direct_delay
    delay = int(round(direct_delay * sample_rate))
    length = int(round(float(duration) * sample_rate))
    if length <= delay:
        raise ValueError(
            f"duration ({duration} s) must be longer than direct_delay "
            f"({direct_delay} s)"
        )
    rir = torch.zeros(length)
    rir[delay] = 1.0
    gap = max(1, int(round(0.001 * sample_rate)))
    start = delay + gap
    n_tail = length - start
    if n_tail > 0:
        t = torch.arange(n_tail, dtype=torch.float64) / sample_rate
        # amplitude envelope: -60 dB energy in rt60 s => exp(-3 ln10 t / rt60)
        envelope = torch.exp(-3.0 * math.log(10.0) * t / rt60)
        noise = torch.randn(n_tail, generator=generator, dtype=torch.float64)
        tail = noise * envelope
        # Reverberant energy grows with rt60: target DRR = -10 log10(rt60/0.5)
        drr_db = -10.0 * math.log10(rt60 / 0.5)
        tail_energy = float((tail**2).sum())
        if tail_energy > 0:
            tail = tail * math.sqrt(10.0 ** (-drr_db / 10.0) / tail_energy)
        # keep the direct path the strict peak
        tail = tail.clamp(-0.95, 0.95)
        rir[start:] = tail.float()
    return rir


def align_rir(rir, direct_index=None):
    """Shift a room impulse response so its direct path is at index 0.

    The direct path is taken as the sample with the largest magnitude
    (unless ``direct_index`` is given). Samples before it are dropped, so
    convolving speech with the result keeps the direct sound aligned with the
    dry signal. The response is also normalised so the direct path is ``+1``
    (keeping the polarity and level of the dry signal).

    Arguments
    ---------
    rir : torch.Tensor
        Impulse response ``[time]``.
    direct_index : int, optional
        Index of the direct path; default the peak of ``|rir|``.

    Returns
    -------
    torch.Tensor
        Aligned response ``[time - direct_index]`` with ``rir[0] == 1``.

    Example
    -------
    >>> aligned = align_rir(torch.tensor([0.0, 0.0, -2.0, 1.0, 0.5]))
    >>> aligned
    tensor([ 1.0000, -0.5000, -0.2500])
    """
    if rir.dim() != 1 or rir.numel() == 0:
        raise ValueError(
            f"RIR must be a non-empty 1-D tensor, got shape {tuple(rir.shape)}"
        )
    if not torch.isfinite(rir).all():
        raise AudioError("RIR contains NaN or Inf values")
    if direct_index is None:
        direct_index = int(rir.abs().argmax())
    peak = rir[direct_index]
    if float(peak) == 0.0:
        raise AudioError("RIR is all zeros")
    return rir[direct_index:] / peak


def _direct_window(rir, sample_rate, direct_ms, direct_index):
    """Direct-path index per row and the sample offsets from it.

    Returns ``(offset, half)``: ``offset[..., time]`` is each sample's
    distance from its row's direct path and ``half`` the half-width of the
    direct window in samples.
    """
    if rir.dim() not in (1, 2) or rir.shape[-1] == 0:
        raise ValueError(
            "RIR must be a non-empty [time] or [batch, time] tensor, got "
            f"shape {tuple(rir.shape)}"
        )
    if not torch.isfinite(rir).all():
        raise AudioError("RIR contains NaN or Inf values")
    if not direct_ms >= 0:
        raise ValueError(f"direct_ms must be >= 0, got {direct_ms}")
    half = int(round(float(direct_ms) * int(sample_rate) / 1000.0))
    if direct_index is None:
        peak = rir.abs().argmax(dim=-1, keepdim=True)
    else:
        peak = torch.as_tensor(direct_index, dtype=torch.long)
        peak = peak.expand(rir.shape[:-1]).unsqueeze(-1)
        if bool(((peak < 0) | (peak >= rir.shape[-1])).any()):
            raise ValueError(
                f"direct_index out of range for an RIR of {rir.shape[-1]} "
                "samples"
            )
    idx = torch.arange(rir.shape[-1])
    return idx - peak.to(idx.device), half


def measure_drr(rir, sample_rate, direct_ms=2.5, direct_index=None):
    """Direct-to-reverberant ratio of a room impulse response, in dB.

    ``DRR = 10 log10(E_direct / E_reverb)`` where ``E_direct`` is the energy
    of the samples within ``direct_ms`` of the direct path (the standard
    +-2.5 ms window) and ``E_reverb`` the energy of all other samples. The
    direct path is the largest-magnitude sample unless ``direct_index`` is
    given. A response with no energy outside the window has a DRR of
    ``+inf``.

    Arguments
    ---------
    rir : torch.Tensor
        Impulse response ``[time]`` or a batch of them ``[batch, time]``.
    sample_rate : int
        Sampling rate of the response in Hz.
    direct_ms : float
        Half-width of the direct-path window in milliseconds.
    direct_index : int or torch.Tensor, optional
        Index of the direct path (per row for a batch); default the peak of
        ``|rir|``.

    Returns
    -------
    torch.Tensor
        DRR in dB (float64): a scalar for ``[time]``, ``[batch]`` otherwise.

    Example
    -------
    >>> rir = torch.zeros(1000)
    >>> rir[10], rir[500] = 1.0, 0.1  # direct path and one late reflection
    >>> round(float(measure_drr(rir, 8000)), 3)
    20.0
    >>> rir[12] = 0.5  # 0.25 ms after the direct path: counted as direct
    >>> round(float(measure_drr(rir, 8000)), 3)
    20.969
    """
    offset, half = _direct_window(rir, sample_rate, direct_ms, direct_index)
    energy = rir.detach().double().cpu().pow(2)
    direct = offset.abs() <= half
    e_direct = (energy * direct).sum(dim=-1)
    e_reverb = (energy * ~direct).sum(dim=-1)
    return 10.0 * torch.log10(e_direct / e_reverb)


def set_drr(rir, drr_db, sample_rate, direct_ms=2.5, direct_index=None):
    """Rescale the direct path of a room impulse response to a given DRR.

    The direct part is the ``+-direct_ms`` window around the direct path
    (as in :func:`measure_drr`); the reverberant part outside it is kept.
    As in Bryan (ICASSP 2020, "Impulse response data augmentation and deep
    neural networks for blind room acoustic parameter estimation"), the
    gain is applied through a Hann window spanning the direct window
    (``h' = (a * w + 1 - w) * h``, ``w = 1`` at the direct path and
    falling to 0 at the window's edges), so the response has no step; ``a``
    is the root of a quadratic that makes ``measure_drr(h')`` equal
    ``drr_db``. Targets below what the taper allows (``a < 0``, i.e. the
    window edges alone already hold more than the wanted direct energy)
    fall back to one gain over the whole window, which reaches any DRR.

    Arguments
    ---------
    rir : torch.Tensor
        Impulse response ``[time]`` or a batch of them ``[batch, time]``.
    drr_db : float or torch.Tensor
        Wanted DRR in dB (one value, or one per row).
    sample_rate : int
        Sampling rate of the response in Hz.
    direct_ms : float
        Half-width of the direct-path window in milliseconds.
    direct_index : int or torch.Tensor, optional
        Index of the direct path (per row for a batch); default the peak of
        ``|rir|``. Pass it to :func:`measure_drr` too when lowering the DRR
        a lot, since the reduced direct path may no longer be the peak.

    Returns
    -------
    torch.Tensor
        The rescaled response, same shape and dtype as ``rir``.

    Example
    -------
    >>> from speechbrain_masksr.augment.rir import simulate_rir
    >>> g = torch.Generator().manual_seed(0)
    >>> rir = simulate_rir(16000, 0.5, generator=g)
    >>> out = set_drr(rir, -6.0, 16000)
    >>> round(float(measure_drr(out, 16000)), 3)
    -6.0
    >>> bool(torch.equal(out[200:], rir[200:]))  # the tail is kept
    True
    """
    offset, half = _direct_window(rir, sample_rate, direct_ms, direct_index)
    h = rir.detach().double().cpu()
    energy = h.pow(2)
    inside = offset.abs() <= half
    e_reverb = (energy * ~inside).sum(dim=-1)
    if bool((e_reverb <= 0).any()):
        raise ValueError(
            "RIR has no energy outside the direct-path window "
            f"(+-{direct_ms} ms), so its DRR cannot be set"
        )
    e_direct = (energy * inside).sum(dim=-1)
    if bool((e_direct <= 0).any()):
        raise ValueError("RIR has no energy in the direct-path window")
    drr = torch.as_tensor(drr_db, dtype=torch.float64)
    if not bool(torch.isfinite(drr).all()):
        raise ValueError(f"drr_db must be finite, got {drr_db}")
    target = e_reverb * 10.0 ** (drr / 10.0)
    # Hann taper: 1 at the direct path, 0 just outside the window
    taper = 0.5 * (1.0 + torch.cos(math.pi * offset.double() / (half + 1)))
    taper = torch.where(inside, taper, 0.0)
    a2 = (energy * taper.pow(2)).sum(dim=-1)
    b = (energy * taper * (1.0 - taper) * inside).sum(dim=-1)
    c = (energy * (1.0 - taper).pow(2) * inside).sum(dim=-1)
    disc = (b.pow(2) + a2 * (target - c)).clamp(min=0.0)
    gain = (disc.sqrt() - b) / a2
    # fall back to a flat gain over the window when the taper cannot reach
    flat = target < c
    weight = torch.where(flat.unsqueeze(-1), inside.double(), taper)
    gain = torch.where(flat, (target / e_direct).sqrt(), gain)
    scale = 1.0 + (gain.unsqueeze(-1) - 1.0) * weight
    return (h * scale).to(rir.device, rir.dtype)
