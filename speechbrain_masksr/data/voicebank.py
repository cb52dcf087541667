"""VoiceBank-DEMAND (Valentini et al.) manifests: noisy/clean pairs.

:func:`prepare_voicebank_demand` reads the 16 kHz (or 48 kHz) release of
VoiceBank-DEMAND, laid out as::

    <data_folder>/clean_trainset_28spk_wav/p226_001.wav
    <data_folder>/noisy_trainset_28spk_wav/p226_001.wav
    <data_folder>/clean_testset_wav/p232_001.wav
    <data_folder>/noisy_testset_wav/p232_001.wav

SpeechBrain's resampled ``*_16k`` folders (``clean_testset_wav_16k``, ...)
are accepted too, and so are the other training sets of the release
(``clean_trainset_56spk_wav`` / ``noisy_trainset_56spk_wav``, or any
``{clean,noisy}_trainset_<tag>_wav``): the first of ``28spk``, ``56spk``,
then the other tags in alphabetical order for which both the noisy and the
clean folders exist is used. Noisy and clean files are paired by identical
file name. The training speakers ``p226`` and ``p287`` are held out for
validation, as in SpeechBrain's ``recipes/Voicebank/voicebank_prepare.py``.

Manifests (SpeechBrain JSON, paths with the ``{data_root}`` placeholder that
stands for ``data_folder``): ``vbd_train.json``, ``vbd_valid.json``,
``vbd_test.json``; entries ``{"noisy_wav", "clean_wav", "duration",
"sample_rate", "clean_sample_rate", "speaker"}``. Load them with
``DynamicItemDataset.from_json(path, replacements={"data_root":
data_folder})``.

Unreadable files are logged with their path and skipped; unpaired files are
logged and skipped; a missing root folder is an error naming the layout.

Authors
 * speechbrain-masksr contributors 2026
"""

import re
from pathlib import Path

from speechbrain.utils.logger import get_logger

from speechbrain_masksr.data.manifest import (
    find_subfolder,
    mark_prepare_done,
    name_key,
    pair_files,
    paired_entries,
    prepare_done,
    read_prepare_record,
    scan_audio,
    write_manifest,
)

__all__ = [
    "VBD_LAYOUT",
    "VBD_MANIFESTS",
    "VBD_VALID_SPEAKERS",
    "prepare_voicebank_demand",
]

logger = get_logger(__name__)

# SpeechBrain recipes/Voicebank/voicebank_prepare.py: TRAIN_SPEAKERS[:2]
VBD_VALID_SPEAKERS = ("p226", "p287")
VBD_MANIFESTS = ("vbd_train", "vbd_valid", "vbd_test")
VBD_LAYOUT = (
    "Expected VoiceBank-DEMAND folders clean_trainset_28spk_wav, "
    "noisy_trainset_28spk_wav, clean_testset_wav, noisy_testset_wav (or "
    "their *_16k versions, or clean/noisy_trainset_56spk_wav) in "
    "<data_folder>."
)
# preferred training sets first; other <tag>s found on disk come after
_TRAIN_TAGS = ("28spk", "56spk")
_TRAIN_NAME = re.compile(r"^(?:clean|noisy)_trainset_(.+)_wav(?:_16k)?$")


def _vbd_speaker(noisy, clean):
    return {"speaker": Path(noisy).stem.split("_")[0]}


def _folder(data_folder, name):
    return find_subfolder(data_folder, [name, name + "_16k"])


def _train_folders(data_folder):
    """``(noisy, clean)`` of the first complete training set, else Nones."""
    found = {
        m.group(1)
        for d in Path(data_folder).iterdir()
        if d.is_dir() and (m := _TRAIN_NAME.match(d.name))
    }
    tags = list(_TRAIN_TAGS) + sorted(found - set(_TRAIN_TAGS))
    complete = []
    for tag in tags:
        noisy = _folder(data_folder, f"noisy_trainset_{tag}_wav")
        clean = _folder(data_folder, f"clean_trainset_{tag}_wav")
        if noisy is not None and clean is not None:
            complete.append((tag, noisy, clean))
    if not complete:
        return None, None
    if len(complete) > 1:
        logger.info(
            "VoiceBank-DEMAND: using the %s training set (also found: %s)",
            complete[0][0],
            " ".join(c[0] for c in complete[1:]),
        )
    return complete[0][1], complete[0][2]


def _existing(save_folder):
    """Manifests of the last preparation, else the standard names present."""
    record = read_prepare_record(save_folder, "vbd")
    if not record:
        files = [Path(save_folder) / f"{k}.json" for k in VBD_MANIFESTS]
        record = {f.stem: f.name for f in files if f.is_file()}
    return {k: str(Path(save_folder) / v) for k, v in record.items()}


def prepare_voicebank_demand(
    data_folder,
    save_folder,
    skip_prep=False,
    valid_speakers=VBD_VALID_SPEAKERS,
    min_duration=0.0,
):
    """Write VoiceBank-DEMAND manifests (noisy/clean pairs by file name).

    Arguments
    ---------
    data_folder : str or Path
        Folder holding ``clean_trainset_28spk_wav`` etc. (see the module
        docstring for the accepted folder names).
    save_folder : str or Path
        Where ``vbd_train.json``, ``vbd_valid.json``, ``vbd_test.json`` go.
    skip_prep : bool
        If True, prepare nothing and return the manifests already there.
    valid_speakers : tuple of str
        Training speakers moved to ``vbd_valid.json``.
    min_duration : float
        Training/validation pairs shorter than this (seconds) are skipped.

    Returns
    -------
    dict
        ``{name: path}`` for the manifests written (``vbd_train``,
        ``vbd_valid`` when the training folders exist, ``vbd_test`` when
        the test folders exist).

    Raises
    ------
    FileNotFoundError
        If ``data_folder`` is missing, or neither the training nor the test
        folders exist in it.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir") / "vbd"
    >>> for d in ["clean_testset_wav", "noisy_testset_wav"]:
    ...     save_audio(str(root / d / "p232_001.wav"), torch.zeros(160), 16000)
    >>> for spk in ["p226", "p230"]:
    ...     for d in ["clean_trainset_28spk_wav", "noisy_trainset_28spk_wav"]:
    ...         save_audio(str(root / d / f"{spk}_001.wav"),
    ...                    torch.zeros(160), 16000)
    >>> out = prepare_voicebank_demand(str(root), str(root / "save"))
    >>> sorted(out)
    ['vbd_test', 'vbd_train', 'vbd_valid']
    >>> from speechbrain_masksr.data.manifest import load_manifest
    >>> load_manifest(out["vbd_test"])["p232_001"]["clean_wav"]
    '{data_root}/clean_testset_wav/p232_001.wav'
    >>> list(load_manifest(out["vbd_valid"])), list(load_manifest(out["vbd_train"]))
    (['p226_001'], ['p230_001'])
    """
    if skip_prep:
        return _existing(save_folder)
    data_folder, save_folder = Path(data_folder), Path(save_folder)
    if not data_folder.is_dir():
        raise FileNotFoundError(
            f"VoiceBank-DEMAND folder not found: {data_folder}. {VBD_LAYOUT}"
        )
    options = {
        "data_folder": str(data_folder.resolve()),
        "valid_speakers": list(valid_speakers),
        "min_duration": min_duration,
    }
    if prepare_done(save_folder, "vbd", options):
        logger.info("VoiceBank-DEMAND manifests up to date in %s", save_folder)
        return _existing(save_folder)

    sets = {
        "train": _train_folders(data_folder),
        "test": (
            _folder(data_folder, "noisy_testset_wav"),
            _folder(data_folder, "clean_testset_wav"),
        ),
    }
    if all(None in dirs for dirs in sets.values()):
        raise FileNotFoundError(
            f"No VoiceBank-DEMAND train or test folders in {data_folder}. "
            f"{VBD_LAYOUT}"
        )
    stem = name_key(r"^(.+)$")
    written = {}
    for name, (noisy_dir, clean_dir) in sets.items():
        if noisy_dir is None or clean_dir is None:
            logger.warning(
                "VoiceBank-DEMAND: %s noisy/clean folders missing in %s",
                name,
                data_folder,
            )
            continue
        what = f"VoiceBank-DEMAND {name}"
        pairs, _, _ = pair_files(
            scan_audio(noisy_dir), scan_audio(clean_dir), stem, what
        )
        entries = paired_entries(
            pairs, data_folder, what=what, extra=_vbd_speaker
        )
        if name == "test":
            subsets = {"vbd_test": entries}
        else:
            n_short = 0
            subsets = {"vbd_train": {}, "vbd_valid": {}}
            for uid, entry in entries.items():
                if entry["duration"] < min_duration:
                    n_short += 1
                    continue
                key = (
                    "vbd_valid"
                    if entry["speaker"] in valid_speakers
                    else "vbd_train"
                )
                subsets[key][uid] = entry
            if n_short:
                logger.info(
                    "%s: skipped %d pairs shorter than %.3f s",
                    what,
                    n_short,
                    min_duration,
                )
        for key, subset in subsets.items():
            path = save_folder / f"{key}.json"
            write_manifest(subset, path)
            written[key] = str(path)
    mark_prepare_done(save_folder, "vbd", options, written)
    return written
