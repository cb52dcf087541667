"""DNSMOS P.835 (SIG/BAK/OVRL) and P.808 from the ONNX models in ``speechmos``.

This follows Microsoft's reference script (``DNS-Challenge/DNSMOS/
dnsmos_local.py``, the version that also scores P.808 with
``model_v8.onnx``):

* audio at **16 kHz** (other rates are resampled with ``librosa.resample``,
  ``soxr_hq``), float in [-1, 1];
* a clip shorter than 9.01 s is **tiled** (the whole signal is appended to
  itself until it reaches 9.01 s);
* 9.01 s windows with a 1 s hop; ``int(floor(len/16000) - 9.01) + 1``
  windows; each window goes through ``sig_bak_ovr.onnx`` (raw waveform)
  and ``model_v8.onnx`` (120-band log-mel of the window minus its last
  160 samples, n_fft 321, hop 160, ``(power_to_db(ref=max) + 40) / 40``);
* raw SIG/BAK/OVRL are mapped by the reference's fixed polynomials
  (the personalised-model ones with ``personalized=True``); the clip score is
  the mean over windows.

The ONNX sessions are created once per process and cached (no download:
the models ship inside the ``speechmos`` wheel).

Authors
 * speechbrain-masksr contributors 2026
"""

import functools
import os
import warnings

import numpy as np

from speechbrain_masksr.errors import AudioError, MetricWarning, ModelFileError
from speechbrain_masksr.metrics._utils import as_mono_numpy, resample_np

DNSMOS_RATE = 16000
INPUT_LENGTH = 9.01

# Polynomials of the reference script, highest power first (np.polyval).
_POLY = {
    False: {
        "sig": [-0.08397278, 1.22083953, 0.0052439],
        "bak": [-0.13166888, 1.60915514, -0.39604546],
        "ovrl": [-0.06766283, 1.11546468, 0.04602535],
    },
    True: {
        "sig": [-0.01019296, 0.02751166, 1.19576786, -0.24348726],
        "bak": [-0.04976499, 0.44276479, -0.1644611, 0.96883132],
        "ovrl": [-0.00533021, 0.005101, 1.18058466, -0.11236046],
    },
}


def speechmos_model_dir():
    """Folder of the ONNX models shipped in the ``speechmos`` wheel.

    Returns
    -------
    str
        The ``speechmos`` package folder (holds ``dnsmos_models/`` and
        ``pdnsmos_models/``).

    Example
    -------
    >>> os.path.isfile(
    ...     os.path.join(speechmos_model_dir(), "dnsmos_models", "model_v8.onnx")
    ... )
    True
    """
    import importlib.util

    spec = importlib.util.find_spec("speechmos")
    if spec is None or spec.origin is None:
        raise ImportError(
            "DNSMOS needs the `speechmos` package (it ships the ONNX models): "
            "pip install speechmos onnxruntime"
        )
    return os.path.dirname(spec.origin)


class DNSMOS:
    """DNSMOS P.835 + P.808 scorer with cached ONNX sessions.

    Arguments
    ---------
    personalized : bool
        Use the personalised P.835 model (``pdnsmos_models``) and its
        polynomials.
    model_dir : str, optional
        Folder holding ``dnsmos_models/sig_bak_ovr.onnx``,
        ``dnsmos_models/model_v8.onnx`` (and ``pdnsmos_models/``); default:
        the ``speechmos`` package folder.
    num_threads : int, optional
        onnxruntime intra-op threads (default: onnxruntime's choice).

    Example
    -------
    >>> scorer = DNSMOS()
    >>> scorer.personalized, scorer.primary.get_inputs()[0].shape
    (False, ['N', 144160])
    """

    def __init__(self, personalized=False, model_dir=None, num_threads=None):
        import onnxruntime as ort

        model_dir = model_dir or speechmos_model_dir()
        sub = "pdnsmos_models" if personalized else "dnsmos_models"
        primary = os.path.join(model_dir, sub, "sig_bak_ovr.onnx")
        p808 = os.path.join(model_dir, "dnsmos_models", "model_v8.onnx")
        for path in (primary, p808):
            if not os.path.isfile(path):
                raise ModelFileError(
                    f"DNSMOS model {path} not found; install `speechmos` "
                    "or pass model_dir= pointing to a folder with "
                    "dnsmos_models/sig_bak_ovr.onnx and model_v8.onnx"
                )
        options = ort.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = int(num_threads)
        providers = ["CPUExecutionProvider"]
        self.personalized = bool(personalized)
        self.primary = ort.InferenceSession(
            primary, options, providers=providers
        )
        self.p808 = ort.InferenceSession(p808, options, providers=providers)

    @staticmethod
    def p808_features(segment):
        """Log-mel input of the P.808 model for one window.

        Arguments
        ---------
        segment : numpy.ndarray
            One window minus its last 160 samples, ``[time]`` at 16 kHz.

        Returns
        -------
        numpy.ndarray
            ``[frames, 120]`` float32.

        Example
        -------
        >>> DNSMOS.p808_features(np.ones(144000) * 0.1).shape
        (900, 120)
        """
        import librosa

        mel = librosa.feature.melspectrogram(
            y=np.asarray(segment, dtype=np.float64),
            sr=DNSMOS_RATE,
            n_fft=321,
            hop_length=160,
            n_mels=120,
        )
        mel = (librosa.power_to_db(mel, ref=np.max) + 40) / 40
        return mel.T.astype(np.float32)

    def __call__(self, wav):
        """Score one 16 kHz clip.

        Arguments
        ---------
        wav : numpy.ndarray
            ``[time]`` at 16 kHz.

        Returns
        -------
        dict
            ``sig``, ``bak``, ``ovrl`` (P.835, polynomial-mapped) and
            ``p808`` (P.808 MOS), means over the 9.01 s windows.
        """
        audio = np.asarray(wav, dtype=np.float64)
        if audio.size == 0:
            raise AudioError("DNSMOS: empty audio")
        len_samples = int(INPUT_LENGTH * DNSMOS_RATE)
        while len(audio) < len_samples:
            audio = np.append(audio, audio)
        num_hops = int(np.floor(len(audio) / DNSMOS_RATE) - INPUT_LENGTH) + 1
        poly = _POLY[self.personalized]
        scores = {"sig": [], "bak": [], "ovrl": [], "p808": []}
        for idx in range(num_hops):
            start = int(idx * DNSMOS_RATE)
            stop = int((idx + INPUT_LENGTH) * DNSMOS_RATE)
            segment = audio[start:stop]
            if len(segment) < len_samples:
                continue
            wave_in = segment.astype(np.float32)[np.newaxis, :]
            mel_in = self.p808_features(segment[:-160])[np.newaxis]
            raw = self.primary.run(None, {"input_1": wave_in})[0][0]
            p808 = self.p808.run(None, {"input_1": mel_in})[0][0][0]
            for key, value in zip(("sig", "bak", "ovrl"), raw):
                scores[key].append(np.polyval(poly[key], float(value)))
            scores["p808"].append(float(p808))
        return {key: float(np.mean(vals)) for key, vals in scores.items()}


@functools.lru_cache(maxsize=4)
def get_dnsmos(personalized=False, model_dir=None):
    """Return a process-wide cached :class:`DNSMOS` scorer.

    Arguments
    ---------
    personalized : bool
        Personalised P.835 model.
    model_dir : str, optional
        See :class:`DNSMOS`.

    Returns
    -------
    DNSMOS
        The same object for the same arguments.

    Example
    -------
    >>> get_dnsmos() is get_dnsmos()
    True
    """
    return DNSMOS(personalized=personalized, model_dir=model_dir)


def dnsmos(est, sample_rate, personalized=False, model_dir=None):
    """DNSMOS P.835 SIG/BAK/OVRL and P.808 of one clip (non-intrusive).

    Arguments
    ---------
    est : torch.Tensor or numpy.ndarray
        Audio ``[time]``.
    sample_rate : int
        Its rate (resampled to 16 kHz here).
    personalized : bool
        Use the personalised P.835 model.
    model_dir : str, optional
        Folder of the ONNX models (default: the ``speechmos`` package).

    Returns
    -------
    dict
        ``{"sig", "bak", "ovrl", "p808"}`` floats, roughly in [1, 5].

    Example
    -------
    >>> import torch
    >>> scores = dnsmos(torch.randn(8000) * 0.05, 8000)
    >>> sorted(scores)
    ['bak', 'ovrl', 'p808', 'sig']
    """
    wav = as_mono_numpy(est, "estimate")
    wav = resample_np(wav, sample_rate, DNSMOS_RATE)
    peak = float(np.max(np.abs(wav)))
    if peak > 1.0:
        warnings.warn(
            f"dnsmos: audio peaks at {peak:.3f} > 1; DNSMOS expects float "
            "audio in [-1, 1] (scored as is)",
            MetricWarning,
            stacklevel=2,
        )
    return get_dnsmos(personalized, model_dir)(wav)
