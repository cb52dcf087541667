"""Simulated room impulse responses and RIR alignment helpers.

:func:`simulate_rir` draws a simple statistical room impulse response: a unit
direct-path peak followed by an exponentially decaying noise tail whose decay
rate matches a requested RT60 (time for the energy to fall by 60 dB). It is
used when no measured RIR files are available (tests, the mini corpus, and the
``AddReverb`` fallback). :func:`align_rir` moves a measured or simulated RIR so
that its direct path sits at index 0, which keeps reverberant speech
time-aligned with the dry target.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch


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
        raise ValueError("RIR contains NaN or Inf values")
    if direct_index is None:
        direct_index = int(rir.abs().argmax())
    peak = rir[direct_index]
    if float(peak) == 0.0:
        raise ValueError("RIR is all zeros")
    return rir[direct_index:] / peak
