"""Manifests from plain folders of audio (speech, noise, impulse responses).

:func:`prepare_folders` is the preparation for corpora that are just
folders of files, in any layout: a folder of speech (clean speech that is
degraded on the fly, or noisy-only recordings for self-supervised
pretraining), and optionally folders of noises and of room impulse
responses. Folders are searched recursively for the extensions in
:data:`speechbrain_masksr.dataio.AUDIO_EXTENSIONS` (wav, flac, ogg, mp3,
aiff).

Manifests written to ``save_folder`` (SpeechBrain JSON):

* ``train.json``, ``valid.json``: the speech, split at random (by ``seed``)
  with ``valid_ratio``, or, when ``valid_folder`` is given, all of
  ``speech_folder`` for training and all of ``valid_folder`` for
  validation;
* ``noise.json``, ``rir.json``: only when ``noise_folder`` / ``rir_folder``
  are given (read by :class:`speechbrain_masksr.augment.NoiseMixer` and
  ``RoomReverb`` through their audio banks, as in the DNS recipe).

Every entry is ``{"wav": path, "duration": seconds, "sample_rate": rate}``;
ids are the path relative to the scanned folder, without extension, with
``/`` replaced by ``_``. Since the folders may be anywhere, the paths are
**absolute** (no ``{data_root}`` placeholder): the ``replacements`` given to
``DynamicItemDataset.from_json`` leave them unchanged, and the manifests
must be prepared again if the folders move.

Unreadable files (corrupt, not audio, empty) are logged with their path and
skipped, with a count per folder.

Authors
 * speechbrain-masksr contributors 2026
"""

import os
from pathlib import Path

from speechbrain.utils.logger import get_logger

from speechbrain_masksr.data.manifest import (
    DATA_ROOT,
    audio_entries,
    collect_audio_info,
    mark_prepare_done,
    prepare_done,
    read_prepare_record,
    scan_audio,
    split_ids,
    write_manifest,
)

__all__ = [
    "FOLDER_MANIFESTS",
    "add_folder_arguments",
    "folder_hparams_kwargs",
    "prepare_folders",
]

logger = get_logger(__name__)

FOLDER_MANIFESTS = ("train", "valid", "noise", "rir")

#: Help of the command-line arguments of :func:`add_folder_arguments`.
FOLDER_ARGUMENT_HELP = {
    "speech": "folder of speech (searched recursively)",
    "noise": "folder of noises (noise.json)",
    "rir": "folder of impulse responses (rir.json)",
    "valid": "folder of validation speech (else a random split)",
    "min_duration": "skip speech shorter than this (seconds)",
}


def _absolute_entries(report, folder):
    """Entries of :func:`audio_entries` with absolute paths."""
    root = Path(os.path.abspath(folder)).as_posix()
    entries = audio_entries(report, folder, folder)
    for entry in entries.values():
        entry["wav"] = entry["wav"].replace(DATA_ROOT, root, 1)
    return entries


def _scan(folder, what, min_duration=0.0, exclude=()):
    """Absolute-path entries of the readable audio under ``folder``."""
    report = collect_audio_info(
        scan_audio(folder, exclude=exclude), what, min_duration
    )
    if not report.kept:
        raise FileNotFoundError(
            f"No readable {what} audio in {folder} ({report.summary()})"
        )
    return _absolute_entries(report, folder)


def _inside(path, folder):
    path, folder = Path(path).resolve(), Path(folder).resolve()
    return path == folder or folder in path.parents


def _existing(save_folder):
    """Manifests of the last preparation, else the standard names present."""
    record = read_prepare_record(save_folder, "folders")
    if not record:
        files = [Path(save_folder) / f"{k}.json" for k in FOLDER_MANIFESTS]
        record = {f.stem: f.name for f in files if f.is_file()}
    return {k: str(Path(save_folder) / v) for k, v in record.items()}


def prepare_folders(
    save_folder,
    speech_folder,
    noise_folder=None,
    rir_folder=None,
    valid_ratio=0.1,
    valid_folder=None,
    seed=1234,
    min_duration=0.0,
    skip_prep=False,
):
    """Write ``train``/``valid`` (and ``noise``/``rir``) manifests.

    See the module docstring for the manifests and their entries. The work
    is skipped when the manifests exist and were written with the same
    options (recorded in ``folders_prepare_options.json``); files added to
    the folders afterwards are not seen until an option changes or the
    record is deleted.

    Arguments
    ---------
    save_folder : str or Path
        Where the JSON manifests go.
    speech_folder : str or Path
        Folder of speech (clean, or noisy-only for pretraining), searched
        recursively. Sub-folders that are ``valid_folder``,
        ``noise_folder`` or ``rir_folder`` are left out of it.
    noise_folder : str or Path, optional
        Folder of noises; ``noise.json`` is written when given.
    rir_folder : str or Path, optional
        Folder of room impulse responses; ``rir.json`` is written when
        given.
    valid_ratio : float
        Fraction of the speech files held out at random for
        ``valid.json`` (ignored when ``valid_folder`` is given). With a
        positive ratio at least one file is held out, as long as one is
        left for training; 0 writes an empty ``valid.json``.
    valid_folder : str or Path, optional
        Folder of validation speech: it becomes ``valid.json`` and all of
        ``speech_folder`` goes to ``train.json``.
    seed : int
        Seed of the random train/valid split.
    min_duration : float
        Speech files (train and valid) shorter than this (seconds, e.g. the
        training crop) are skipped and counted. Noises and impulse
        responses are kept whatever their length.
    skip_prep : bool
        If True, prepare nothing and return the manifests already there.

    Returns
    -------
    dict
        ``{name: path}`` with names among ``train``, ``valid``, ``noise``,
        ``rir``.

    Raises
    ------
    FileNotFoundError
        If a given folder does not exist or holds no readable audio (the
        message names the folder).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir")
    >>> for i in range(5):
    ...     save_audio(str(root / "speech" / "spk1" / f"u{i}.flac"),
    ...                0.1 * torch.randn(1600), 16000)
    >>> save_audio(str(root / "noise" / "fan.wav"), torch.zeros(800), 16000)
    >>> _ = (root / "speech" / "broken.wav").write("not audio")
    >>> out = prepare_folders(str(root / "save"), str(root / "speech"),
    ...                       noise_folder=str(root / "noise"),
    ...                       valid_ratio=0.2)
    >>> sorted(out)
    ['noise', 'train', 'valid']
    >>> from speechbrain_masksr.data.manifest import load_manifest
    >>> train, valid = load_manifest(out["train"]), load_manifest(out["valid"])
    >>> len(train), len(valid), sorted(train)[0]
    (4, 1, 'spk1_u0')
    >>> entry = load_manifest(out["noise"])["fan"]
    >>> Path(entry["wav"]).is_absolute(), entry["duration"]
    (True, 0.05)
    """
    if skip_prep:
        return _existing(save_folder)
    save_folder = Path(save_folder)
    folders = {
        "speech": speech_folder,
        "valid": valid_folder,
        "noise": noise_folder,
        "rir": rir_folder,
    }
    for what, folder in folders.items():
        if folder is not None and not Path(folder).is_dir():
            raise FileNotFoundError(f"{what} folder not found: {folder}")
    options = {
        f"{k}_folder": None if v is None else os.path.abspath(v)
        for k, v in folders.items()
    }
    options.update(
        {
            "valid_ratio": None if valid_folder is not None else valid_ratio,
            "seed": seed,
            "min_duration": min_duration,
        }
    )
    if prepare_done(save_folder, "folders", options):
        logger.info("Manifests in %s are up to date, skipping", save_folder)
        return _existing(save_folder)

    others = [
        f
        for k, f in folders.items()
        if k != "speech" and f is not None and _inside(f, speech_folder)
    ]
    speech = _scan(speech_folder, "speech", min_duration, exclude=others)
    if valid_folder is None:
        train_ids, valid_ids = split_ids(list(speech), [valid_ratio], seed)
        split = {
            "train": {i: speech[i] for i in train_ids},
            "valid": {i: speech[i] for i in valid_ids},
        }
    else:
        split = {
            "train": speech,
            "valid": _scan(valid_folder, "validation speech", min_duration),
        }
    for what, folder in (("noise", noise_folder), ("rir", rir_folder)):
        if folder is not None:
            split[what] = _scan(folder, what)
    written = {}
    for name, entries in split.items():
        path = save_folder / f"{name}.json"
        write_manifest(entries, path)
        written[name] = str(path)
    logger.info(
        "Folders: %s",
        ", ".join(f"{len(v)} {k}" for k, v in split.items()),
    )
    mark_prepare_done(save_folder, "folders", options, written)
    return written


def folder_hparams_kwargs(hparams, valid_ratio=0.1):
    """Keyword arguments of :func:`prepare_folders` from recipe hparams.

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters: ``speech_folder``, ``save_folder``,
        ``skip_prep`` and the optional ``noise_folder``, ``rir_folder``,
        ``valid_folder``, ``valid_ratio``, ``seed`` (default 1234) and
        ``min_duration`` (default 0). A missing, ``None`` or empty folder
        means "not given" (``None``).
    valid_ratio : float
        The ratio when ``hparams`` has none (or ``None``).

    Returns
    -------
    dict
        ``save_folder``, ``speech_folder``, ``noise_folder``,
        ``rir_folder``, ``valid_folder``, ``valid_ratio``, ``seed``,
        ``min_duration`` and ``skip_prep``.

    Example
    -------
    >>> kwargs = folder_hparams_kwargs(
    ...     {"speech_folder": "speech", "save_folder": "save",
    ...      "skip_prep": False, "noise_folder": ""}, valid_ratio=0.05)
    >>> kwargs["noise_folder"], kwargs["valid_ratio"], kwargs["seed"]
    (None, 0.05, 1234)
    """
    ratio = hparams.get("valid_ratio")
    return {
        "save_folder": hparams["save_folder"],
        "speech_folder": hparams["speech_folder"],
        "noise_folder": hparams.get("noise_folder") or None,
        "rir_folder": hparams.get("rir_folder") or None,
        "valid_folder": hparams.get("valid_folder") or None,
        "valid_ratio": valid_ratio if ratio is None else ratio,
        "seed": hparams.get("seed", 1234),
        "min_duration": hparams.get("min_duration") or 0.0,
        "skip_prep": hparams["skip_prep"],
    }


def add_folder_arguments(parser, valid_ratio=0.1, helps=None, extra_folders=()):
    """Add the command-line arguments of :func:`prepare_folders`.

    ``save_folder``, ``--speech`` (required), ``--noise``, ``--rir``, the
    extra folders, ``--valid``, ``--valid-ratio``, ``--seed`` and
    ``--min-duration``. The folders are parsed as ``<name>_folder``, so
    that ``vars(parser.parse_args())`` holds keyword arguments of
    :func:`prepare_folders` (plus the extra folders).

    Arguments
    ---------
    parser : argparse.ArgumentParser
        Where the arguments go.
    valid_ratio : float
        Default of ``--valid-ratio``.
    helps : dict, optional
        Help texts replacing those of :data:`FOLDER_ARGUMENT_HELP` (keys
        ``speech``, ``noise``, ``rir``, ``valid``, ``min_duration``), and
        those of the extra folders.
    extra_folders : sequence of str
        Names of further optional folders (``"speaker"`` adds
        ``--speaker``, parsed as ``speaker_folder``), after ``--rir``.

    Returns
    -------
    argparse.ArgumentParser
        ``parser``.

    Example
    -------
    >>> import argparse
    >>> parser = add_folder_arguments(argparse.ArgumentParser(), 0.05)
    >>> args = parser.parse_args(["save", "--speech", "speech"])
    >>> args.speech_folder, args.noise_folder, args.valid_ratio
    ('speech', None, 0.05)
    >>> sorted(vars(args)) == sorted(
    ...     ["save_folder", "speech_folder", "noise_folder", "rir_folder",
    ...      "valid_folder", "valid_ratio", "seed", "min_duration"])
    True
    """
    helps = dict(FOLDER_ARGUMENT_HELP, **(helps or {}))
    parser.add_argument("save_folder", help="where the manifests go")
    for name in ("speech", "noise", "rir", *extra_folders, "valid"):
        option = {"required": True} if name == "speech" else {}
        parser.add_argument(
            f"--{name}",
            dest=f"{name}_folder",
            metavar=name.upper(),
            help=helps.get(name),
            **option,
        )
    parser.add_argument("--valid-ratio", type=float, default=valid_ratio)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--min-duration",
        type=float,
        default=0.0,
        help=helps["min_duration"],
    )
    return parser
