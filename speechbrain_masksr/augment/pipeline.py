"""The general speech restoration (GSR) degradation pipeline.

MaskSR trains on speech degraded by noise, reverberation, clipping and
bandwidth limitation at the same time, following the VoiceFixer recipe
(``haoheliu/voicefixer_main``). :class:`GSRPipeline` applies, per example and
each with its own probability, in the default order:

1. one or several interfering talkers (off by default; for the MAE
   universal enhancer), optionally made farther from the microphone than
   the target through reverberation at a lower direct-to-reverberant ratio,
2. reverberation (p = 0.3, VoiceFixer's ``reverb_rir``),
3. clipping at 0.1–0.5 of the peak (p = 0.2, VoiceFixer's ``clip``),
4. a low-pass with random cutoff / filter family / order (p = 1.0, like
   VoiceFixer's collate-time ``low_pass_2``; cutoffs near 22.05 kHz are
   almost transparent),
5. additive noise at −5…20 dB SNR (p = 1.0), the noise itself band-limited
   with p = 0.5 before it is added (VoiceFixer's ``noise_LR``).

Steps 2–3 act on the speech, 4 on the degraded speech, 5 adds noise matched
to the degraded speech; the target stays the clean full-band speech, which
remains time-aligned with the output.

Order. The default puts reverberation before clipping, the physical order
(the room comes before a saturating microphone or converter). VoiceFixer
clips first: its ``clip`` is a sox effect of the effect chain, which runs
before the ``reverb_rir`` convolution (``magical_effects.py:effect``:
type-1 chain, then type-0 effects), so its reverberant training inputs
hold smoothed, not flat-topped, clipping. ``order`` chooses; the MaskSR
recipes (``hparams/masksr*.yaml``) use VoiceFixer's order
``[interferer, clip, reverb, bandlimit, noise]``. Both orders agree on
inputs without reverberation (VoiceFixer's DECLI and SR test sets).

Not reproduced from VoiceFixer: the sox low-pass of its effect chain
(p = 0.3, 3–7 kHz; the config's ``low_pass_1`` is not used), its extra STFT
hard cut after the low-pass (p = 0.5) and the final random rescaling of input
and target together by U[0.3, 1] (apply loudness augmentation to both
signals yourself if you want it). VoiceFixer's clipping threshold is
``1 / U[1, 11]`` of the peak (so 0.09–1.0, mostly below 0.5), its SNR range
U[−5, 40] dB and its low-pass cutoffs U[750, 22050] Hz; the defaults here
are U[0.1, 0.5], U[−5, 20] dB and U[1000, 22050] Hz.

:func:`degrade` wraps the pipeline for one 1-D example (numpy or torch), for
use in a ``DynamicItemDataset`` pipeline.

Authors
 * speechbrain-masksr contributors 2026
"""

import inspect
from pathlib import Path

import numpy as np
import torch

from speechbrain_masksr.augment.distortions import (
    FILTER_FAMILIES,
    BandLimit,
    Clip,
    Distortion,
    InterferingSpeaker,
    NoiseMixer,
    RoomReverb,
    apply_effect,
)
from speechbrain_masksr.errors import ConfigError

#: Names of the effects of :class:`GSRPipeline`, in the default order.
EFFECTS = ("interferer", "reverb", "clip", "bandlimit", "noise")
#: VoiceFixer's order (clipping in the sox chain, before the RIR).
VOICEFIXER_ORDER = ("interferer", "clip", "reverb", "bandlimit", "noise")


def _check_prob(name, p):
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p}")
    return p


class RandomApply(Distortion):
    """Apply an effect to each example of a batch with probability ``p``.

    Arguments
    ---------
    effect : callable
        A :class:`~.distortions.Distortion` (it receives the generator), or
        any ``effect(wavs, lengths)`` returning a tensor of the same shape
        (e.g. a SpeechBrain augmentation).
    p : float
        Probability that an example is passed through ``effect``.
    generator : torch.Generator, optional
        Default random generator.

    Example
    -------
    >>> from speechbrain_masksr.augment.distortions import Clip
    >>> flip = RandomApply(Clip(0.5, 0.5), p=0.5)
    >>> out = flip(torch.ones(100, 4) * torch.tensor([0.0, 1, 2, 0]))
    >>> changed = (out[:, 2] == 1.0).sum().item()
    >>> 30 < changed < 70
    True
    """

    def __init__(self, effect, p=0.5, generator=None):
        super().__init__(generator)
        self.effect = effect
        self.p = _check_prob("p", p)

    def _distort(self, wavs, num_samples, generator):
        batch = wavs.shape[0]
        chosen = torch.rand(batch, generator=generator) < self.p
        idx = chosen.nonzero(as_tuple=True)[0]
        if idx.numel() == 0:
            return wavs
        if idx.numel() == batch:
            return apply_effect(self.effect, wavs, num_samples, generator)
        dev_idx = idx.to(wavs.device)
        sub = apply_effect(
            self.effect, wavs[dev_idx], num_samples[idx], generator
        )
        out = wavs.clone()
        out[dev_idx] = sub
        return out


class GSRPipeline(Distortion):
    """MaskSR / VoiceFixer general speech restoration degradations.

    See the module docstring for the order and the default probabilities.
    Every effect is skipped entirely when its probability is 0. All keyword
    arguments are plain values, so the pipeline can be built from YAML
    (``!new:speechbrain_masksr.augment.pipeline.GSRPipeline``) or from a
    dict / YAML file with :meth:`from_config`.

    Arguments
    ---------
    sample_rate : int
        Rate of the audio.
    noises : tensor, path, list, or None
        Noise clips (files, folders, manifests, tensors; see
        :class:`~.sources.AudioBank`). ``None`` = generated coloured noise
        (a fallback for tests and demos only).
    snr_low, snr_high : float
        SNR range in dB.
    noise_prob : float
        Probability of adding noise.
    noise_bandlimit_prob : float
        Probability that the noise is itself low-passed before mixing.
    rirs : tensor, path, list, or None
        Room impulse responses; ``None`` = simulated ones.
    rt60_low, rt60_high : float
        RT60 range (s) of simulated RIRs.
    reverb_prob : float
        Probability of reverberation.
    clip_low, clip_high : float
        Clipping threshold range, as a fraction of each example's peak.
    clip_prob : float
        Probability of clipping.
    cutoff_low, cutoff_high : float
        Low-pass cutoff range in Hz.
    filters : sequence of str
        Low-pass filter families (see :func:`~.distortions.lowpass`).
    order_low, order_high : int
        IIR filter order range.
    bandlimit_prob : float
        Probability of the low-pass on the speech.
    speakers : tensor, path, list, or None
        Interfering speech; required when ``interferer_prob > 0``.
    sir_low, sir_high : float
        Signal-to-interferer ratio range in dB.
    interferer_prob : float
        Probability of adding interfering talkers.
    interferer_speakers_low, interferer_speakers_high : int
        Range of the number of interfering talkers per example; the SIR
        applies to their sum.
    interferer_drr_low, interferer_drr_high : float, optional
        DRR range in dB of the room impulse responses the interferers are
        convolved with (same source as the reverberation: ``rirs``, or
        simulated with ``rt60_low``..``rt60_high``); ``None`` keeps them
        dry. See :class:`~.distortions.InterferingSpeaker`.
    order : sequence of str
        The order of the effects, a permutation of :data:`EFFECTS`
        (default: reverberation before clipping; VoiceFixer's is
        :data:`VOICEFIXER_ORDER`, see the module docstring).
    replacements : dict, optional
        Placeholders for manifests (``{"data_root": ...}``).
    generator : torch.Generator, optional
        Default random generator.

    Example
    -------
    >>> gsr = GSRPipeline(sample_rate=16000, cutoff_low=1000, cutoff_high=8000)
    >>> clean = torch.sin(torch.arange(16000.0) / 10).repeat(2, 1)
    >>> g = torch.Generator().manual_seed(0)
    >>> noisy = gsr(clean, generator=g)
    >>> noisy.shape, bool((noisy - clean).abs().max() > 0)
    (torch.Size([2, 16000]), True)
    >>> again = gsr(clean, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.equal(noisy, again))
    True
    >>> GSRPipeline(order=VOICEFIXER_ORDER).order
    ('interferer', 'clip', 'reverb', 'bandlimit', 'noise')
    """

    def __init__(
        self,
        sample_rate=44100,
        noises=None,
        snr_low=-5.0,
        snr_high=20.0,
        noise_prob=1.0,
        noise_bandlimit_prob=0.5,
        rirs=None,
        rt60_low=0.2,
        rt60_high=1.0,
        reverb_prob=0.3,
        clip_low=0.1,
        clip_high=0.5,
        clip_prob=0.2,
        cutoff_low=1000.0,
        cutoff_high=22050.0,
        filters=FILTER_FAMILIES,
        order_low=2,
        order_high=10,
        bandlimit_prob=1.0,
        speakers=None,
        sir_low=0.0,
        sir_high=15.0,
        interferer_prob=0.0,
        interferer_speakers_low=1,
        interferer_speakers_high=1,
        interferer_drr_low=None,
        interferer_drr_high=None,
        order=EFFECTS,
        replacements=None,
        generator=None,
    ):
        super().__init__(generator)
        self.sample_rate = int(sample_rate)
        self.order = tuple(order)
        if sorted(self.order) != sorted(EFFECTS):
            raise ValueError(
                f"order must list each of {list(EFFECTS)} once, got "
                f"{list(self.order)}"
            )
        probs = {
            "interferer_prob": interferer_prob,
            "reverb_prob": reverb_prob,
            "clip_prob": clip_prob,
            "bandlimit_prob": bandlimit_prob,
            "noise_prob": noise_prob,
            "noise_bandlimit_prob": noise_bandlimit_prob,
        }
        probs = {k: _check_prob(k, v) for k, v in probs.items()}
        if probs["interferer_prob"] > 0 and speakers is None:
            raise ValueError(
                "interferer_prob > 0 needs interfering speech: pass speakers="
            )

        def bandlimit():
            return BandLimit(
                cutoff_low,
                cutoff_high,
                self.sample_rate,
                filters,
                order_low,
                order_high,
            )

        def maybe(effect, p):
            return RandomApply(effect, p) if p > 0 else None

        self.interferer = None
        if probs["interferer_prob"] > 0:
            far = interferer_drr_low is not None
            self.interferer = maybe(
                InterferingSpeaker(
                    speakers,
                    sir_low,
                    sir_high,
                    self.sample_rate,
                    replacements=replacements,
                    n_speakers_low=interferer_speakers_low,
                    n_speakers_high=interferer_speakers_high,
                    drr_low=interferer_drr_low,
                    drr_high=interferer_drr_high,
                    rirs=rirs if far else None,
                    rt60_low=rt60_low,
                    rt60_high=rt60_high,
                ),
                probs["interferer_prob"],
            )
        self.reverb = None
        if probs["reverb_prob"] > 0:
            self.reverb = maybe(
                RoomReverb(
                    rirs,
                    self.sample_rate,
                    rt60_low,
                    rt60_high,
                    replacements=replacements,
                ),
                probs["reverb_prob"],
            )
        self.clip = maybe(Clip(clip_low, clip_high), probs["clip_prob"])
        self.bandlimit = maybe(bandlimit(), probs["bandlimit_prob"])
        self.noise = None
        if probs["noise_prob"] > 0:
            noise_filter = maybe(bandlimit(), probs["noise_bandlimit_prob"])
            self.noise = maybe(
                NoiseMixer(
                    noises,
                    snr_low,
                    snr_high,
                    self.sample_rate,
                    noise_filter=noise_filter,
                    replacements=replacements,
                ),
                probs["noise_prob"],
            )
        self.probs = probs

    @classmethod
    def from_config(cls, config, **overrides):
        """Build a pipeline from a dict or a YAML file of keyword arguments.

        Arguments
        ---------
        config : dict or str or Path
            The keyword arguments of :class:`GSRPipeline`, or a YAML file
            holding them (HyperPyYAML, so ``!ref`` works; checked like a
            model folder by :mod:`speechbrain_masksr.trust` first).
        **overrides
            Keyword arguments that replace entries of ``config``.

        Returns
        -------
        GSRPipeline
            The pipeline.

        Example
        -------
        >>> gsr = GSRPipeline.from_config({"sample_rate": 16000,
        ...                                "cutoff_high": 8000}, clip_prob=0.5)
        >>> gsr.probs["clip_prob"]
        0.5
        >>> GSRPipeline.from_config({"snr": 3})
        Traceback (most recent call last):
        ...
        speechbrain_masksr.errors.ConfigError: unknown GSRPipeline option(s) ['snr']; valid: ...
        """
        if isinstance(config, (str, Path)):
            from speechbrain_masksr.trust import load_checked_yaml

            path = Path(config)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: GSR config file not found")
            config = load_checked_yaml(path)
        config = dict(config or {})
        config.update(overrides)
        valid = [p for p in inspect.signature(cls.__init__).parameters][1:]
        unknown = sorted(set(config) - set(valid))
        if unknown:
            raise ConfigError(
                f"unknown GSRPipeline option(s) {unknown}; valid: {valid}"
            )
        return cls(**config)

    def _distort(self, wavs, num_samples, generator):
        for name in self.order:
            effect = getattr(self, name)
            if effect is not None:
                wavs = apply_effect(effect, wavs, num_samples, generator)
        return wavs


def degrade(
    wav, sample_rate=44100, pipeline=None, generator=None, seed=None, **config
):
    """Degrade one waveform with the GSR pipeline (for data pipelines).

    Arguments
    ---------
    wav : numpy.ndarray or torch.Tensor
        Clean audio ``[time]``.
    sample_rate : int
        Rate of ``wav``.
    pipeline : GSRPipeline, optional
        A pipeline to use (build it once and pass it here inside a data
        pipeline: building one reads manifests). ``None`` builds one from
        ``config``.
    generator : torch.Generator, optional
        Random generator.
    seed : int, optional
        Seed a fresh generator (e.g. from the utterance index, for a fixed
        validation set). Ignored when ``generator`` is given.
    **config
        :class:`GSRPipeline` keyword arguments when ``pipeline`` is None.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        Degraded audio ``[time]``, same type as ``wav`` (float32).

    Example
    -------
    >>> x = np.sin(np.arange(16000) / 10.0).astype("float32")
    >>> y = degrade(x, 16000, seed=3, cutoff_high=8000)
    >>> type(y).__name__, y.shape, bool(np.abs(y - x).max() > 0)
    ('ndarray', (16000,), True)
    >>> bool(np.array_equal(y, degrade(x, 16000, seed=3, cutoff_high=8000)))
    True
    """
    is_numpy = isinstance(wav, np.ndarray)
    tensor = torch.from_numpy(np.asarray(wav)) if is_numpy else wav
    if not torch.is_tensor(tensor) or tensor.dim() != 1:
        raise ValueError(
            "degrade expects one mono waveform [time]; got "
            f"{getattr(tensor, 'shape', type(tensor).__name__)}"
        )
    if pipeline is None:
        pipeline = GSRPipeline(sample_rate=sample_rate, **config)
    elif config:
        raise ValueError("pass either pipeline= or pipeline options, not both")
    elif pipeline.sample_rate != int(sample_rate):
        raise ValueError(
            f"pipeline runs at {pipeline.sample_rate} Hz but the audio is at "
            f"{sample_rate} Hz"
        )
    if generator is None and seed is not None:
        generator = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        out = pipeline(tensor.float().unsqueeze(0), generator=generator)[0]
    return out.numpy() if is_numpy else out
