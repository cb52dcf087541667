"""Speaker similarity: cosine of speaker embeddings at 16 kHz.

Two encoders, reported under different names so that tables say which one
made them:

* ``spk_sim_resemblyzer`` (the default ``spk_sim``; works offline):
  Resemblyzer's GE2E encoder, :func:`speaker_similarity`;
* ``spk_sim_ecapa``: SpeechBrain's ECAPA-TDNN speaker verification model
  (``speechbrain/spkrec-ecapa-voxceleb``, loaded by
  :func:`load_ecapa` with ``SpeakerRecognition``), closer to the MaskSR
  paper's WeSpeaker similarity, :func:`ecapa_similarity`. Its weights must
  be given (option ``spk_model`` / ``--spk-model``): a local folder with
  ``hyperparams.yaml`` and ``embedding_model.ckpt``, or a hub id (needs the
  network or the hub cache). A missing folder is an error naming the
  option; the ``embedding_model`` is always loaded strictly from
  ``embedding_model.ckpt``, never left at random initial weights. Signals
  are resampled to 16 kHz (no level change, no VAD) and embedded whole.

Resemblyzer
-----------
The encoder is Resemblyzer's GE2E speaker encoder (3-layer LSTM, 40 mel
bands, 256-d embeddings) with the ``pretrained.pt`` weights that ship in the
``resemblyzer`` wheel (no download). Another checkpoint of the same
architecture (a dict with ``model_state``, as Resemblyzer saves them) can be
given with ``weights_fpath``. Weights are loaded with
``torch.load(weights_only=True)`` and strict key checking (the GE2E training
parameters ``similarity_weight`` / ``similarity_bias`` are the only keys
dropped).

Each signal is resampled to 16 kHz (``librosa.resample``, ``soxr_hq``) and
preprocessed as Resemblyzer's ``preprocess_wav`` does (volume raised to
-30 dBFS, long silences trimmed by WebRTC VAD; if the VAD keeps nothing the
untrimmed signal is used, with a warning). The utterance embedding is the
normalised mean of 1.6 s partial embeddings (rate 1.3/s, min coverage 0.75),
as ``VoiceEncoder.embed_utterance``; the similarity is the dot product of the
two unit-norm embeddings (about 0.6-1; higher means more similar).

Authors
 * speechbrain-masksr contributors 2026
"""

import functools
import os
import re
import warnings
from pathlib import Path

import numpy as np
import torch

from speechbrain_masksr.errors import (
    AudioError,
    MetricWarning,
    ModelFileError,
    UntrustedModelError,
)
from speechbrain_masksr.metrics._utils import as_mono_numpy, resample_np
from speechbrain_masksr.trust import check_model_folder
from speechbrain_masksr.utils.checkpoints import (
    load_state_dict_strict,
    read_state_dict,
)

SPK_RATE = 16000
_TRAINING_ONLY_KEYS = ("similarity_weight", "similarity_bias")


def resemblyzer_weights():
    """Path of the ``pretrained.pt`` shipped in the ``resemblyzer`` wheel.

    Returns
    -------
    str
        The checkpoint path.

    Example
    -------
    >>> os.path.basename(resemblyzer_weights())
    'pretrained.pt'
    """
    import importlib.util

    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or spec.origin is None:
        raise ImportError(
            "speaker similarity needs `resemblyzer` (its wheel ships the "
            "encoder weights): pip install --no-deps resemblyzer "
            "webrtcvad-wheels"
        )
    return os.path.join(os.path.dirname(spec.origin), "pretrained.pt")


class SpeakerEncoder(torch.nn.Module):
    """Resemblyzer's speaker encoder network (LSTM + linear + ReLU + L2 norm).

    Arguments
    ---------
    n_mels : int
        Mel bands of the input.
    hidden_size : int
        LSTM width.
    num_layers : int
        LSTM depth.
    embedding_size : int
        Output size.

    Example
    -------
    >>> enc = SpeakerEncoder()
    >>> emb = enc(torch.rand(2, 160, 40))
    >>> emb.shape, torch.allclose(emb.norm(dim=1), torch.ones(2))
    (torch.Size([2, 256]), True)
    """

    def __init__(
        self, n_mels=40, hidden_size=256, num_layers=3, embedding_size=256
    ):
        super().__init__()
        self.lstm = torch.nn.LSTM(
            n_mels, hidden_size, num_layers, batch_first=True
        )
        self.linear = torch.nn.Linear(hidden_size, embedding_size)
        self.relu = torch.nn.ReLU()

    def forward(self, mels):
        """Embed a batch of mel spectrograms.

        Arguments
        ---------
        mels : torch.Tensor
            ``[batch, frames, n_mels]``.

        Returns
        -------
        torch.Tensor
            Unit-norm embeddings ``[batch, embedding_size]``.
        """
        _, (hidden, _) = self.lstm(mels)
        emb = self.relu(self.linear(hidden[-1]))
        return emb / emb.norm(dim=1, keepdim=True).clamp_min(1e-12)

    @classmethod
    def from_checkpoint(cls, path=None):
        """Build the encoder and load Resemblyzer-format weights.

        Arguments
        ---------
        path : str, optional
            Checkpoint (``{"model_state": state_dict}`` or a bare state
            dict); default: the weights shipped with ``resemblyzer``.

        Returns
        -------
        SpeakerEncoder
            In eval mode.

        Raises
        ------
        ModelFileError
            (a ``FileNotFoundError`` and a ``RuntimeError``) If ``path``
            does not exist, the file is unreadable or keys are missing or
            unexpected.

        Example
        -------
        >>> enc = SpeakerEncoder.from_checkpoint()
        >>> enc.training
        False
        """
        path = str(path) if path is not None else resemblyzer_weights()
        if not os.path.isfile(path):
            raise ModelFileError(
                f"speaker encoder weights {path} not found (pass an existing "
                "Resemblyzer-format checkpoint as weights_fpath (spk_weights "
                "of compute_metrics), or leave it unset for Resemblyzer's own)"
            )
        ckpt = read_state_dict(path)
        state = ckpt.get("model_state", ckpt)
        state = {k: v for k, v in state.items() if k not in _TRAINING_ONLY_KEYS}
        model = cls()
        load_state_dict_strict(
            model, state, path, "a Resemblyzer speaker encoder"
        )
        return model.eval()

    @torch.no_grad()
    def embed_utterance(self, wav, rate=1.3, min_coverage=0.75):
        """Utterance embedding of a preprocessed 16 kHz waveform.

        Arguments
        ---------
        wav : numpy.ndarray
            ``[time]`` at 16 kHz (see :func:`preprocess_for_speaker`).
        rate : float
            Partial utterances per second.
        min_coverage : float
            Keep a zero-padded last partial if it is at least this full.

        Returns
        -------
        numpy.ndarray
            Unit-norm embedding ``[embedding_size]``.

        Example
        -------
        >>> enc = SpeakerEncoder()
        >>> enc.embed_utterance(np.random.randn(16000) * 0.1).shape
        (256,)
        """
        from resemblyzer import VoiceEncoder, wav_to_mel_spectrogram

        wav = np.asarray(wav, dtype=np.float32)
        wav_slices, mel_slices = VoiceEncoder.compute_partial_slices(
            len(wav), rate, min_coverage
        )
        needed = wav_slices[-1].stop
        if needed >= len(wav):
            wav = np.pad(wav, (0, needed - len(wav)))
        mel = wav_to_mel_spectrogram(wav)
        mels = torch.from_numpy(np.stack([mel[s] for s in mel_slices]))
        device = next(self.parameters()).device
        partials = self(mels.to(device)).cpu().double().numpy()
        emb = partials.mean(axis=0)
        return emb / max(np.linalg.norm(emb), 1e-12)


@functools.lru_cache(maxsize=4)
def get_speaker_encoder(weights_fpath=None):
    """Process-wide cached :class:`SpeakerEncoder` (loaded on first use).

    Arguments
    ---------
    weights_fpath : str, optional
        Checkpoint; default Resemblyzer's shipped weights.

    Returns
    -------
    SpeakerEncoder
        The same object for the same path.

    Example
    -------
    >>> get_speaker_encoder() is get_speaker_encoder()
    True
    """
    return SpeakerEncoder.from_checkpoint(weights_fpath)


def preprocess_for_speaker(wav, sample_rate):
    """Resample to 16 kHz, raise the level to -30 dBFS, trim long silences.

    Arguments
    ---------
    wav : torch.Tensor or numpy.ndarray
        Audio ``[time]``.
    sample_rate : int
        Its rate.

    Returns
    -------
    numpy.ndarray
        ``[time']`` at 16 kHz, float32.

    Example
    -------
    >>> preprocess_for_speaker(np.random.randn(32000) * 0.1, 32000).shape[0] <= 16000
    True
    """
    from resemblyzer import normalize_volume, trim_long_silences
    from resemblyzer.hparams import audio_norm_target_dBFS

    wav = as_mono_numpy(wav, "audio")
    wav = resample_np(wav, sample_rate, SPK_RATE).astype(np.float32)
    if not np.any(wav):
        raise AudioError("speaker similarity: audio is digital silence")
    wav = normalize_volume(wav, audio_norm_target_dBFS, increase_only=True)
    # The VAD converts to int16: keep the samples in range.
    trimmed = trim_long_silences(np.clip(wav, -1.0, 1.0))
    if len(trimmed) < SPK_RATE // 10:
        warnings.warn(
            "spk_sim: the voice activity detector found (almost) no speech; "
            "using the untrimmed signal",
            MetricWarning,
            stacklevel=2,
        )
        return wav
    return trimmed


def speaker_similarity(ref, est, sample_rate, weights_fpath=None):
    """Cosine similarity of the speaker embeddings of two signals.

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference audio ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimated audio ``[time]`` (same rate; lengths may differ).
    sample_rate : int
        Rate of both signals (resampled to 16 kHz here).
    weights_fpath : str, optional
        Another Resemblyzer-format encoder checkpoint.

    Returns
    -------
    float
        Cosine similarity (1 for identical signals), or NaN with a warning
        if either signal is digital silence.

    Example
    -------
    >>> x = np.random.RandomState(0).randn(16000) * 0.1
    >>> round(speaker_similarity(x, x, 16000), 4)
    1.0
    """
    encoder = get_speaker_encoder(
        None if weights_fpath is None else str(weights_fpath)
    )
    try:
        ref16 = preprocess_for_speaker(ref, sample_rate)
        est16 = preprocess_for_speaker(est, sample_rate)
    except AudioError as err:
        if "digital silence" not in str(err):
            raise
        warnings.warn(f"{err}; returning NaN", MetricWarning, stacklevel=2)
        return float("nan")
    emb_ref = encoder.embed_utterance(ref16)
    emb_est = encoder.embed_utterance(est16)
    return float(np.dot(emb_ref, emb_est))


# --------------------------------------------------------------------------
# SpeechBrain ECAPA-TDNN (speaker verification)
# --------------------------------------------------------------------------
#: Files an ECAPA model folder must hold (as ``spkrec-ecapa-voxceleb``).
ECAPA_FILES = ("hyperparams.yaml", "embedding_model.ckpt")
#: Where hub models are collected when no ``savedir`` is given.
ECAPA_CACHE = Path("~/.cache/speechbrain_masksr").expanduser()
_OPTION = "spk_model (--spk-model)"
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _is_hub_id(source):
    """``owner/name`` without a leading ``.`` or ``/`` (not a path)."""
    return bool(_HUB_ID.match(str(source))) and not os.path.isabs(source)


def load_ecapa(source, savedir=None, device="cpu", trust_source=False):
    """Load SpeechBrain's ECAPA speaker verification model.

    Arguments
    ---------
    source : str or Path
        A local folder holding ``hyperparams.yaml`` and
        ``embedding_model.ckpt`` (e.g. a copy of
        ``speechbrain/spkrec-ecapa-voxceleb``), or a hub id
        (``owner/name``) when no such folder exists.
    savedir : str or Path, optional
        Where hub files are collected (default
        ``~/.cache/speechbrain_masksr/<owner>--<name>``); unused for a
        local folder (its files are read in place).
    device : str
        Device of the model.
    trust_source : bool
        Skip the trust check of the folder's ``hyperparams.yaml`` (see
        :mod:`speechbrain_masksr.trust`; SpeechBrain's ECAPA
        folders pass it), for a folder from a source you trust.

    Returns
    -------
    speechbrain.inference.speaker.SpeakerRecognition
        The model (eval mode); its ``embedding_model`` holds exactly the
        weights of ``embedding_model.ckpt``.

    Raises
    ------
    ValueError
        If ``source`` is empty.
    FileNotFoundError
        If the folder or one of its files is missing, or a hub model
        cannot be fetched (the message names the ``spk_model`` option).
    ModelFileError
        If ``embedding_model.ckpt`` does not fit the ``embedding_model``
        of ``hyperparams.yaml`` (or the folder's model cannot be built).
    UntrustedModelError
        (a ``ModelFileError``) If ``hyperparams.yaml`` names code outside
        the allowlist of :mod:`speechbrain_masksr.trust`
        (nothing in it has run).

    Example
    -------
    >>> load_ecapa(getfixture("tmpdir") / "no_such_folder")
    Traceback (most recent call last):
    ...
    FileNotFoundError: spk_model (--spk-model): ECAPA model folder ... not found...
    """
    from speechbrain.inference.speaker import SpeakerRecognition

    if source is None or not str(source).strip():
        raise ValueError(
            f"spk_sim_ecapa needs {_OPTION}: a folder with "
            f"{' and '.join(ECAPA_FILES)} or a hub id such as "
            "speechbrain/spkrec-ecapa-voxceleb"
        )
    source = str(source)
    folder = Path(source).expanduser()
    run_opts = {"device": str(device)}
    if folder.exists() or not _is_hub_id(source):
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{_OPTION}: ECAPA model folder {folder} not found (give a "
                f"folder with {' and '.join(ECAPA_FILES)}, e.g. a copy of "
                "speechbrain/spkrec-ecapa-voxceleb, or that hub id)"
            )
        missing = [f for f in ECAPA_FILES if not (folder / f).is_file()]
        if missing:
            raise FileNotFoundError(
                f"{_OPTION}: {folder} lacks {', '.join(missing)} (an ECAPA "
                f"model folder holds {' and '.join(ECAPA_FILES)})"
            )
        folder = folder.resolve()
        text = (folder / "hyperparams.yaml").read_text(encoding="utf-8")
        overrides = {}
        if re.search(r"^pretrained_path\s*:", text, re.M):
            overrides["pretrained_path"] = str(folder)
        if not trust_source:
            check_model_folder(str(folder), overrides=overrides)
        try:
            model = SpeakerRecognition.from_hparams(
                source=str(folder), overrides=overrides, run_opts=run_opts
            )
        except RuntimeError as err:  # e.g. its own pretrainer's strict load
            raise ModelFileError(
                f"{_OPTION}: cannot load the ECAPA model of {folder}: {err}"
            ) from err
        ckpt = folder / "embedding_model.ckpt"
    else:
        savedir = Path(
            savedir or ECAPA_CACHE / source.replace("/", "--")
        ).expanduser()
        try:
            if not trust_source:
                check_model_folder(source, savedir=str(savedir))
            model = SpeakerRecognition.from_hparams(
                source=source, savedir=str(savedir), run_opts=run_opts
            )
        except UntrustedModelError:
            raise
        except Exception as err:
            raise FileNotFoundError(
                f"{_OPTION}: no local folder {source} and the hub model "
                f"{source} could not be fetched ({type(err).__name__}: "
                f"{err}); give a local copy of its {', '.join(ECAPA_FILES)}"
            ) from err
        ckpt = savedir / "embedding_model.ckpt"
        if not ckpt.is_file():
            raise FileNotFoundError(
                f"{_OPTION}: hub model {source} gave no embedding_model.ckpt "
                f"in {savedir}"
            )
    embedding = model.mods.embedding_model
    load_state_dict_strict(
        embedding,
        read_state_dict(ckpt),
        ckpt,
        "the ECAPA embedding_model of hyperparams.yaml",
    )
    embedding.to(model.device)
    return model.eval()


@functools.lru_cache(maxsize=4)
def get_ecapa(source, savedir=None, device="cpu"):
    """Process-wide cached :func:`load_ecapa` (loaded on first use).

    Arguments
    ---------
    source : str
        Folder or hub id (see :func:`load_ecapa`).
    savedir : str, optional
        Where hub files are collected.
    device : str
        Device of the model.

    Returns
    -------
    speechbrain.inference.speaker.SpeakerRecognition
        The same object for the same arguments.

    Example
    -------
    >>> get_ecapa("")
    Traceback (most recent call last):
    ...
    ValueError: spk_sim_ecapa needs spk_model (--spk-model): ...
    """
    return load_ecapa(source, savedir=savedir, device=device)


def ecapa_embedding(model, wav, sample_rate):
    """Unit-norm ECAPA embedding of one signal (resampled to 16 kHz).

    Arguments
    ---------
    model : SpeakerRecognition
        From :func:`load_ecapa`.
    wav : torch.Tensor or numpy.ndarray
        Audio ``[time]``.
    sample_rate : int
        Its rate.

    Returns
    -------
    torch.Tensor
        ``[embedding_size]`` float64, unit norm.

    Raises
    ------
    ValueError
        If the signal is digital silence.

    Example
    -------
    >>> ecapa_embedding(None, np.zeros(1600), 16000)
    Traceback (most recent call last):
    ...
    ValueError: speaker similarity: audio is digital silence
    """
    wav = as_mono_numpy(wav, "audio")
    wav = resample_np(wav, sample_rate, SPK_RATE)
    if not np.any(wav):
        raise ValueError("speaker similarity: audio is digital silence")
    x = torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32))
    with torch.no_grad():
        emb = model.encode_batch(x[None], normalize=False)
    emb = emb.reshape(-1).double().cpu()
    return emb / emb.norm().clamp_min(1e-12)


def ecapa_similarity(ref, est, sample_rate, source, savedir=None):
    """Cosine similarity of SpeechBrain ECAPA embeddings of two signals.

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference audio ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimated audio ``[time]`` (same rate; lengths may differ).
    sample_rate : int
        Rate of both signals (resampled to 16 kHz here).
    source : str
        ECAPA model folder or hub id (the ``spk_model`` option, see
        :func:`load_ecapa`).
    savedir : str, optional
        Where hub files are collected.

    Returns
    -------
    float
        Cosine similarity in ``[-1, 1]`` (1 for identical signals), or NaN
        with a warning if either signal is digital silence.

    Example
    -------
    >>> ecapa_similarity(np.ones(160), np.ones(160), 16000, None)
    Traceback (most recent call last):
    ...
    ValueError: spk_sim_ecapa needs spk_model (--spk-model): ...
    """
    model = get_ecapa(
        None if source is None else str(source),
        None if savedir is None else str(savedir),
    )
    try:
        emb_ref = ecapa_embedding(model, ref, sample_rate)
        emb_est = ecapa_embedding(model, est, sample_rate)
    except ValueError as err:
        if "digital silence" not in str(err):
            raise
        warnings.warn(f"{err}; returning NaN", MetricWarning, stacklevel=2)
        return float("nan")
    return float(torch.dot(emb_ref, emb_est))
