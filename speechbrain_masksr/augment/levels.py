"""Active-signal power and SNR, shared by the distortions.

Signal-to-noise and signal-to-interference ratios are measured on the
*active* part of each signal, in the spirit of ITU-T P.56 and the DNS
Challenge mixer: the signal is cut into frames, frames more than
``threshold_db`` below the loudest frame are ignored, and the power is the
mean square over the remaining samples. Padded tails (SpeechBrain relative
lengths, converted by :mod:`speechbrain_masksr.utils.lengths`) are never
counted.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch

from speechbrain_masksr.utils.lengths import length_mask, relative_to_absolute


def active_power(
    wavs, wav_lens=None, frame_length=882, threshold_db=40.0, num_samples=None
):
    """Mean square of each signal over its active frames.

    Frames (non-overlapping, ``frame_length`` samples, the last one partial)
    whose mean square is within ``threshold_db`` of the loudest frame of the
    same signal are active; the power is the sum of squares over the active
    frames divided by their number of samples. Because the rule is relative,
    ``active_power(g * x) == g**2 * active_power(x)`` exactly (up to
    rounding), which is what lets the distortions hit a requested SNR.

    Arguments
    ---------
    wavs : torch.Tensor
        Signals ``[batch, time]``.
    wav_lens : torch.Tensor, optional
        Relative lengths ``[batch]``; samples past them are ignored.
    frame_length : int
        Frame size in samples (882 = 20 ms at 44.1 kHz).
    threshold_db : float
        Frames quieter than the loudest by more than this are inactive.
    num_samples : torch.Tensor, optional
        Valid sample counts ``[batch]`` (overrides ``wav_lens``).

    Returns
    -------
    torch.Tensor
        Power ``[batch]`` (float64, on the device of ``wavs``); 0 for an
        all-zero signal.

    Example
    -------
    >>> x = torch.cat([torch.ones(1, 100), torch.zeros(1, 100)], dim=1)
    >>> float(active_power(x, frame_length=10)[0])
    1.0
    >>> float(active_power(2 * x, frame_length=10)[0])
    4.0
    """
    if wavs.dim() != 2:
        raise ValueError(f"expected [batch, time], got {tuple(wavs.shape)}")
    batch, time = wavs.shape
    if num_samples is None:
        num_samples = relative_to_absolute(wav_lens, time, batch)
    num_samples = num_samples.to(torch.long).cpu()
    frame_length = max(1, int(frame_length))
    sq = wavs.detach() ** 2
    if bool((num_samples < time).any()):
        sq = sq * length_mask(num_samples, time, wavs.device)
    n_full = time // frame_length
    energy = sq[:, : n_full * frame_length]
    energy = energy.reshape(batch, n_full, frame_length).sum(-1)
    if n_full * frame_length < time:
        tail = sq[:, n_full * frame_length :].sum(-1, keepdim=True)
        energy = torch.cat([energy, tail], dim=1)
    energy = energy.double().cpu()
    starts = torch.arange(energy.shape[1], dtype=torch.long) * frame_length
    counts = (num_samples.unsqueeze(1) - starts.unsqueeze(0)).clamp(0, None)
    counts = counts.clamp(max=frame_length).double()
    mean = energy / counts.clamp(min=1.0)
    peak = mean.max(dim=1, keepdim=True).values
    active = (counts > 0) & (mean >= peak * 10.0 ** (-threshold_db / 10.0))
    active = active & (peak > 0)
    num = (energy * active).sum(1)
    den = (counts * active).sum(1)
    power = torch.where(den > 0, num / den.clamp(min=1.0), 0.0)
    return power.to(wavs.device)


def measure_snr(
    signal, noise, wav_lens=None, frame_length=882, threshold_db=40
):
    """Signal-to-noise ratio in dB, both powers measured on active frames.

    This is the measurement :class:`NoiseMixer` and
    :class:`InterferingSpeaker` calibrate against, so
    ``measure_snr(clean, noisy - clean)`` returns the requested SNR.

    Arguments
    ---------
    signal : torch.Tensor
        Reference ``[batch, time]``.
    noise : torch.Tensor
        Added noise ``[batch, time]``.
    wav_lens : torch.Tensor, optional
        Relative lengths ``[batch]``.
    frame_length : int
        Frame size in samples.
    threshold_db : float
        Activity threshold below the loudest frame.

    Returns
    -------
    torch.Tensor
        SNR ``[batch]`` in dB (float64).

    Example
    -------
    >>> s = torch.ones(1, 1000)
    >>> float(measure_snr(s, 0.1 * s))
    20.0
    """
    p_s = active_power(signal, wav_lens, frame_length, threshold_db)
    p_n = active_power(noise, wav_lens, frame_length, threshold_db)
    return 10.0 * torch.log10(p_s / p_n)
