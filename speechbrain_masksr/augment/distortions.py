"""Batched, seeded speech degradations used to train restoration models.

Every distortion is an ``nn.Module`` with
``forward(wavs[batch, time], lengths=None, generator=None) -> [batch, time]``
so it works on its own, inside ``speechbrain.augment.augmenter.Augmenter``
(which passes ``lengths``), and in :class:`~.pipeline.GSRPipeline`. The
output has the input's length, padded tails (past the relative ``lengths``)
are returned untouched, and all random choices come from one
``torch.Generator`` (given at construction or at call time; the call wins),
so the same seed gives the same output.

Defaults follow MaskSR / VoiceFixer training (44.1 kHz): noise at −5…20 dB
SNR, clipping at 0.1–0.5 of the peak, low-pass cutoffs of 1–22.05 kHz
through Butterworth, Chebyshev I, elliptic, Bessel, STFT hard-cut and
down/up-resampling filters of order 2–10, reverberation with measured or
simulated room impulse responses.

Authors
 * speechbrain-masksr contributors 2026
"""

import functools
import math

import numpy as np
import scipy.fft
import scipy.signal
import torch
import torchaudio

from speechbrain_masksr.augment.levels import active_power
from speechbrain_masksr.augment.rir import align_rir, set_drr, simulate_rir
from speechbrain_masksr.augment.sources import AudioBank, crop_or_pad
from speechbrain_masksr.errors import AudioError
from speechbrain_masksr.utils.lengths import length_mask, relative_to_absolute

FILTER_FAMILIES = ("butter", "cheby1", "ellip", "bessel", "stft", "resample")


def _uniform(n, low, high, generator):
    """``n`` draws from U[low, high] as float64 (CPU)."""
    u = torch.rand(int(n), generator=generator, dtype=torch.float64)
    return float(low) + (float(high) - float(low)) * u


def _randint(n, low, high, generator):
    """``n`` integers uniformly in [low, high] (both included)."""
    return torch.randint(
        int(low), int(high) + 1, (int(n),), generator=generator
    )


def _check_range(name, low, high):
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ValueError(f"{name}: need finite low <= high, got {low}, {high}")


class Distortion(torch.nn.Module):
    """Base class: input checks, lengths, generator and padding handling.

    Subclasses implement ``_distort(wavs, num_samples, generator)`` on a
    checked float ``[batch, time]`` tensor; the base class returns the input
    unchanged past each example's length. A 1-D input ``[time]`` is treated
    as a batch of one and returned 1-D.

    Arguments
    ---------
    generator : torch.Generator, optional
        Default random generator (a generator passed to ``forward`` wins).

    Example
    -------
    >>> class Gain(Distortion):
    ...     def _distort(self, wavs, num_samples, generator):
    ...         return 2 * wavs
    >>> Gain()(torch.ones(2, 3), lengths=torch.tensor([1.0, 1 / 3]))
    tensor([[2., 2., 2.],
            [2., 1., 1.]])
    """

    def __init__(self, generator=None):
        super().__init__()
        self.generator = generator

    def forward(self, wavs, lengths=None, generator=None):
        """Apply the distortion.

        Arguments
        ---------
        wavs : torch.Tensor
            Audio ``[batch, time]`` (or ``[time]``).
        lengths : torch.Tensor, optional
            Relative lengths ``[batch]``; samples past them are not changed.
            (SpeechBrain's ``wav_lens``, named ``lengths`` here because that
            is the keyword ``speechbrain.augment.augmenter.Augmenter``
            looks for and passes.)
        generator : torch.Generator, optional
            Random generator for this call.

        Returns
        -------
        torch.Tensor
            Distorted audio, same shape as ``wavs``.

        Example
        -------
        >>> Clip(0.5, 0.5).forward(torch.tensor([0.5, -1.0]))
        tensor([ 0.5000, -0.5000])
        """
        if not torch.is_tensor(wavs):
            raise TypeError(f"expected a tensor, got {type(wavs).__name__}")
        squeeze = wavs.dim() == 1
        if squeeze:
            wavs = wavs.unsqueeze(0)
        if wavs.dim() != 2:
            raise ValueError(
                f"{type(self).__name__} expects audio [batch, time], got "
                f"shape {tuple(wavs.shape)} (mix multichannel audio to mono)"
            )
        if not wavs.is_floating_point():
            raise TypeError(f"expected float audio, got {wavs.dtype}")
        if not torch.isfinite(wavs).all():
            raise AudioError(
                f"{type(self).__name__}: input audio contains NaN or Inf"
            )
        batch, time = wavs.shape
        num_samples = relative_to_absolute(lengths, time, batch).cpu()
        if batch == 0 or time == 0:
            return wavs[0] if squeeze else wavs
        gen = generator if generator is not None else self.generator
        out = self._apply(wavs, num_samples, gen)
        return out[0] if squeeze else out

    def _apply(self, wavs, num_samples, generator):
        """Distort checked input; padded tails are restored from ``wavs``.

        Composite effects call this directly on their children, so the
        input checks run once per batch.
        """
        out = self._distort(wavs, num_samples, generator).to(wavs.dtype)
        time = wavs.shape[1]
        if bool((num_samples < time).any()):
            mask = length_mask(num_samples, time, wavs.device)
            out = torch.where(mask, out, wavs)
        return out

    def _distort(self, wavs, num_samples, generator):
        raise NotImplementedError


def apply_effect(effect, wavs, num_samples, generator):
    """Run ``effect`` on a checked batch from inside another distortion.

    :class:`Distortion` effects are run without repeating the input checks
    and receive ``generator``; other callables (e.g. SpeechBrain
    augmentations) are called as ``effect(wavs, lengths)`` and may return a
    tensor or a ``(tensor, lengths)`` tuple.

    Arguments
    ---------
    effect : callable
        The effect.
    wavs : torch.Tensor
        Audio ``[batch, time]``.
    num_samples : torch.Tensor
        Valid sample counts ``[batch]``.
    generator : torch.Generator or None
        Random generator.

    Returns
    -------
    torch.Tensor
        ``[batch, time]``.

    Example
    -------
    >>> out = apply_effect(Clip(0.5, 0.5), torch.tensor([[1.0, -2.0]]),
    ...                    torch.tensor([2]), None)
    >>> out
    tensor([[ 1., -1.]])
    """
    if isinstance(effect, Distortion):
        gen = generator if generator is not None else effect.generator
        return effect._apply(wavs, num_samples, gen)
    rel = num_samples.float().to(wavs.device) / wavs.shape[1]
    out = effect(wavs, rel)
    if isinstance(out, tuple):
        out = out[0]
    if out.shape != wavs.shape:
        raise ValueError(
            f"{type(effect).__name__} changed the shape of the batch from "
            f"{tuple(wavs.shape)} to {tuple(out.shape)}; only same-length "
            "effects can be composed"
        )
    return out.to(wavs.dtype)


def coloured_noise(
    batch, time, exponent_low=0.0, exponent_high=2.0, generator=None
):
    """Gaussian noise with a random ``1/f**beta`` power spectrum.

    ``beta`` is drawn per row from ``[exponent_low, exponent_high]``
    (0 = white, 1 = pink, 2 = brown). Rows have unit RMS.

    Arguments
    ---------
    batch : int
        Number of rows.
    time : int
        Samples per row.
    exponent_low : float
        Smallest spectral exponent.
    exponent_high : float
        Largest spectral exponent.
    generator : torch.Generator, optional
        Random generator.

    Returns
    -------
    torch.Tensor
        Noise ``[batch, time]``.

    Example
    -------
    >>> n = coloured_noise(2, 1000, 2.0, 2.0)
    >>> n.shape, round(float(n[0].pow(2).mean()), 3)
    (torch.Size([2, 1000]), 1.0)
    """
    beta = _uniform(batch, exponent_low, exponent_high, generator)
    white = torch.randn(batch, time, generator=generator)
    spec = torch.fft.rfft(white, dim=-1)
    freqs = torch.arange(spec.shape[-1], dtype=torch.float64).clamp(min=1.0)
    shape = freqs.unsqueeze(0) ** (-beta.unsqueeze(1) / 2.0)
    noise = torch.fft.irfft(spec * shape.float(), n=time, dim=-1)
    noise = noise - noise.mean(dim=-1, keepdim=True)
    rms = noise.pow(2).mean(dim=-1, keepdim=True).sqrt().clamp(min=1e-12)
    return noise / rms


def _mix_at_ratio(wavs, other, num_samples, ratio_db, frame_length, thr_db):
    """Return ``wavs + g * other`` with active-power ratio ``ratio_db``."""
    other = other.to(wavs.device, wavs.dtype)
    if bool((num_samples < wavs.shape[1]).any()):
        other = other * length_mask(num_samples, wavs.shape[1], wavs.device)
    p_s = active_power(wavs, None, frame_length, thr_db, num_samples)
    p_o = active_power(other, None, frame_length, thr_db, num_samples)
    target = p_s / (10.0 ** (ratio_db.to(p_s.device) / 10.0))
    ok = (p_s > 0) & (p_o > 0)
    gain = torch.where(ok, (target / p_o.clamp(min=1e-300)).sqrt(), 0.0)
    return wavs + gain.to(wavs.dtype).unsqueeze(1) * other


class NoiseMixer(Distortion):
    """Add noise at a random SNR measured on the active signal.

    For each example an SNR is drawn from ``[snr_low, snr_high]`` dB and a
    noise excerpt (random clip, random offset, repeated if short) is scaled so
    that ``active_power(clean) / active_power(noise)`` equals it exactly
    (frames within ``threshold_db`` of the loudest, see
    :func:`~.levels.active_power`). Silent examples are left unchanged.

    Arguments
    ---------
    noises : tensor, path, list, or None
        Noise clips (see :class:`~.sources.AudioBank`: tensors, audio files,
        folders, JSON/CSV manifests). ``None`` falls back to generated
        coloured Gaussian noise (spectral slope ``1/f**beta``, ``beta`` in
        [0, 2]) -- a stand-in for tests and demos, not a substitute for
        recorded noise.
    snr_low : float
        Lowest SNR in dB.
    snr_high : float
        Highest SNR in dB.
    sample_rate : int
        Rate of the audio (noise files are resampled to it).
    noise_filter : callable, optional
        Applied to the noise batch before scaling (e.g. a
        :class:`BandLimit`, possibly inside a ``RandomApply``); see
        :func:`apply_effect`.
    threshold_db : float
        Activity threshold for the power measurement.
    frame_ms : float
        Frame length of the power measurement, in milliseconds.
    replacements : dict, optional
        Placeholders for noise manifests.
    generator : torch.Generator, optional
        Default random generator.

    Example
    -------
    >>> from speechbrain_masksr.augment.levels import measure_snr
    >>> clean = torch.sin(torch.arange(8000.0) / 5).unsqueeze(0)
    >>> add = NoiseMixer(snr_low=10, snr_high=10, sample_rate=8000)
    >>> noisy = add(clean)
    >>> round(float(measure_snr(clean, noisy - clean, frame_length=160)), 3)
    10.0
    """

    def __init__(
        self,
        noises=None,
        snr_low=-5.0,
        snr_high=20.0,
        sample_rate=44100,
        noise_filter=None,
        threshold_db=40.0,
        frame_ms=20.0,
        replacements=None,
        generator=None,
    ):
        super().__init__(generator)
        _check_range("snr", snr_low, snr_high)
        self.snr_low, self.snr_high = float(snr_low), float(snr_high)
        self.sample_rate = int(sample_rate)
        self.bank = None
        if noises is not None:
            self.bank = AudioBank(
                noises, self.sample_rate, "noise", replacements
            )
        self.noise_filter = noise_filter
        self.threshold_db = float(threshold_db)
        self.frame_length = max(1, round(frame_ms * self.sample_rate / 1000))

    def _distort(self, wavs, num_samples, generator):
        batch, time = wavs.shape
        snr = _uniform(batch, self.snr_low, self.snr_high, generator)
        if self.bank is None:
            noise = coloured_noise(batch, time, generator=generator)
        else:
            noise = self.bank.sample(batch, time, generator, tile=True)
        noise = noise.to(wavs.device, wavs.dtype)
        if self.noise_filter is not None:
            noise = apply_effect(
                self.noise_filter, noise, num_samples, generator
            )
        return _mix_at_ratio(
            wavs,
            noise,
            num_samples,
            snr,
            self.frame_length,
            self.threshold_db,
        )


class InterferingSpeaker(Distortion):
    """Add one or several other talkers at a random SIR, optionally farther.

    For each example an SIR is drawn from ``[sir_low, sir_high]`` dB and a
    number of talkers from ``[n_speakers_low, n_speakers_high]``. Each talker
    is an independent excerpt of an utterance of the bank (random crop if
    longer, random position in silence if shorter); with several talkers the
    utterances are distinct clips of the bank when it holds enough of them.
    The *sum* of the talkers is scaled so that the active-frame power ratio
    of target to interference equals the SIR (measured like
    :class:`NoiseMixer`).

    With ``drr_low``/``drr_high`` given, each talker is first convolved with
    its own room impulse response (aligned with :func:`~.rir.align_rir`,
    drawn like :class:`RoomReverb`: measured ``rirs`` or simulated ones with
    an RT60 in ``[rt60_low, rt60_high]``) whose direct-to-reverberant ratio
    is set (:func:`~.rir.set_drr`) to a value drawn per talker from
    ``[drr_low, drr_high]`` dB. Choosing DRRs below the target's makes the
    interferers sound farther from the microphone, so the target is the
    closest talker (as in the MAE universal speech enhancer pretraining),
    without permutation-invariant training.

    With the defaults (one talker, no DRR) the random draws, and hence the
    output for a given generator, are those of a single dry interferer.

    Arguments
    ---------
    speakers : tensor, path or list
        Interfering speech (see :class:`~.sources.AudioBank`).
    sir_low : float
        Lowest SIR in dB.
    sir_high : float
        Highest SIR in dB.
    sample_rate : int
        Rate of the audio.
    threshold_db : float
        Activity threshold for the power measurement.
    frame_ms : float
        Frame length of the power measurement, in milliseconds.
    replacements : dict, optional
        Placeholders for manifests.
    generator : torch.Generator, optional
        Default random generator.
    n_speakers_low : int
        Fewest interfering talkers per example (>= 1).
    n_speakers_high : int
        Most interfering talkers per example.
    drr_low : float, optional
        Lowest DRR in dB of the interferers' RIRs; ``None`` (with
        ``drr_high``) leaves the interferers dry.
    drr_high : float, optional
        Highest DRR in dB.
    rirs : tensor, path, list, or None
        Measured RIRs for the interferers (used only with a DRR range);
        ``None`` simulates them (:func:`~.rir.simulate_rir`).
    rt60_low : float
        Shortest simulated RT60 in seconds.
    rt60_high : float
        Longest simulated RT60 in seconds.
    max_rir_seconds : float
        RIRs are cut to this length after alignment.
    direct_ms : float
        Half-width of the direct-path window of the DRR, in milliseconds.

    Example
    -------
    >>> from speechbrain_masksr.augment.levels import measure_snr
    >>> target = torch.sin(torch.arange(4000.0) / 3).unsqueeze(0)
    >>> other = torch.sin(torch.arange(6000.0) / 7)
    >>> mix = InterferingSpeaker(other, 5, 5, sample_rate=8000)(target)
    >>> round(float(measure_snr(target, mix - target, frame_length=160)), 3)
    5.0
    >>> far = InterferingSpeaker(torch.randn(3, 6000), 5, 5, sample_rate=8000,
    ...                          n_speakers_low=2, n_speakers_high=3,
    ...                          drr_low=-6, drr_high=0)
    >>> mix = far(target, generator=torch.Generator().manual_seed(0))
    >>> round(float(measure_snr(target, mix - target, frame_length=160)), 3)
    5.0
    """

    def __init__(
        self,
        speakers,
        sir_low=0.0,
        sir_high=15.0,
        sample_rate=44100,
        threshold_db=40.0,
        frame_ms=20.0,
        replacements=None,
        generator=None,
        *,
        n_speakers_low=1,
        n_speakers_high=1,
        drr_low=None,
        drr_high=None,
        rirs=None,
        rt60_low=0.2,
        rt60_high=1.0,
        max_rir_seconds=2.0,
        direct_ms=2.5,
    ):
        super().__init__(generator)
        _check_range("sir", sir_low, sir_high)
        if speakers is None:
            raise ValueError("InterferingSpeaker needs speech clips (speakers)")
        _check_range("n_speakers", n_speakers_low, n_speakers_high)
        if int(n_speakers_low) != n_speakers_low or n_speakers_low < 1:
            raise ValueError(
                f"n_speakers_low must be an integer >= 1, got {n_speakers_low}"
            )
        if int(n_speakers_high) != n_speakers_high:
            raise ValueError(
                f"n_speakers_high must be an integer, got {n_speakers_high}"
            )
        if (drr_low is None) != (drr_high is None):
            raise ValueError("give both drr_low and drr_high, or neither")
        if drr_low is None and rirs is not None:
            raise ValueError(
                "rirs are only used for interferers with a DRR range: pass "
                "drr_low and drr_high"
            )
        self.sir_low, self.sir_high = float(sir_low), float(sir_high)
        self.n_speakers_low = int(n_speakers_low)
        self.n_speakers_high = int(n_speakers_high)
        self.sample_rate = int(sample_rate)
        self.bank = AudioBank(
            speakers, self.sample_rate, "speaker", replacements
        )
        self.threshold_db = float(threshold_db)
        self.frame_length = max(1, round(frame_ms * self.sample_rate / 1000))
        self.drr_low = self.drr_high = self.reverb = None
        self.direct_ms = float(direct_ms)
        if drr_low is not None:
            _check_range("drr", drr_low, drr_high)
            self.drr_low, self.drr_high = float(drr_low), float(drr_high)
            self.reverb = RoomReverb(
                rirs,
                self.sample_rate,
                rt60_low,
                rt60_high,
                max_rir_seconds,
                replacements,
            )

    def _excerpts(self, batch, time, generator):
        """Interferer excerpts ``[batch, slots, time]`` and slot mask."""
        if self.n_speakers_high == 1:
            other = self.bank.sample(batch, time, generator, tile=False)
            return other.unsqueeze(1), torch.ones(batch, 1, dtype=torch.bool)
        if self.n_speakers_low == self.n_speakers_high:
            counts = torch.full((batch,), self.n_speakers_low)
        else:
            counts = _randint(
                batch, self.n_speakers_low, self.n_speakers_high, generator
            )
        slots = int(counts.max())
        out = torch.zeros(batch, slots, time)
        used = length_mask(counts, slots)
        n_clips = len(self.bank)
        for row, count in enumerate(counts.tolist()):
            if count <= n_clips:
                picks = torch.randperm(n_clips, generator=generator)[:count]
                picks = picks.tolist()
            else:
                picks = self.bank.choose(count, generator)
            for slot, index in enumerate(picks):
                out[row, slot] = crop_or_pad(
                    self.bank.get(index), time, generator, tile=False
                )
        return out, used

    def _distort(self, wavs, num_samples, generator):
        batch, time = wavs.shape
        sir = _uniform(batch, self.sir_low, self.sir_high, generator)
        other, used = self._excerpts(batch, time, generator)
        other = other.to(wavs.device, wavs.dtype)
        if self.reverb is not None:
            rows, slots = used.nonzero(as_tuple=True)
            n = rows.numel()
            rirs = self.reverb.draw_rirs(n, generator)
            drr = _uniform(n, self.drr_low, self.drr_high, generator)
            rirs = set_drr(
                rirs, drr, self.sample_rate, self.direct_ms, direct_index=0
            )
            dev_rows, dev_slots = rows.to(wavs.device), slots.to(wavs.device)
            wet = fft_convolve(other[dev_rows, dev_slots], rirs, time)
            other = torch.zeros_like(other)
            other[dev_rows, dev_slots] = wet
        return _mix_at_ratio(
            wavs,
            other.sum(dim=1),
            num_samples,
            sir,
            self.frame_length,
            self.threshold_db,
        )


def _next_fast_len(n):
    return scipy.fft.next_fast_len(int(n), real=True)


def fft_convolve(wavs, kernels, length=None):
    """Batched linear convolution through the FFT, truncated to ``length``.

    Same values as ``torchaudio.functional.fftconvolve`` (tested), but the
    FFT is padded to a fast length (factors 2, 3, 5) instead of the exact
    ``time + taps - 1``: about 6x faster for 3 s at 44.1 kHz with a 0.5 s
    RIR (``benchmarks/fft_convolution.py``), and a single kernel ``[taps]``
    serves every row.

    Arguments
    ---------
    wavs : torch.Tensor
        Signals ``[batch, time]``.
    kernels : torch.Tensor
        Impulse responses ``[batch, taps]`` (or ``[taps]`` for all rows).
    length : int, optional
        Output length; default ``time`` (the first ``time`` samples of the
        full convolution, so a kernel with its peak at 0 keeps alignment).

    Returns
    -------
    torch.Tensor
        ``[batch, length]``.

    Example
    -------
    >>> fft_convolve(torch.tensor([[1.0, 2.0, 0.0]]), torch.tensor([1.0, 1.0]))
    tensor([[1., 3., 2.]])
    """
    time = wavs.shape[-1]
    length = time if length is None else int(length)
    n = _next_fast_len(time + kernels.shape[-1] - 1)
    spec = torch.fft.rfft(wavs, n=n) * torch.fft.rfft(
        kernels.to(wavs.device, wavs.dtype), n=n
    )
    return torch.fft.irfft(spec, n=n)[..., :length]


class RoomReverb(Distortion):
    """Convolve with a room impulse response, keeping the direct path aligned.

    Each RIR is shifted so its direct path (largest magnitude) is at index 0
    and scaled so that it is ``+1`` (:func:`~.rir.align_rir`): the output is
    the dry signal plus its reverberant tail, time-aligned with the dry
    target and at the same direct-sound level, cut to the input length.

    Arguments
    ---------
    rirs : tensor, path, list, or None
        Measured RIRs (see :class:`~.sources.AudioBank`). ``None`` draws a
        simulated RIR per example (:func:`~.rir.simulate_rir`) with an RT60
        uniform in ``[rt60_low, rt60_high]``.
    sample_rate : int
        Rate of the audio (RIR files are resampled to it).
    rt60_low : float
        Shortest simulated RT60 in seconds.
    rt60_high : float
        Longest simulated RT60 in seconds.
    max_rir_seconds : float
        RIRs are cut to this length after alignment.
    replacements : dict, optional
        Placeholders for manifests.
    generator : torch.Generator, optional
        Default random generator.

    Example
    -------
    >>> x = torch.zeros(1, 4000)
    >>> x[0, 100] = 1.0
    >>> y = RoomReverb(sample_rate=8000, rt60_low=0.3, rt60_high=0.3)(x)
    >>> int(y.abs().argmax()), float(y[0, 100])
    (100, 1.0)
    >>> bool(y[0, 200:].abs().sum() > 0)
    True
    """

    def __init__(
        self,
        rirs=None,
        sample_rate=44100,
        rt60_low=0.2,
        rt60_high=1.0,
        max_rir_seconds=2.0,
        replacements=None,
        generator=None,
    ):
        super().__init__(generator)
        _check_range("rt60", rt60_low, rt60_high)
        if rt60_low <= 0:
            raise ValueError(f"rt60_low must be > 0, got {rt60_low}")
        self.sample_rate = int(sample_rate)
        self.rt60_low, self.rt60_high = float(rt60_low), float(rt60_high)
        self.max_taps = max(1, int(round(max_rir_seconds * self.sample_rate)))
        self.bank = None
        if rirs is not None:
            self.bank = AudioBank(rirs, self.sample_rate, "RIR", replacements)

    def draw_rirs(self, batch, generator=None):
        """Draw ``batch`` aligned RIRs, zero-padded to a common length.

        Arguments
        ---------
        batch : int
            How many.
        generator : torch.Generator, optional
            Random generator.

        Returns
        -------
        torch.Tensor
            ``[batch, taps]``, each with ``rir[0] == 1``.

        Example
        -------
        >>> RoomReverb(sample_rate=8000).draw_rirs(2)[:, 0]
        tensor([1., 1.])
        """
        rirs = []
        if self.bank is None:
            rt60 = _uniform(batch, self.rt60_low, self.rt60_high, generator)
            for value in rt60.tolist():
                rir = simulate_rir(
                    self.sample_rate,
                    value,
                    direct_delay=0.0,
                    generator=generator,
                )
                rirs.append(align_rir(rir)[: self.max_taps])
        else:
            for index in self.bank.choose(batch, generator):
                rir = self.bank.get(index)
                try:
                    rir = align_rir(rir)
                except ValueError as err:
                    raise ValueError(
                        f"{self.bank.items[index]!r}: unusable RIR ({err})"
                    ) from err
                rirs.append(rir[: self.max_taps])
        taps = max(r.shape[0] for r in rirs)
        out = torch.zeros(batch, taps)
        for row, rir in enumerate(rirs):
            out[row, : rir.shape[0]] = rir
        return out

    def _distort(self, wavs, num_samples, generator):
        batch, time = wavs.shape
        rirs = self.draw_rirs(batch, generator)
        mask = length_mask(num_samples, time, wavs.device)
        dry = wavs * mask
        return fft_convolve(dry, rirs, time)


class Clip(Distortion):
    """Hard-clip each example at a random fraction of its own peak.

    Arguments
    ---------
    threshold_low : float
        Smallest threshold, as a fraction of the example's peak (in (0, 1]).
    threshold_high : float
        Largest threshold fraction.
    generator : torch.Generator, optional
        Default random generator.

    Example
    -------
    >>> clip = Clip(0.5, 0.5)
    >>> clip(torch.tensor([[0.0, 0.2, -1.0, 2.0]]))
    tensor([[ 0.0000,  0.2000, -1.0000,  1.0000]])
    """

    def __init__(self, threshold_low=0.1, threshold_high=0.5, generator=None):
        super().__init__(generator)
        _check_range("clip threshold", threshold_low, threshold_high)
        if threshold_low <= 0 or threshold_high > 1:
            raise ValueError(
                "clip thresholds are fractions of the peak in (0, 1], got "
                f"{threshold_low}, {threshold_high}"
            )
        self.threshold_low = float(threshold_low)
        self.threshold_high = float(threshold_high)

    def _distort(self, wavs, num_samples, generator):
        batch, time = wavs.shape
        ratio = _uniform(
            batch, self.threshold_low, self.threshold_high, generator
        )
        mask = length_mask(num_samples, time, wavs.device)
        peak = (wavs.abs() * mask).amax(dim=1)
        thr = (ratio.to(wavs.device) * peak.double()).to(wavs.dtype)
        thr = thr.unsqueeze(1)
        return torch.minimum(torch.maximum(wavs, -thr), thr)


@functools.lru_cache(maxsize=64)
def _analog_prototype(family, order):
    """Analog low-pass prototype (zeros, poles, gain) at 1 rad/s."""
    if family == "butter":
        return scipy.signal.buttap(order)
    if family == "cheby1":
        return scipy.signal.cheb1ap(order, 0.1)
    if family == "ellip":
        return scipy.signal.ellipap(order, 0.1, 60.0)
    if family == "bessel":
        return scipy.signal.besselap(order, norm="mag")
    raise ValueError(
        f"unknown IIR family {family!r}; use butter, cheby1, ellip or bessel"
    )


def _zpk_to_sos(zeros, poles, dc_gain):
    """Pair digital zeros/poles into second-order sections.

    Poles are taken from the one nearest the unit circle outwards and each
    gets the nearest remaining zeros (like ``scipy.signal.zpk2sos``); every
    section is normalised to unit gain at DC and ``dc_gain`` is applied to the
    first one. Sections are returned with the sharpest poles last.
    """
    zeros = list(zeros)
    sections = []
    for pole in sorted(
        (p for p in poles if p.imag >= 0), key=lambda p: -abs(p)
    ):
        is_pair = pole.imag > 1e-12
        need = 2 if is_pair else 1
        chosen = []
        while len(chosen) < need:
            j = min(range(len(zeros)), key=lambda i: abs(zeros[i] - pole))
            zero = zeros.pop(j)
            chosen.append(zero)
            if abs(zero.imag) > 1e-12 and len(chosen) < need:
                k = min(
                    range(len(zeros)),
                    key=lambda i: abs(zeros[i] - zero.conjugate()),
                )
                chosen.append(zeros.pop(k))
        if is_pair:
            a = np.real(np.poly([pole, pole.conjugate()]))
            b = np.real(np.poly(chosen))
        else:
            a = np.array([1.0, -pole.real, 0.0])
            b = np.array([1.0, -chosen[0].real, 0.0])
        b = b * (a.sum() / b.sum())
        sections.append(np.concatenate([b, a]))
    sos = np.array(sections[::-1])
    sos[0, :3] *= dc_gain
    return sos


def design_lowpass(family, order, cutoff, sample_rate):
    """Design an IIR low-pass filter in second-order sections.

    As in VoiceFixer: Chebyshev I with 0.1 dB ripple, elliptic with 0.1 dB
    ripple and 60 dB stop-band; the Bessel filter is normalised so its gain
    is −3 dB at ``cutoff`` (like the others). The transfer function equals
    ``scipy.signal.<family>(..., output="sos")``; the analog prototypes are
    cached and the bilinear transform and section pairing are done here,
    which is several times faster than scipy's generic design for the many
    random cutoffs of a training run. SOS form keeps high orders and low
    cutoffs numerically stable.

    Arguments
    ---------
    family : str
        One of ``butter``, ``cheby1``, ``ellip``, ``bessel``.
    order : int
        Filter order (>= 1).
    cutoff : float
        Cutoff in Hz, below ``sample_rate / 2``.
    sample_rate : int
        Sampling rate in Hz.

    Returns
    -------
    numpy.ndarray
        Second-order sections ``[ceil(order / 2), 6]``.

    Example
    -------
    >>> sos = design_lowpass("ellip", 8, 4000, 44100)
    >>> sos.shape
    (4, 6)
    >>> ref = scipy.signal.ellip(8, 0.1, 60, 4000, fs=44100, output="sos")
    >>> h = scipy.signal.sosfreqz(sos, 512)[1]
    >>> bool(np.allclose(h, scipy.signal.sosfreqz(ref, 512)[1], atol=1e-9))
    True
    """
    nyquist = sample_rate / 2.0
    if not 0 < cutoff < nyquist:
        raise ValueError(
            f"cutoff must be in (0, {nyquist}) Hz for sample_rate "
            f"{sample_rate}, got {cutoff}"
        )
    order = int(order)
    if order < 1:
        raise ValueError(f"filter order must be >= 1, got {order}")
    z, p, k = _analog_prototype(family, order)
    # pre-warped analog cutoff for the bilinear transform with fs = 2
    warped = 4.0 * math.tan(math.pi * cutoff / sample_rate)
    z, p, k = scipy.signal.lp2lp_zpk(z, p, k, wo=warped)
    z, p, k = scipy.signal.bilinear_zpk(z, p, k, fs=2.0)
    dc_gain = float(np.real(k * np.prod(1 - z) / np.prod(1 - p)))
    return _zpk_to_sos(z, p, dc_gain)


def _sosfiltfilt(sos, x):
    """Zero-phase SOS filtering of ``x[..., time]`` (numpy), short-safe."""
    n = x.shape[-1]
    if n < 2:
        return x
    zeros = min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    ntaps = 2 * len(sos) + 1 - zeros
    padlen = min(3 * ntaps, n - 1)
    return scipy.signal.sosfiltfilt(sos, x, axis=-1, padlen=padlen)


def lowpass(wavs, cutoff, sample_rate, family="butter", order=6, n_fft=2048):
    """Low-pass ``wavs`` at ``cutoff`` Hz with one filter family.

    ``butter``/``cheby1``/``ellip``/``bessel`` are zero-phase IIR filters
    (``scipy.signal.sosfiltfilt``), ``stft`` zeroes the STFT bins above the
    cutoff (Hann window, ``n_fft``, hop ``n_fft // 4``), and ``resample``
    resamples down to about ``2 * cutoff`` and back up (the rate ratio is
    rounded to a multiple of 1/200, i.e. a cutoff resolution of
    ``sample_rate / 400``). A cutoff at or above ``sample_rate / 2`` returns
    the input unchanged.

    Arguments
    ---------
    wavs : torch.Tensor
        Audio ``[..., time]``.
    cutoff : float
        Cutoff frequency in Hz.
    sample_rate : int
        Sampling rate in Hz.
    family : str
        One of :data:`FILTER_FAMILIES`.
    order : int
        IIR filter order (ignored by ``stft`` and ``resample``).
    n_fft : int
        FFT size of the ``stft`` family.

    Returns
    -------
    torch.Tensor
        Filtered audio, same shape, dtype and device.

    Example
    -------
    >>> t = torch.arange(8000) / 8000
    >>> x = torch.sin(2 * math.pi * 200 * t) + torch.sin(2 * math.pi * 3000 * t)
    >>> y = lowpass(x, 1000, 8000, "cheby1", order=8)
    >>> high = torch.sin(2 * math.pi * 3000 * t)
    >>> float((y * high).mean()) < 1e-3, float((y * x).mean()) > 0.45
    (True, True)
    """
    if family not in FILTER_FAMILIES:
        raise ValueError(
            f"unknown filter family {family!r}; choose from {FILTER_FAMILIES}"
        )
    nyquist = sample_rate / 2.0
    if cutoff >= nyquist:
        return wavs
    if cutoff <= 0:
        raise ValueError(f"cutoff must be > 0 Hz, got {cutoff}")
    time = wavs.shape[-1]
    if family == "stft":
        flat = wavs.reshape(-1, time)
        window = torch.hann_window(n_fft, device=wavs.device, dtype=wavs.dtype)
        spec = torch.stft(
            flat,
            n_fft,
            hop_length=n_fft // 4,
            window=window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        keep = int(math.floor(cutoff * n_fft / sample_rate)) + 1
        spec[:, keep:, :] = 0
        out = torch.istft(
            spec,
            n_fft,
            hop_length=n_fft // 4,
            window=window,
            center=True,
            length=time,
        )
        return out.reshape(wavs.shape)
    if family == "resample":
        denom = 200
        num = int(round(2.0 * cutoff / sample_rate * denom))
        if num >= denom:
            return wavs
        num = max(num, 1)
        low = torchaudio.functional.resample(wavs, denom, num)
        out = torchaudio.functional.resample(low, num, denom)
        if out.shape[-1] >= time:
            return out[..., :time]
        return torch.nn.functional.pad(out, (0, time - out.shape[-1]))
    sos = design_lowpass(family, order, cutoff, sample_rate)
    x = wavs.detach().cpu().double().numpy()
    y = _sosfiltfilt(sos, x)
    out = torch.from_numpy(np.ascontiguousarray(y))
    return out.to(wavs.device, wavs.dtype)


class BandLimit(Distortion):
    """Low-pass each example with a random cutoff, filter family and order.

    Per example: cutoff ~ U[``cutoff_low``, ``cutoff_high``] Hz, family
    uniform over ``filters``, order uniform in [``order_low``,
    ``order_high``] (see :func:`lowpass`). Cutoffs at or above Nyquist
    leave the example unchanged; ``cutoff_high`` above Nyquist is clamped to
    it.

    Arguments
    ---------
    cutoff_low : float
        Lowest cutoff in Hz.
    cutoff_high : float
        Highest cutoff in Hz.
    sample_rate : int
        Sampling rate.
    filters : str or sequence of str
        Filter families to draw from (:data:`FILTER_FAMILIES`).
    order_low : int
        Lowest IIR order.
    order_high : int
        Highest IIR order.
    n_fft : int
        FFT size of the ``stft`` family.
    generator : torch.Generator, optional
        Default random generator.

    Example
    -------
    >>> bl = BandLimit(1000, 1000, sample_rate=8000, filters="butter",
    ...                order_low=8, order_high=8)
    >>> t = torch.arange(8000) / 8000
    >>> y = bl(torch.sin(2 * math.pi * 3000 * t).unsqueeze(0))
    >>> float(y[0, 400:-400].abs().max()) < 1e-3  # away from the edges
    True
    """

    def __init__(
        self,
        cutoff_low=1000.0,
        cutoff_high=22050.0,
        sample_rate=44100,
        filters=FILTER_FAMILIES,
        order_low=2,
        order_high=10,
        n_fft=2048,
        generator=None,
    ):
        super().__init__(generator)
        self.sample_rate = int(sample_rate)
        nyquist = self.sample_rate / 2.0
        _check_range("cutoff", cutoff_low, cutoff_high)
        if not 0 < cutoff_low <= nyquist:
            raise ValueError(
                f"cutoff_low must be in (0, {nyquist}] Hz at sample_rate "
                f"{self.sample_rate}, got {cutoff_low}"
            )
        self.cutoff_low = float(cutoff_low)
        self.cutoff_high = min(float(cutoff_high), nyquist)
        if isinstance(filters, str):
            filters = (filters,)
        filters = tuple(filters)
        unknown = [f for f in filters if f not in FILTER_FAMILIES]
        if not filters or unknown:
            raise ValueError(
                f"unknown filter families {unknown or filters}; choose from "
                f"{FILTER_FAMILIES}"
            )
        self.filters = filters
        _check_range("order", order_low, order_high)
        if order_low < 1:
            raise ValueError(f"order_low must be >= 1, got {order_low}")
        self.order_low, self.order_high = int(order_low), int(order_high)
        self.n_fft = int(n_fft)

    def _distort(self, wavs, num_samples, generator):
        batch = wavs.shape[0]
        cutoff = _uniform(batch, self.cutoff_low, self.cutoff_high, generator)
        family = _randint(batch, 0, len(self.filters) - 1, generator)
        order = _randint(batch, self.order_low, self.order_high, generator)
        out = wavs.clone()
        for i in range(batch):
            n = int(num_samples[i])
            if n == 0:
                continue
            out[i, :n] = lowpass(
                wavs[i, :n],
                float(cutoff[i]),
                self.sample_rate,
                self.filters[int(family[i])],
                int(order[i]),
                self.n_fft,
            )
        return out
