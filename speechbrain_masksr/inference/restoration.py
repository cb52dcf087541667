"""Speech restoration with a trained MaskSR model.

:class:`SpeechRestoration` is a SpeechBrain ``Pretrained`` interface: it
loads a model folder (``hyperparams.yaml``, ``model.ckpt`` and the codec
file: ``codec.pth`` for DAC, ``codec.ckpt`` for the mel codec) from a local
folder or a Hugging Face repo, turns any input (rate, channels) into mono
at the codec's rate (44.1 kHz for DAC, 22.05 kHz for the mel codec),
restores it with MaskGIT-style sampling of codec tokens and decodes the
tokens back to audio.

Audio longer than the training window is cut into windows of
``window_seconds`` overlapping by ``overlap_seconds``; the windows are
restored together (``max_batch`` at a time through ``MaskSR.generate``) and
joined by a raised-cosine cross-fade, so the output has exactly the input's
length. This is :func:`~speechbrain_masksr.utils.windowing.restore_windowed`,
the same function the DNS recipe's test stage uses. ``overlap_seconds=0``
gives the paper's protocol (non-overlapping 3 s windows); the default 0.5 s
overlap with a cross-fade is at least as close to a whole-file pass (see
``tests/integration/test_windowing.py``).

The model folder layout
-----------------------
``hyperparams.yaml``
    The checked-in template ``templates/masksr.yaml`` with the model's
    config values: it builds the speech encoder, the codec LM, ``MaskSR``
    and an empty DAC tokenizer, and its ``pretrainer`` lists
    ``model.ckpt`` and ``codec.pth`` as files of the folder, so
    :meth:`~.interface.AudioInterface.from_folder` (which checks the
    YAML's constructors against an allowlist first) and the plain
    ``Pretrained.from_hparams`` load local folders and hub repos alike.
``model.ckpt``
    The ``MaskSR`` state dict (what the recipe's checkpointer saves),
    loaded strictly by :func:`load_model_weights`.
``codec.pth``
    The DAC weights the model was trained with (architecture included),
    loaded by :func:`~speechbrain_masksr.codecs.dac.load_dac_weights`.

A missing file is reported by name (see
:class:`~.model_folder.ModelFolderPretrainer`). :func:`write_model_folder`
writes such a folder (``export_model.py`` and the tests use it).

Authors
 * speechbrain-masksr contributors 2026
"""

import math
import os
from pathlib import Path

import torch

from speechbrain_masksr.codecs.mel import is_mel_codec_file
from speechbrain_masksr.dataio import check_waveform, save_audio
from speechbrain_masksr.errors import (
    AudioError,
    ConfigError,
    ModelFileError,
    OutputError,
)
from speechbrain_masksr.inference.interface import AudioInterface
from speechbrain_masksr.inference.model_folder import (
    HPARAMS_FILE,
    TEMPLATES,
    Link,
    write_folder,
)
from speechbrain_masksr.sampling import check_steps
from speechbrain_masksr.utils.checkpoints import (
    load_state_dict_strict,
    read_state_dict,
)
from speechbrain_masksr.utils.files import check_output_path
from speechbrain_masksr.utils.lengths import relative_to_absolute
from speechbrain_masksr.utils.windowing import (
    restore_windowed,
    window_samples,
)

__all__ = [
    "CODEC_FILE",
    "HPARAMS_FILE",
    "MODEL_FILE",
    "ModelFileError",
    "SpeechRestoration",
    "TEMPLATE",
    "check_batch",
    "check_device",
    "load_model_weights",
    "load_state_dict_strict",
    "read_state_dict",
    "write_model_folder",
]

MODEL_FILE = "model.ckpt"
CODEC_FILE = "codec.pth"
TEMPLATE = TEMPLATES / "masksr.yaml"
#: The template and codec file name of MaskSR over the mel codec.
MEL_CODEC_FILE = "codec.ckpt"
MEL_TEMPLATE = TEMPLATES / "masksr_mel.yaml"
OUTPUT_EXTENSIONS = (".wav", ".flac")  # what save_audio writes as PCM_16


def check_device(device):
    """Check that a torch device string names a device this machine has.

    Arguments
    ---------
    device : str
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``...

    Returns
    -------
    device : str
        The normalised device (``"cuda"`` becomes ``"cuda:0"``).

    Raises
    ------
    ValueError
        An unknown device string, or CUDA / MPS asked for on a machine (or
        a torch build) without it, or a GPU index that does not exist.

    Example
    -------
    >>> check_device("cpu")
    'cpu'
    >>> check_device("gpu")
    Traceback (most recent call last):
    ...
    ValueError: unknown device 'gpu': use cpu, cuda or cuda:N
    """
    try:
        dev = torch.device(str(device))
    except (RuntimeError, ValueError):
        raise ValueError(
            f"unknown device {device!r}: use cpu, cuda or cuda:N"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            build = torch.version.cuda or "none (CPU-only build)"
            raise ValueError(
                f"device {device!r} asked for, but CUDA is not available "
                f"on this machine (torch {torch.__version__}, CUDA "
                f"{build}); use the device 'cpu'"
            )
        index = dev.index or 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device {device!r}: only {torch.cuda.device_count()} "
                "CUDA device(s) here"
            )
        return f"cuda:{index}"
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"device {device!r} asked for, but MPS is not available; "
                "use the device 'cpu'"
            )
    elif dev.type != "cpu":
        raise ValueError(f"unsupported device {device!r}: use cpu or cuda")
    return str(dev)


# --------------------------------------------------------------------------
# Model folder: loading and writing
# --------------------------------------------------------------------------
def load_model_weights(obj, path):
    """Strict ``Pretrainer`` hook: load a state dict, naming any key mismatch.

    SpeechBrain's default transfer hook loads with ``strict=False`` and only
    logs mismatches; this one refuses a checkpoint that does not fit.

    Arguments
    ---------
    obj : torch.nn.Module
        Module to load into.
    path : str or Path
        A ``torch.save``-d state dict (``weights_only`` loading).

    Raises
    ------
    ModelFileError
        If the file is missing, unreadable, or its keys or shapes do not
        match the module.

    Example
    -------
    >>> path = str(getfixture("tmpdir") / "lin.ckpt")
    >>> torch.save(torch.nn.Linear(2, 3).state_dict(), path)
    >>> load_model_weights(torch.nn.Linear(2, 3), path)
    >>> load_model_weights(torch.nn.Linear(2, 4), path)
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.ModelFileError: ...shape mismatch...
    """
    state = read_state_dict(path)
    load_state_dict_strict(
        obj, state, path, "the model built from hyperparams.yaml"
    )


# Model-config keys every model folder must set in the template
# (export_model.py copies them from the training YAML).
CONFIG_KEYS = (
    "sample_rate",
    "segment_seconds",
    "d_model",
    "nhead",
    "encoder_layers",
    "lm_layers",
    "n_codebooks",
    "codebook_size",
    "variant",
    "cond_dropout",
    "sampling_steps",
    "guidance",
)

# Optional model-config keys (the template's values are the defaults).
OPTIONAL_KEYS = (
    "input_features",
    "n_fft",
    "hop_length",
    "power",
    "conv_channels",
    "conv_kernel",
    "noise",
    "upper_levels",
    "window_seconds",
    "overlap_seconds",
    "crossfade",
    "max_batch",
)


def write_model_folder(
    out_dir,
    model,
    model_config,
    codec_path,
    codec="copy",
    overwrite=False,
    weights_dtype=None,
):
    """Write a model folder that :class:`SpeechRestoration` can load.

    The folder is the checked-in template ``templates/masksr.yaml`` with
    the model config as its top-level values, ``model.ckpt`` and
    ``codec.pth`` (DAC weights), written by
    :func:`~.model_folder.write_folder` (temporary names renamed into
    place). For a mel codec file
    (:func:`~speechbrain_masksr.codecs.mel.save_mel_codec`) the template is
    ``templates/masksr_mel.yaml`` and the file ``codec.ckpt``.

    Arguments
    ---------
    out_dir : str or Path
        Folder to create.
    model : torch.nn.Module or dict
        The trained ``MaskSR`` (or its state dict), saved as ``model.ckpt``.
    model_config : dict
        Must hold ``sample_rate``, ``segment_seconds``, ``d_model``,
        ``nhead``, ``encoder_layers``, ``lm_layers``, ``n_codebooks``,
        ``codebook_size``, ``variant``, ``cond_dropout``,
        ``sampling_steps`` and ``guidance`` (the training YAML keys); may
        hold ``input_features`` (``stft``, ``waveform`` or ``dac``, see
        :func:`~speechbrain_masksr.lobes.speech_encoder.build_speech_encoder`),
        ``n_fft``, ``hop_length``, ``power``, ``conv_channels``,
        ``conv_kernel``, ``noise``, ``upper_levels``,
        ``window_seconds`` (default: ``segment_seconds``),
        ``overlap_seconds``, ``crossfade`` and ``max_batch`` (else the
        template's values).
    codec_path : str or Path
        The codec file the model was trained with: DAC weights (or a
        folder holding ``weights.pth``; it becomes ``codec.pth``) or a mel
        codec file (it becomes ``codec.ckpt``).
    codec : str
        ``"copy"`` the codec weights or ``"link"`` them (symlink).
    overwrite : bool
        Replace an existing model folder.
    weights_dtype : torch.dtype, optional
        Store the floating-point weights of ``model.ckpt`` in this type
        (e.g. ``torch.float16``: half the file; they are cast back to the
        model's type on loading). ``None`` keeps them as they are.

    Returns
    -------
    out_dir : Path
        The folder.

    Raises
    ------
    ConfigError
        (a ``KeyError``) ``model_config`` lacks a key or has an unknown one.
    ModelFileError
        The codec weights file does not exist.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> torch.save({}, str(tmp / "w.pth"))
    >>> cfg = dict(sample_rate=44100, segment_seconds=3.0, d_model=32,
    ...            nhead=4, encoder_layers=1, lm_layers=1, n_codebooks=9,
    ...            codebook_size=1024, variant="flat", cond_dropout=0.1,
    ...            sampling_steps=8, guidance=2.0)
    >>> out = write_model_folder(tmp / "m", torch.nn.Linear(2, 2), cfg,
    ...                          tmp / "w.pth")
    >>> sorted(p.name for p in out.iterdir())
    ['codec.pth', 'hyperparams.yaml', 'model.ckpt']
    """
    missing = [k for k in CONFIG_KEYS if k not in model_config]
    if missing:
        raise ConfigError(f"model_config lacks {missing}")
    unknown = set(model_config) - set(CONFIG_KEYS) - set(OPTIONAL_KEYS)
    if unknown:
        raise ConfigError(f"unknown model_config keys {sorted(unknown)}")
    values = dict(model_config)
    if values.get("window_seconds") is None:
        values["window_seconds"] = values["segment_seconds"]
    codec_path = Path(codec_path)
    if codec_path.is_dir():
        codec_path = codec_path / "weights.pth"
    if not codec_path.is_file():
        raise ModelFileError(f"{codec_path}: codec weights file not found")
    if codec not in ("copy", "link"):
        raise ValueError(f"codec must be 'copy' or 'link', got {codec!r}")
    state = model.state_dict() if isinstance(model, torch.nn.Module) else model
    if weights_dtype is not None:
        state = {
            k: v.to(weights_dtype) if v.is_floating_point() else v
            for k, v in state.items()
        }
    template, codec_file = TEMPLATE, CODEC_FILE
    if is_mel_codec_file(codec_path):
        template, codec_file = MEL_TEMPLATE, MEL_CODEC_FILE
    files = {
        MODEL_FILE: state,
        codec_file: codec_path if codec == "copy" else Link(codec_path),
    }
    return write_folder(out_dir, template, values, files, overwrite=overwrite)


def check_batch(wavs, wav_lens, sample_rate, min_samples, min_text, file_api):
    """Check a ``*_batch`` input of an interface; samples of each item.

    Arguments
    ---------
    wavs : torch.Tensor
        ``[batch, time]`` floating-point audio in [-1, 1].
    wav_lens : torch.Tensor or None
        Relative lengths ``[batch]`` in ``(0, 1]``; ``None`` = all full.
    sample_rate : int
        The interface's rate (for the messages).
    min_samples : int
        Shortest accepted length.
    min_text : str
        How the minimum is described in the message (e.g. ``"0.1 s"``).
    file_api : str
        The interface's file method, suggested for wrong shapes.

    Returns
    -------
    wavs : torch.Tensor
        The checked audio.
    num_samples : list of int
        Samples of each item.

    Example
    -------
    >>> check_batch(torch.zeros(2, 100), torch.tensor([1.0, 0.5]), 8000, 10,
    ...             "10 samples", "restore_file")[1]
    [100, 50]
    >>> check_batch(torch.zeros(100), None, 8000, 10, "x", "restore_file")
    Traceback (most recent call last):
    ...
    ValueError: wavs must be a [batch, time] tensor at 8000 Hz, got ...
    >>> check_batch(torch.zeros(100, 1), None, 8000, 10, "x", "restore_file")
    Traceback (most recent call last):
    ...
    ValueError: wavs has shape (100, 1), which looks like [time, channels]; ...
    """
    if not torch.is_tensor(wavs) or wavs.dim() != 2:
        shape = tuple(wavs.shape) if torch.is_tensor(wavs) else type(wavs)
        raise ValueError(
            f"wavs must be a [batch, time] tensor at {sample_rate} "
            f"Hz, got {shape} (use {file_api} for files, "
            "wav.unsqueeze(0) for one waveform)"
        )
    if not wavs.is_floating_point():
        raise ValueError(
            f"wavs must be a floating-point tensor in [-1, 1], got "
            f"{wavs.dtype} (integer PCM: divide by 32768 first, e.g. "
            "wavs.float() / 32768)"
        )
    batch, time = wavs.shape
    if 0 < time < min_samples <= batch:
        raise ValueError(
            f"wavs has shape {tuple(wavs.shape)}, which looks like "
            f"[time, channels]; expected [batch, time] at {sample_rate} Hz "
            "(one mono waveform [time, 1]: wavs.T; several channels: "
            "wavs.mean(dim=1).unsqueeze(0))"
        )
    wavs = check_waveform(wavs, "wavs", min_samples)
    num_samples = relative_to_absolute(wav_lens, time, batch).tolist()
    for b, n in enumerate(num_samples):
        if n < min_samples:
            raise AudioError(
                f"wavs[{b}]: {n} samples is too short, at least "
                f"{min_samples} ({min_text}) are needed"
            )
    return wavs, num_samples


def _check_run_opts(kwargs):
    """Check (and normalise) ``run_opts["device"]`` of an interface's kwargs.

    Called at the start of ``__init__``, before ``Pretrained`` moves the
    modules, so an unusable device gets :func:`check_device`'s message.
    """
    run_opts = kwargs.get("run_opts")
    if isinstance(run_opts, dict) and run_opts.get("device") is not None:
        kwargs["run_opts"] = {
            **run_opts,
            "device": check_device(run_opts["device"]),
        }


def _check_output_path(path, output_path, overwrite=True):
    """Refuse, before any work, an output that cannot or may not be written.

    The input itself, a folder, a name other than WAV/FLAC, a folder that
    cannot be created or written (tried), or (``overwrite=False``) an
    existing file: :class:`~speechbrain_masksr.errors.OutputError` (a
    ``ValueError`` and an ``OSError``) naming the path.
    """
    out = Path(output_path)
    same = out.resolve() == Path(path).resolve()
    if not same and out.exists() and Path(path).exists():
        same = os.path.samefile(out, path)
    if same:
        raise OutputError(
            f"refusing to overwrite the input file {path}: give a "
            "different output path"
        )
    if out.is_dir():
        raise OutputError(f"output path {out} is a folder, not a file")
    if out.suffix.lower() not in OUTPUT_EXTENSIONS:
        raise OutputError(
            f"output path {out}: use a .wav or .flac name (16-bit PCM)"
        )
    check_output_path(out)
    if not overwrite and (out.exists() or out.is_symlink()):
        raise OutputError(
            f"output path {out} exists; not replaced (overwrite=False)"
        )


# --------------------------------------------------------------------------
# The interface
# --------------------------------------------------------------------------
class SpeechRestoration(AudioInterface):
    """Restore degraded speech with a trained MaskSR model.

    Any input is converted to mono at the model's (codec's) rate; the output is mono at that rate
    with the length of the (converted) input. Generation settings
    (``steps``, ``guidance``, ``seed``, ``noise``) default to the model
    folder's ``sampling_steps``, ``guidance`` and ``noise``; windowing uses
    ``window_seconds``, ``overlap_seconds``, ``crossfade`` and
    ``max_batch`` (windows per ``generate`` call) from the folder (change
    them with ``overrides=`` in ``from_folder``; ``run_opts={"device":
    ...}`` is checked by :func:`check_device`).

    A model folder is executable configuration: its ``hyperparams.yaml``
    runs at load time. ``from_folder`` and ``from_hparams`` check it first
    and raise :class:`~speechbrain_masksr.errors.UntrustedModelError`
    before anything runs (what is allowed: :mod:`speechbrain_masksr.trust`;
    ``trust_source=True`` skips the check for sources you trust).

    Arguments
    ---------
    *args : tuple
        Passed to ``Pretrained`` (``modules``, ``hparams``, ``run_opts``).
    **kwargs : dict
        Passed to ``Pretrained``.

    Example
    -------
    >>> from speechbrain_masksr.codecs.dac import save_tiny_dac
    >>> from speechbrain_masksr.lobes.masksr import build_masksr
    >>> tmp = getfixture("tmpdir")
    >>> model = build_masksr(d_model=32, encoder_layers=1, lm_layers=1,
    ...                      nhead=4, n_codebooks=9, codebook_size=1024,
    ...                      hop_length=512)  # the tiny DAC's geometry
    >>> cfg = dict(sample_rate=44100, segment_seconds=1.0, d_model=32,
    ...            nhead=4, encoder_layers=1, lm_layers=1, n_codebooks=9,
    ...            codebook_size=1024, variant="flat", cond_dropout=0.1,
    ...            sampling_steps=2, guidance=2.0)
    >>> folder = write_model_folder(tmp / "model", model, cfg,
    ...                             save_tiny_dac(tmp / "codec.pth"))
    >>> restorer = SpeechRestoration.from_folder(source=str(folder))
    >>> wavs = 0.1 * torch.randn(2, 8000)
    >>> restored = restorer.restore_batch(wavs, seed=0)
    >>> restored.shape  # same length, 44.1 kHz
    torch.Size([2, 8000])
    >>> save_audio(tmp / "in.wav", 0.1 * torch.randn(2, 1600), 16000)
    >>> restorer.restore_file(tmp / "in.wav", tmp / "out.wav").shape
    torch.Size([4410])
    """

    HPARAMS_NEEDED = [
        "sample_rate",
        "sampling_steps",
        "guidance",
        "window_seconds",
        "overlap_seconds",
    ]
    MODULES_NEEDED = ["model", "codec"]
    MIN_SECONDS = 0.1

    def __init__(self, *args, **kwargs):
        _check_run_opts(kwargs)
        super().__init__(*args, **kwargs)
        self.sample_rate = int(self.hparams.sample_rate)
        self.min_samples = math.ceil(self.MIN_SECONDS * self.sample_rate)

    def _settings(self, steps, guidance, noise):
        """Generation settings with the model folder's defaults."""
        if steps is None:
            steps = self.hparams.sampling_steps
        steps = check_steps(steps)
        guidance = float(
            self.hparams.guidance if guidance is None else guidance
        )
        if noise is None:
            noise = getattr(self.hparams, "noise", None)
        if not math.isfinite(guidance) or guidance < 0:
            raise ValueError(f"guidance must be >= 0, got {guidance}")
        kwargs = {"steps": steps, "guidance": guidance}
        if noise is not None:
            kwargs["noise"] = noise
        upper_levels = getattr(self.hparams, "upper_levels", None)
        if upper_levels is not None:
            kwargs["upper_levels"] = upper_levels
        return kwargs

    def _window(self):
        """Window and overlap in samples (see :func:`window_samples`)."""
        return window_samples(
            self.sample_rate,
            self.hparams.window_seconds,
            self.hparams.overlap_seconds,
            align=self.mods.codec.hop_length,
        )

    def generate_windows(self, chunks, seed=None, **settings):
        """Restore equal-length windows (no cross-fade): generate + decode.

        Arguments
        ---------
        chunks : torch.Tensor
            ``[n, window]`` at the model's rate, ``window`` a multiple of the
            codec hop.
        seed : int, optional
            Sampling seed (each ``max_batch`` group uses ``seed + group``).
        **settings : dict
            ``steps``, ``guidance``, ``noise`` for ``MaskSR.generate``.

        Returns
        -------
        restored : torch.Tensor
            ``[n, window]``.
        """
        max_batch = int(getattr(self.hparams, "max_batch", 8) or len(chunks))
        outs = []
        for g, i in enumerate(range(0, len(chunks), max_batch)):
            group = chunks[i : i + max_batch]
            tokens = self.mods.model.generate(
                group,
                seed=None if seed is None else int(seed) + g,
                **settings,
            )
            wav = self.mods.codec.decode(tokens)
            if wav.dim() == 3:  # [batch, 1, time]
                wav = wav.squeeze(1)
            outs.append(wav[:, : group.shape[1]].float())
        return torch.cat(outs)

    @torch.no_grad()
    def restore_batch(
        self,
        wavs,
        wav_lens=None,
        steps=None,
        guidance=None,
        seed=None,
        noise=None,
        progress=False,
    ):
        """Restore a batch of mono waveforms at the model's rate.

        Each waveform (its first ``wav_lens * time`` samples) is cut into
        windows; the windows of the batch are generated together
        (``max_batch`` at a time) and joined back by cross-fade
        (:func:`~speechbrain_masksr.utils.windowing.restore_windowed`).

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` floating-point audio in [-1, 1] at the
            model's sample rate (the codec's).
        wav_lens : torch.Tensor, optional
            Relative lengths ``[batch]`` in ``(0, 1]``; ``None`` = all full.
        steps : int, optional
            Sampling iterations, an integer >= 1 (default:
            ``sampling_steps``); ``2.7`` or ``True`` raise ``ValueError``.
        guidance : float, optional
            Classifier-free guidance weight ``w`` (default: ``guidance``).
        seed : int, optional
            Makes the result reproducible.
        noise : str, optional
            Sampler noise, ``"gaussian"`` or ``"gumbel"``.
        progress : bool or callable
            ``True``: a progress bar over the windows of long inputs
            (more than ``max_batch`` windows); a callable is called as
            ``progress(done, total)`` after each window.

        Returns
        -------
        restored : torch.Tensor
            ``[batch, time]`` at the model's rate; zero past each length.
        """
        wavs, num_samples = check_batch(
            wavs,
            wav_lens,
            self.sample_rate,
            self.min_samples,
            f"{self.MIN_SECONDS} s",
            "restore_file",
        )
        wavs = wavs.to(self.device)
        settings = self._settings(steps, guidance, noise)
        window, overlap = self._window()
        return restore_windowed(
            lambda chunks, seed: self.generate_windows(
                chunks, seed=seed, **settings
            ),
            wavs,
            num_samples,
            window,
            overlap,
            crossfade=getattr(self.hparams, "crossfade", "hann"),
            max_batch=getattr(self.hparams, "max_batch", 8),
            seed=seed,
            align=self.mods.codec.hop_length,
            progress=progress,
        )

    def restore_file(self, path, output_path=None, overwrite=True, **kwargs):
        """Restore one audio file (any rate, any channel count).

        Arguments
        ---------
        path : str or Path
            Input file.
        output_path : str or Path, optional
            Where to write the restored mono 16-bit audio (model's rate)
            (``.wav`` or ``.flac``, written atomically); must not be the
            input file itself. It is checked before any work is done
            (name, input, folders that cannot be created or written).
        overwrite : bool
            Replace an existing ``output_path`` (default). With ``False``
            an existing file is refused before any work, and one that
            another process writes meanwhile is not replaced
            (:class:`~speechbrain_masksr.errors.OutputTakenError`).
        **kwargs : dict
            ``steps``, ``guidance``, ``seed``, ``noise``, ``progress``
            (see :meth:`restore_batch`).

        Returns
        -------
        restored : torch.Tensor
            ``[time]`` at the model's rate (same duration as the input).

        Raises
        ------
        OutputError
            An output path that cannot be written (before any work).
        AudioError
            An input that cannot be used (named).
        """
        if output_path is not None:
            _check_output_path(path, output_path, overwrite)
        names = ("steps", "guidance", "noise")
        self._settings(*(kwargs.get(k) for k in names))  # before any work
        wav = self.load_audio(path)
        restored = self.restore_batch(wav.unsqueeze(0), **kwargs)[0]
        del wav  # long files: the input is not needed while writing
        if output_path is not None:
            save_audio(output_path, restored.cpu(), self.sample_rate, overwrite)
        return restored

    def forward(self, wavs, wav_lens=None, **kwargs):
        """Same as :meth:`restore_batch`.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` at the model's rate.
        wav_lens : torch.Tensor, optional
            Relative lengths ``[batch]``.
        **kwargs : dict
            Generation settings.

        Returns
        -------
        restored : torch.Tensor
            ``[batch, time]``.
        """
        return self.restore_batch(wavs, wav_lens, **kwargs)
