"""A small synthetic corpus in the DNS Challenge layout, for demos and tests.

:func:`make_mini_corpus` writes, in seconds and without any download,

* clean speech from ``espeak-ng`` (several voices, pitches and speeds,
  short English sentences; espeak's 22.05 kHz output is resampled to the
  target rate and given a little envelope-following high-band "air" so the
  clips are full-band). Without ``espeak-ng`` it falls back, with a warning,
  to a speech-like signal: a voiced harmonic source with a moving pitch,
  time-varying formants, syllable-rate amplitude modulation and fricative
  noise bursts;
* noises: white, pink, brown, babble (other voices), mains hum, fan
  (modulated low-passed noise) and beeps;
* room impulse responses from :func:`speechbrain_masksr.augment.rir.simulate_rir`;
* a DNS-2020-style test set: ``synthetic/{no_reverb,with_reverb}/{clean,noisy}``
  with DNS file names (``clnsp3_pink_1_snr12_tl-24_fileid_3.wav`` and
  ``clean_fileid_3.wav``) and a few noisy-only ``real_recordings``.

As in DNS 2020, the ``with_reverb`` clean references are reverberant (the
noisy file is that reverberant speech plus noise). The signal processing is
the library's own (:mod:`speechbrain_masksr.augment`): coloured noise and
FFT band filters from :mod:`~speechbrain_masksr.augment.distortions`, noise
mixed at an SNR by :class:`~speechbrain_masksr.augment.NoiseMixer`,
reverberation by :class:`~speechbrain_masksr.augment.RoomReverb`, SNRs and
file levels measured on active frames by
:func:`~speechbrain_masksr.augment.levels.active_power` (20 ms frames, as
the DNS mixer's segmental levels). Everything is deterministic given
``seed``: the same call writes identical files. The layout is what
``recipes/DNS/dns_prepare.py`` reads::

    <out>/datasets/clean/*.wav
    <out>/datasets/noise/*.wav
    <out>/datasets/impulse_responses/*.wav
    <out>/datasets/test_set/synthetic/{no_reverb,with_reverb}/{clean,noisy}/
    <out>/datasets/test_set/real_recordings/*.wav
    <out>/mini_corpus.json       (options and file list; reused if unchanged)

This is a tool for the demo and the tests, not part of the library. Tests
import it as ``mini_corpus`` (``tools/`` is on pytest's ``pythonpath``).

Command line::

    python tools/mini_corpus.py demo_data --n-speech 12

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import io
import json
import logging
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile
import torch
from speechbrain.utils.logger import get_logger

from speechbrain_masksr.augment.distortions import (
    NoiseMixer,
    RoomReverb,
    coloured_noise,
    lowpass,
)
from speechbrain_masksr.augment.levels import active_power
from speechbrain_masksr.augment.rir import simulate_rir
from speechbrain_masksr.dataio import resample, save_audio

logger = get_logger(__name__)

ESPEAK = "espeak-ng"
ESPEAK_RATE = 22050
MARKER = "mini_corpus.json"

SENTENCES = (
    "The kettle was still warm when we came back home.",
    "Bring the blue folder to the second meeting room.",
    "A small dog barked at the passing bicycles.",
    "We need three more chairs for the evening class.",
    "The rain stopped just before the train arrived.",
    "Please write your name at the top of the page.",
    "Her garden is full of tomatoes and tall sunflowers.",
    "The old bridge was closed for repairs last week.",
    "He forgot his umbrella on the bus again.",
    "Our neighbours painted their front door bright red.",
    "The library opens at nine on Saturday mornings.",
    "Turn left after the bakery and walk to the river.",
    "She played a quiet song on the piano.",
    "The soup needs a little more salt and pepper.",
    "Five children were waiting at the school gate.",
    "Can you check whether the window is locked?",
    "The museum shows paintings from many countries.",
    "A cold wind blew across the empty market square.",
    "My brother fixed the radio with a tiny screwdriver.",
    "The cat slept all afternoon in a patch of sunlight.",
    "We watched the boats sail slowly out of the harbour.",
    "The teacher asked everyone to speak a bit louder.",
    "Fresh bread smells wonderful early in the morning.",
    "They planted seven apple trees behind the barn.",
    "Keep the receipt in case the shoes do not fit.",
    "The phone rang twice and then it was silent.",
    "A yellow kite was stuck high in the oak tree.",
    "Thank you for coming to the concert tonight.",
    "The path along the cliff is narrow and steep.",
    "He measured the table before buying the cloth.",
)

# (espeak voice, variant, pitch 0-99, words per minute)
SPEAKERS = (
    ("en-us", "m3", 40, 165),
    ("en-gb", "f3", 65, 155),
    ("en-gb-scotland", "m1", 35, 150),
    ("en-us", "f2", 70, 175),
    ("en-029", "m7", 45, 160),
    ("en-gb-x-rp", "f4", 60, 170),
    ("en-us-nyc", "m2", 50, 180),
    ("en-gb", "f1", 75, 150),
)

NOISE_KINDS = ("white", "pink", "brown", "babble", "hum", "fan", "beeps")

# (F1, F2, F3) in Hz of a few vowels, used by the fallback speech.
VOWELS = (
    (730, 1090, 2440),
    (530, 1840, 2480),
    (270, 2290, 3010),
    (570, 840, 2410),
    (300, 870, 2240),
    (660, 1720, 2410),
    (490, 1350, 1690),
)


def espeak_available():
    """Tell whether the ``espeak-ng`` program can be found.

    Returns
    -------
    bool
        True if ``espeak-ng`` is on the ``PATH``.

    Example
    -------
    >>> isinstance(espeak_available(), bool)
    True
    """
    return shutil.which(ESPEAK) is not None


def espeak_speech(text, voice="en-us", pitch=50, speed=160, sample_rate=None):
    """Synthesise a sentence with ``espeak-ng``.

    Arguments
    ---------
    text : str
        The sentence.
    voice : str
        espeak voice, optionally with a variant (``"en-gb+f3"``).
    pitch : int
        espeak pitch (0-99).
    speed : int
        Words per minute.
    sample_rate : int, optional
        Resample espeak's 22.05 kHz output to this rate.

    Returns
    -------
    torch.Tensor
        Speech ``[time]`` (float32).

    Raises
    ------
    RuntimeError
        If ``espeak-ng`` is missing or fails.

    Example
    -------
    >>> if espeak_available():
    ...     wav = espeak_speech("Hello there.", sample_rate=16000)
    ...     assert wav.abs().max() > 0.1
    """
    if not espeak_available():
        raise RuntimeError(f"{ESPEAK} is not installed")
    cmd = [ESPEAK, "-v", voice, "-p", str(int(pitch)), "-s", str(int(speed))]
    try:
        out = subprocess.run(
            cmd + ["--stdout", text],
            capture_output=True,
            check=True,
            timeout=60,
        )
        wav, sr = soundfile.read(io.BytesIO(out.stdout), dtype="float32")
    except (subprocess.SubprocessError, OSError, RuntimeError) as err:
        raise RuntimeError(f"{ESPEAK} failed for voice {voice}: {err}") from err
    wav = torch.from_numpy(np.ascontiguousarray(wav))
    if wav.dim() > 1:
        wav = wav.mean(dim=-1)
    if sample_rate is not None:
        wav = resample(wav, sr, sample_rate)
    return wav


def _band(x, sample_rate, low, high):
    """Keep the ``[low, high]`` Hz band of a 1-D signal.

    Differences of the library's STFT low-pass
    (:func:`~speechbrain_masksr.augment.distortions.lowpass`, ``"stft"``):
    ``low <= 0`` is a low-pass, ``high >= sample_rate / 2`` a high-pass.
    Takes and returns a float64 numpy array.
    """
    x = torch.as_tensor(x, dtype=torch.float64)
    out = lowpass(x, high, sample_rate, "stft")
    if low > 0:
        out = out - lowpass(x, low, sample_rate, "stft")
    return out.numpy()


def _frame_envelope(x, hop):
    """RMS envelope of a 1-D signal, per hop, interpolated back to samples."""
    n = len(x)
    n_frames = max(1, int(math.ceil(n / hop)))
    padded = np.zeros(n_frames * hop)
    padded[:n] = x
    rms = np.sqrt((padded.reshape(n_frames, hop) ** 2).mean(axis=1) + 1e-12)
    centers = (np.arange(n_frames) + 0.5) * hop
    return np.interp(np.arange(n), centers, rms)


def add_air(wav, sample_rate, rng, level_db=-22.0, source_rate=ESPEAK_RATE):
    """Add envelope-following noise above ``source_rate / 2`` (full band).

    Speech synthesised at 22.05 kHz has nothing above 11 kHz once
    resampled. This adds high-band noise whose envelope follows the
    signal's 4-11 kHz band (fricatives), so the clips are full-band.

    Arguments
    ---------
    wav : torch.Tensor
        Speech ``[time]`` at ``sample_rate``.
    sample_rate : int
        Rate of ``wav``.
    rng : numpy.random.Generator
        Random generator.
    level_db : float
        Level of the added band relative to the 4-11 kHz band.
    source_rate : int
        Rate the speech was synthesised at.

    Returns
    -------
    torch.Tensor
        ``[time]``; unchanged if ``sample_rate <= source_rate``.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> x = torch.randn(44100) * 0.1
    >>> y = add_air(x, 44100, rng)
    >>> air = (y - x) * torch.hann_window(44100, periodic=False)
    >>> power = torch.fft.rfft(air).abs() ** 2  # 1 Hz bins
    >>> bool(power[:10000].sum() < 1e-4 * power.sum())
    True
    """
    if sample_rate <= source_rate:
        return wav
    x = wav.double().numpy()
    nyq = source_rate / 2
    band = _band(x, sample_rate, 4000.0, nyq)
    env = _frame_envelope(band, max(1, sample_rate // 100))
    noise = _band(rng.standard_normal(len(x)), sample_rate, nyq, 1e9)
    noise /= np.sqrt((noise**2).mean()) + 1e-12
    air = noise * env * 10.0 ** (level_db / 20.0)
    return torch.from_numpy(x + air).float()


def synthetic_speech(duration, sample_rate, rng, f0=120.0):
    """Speech-like signal: harmonic source, moving formants, syllables.

    A glottal-like harmonic source (pitch ``f0`` with declination and
    per-syllable accents) is shaped by three formants that move from vowel
    to vowel, gated by a syllable-rate (about 4 Hz) envelope with pauses;
    some syllables start with a high-passed noise burst (fricatives). This
    is the fallback when ``espeak-ng`` is not installed.

    Arguments
    ---------
    duration : float
        Length in seconds.
    sample_rate : int
        Sampling rate.
    rng : numpy.random.Generator
        Random generator (the only source of randomness).
    f0 : float
        Mean pitch in Hz.

    Returns
    -------
    torch.Tensor
        ``[round(duration * sample_rate)]``, peak 0.5.

    Example
    -------
    >>> x = synthetic_speech(1.0, 16000, np.random.default_rng(0))
    >>> x.shape, round(float(x.abs().max()), 3)
    (torch.Size([16000]), 0.5)
    >>> y = synthetic_speech(1.0, 16000, np.random.default_rng(0))
    >>> bool(torch.equal(x, y))
    True
    """
    n = int(round(duration * sample_rate))
    hop = sample_rate / 100.0  # 10 ms control frames
    n_frames = int(n / hop) + 2
    # syllable timeline: (start frame, length in frames, vowel, fricative)
    gate = np.zeros(n_frames)
    formants = np.zeros((n_frames, 3))
    accent = np.zeros(n_frames)
    fric = np.zeros(n_frames)
    pos = int(rng.integers(2, 10))
    vowel = VOWELS[int(rng.integers(len(VOWELS)))]
    formants[:] = vowel
    while pos < n_frames:
        length = int(rng.integers(12, 30))
        end = min(pos + length, n_frames)
        nxt = VOWELS[int(rng.integers(len(VOWELS)))]
        t = np.linspace(0.0, 1.0, end - pos)
        for i in range(3):  # glide from the previous vowel to the next
            formants[pos:end, i] = vowel[i] + (nxt[i] - vowel[i]) * np.minimum(
                1.0, 3 * t
            )
        gate[pos:end] = np.sin(np.pi * t) ** 0.7
        accent[pos:end] = rng.uniform(-0.08, 0.15) * np.sin(np.pi * t)
        if rng.random() < 0.4:
            k = min(end, pos + int(rng.integers(4, 9)))
            fric[pos:k] = np.hanning(k - pos + 2)[1:-1]
            gate[pos:k] *= 0.2
        formants[end:] = nxt
        vowel = nxt
        pos = end
        if rng.random() < 0.25:  # word pause
            pos += int(rng.integers(8, 25))
    gate *= (rng.random() * 0.3 + 0.7) * (1 + 0.1 * np.sin(np.arange(n_frames)))
    # voiced part at <= 16 kHz (harmonics below 7.2 kHz), then resampled
    vr = min(sample_rate, 16000)
    n_v = int(round(duration * vr))
    hop_v = vr / 100.0
    tv_frames = np.arange(n_frames) * hop_v
    tv = np.arange(n_v)
    decl = np.linspace(1.1, 0.9, n_v)
    f0_t = f0 * decl * (1 + np.interp(tv, tv_frames, accent))
    f0_t *= 1 + 0.01 * np.sin(2 * np.pi * 5.5 * tv / vr)
    phase = 2 * np.pi * np.cumsum(f0_t) / vr
    max_h = int(0.45 * vr // (f0 * 0.8))
    # harmonic amplitudes at the control rate, interpolated per harmonic
    f0_frames = np.interp(tv_frames, tv, f0_t)
    bws = np.array([90.0, 120.0, 170.0])
    gains = np.array([1.0, 0.6, 0.3])
    harm = np.arange(1, max_h + 1)[:, None]  # [H, 1]
    freq = harm * f0_frames[None, :]  # [H, frames]
    amp = np.zeros_like(freq)
    for i in range(3):
        amp += gains[i] * np.exp(
            -0.5 * ((freq - formants[None, :, i]) / bws[i]) ** 2
        )
    amp = (amp + 0.01) / harm**0.6
    amp[freq > 0.45 * vr] = 0.0
    voiced = np.zeros(n_v)
    for h in range(max_h):
        voiced += np.interp(tv, tv_frames, amp[h]) * np.sin((h + 1) * phase)
    voiced *= np.interp(tv, tv_frames, gate)
    voiced = resample(torch.from_numpy(voiced), vr, sample_rate).numpy()
    voiced = np.pad(voiced[:n], (0, max(0, n - len(voiced))))
    t_frames = np.arange(n_frames) * hop
    t = np.arange(n)
    noise = _band(rng.standard_normal(n), sample_rate, 2500.0, 1e9)
    noise *= np.interp(t, t_frames, fric)
    out = voiced / (np.abs(voiced).max() + 1e-9) + 0.4 * noise
    out = out / (np.abs(out).max() + 1e-9) * 0.5
    return torch.from_numpy(out).float()


def _coloured(n, exponent, rng):
    """Unit-RMS ``1 / f**exponent`` noise ``[n]`` (numpy) from ``rng``.

    The library's :func:`~speechbrain_masksr.augment.distortions.coloured_noise`
    with a torch generator seeded from ``rng``.
    """
    gen = _torch_generator(rng)
    return coloured_noise(1, n, exponent, exponent, gen)[0].double().numpy()


def _torch_generator(rng):
    """A ``torch.Generator`` seeded from the numpy generator ``rng``."""
    return torch.Generator().manual_seed(int(rng.integers(2**31)))


class _SpeechSource:
    """Makes speech clips with espeak-ng or the synthetic fallback."""

    def __init__(self, sample_rate, use_espeak):
        self.sample_rate = sample_rate
        self.use_espeak = use_espeak
        self.backend = "espeak-ng" if use_espeak else "synthetic"

    def clip(self, duration, rng, speaker, air=True):
        """A clip of ``duration`` s for speaker index ``speaker``."""
        sr = self.sample_rate
        n = int(round(duration * sr))
        voice, variant, pitch, speed = SPEAKERS[speaker % len(SPEAKERS)]
        if not self.use_espeak:
            f0 = (170.0 if variant.startswith("f") else 95.0) + 0.8 * pitch
            wav = synthetic_speech(duration, sr, rng, f0=f0)
        else:
            # assemble at espeak's rate, resample once
            n_src = int(math.ceil(duration * ESPEAK_RATE)) + 1
            lead = int(rng.integers(0, int(0.2 * ESPEAK_RATE)))
            pieces, total = [np.zeros(lead, dtype=np.float32)], lead
            while total < n_src:
                text = SENTENCES[int(rng.integers(len(SENTENCES)))]
                pitch_j = int(np.clip(pitch + rng.integers(-8, 9), 0, 99))
                speed_j = int(speed + rng.integers(-15, 16))
                wav = _trim(
                    espeak_speech(text, f"{voice}+{variant}", pitch_j, speed_j)
                )
                gap = int(rng.uniform(0.1, 0.35) * ESPEAK_RATE)
                pieces += [wav, np.zeros(gap, dtype=np.float32)]
                total += len(wav) + gap
            wav = torch.from_numpy(np.concatenate(pieces)[:n_src])
            wav = resample(wav, ESPEAK_RATE, sr)[:n]
            if len(wav) < n:
                wav = torch.nn.functional.pad(wav, (0, n - len(wav)))
            if air:
                wav = add_air(wav, sr, rng)
        return _fade(wav, sr)

    def babble_voice(self, duration, rng, speaker):
        """A clip for babble noise (no high-band air)."""
        return self.clip(duration, rng, speaker, air=False)


def _trim(wav, threshold=1e-3):
    """Drop leading and trailing near-silence; returns a numpy array."""
    x = wav.numpy()
    idx = np.flatnonzero(np.abs(x) > threshold)
    if len(idx) == 0:
        return x
    return x[idx[0] : idx[-1] + 1]


def _fade(wav, sample_rate, seconds=0.01):
    """10 ms fade-in and fade-out."""
    k = min(len(wav) // 2, int(seconds * sample_rate))
    if k > 0:
        ramp = torch.linspace(0.0, 1.0, k)
        wav = wav.clone()
        wav[:k] *= ramp
        wav[-k:] *= ramp.flip(0)
    return wav


def _level_db(wav, sample_rate):
    """Active level of ``wav[time]`` in dBFS (library ``active_power``)."""
    frame = max(1, round(0.02 * sample_rate))
    power = float(active_power(wav.unsqueeze(0), frame_length=frame)[0])
    return 10.0 * math.log10(max(power, 1e-18))


def _set_level_db(wav, sample_rate, level_db, max_peak=0.99):
    """Scale to an active level in dBFS, lowered if the peak passes 0.99."""
    gain = 10.0 ** ((level_db - _level_db(wav, sample_rate)) / 20.0)
    wav = wav * gain
    peak = float(wav.abs().max())
    return wav * (max_peak / peak) if peak > max_peak else wav


def make_noise(kind, duration, sample_rate, rng, speech=None):
    """Generate one noise clip.

    Arguments
    ---------
    kind : str
        One of ``NOISE_KINDS``: ``white``, ``pink``, ``brown``, ``babble``,
        ``hum``, ``fan``, ``beeps``.
    duration : float
        Length in seconds.
    sample_rate : int
        Sampling rate.
    rng : numpy.random.Generator
        Random generator.
    speech : callable, optional
        ``speech(duration, rng, speaker_index) -> Tensor[time]`` used for
        babble (default: the synthetic speech-like signal).

    Returns
    -------
    torch.Tensor
        ``[round(duration * sample_rate)]`` at an active level of -25 dBFS.

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> hum = make_noise("hum", 1.0, 8000, rng)
    >>> spec = torch.fft.rfft(hum).abs()
    >>> int(spec.argmax()) in (50, 60)
    True
    """
    n = int(round(duration * sample_rate))
    t = np.arange(n) / sample_rate
    if kind in ("white", "pink", "brown"):
        x = _coloured(n, {"white": 0, "pink": 1, "brown": 2}[kind], rng)
    elif kind == "babble":
        if speech is None:

            def speech(d, r, s):
                return synthetic_speech(d, sample_rate, r, 100.0 + 40 * s)

        x = np.zeros(n)
        for k in range(int(rng.integers(3, 5))):
            x += speech(duration, rng, k + int(rng.integers(100))).numpy()
    elif kind == "hum":
        base = 50.0 if rng.random() < 0.5 else 60.0
        x = sum(
            np.sin(2 * np.pi * base * h * t + rng.uniform(0, 2 * np.pi)) / h
            for h in range(1, 8)
        )
        x = x + 0.05 * _coloured(n, 0, rng)
    elif kind == "fan":
        x = _band(_coloured(n, 1, rng), sample_rate, 0, 1500.0)
        x *= 1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.5, 3.0) * t)
    elif kind == "beeps":
        freq = rng.uniform(600.0, 3000.0)
        on = (np.sin(2 * np.pi * rng.uniform(1.0, 4.0) * t) > 0.3).astype(float)
        x = np.sin(2 * np.pi * freq * t) * on + 0.02 * _coloured(n, 0, rng)
    else:
        raise ValueError(f"unknown noise kind {kind!r}; use {NOISE_KINDS}")
    wav = _fade(torch.as_tensor(x).float(), sample_rate)
    return _set_level_db(wav, sample_rate, -25.0)


def mix_at_snr(speech, noise, snr_db, sample_rate, rng):
    """Add ``noise`` to ``speech`` at an SNR, with the library's mixer.

    :class:`~speechbrain_masksr.augment.NoiseMixer` (powers of speech and
    noise measured on their active 20 ms frames; a random excerpt of the
    noise, looped if short).

    Arguments
    ---------
    speech : torch.Tensor
        ``[time]``.
    noise : torch.Tensor
        ``[time2]`` (any length > 0).
    snr_db : float
        Speech-to-noise ratio in dB.
    sample_rate : int
        Sampling rate.
    rng : numpy.random.Generator
        Random generator (the noise offset).

    Returns
    -------
    torch.Tensor
        ``speech + scaled noise``, ``[time]``.

    Example
    -------
    >>> from speechbrain_masksr.augment.levels import measure_snr
    >>> s, n = torch.ones(1000), torch.randn(300)
    >>> mix = mix_at_snr(s, n, 10.0, 8000, np.random.default_rng(0))
    >>> round(float(measure_snr(s[None], (mix - s)[None], frame_length=160)), 3)
    10.0
    """
    mixer = NoiseMixer(noise, snr_db, snr_db, sample_rate)
    return mixer(speech, generator=_torch_generator(rng))


def reverberate(speech, rt60, sample_rate, rng):
    """Reverberate speech in a simulated room, keeping length and timing.

    :class:`~speechbrain_masksr.augment.RoomReverb` with a simulated RIR of
    reverberation time ``rt60``: the direct path stays aligned with, and at
    the level of, the dry speech.

    Arguments
    ---------
    speech : torch.Tensor
        ``[time]``.
    rt60 : float
        Reverberation time in seconds.
    sample_rate : int
        Sampling rate.
    rng : numpy.random.Generator
        Random generator (the RIR).

    Returns
    -------
    torch.Tensor
        ``[time]``.

    Example
    -------
    >>> x = torch.zeros(4000)
    >>> x[100] = 1.0
    >>> y = reverberate(x, 0.3, 8000, np.random.default_rng(0))
    >>> int(y.abs().argmax()), round(float(y[100]), 4), y.shape
    (100, 1.0, torch.Size([4000]))
    """
    room = RoomReverb(None, sample_rate, rt60, rt60)
    return room(speech, generator=_torch_generator(rng))


def _rng(seed, *key):
    """Independent generator for one (seed, category, index) stream."""
    return np.random.default_rng([int(seed), *[int(k) for k in key]])


def _scale_pair(noisy, clean, target_db, sample_rate):
    """Scale noisy to a ``target_db`` active level (clean by the same gain).

    The gain is lowered if either peak would pass 0.99.
    """
    gain = 10.0 ** ((target_db - _level_db(noisy, sample_rate)) / 20.0)
    peak = float(max(noisy.abs().max(), clean.abs().max())) * gain
    if peak > 0.99:
        gain *= 0.99 / peak
    return noisy * gain, clean * gain


def make_mini_corpus(
    out_dir,
    n_speech=12,
    n_noise=6,
    n_rir=4,
    n_test=4,
    n_real=2,
    sample_rate=44100,
    min_duration=3.0,
    max_duration=5.0,
    seed=0,
    with_test_set=True,
    use_espeak=None,
    n_clean=None,
):
    """Write a small DNS-layout corpus (see the module docstring).

    Arguments
    ---------
    out_dir : str or Path
        Output root (``prepare_dns(out_dir, ...)`` reads it).
    n_speech : int
        Number of clean speech clips (``datasets/clean``).
    n_noise : int
        Number of noise clips (``datasets/noise``), cycling through
        ``NOISE_KINDS``.
    n_rir : int
        Number of simulated RIRs (``datasets/impulse_responses``), RT60
        between 0.2 and 0.9 s.
    n_test : int
        Number of test files per synthetic condition.
    n_real : int
        Number of noisy-only files in ``test_set/real_recordings``.
    sample_rate : int
        Sampling rate of every file.
    min_duration, max_duration : float
        Range of the clip durations in seconds (default 3-5 s, so that the
        3 s training crop of ``hparams/masksr.yaml`` keeps every clip).
    seed : int
        Seed; the same seed gives identical files.
    with_test_set : bool
        Write ``datasets/test_set``.
    use_espeak : bool or None
        ``None``: espeak-ng if installed, else the synthetic fallback (with
        a warning); ``True``: require espeak-ng; ``False``: synthetic speech.
    n_clean : int, optional
        Alias of ``n_speech``.

    Returns
    -------
    dict
        ``{"data_folder", "speech_backend" ("espeak-ng" or "synthetic"),
        "sample_rate", "files": {"clean", "noise", "rir", "test"}}`` with
        file lists relative to ``data_folder``.

    Raises
    ------
    RuntimeError
        If ``use_espeak=True`` and espeak-ng is not installed.
    FileExistsError
        If ``out_dir/datasets`` exists but was not made by this function.

    Example
    -------
    >>> out = make_mini_corpus(getfixture("tmpdir") / "mini", n_speech=2,
    ...     n_noise=1, n_rir=1, n_test=1, n_real=0, sample_rate=16000,
    ...     min_duration=0.5, max_duration=0.6, use_espeak=False)
    >>> out["speech_backend"], len(out["files"]["clean"])
    ('synthetic', 2)
    >>> sorted(out["files"]["test"])[0]
    'datasets/test_set/synthetic/no_reverb/clean/clean_fileid_0.wav'
    """
    if n_clean is not None:
        n_speech = n_clean
    if not 0 < min_duration <= max_duration:
        raise ValueError(
            f"need 0 < min_duration <= max_duration, got {min_duration}, "
            f"{max_duration}"
        )
    if use_espeak is None:
        use_espeak = espeak_available()
        if not use_espeak:
            logger.warning(
                "%s not found: the mini corpus uses synthetic speech-like "
                "signals instead (install espeak-ng for real speech)",
                ESPEAK,
            )
    elif use_espeak and not espeak_available():
        raise RuntimeError(
            f"use_espeak=True but {ESPEAK} is not installed "
            "(apt-get install espeak-ng)"
        )
    out_dir = Path(out_dir)
    options = {
        "n_speech": n_speech,
        "n_noise": n_noise,
        "n_rir": n_rir,
        "n_test": n_test if with_test_set else 0,
        "n_real": n_real if with_test_set else 0,
        "sample_rate": sample_rate,
        "min_duration": min_duration,
        "max_duration": max_duration,
        "seed": seed,
        "speech_backend": "espeak-ng" if use_espeak else "synthetic",
    }
    marker = out_dir / MARKER
    datasets = out_dir / "datasets"
    if marker.is_file():
        with open(marker, encoding="utf-8") as fin:
            saved = json.load(fin)
        files = [f for group in saved["files"].values() for f in group]
        if saved.get("options") == options and all(
            (out_dir / f).is_file() for f in files
        ):
            logger.info("Mini corpus in %s is up to date", out_dir)
            return _result(out_dir, saved)
        shutil.rmtree(datasets, ignore_errors=True)  # ours: regenerate
    elif datasets.exists() and any(datasets.iterdir()):
        raise FileExistsError(
            f"{datasets} exists and was not made by make_mini_corpus "
            f"(no {MARKER}); choose another out_dir"
        )

    # tiny tensors: one thread avoids pool overhead on busy machines
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        files = _generate(out_dir, options, use_espeak, with_test_set)
    finally:
        torch.set_num_threads(n_threads)
    saved = {"options": options, "files": files}
    marker.parent.mkdir(parents=True, exist_ok=True)
    with open(marker, "w", encoding="utf-8") as fout:
        json.dump(saved, fout, indent=2)
    logger.info(
        "Mini corpus written to %s (%s speech, %d files)",
        out_dir,
        options["speech_backend"],
        sum(len(v) for v in files.values()),
    )
    return _result(out_dir, saved)


def _generate(out_dir, options, use_espeak, with_test_set):
    """Write every file; returns ``{group: [relative paths]}``."""
    sr = options["sample_rate"]
    seed = options["seed"]
    min_duration = options["min_duration"]
    max_duration = options["max_duration"]
    source = _SpeechSource(sr, use_espeak)

    def duration(rng):
        return float(rng.uniform(min_duration, max_duration))

    files = {"clean": [], "noise": [], "rir": [], "test": []}

    def write(group, rel, wav):
        save_audio(str(out_dir / rel), wav, sr)
        files[group].append(rel)

    for k in range(options["n_speech"]):
        rng = _rng(seed, 1, k)
        spk = k % len(SPEAKERS)
        wav = source.clip(duration(rng), rng, spk)
        wav = _set_level_db(wav, sr, float(rng.uniform(-30.0, -20.0)))
        write("clean", f"datasets/clean/mini_spk{spk}_utt{k:04d}.wav", wav)

    for k in range(options["n_noise"]):
        rng = _rng(seed, 2, k)
        kind = NOISE_KINDS[k % len(NOISE_KINDS)]
        wav = make_noise(kind, max_duration + 1.0, sr, rng, source.babble_voice)
        write("noise", f"datasets/noise/mini_{kind}_{k:04d}.wav", wav)

    for k in range(options["n_rir"]):
        rng = _rng(seed, 3, k)
        rt60 = float(rng.uniform(0.2, 0.9))
        rir = simulate_rir(sr, rt60, generator=_torch_generator(rng))
        name = f"mini_rir_{k:04d}_rt60_{rt60:.2f}.wav"
        write("rir", f"datasets/impulse_responses/{name}", rir)

    if with_test_set:
        _write_test_set(
            source,
            write,
            sr,
            seed,
            options["n_test"],
            options["n_real"],
            duration,
        )
    return files


def _write_test_set(source, write, sr, seed, n_test, n_real, duration):
    """Write the DNS-2020-style synthetic and real-recording test files."""
    root = "datasets/test_set"
    for c, cond in enumerate(("no_reverb", "with_reverb")):
        for fileid in range(n_test):
            rng = _rng(seed, 4, c, fileid)
            spk = int(rng.integers(len(SPEAKERS)))
            clean = source.clip(duration(rng), rng, spk)
            if cond == "with_reverb":
                rt60 = float(rng.uniform(0.3, 1.0))
                clean = reverberate(clean, rt60, sr, rng)
            j = int(rng.integers(len(NOISE_KINDS)))
            kind = NOISE_KINDS[j]
            noise = make_noise(
                kind, len(clean) / sr, sr, rng, source.babble_voice
            )
            snr = int(rng.integers(0, 21))
            level = int(rng.integers(-35, -14))
            noisy, clean = _scale_pair(
                mix_at_snr(clean, noise, snr, sr, rng), clean, level, sr
            )
            base = f"{root}/synthetic/{cond}"
            name = (
                f"clnsp{spk}_{kind}_{j}_snr{snr}_tl{level}_fileid_{fileid}.wav"
            )
            write("test", f"{base}/clean/clean_fileid_{fileid}.wav", clean)
            write("test", f"{base}/noisy/{name}", noisy)
    for k in range(n_real):
        rng = _rng(seed, 5, k)
        clean = source.clip(
            duration(rng), rng, int(rng.integers(len(SPEAKERS)))
        )
        clean = reverberate(clean, 0.4, sr, rng)
        kind = NOISE_KINDS[k % len(NOISE_KINDS)]
        noise = make_noise(kind, len(clean) / sr, sr, rng, source.babble_voice)
        snr = float(rng.uniform(0.0, 15.0))
        noisy = mix_at_snr(clean, noise, snr, sr, rng)
        noisy, _ = _scale_pair(noisy, clean, -26.0, sr)
        write(
            "test", f"{root}/real_recordings/mini_realrec_{kind}_{k}.wav", noisy
        )


def _result(out_dir, saved):
    return {
        "data_folder": str(out_dir),
        "speech_backend": saved["options"]["speech_backend"],
        "sample_rate": saved["options"]["sample_rate"],
        "files": saved["files"],
    }


def main(argv=None):
    """Command-line entry point.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.

    Example
    -------
    >>> out = str(getfixture("tmpdir") / "cli")
    >>> main([out, "--n-speech", "1", "--n-noise", "1", "--n-rir", "1",
    ...       "--no-test-set", "--sample-rate", "8000", "--min-duration",
    ...       "0.2", "--max-duration", "0.3", "--synthetic-speech"])
    /...cli: 3 files (synthetic)
    0
    """
    parser = argparse.ArgumentParser(
        description="Write a small DNS-layout corpus (espeak-ng speech, "
        "generated noise, simulated RIRs, DNS-style test set)."
    )
    parser.add_argument("out_dir")
    parser.add_argument("--n-speech", type=int, default=12)
    parser.add_argument("--n-noise", type=int, default=6)
    parser.add_argument("--n-rir", type=int, default=4)
    parser.add_argument("--n-test", type=int, default=4)
    parser.add_argument("--n-real", type=int, default=2)
    parser.add_argument("--sample-rate", type=int, default=44100)
    parser.add_argument("--min-duration", type=float, default=3.0)
    parser.add_argument("--max-duration", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-test-set", action="store_true")
    parser.add_argument(
        "--synthetic-speech",
        action="store_true",
        help="use the speech-like fallback even if espeak-ng is installed",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        out = make_mini_corpus(
            args.out_dir,
            n_speech=args.n_speech,
            n_noise=args.n_noise,
            n_rir=args.n_rir,
            n_test=args.n_test,
            n_real=args.n_real,
            sample_rate=args.sample_rate,
            min_duration=args.min_duration,
            max_duration=args.max_duration,
            seed=args.seed,
            with_test_set=not args.no_test_set,
            use_espeak=False if args.synthetic_speech else None,
        )
    except (RuntimeError, FileExistsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    n_files = sum(len(v) for v in out["files"].values())
    print(f"{out['data_folder']}: {n_files} files ({out['speech_backend']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
