"""Shared helpers for the data-preparation scripts of the recipes.

The ``*_prepare.py`` scripts of the recipes all do the same few things:
scan folders for audio, read each file's duration and sample rate from its
header, drop files that cannot be read (with a warning naming the file and a
summary count), pair degraded and clean files by a key taken from their
names, and write SpeechBrain JSON manifests whose paths start with the
``{data_root}`` placeholder (replaced at load time by
``DynamicItemDataset.from_json(..., replacements={"data_root": folder})``).
They also skip the work when the manifests exist and were written with the
same options. These helpers live here so that every script reports bad
files the same way, at preparation time, instead of a worker crashing later.

The audio-classification preparations (AudioSet, ESC-50, Speech Commands)
also share :func:`probe_clip` (a clip's duration and rate, optionally from
a resampled copy written once), :func:`label_manifest_paths` and
:func:`write_label_manifests` (split manifests with ``labels``, the class
names in ``class_labels.json``, an optional report, the skip record).

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from speechbrain.utils.logger import get_logger

from speechbrain_masksr.dataio import (
    AUDIO_EXTENSIONS,
    audio_info,
    find_audio_files,
    load_audio,
    save_audio,
)
from speechbrain_masksr.errors import AudioError
from speechbrain_masksr.utils.files import atomic_open

logger = get_logger(__name__)

DATA_ROOT = "{data_root}"


def read_audio_info(path):
    """Read the duration and sample rate of an audio file from its header.

    The manifest-entry form of :func:`speechbrain_masksr.dataio.audio_info`.

    Arguments
    ---------
    path : str or Path
        The audio file.

    Returns
    -------
    dict
        ``{"duration": seconds, "sample_rate": int, "num_samples": int,
        "channels": int}``.

    Raises
    ------
    AudioError
        If the file is missing, not a readable audio file, or holds no
        samples. The message names the file.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "a.wav"), torch.zeros(8000), 16000)
    >>> read_audio_info(str(tmp / "a.wav"))["duration"]
    0.5
    >>> _ = (tmp / "bad.wav").write("not audio")
    >>> read_audio_info(str(tmp / "bad.wav"))
    Traceback (most recent call last):
    ...
    speechbrain_masksr.errors.AudioError: ...bad.wav: not a readable audio file...
    """
    info = audio_info(path)
    return {
        "duration": info.duration,
        "sample_rate": info.sample_rate,
        "num_samples": info.num_samples,
        "channels": info.channels,
    }


def scan_audio(folder, extensions=AUDIO_EXTENSIONS, exclude=()):
    """List the audio files under a folder, recursively and sorted.

    The folder listing of :func:`~speechbrain_masksr.dataio.find_audio_files`:
    hidden files and files in hidden folders (temporary files of
    interrupted writes among them) are left out.

    Arguments
    ---------
    folder : str or Path
        Folder to search.
    extensions : tuple of str
        File endings (lower case, with the dot) that count as audio.
    exclude : tuple of str or Path
        Sub-folders whose files are left out (for example a test set stored
        inside the training folder).

    Returns
    -------
    list of Path
        Sorted file paths.

    Raises
    ------
    FileNotFoundError
        If ``folder`` is not a folder.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / "x").mkdir()
    >>> _ = (tmp / "x" / "b.wav").write("")
    >>> _ = (tmp / "x" / "a.flac").write("")
    >>> _ = (tmp / "x" / "notes.txt").write("")
    >>> _ = (tmp / "x" / ".b.0123abcd.tmp.wav").write("")
    >>> [p.name for p in scan_audio(tmp / "x")]
    ['a.flac', 'b.wav']
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: folder not found")
    return find_audio_files(folder, extensions, exclude)


@dataclass
class ScanReport:
    """What happened to the files of one scan (kept, unreadable, too short).

    Arguments
    ---------
    what : str
        Name of the file group, used in log messages ("clean speech").
    n_found : int
        Number of files found.
    kept : dict
        ``{path: info}`` of the files kept (see :func:`read_audio_info`).
    unreadable : list
        ``(path, reason)`` of the files that could not be read.
    too_short : list
        Paths of the files shorter than the minimum duration.

    Example
    -------
    >>> report = ScanReport("noise", n_found=3)
    >>> report.summary()
    'noise: 3 files found, 0 kept, 0 unreadable, 0 shorter than the minimum duration'
    """

    what: str
    n_found: int = 0
    kept: dict = field(default_factory=dict)
    unreadable: list = field(default_factory=list)
    too_short: list = field(default_factory=list)

    def summary(self):
        """One line with the counts.

        Returns
        -------
        str
            The summary.

        Example
        -------
        >>> ScanReport("rir", n_found=0).summary().startswith("rir: 0 files")
        True
        """
        return (
            f"{self.what}: {self.n_found} files found, {len(self.kept)} kept, "
            f"{len(self.unreadable)} unreadable, {len(self.too_short)} "
            f"shorter than the minimum duration"
        )


def collect_audio_info(paths, what="audio", min_duration=0.0):
    """Read the header of each file, skipping (and reporting) bad ones.

    Unreadable files (missing, corrupt, not audio, empty) are logged with a
    warning naming the file and the reason, and skipped. Files shorter than
    ``min_duration`` seconds are skipped too and counted. A summary line is
    logged at the end.

    Arguments
    ---------
    paths : list of str or Path
        Files to read.
    what : str
        Name of the group for the log messages.
    min_duration : float
        Files shorter than this (seconds) are skipped.

    Returns
    -------
    ScanReport
        ``report.kept`` maps each kept path (``Path``) to its info dict.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "long.wav"), torch.zeros(16000), 16000)
    >>> save_audio(str(tmp / "short.wav"), torch.zeros(1600), 16000)
    >>> _ = (tmp / "bad.wav").write("junk")
    >>> report = collect_audio_info(
    ...     [tmp / "long.wav", tmp / "short.wav", tmp / "bad.wav"],
    ...     min_duration=0.5,
    ... )
    >>> [p.name for p in report.kept], len(report.unreadable)
    (['long.wav'], 1)
    >>> [p.name for p in report.too_short]
    ['short.wav']
    """
    report = ScanReport(what, n_found=len(paths))
    for path in paths:
        path = Path(path)
        try:
            info = read_audio_info(path)
        except AudioError as err:
            logger.warning("Skipping unreadable %s file: %s", what, err)
            report.unreadable.append((path, str(err)))
            continue
        if info["duration"] < min_duration:
            report.too_short.append(path)
            continue
        report.kept[path] = info
    if report.too_short:
        logger.info(
            "%s: skipped %d files shorter than %.3f s",
            what,
            len(report.too_short),
            min_duration,
        )
    if report.unreadable:
        logger.warning(
            "%s: %d unreadable files skipped (first: %s)",
            what,
            len(report.unreadable),
            report.unreadable[0][0],
        )
    logger.info(report.summary())
    return report


def placeholder_path(path, data_folder):
    """Express a path under ``data_folder`` with the ``{data_root}`` prefix.

    Arguments
    ---------
    path : str or Path
        A file inside ``data_folder``.
    data_folder : str or Path
        The root that ``{data_root}`` stands for.

    Returns
    -------
    str
        ``"{data_root}/relative/path.wav"`` (forward slashes).

    Raises
    ------
    ValueError
        If ``path`` is not inside ``data_folder``.

    Example
    -------
    >>> placeholder_path("/data/dns/datasets/clean/a.wav", "/data/dns")
    '{data_root}/datasets/clean/a.wav'
    """
    path = Path(os.path.abspath(path))
    root = Path(os.path.abspath(data_folder))
    try:
        rel = path.relative_to(root)
    except ValueError as err:
        raise ValueError(f"{path} is not inside {root}") from err
    return DATA_ROOT + "/" + rel.as_posix()


def utterance_id(path, folder):
    """Make an utterance id from a file path relative to a folder.

    The id is the relative path without its extension, with folder
    separators replaced by ``_`` (so ``read/book_1.wav`` gives
    ``read_book_1``).

    Arguments
    ---------
    path : str or Path
        The file.
    folder : str or Path
        The scanned folder.

    Returns
    -------
    str
        The id.

    Example
    -------
    >>> utterance_id("/d/clean/read/book_1.wav", "/d/clean")
    'read_book_1'
    """
    rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(folder))
    return "_".join(rel.with_suffix("").parts)


def unique_ids(ids):
    """Make ids unique by appending ``_dup<N>`` to repeats (with a warning).

    Arguments
    ---------
    ids : list of str
        Ids, possibly repeated.

    Returns
    -------
    list of str
        Same order, all distinct.

    Example
    -------
    >>> unique_ids(["a", "b", "a"])
    ['a', 'b', 'a_dup1']
    """
    seen = {}
    out = []
    for uid in ids:
        if uid in seen:
            seen[uid] += 1
            new = f"{uid}_dup{seen[uid]}"
            logger.warning("Duplicate utterance id %s renamed %s", uid, new)
            out.append(new)
        else:
            seen[uid] = 0
            out.append(uid)
    return out


def audio_entries(report, folder, data_folder, extra=None):
    """Build manifest entries ``{id: {"wav", "duration", "sample_rate"}}``.

    Arguments
    ---------
    report : ScanReport
        Output of :func:`collect_audio_info`.
    folder : str or Path
        The scanned folder (ids are relative to it).
    data_folder : str or Path
        The folder that ``{data_root}`` stands for.
    extra : callable, optional
        ``extra(path) -> dict`` of additional fields (a speaker, say).

    Returns
    -------
    dict
        Manifest entries, sorted by id.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "n" / "hum.wav"), torch.zeros(800), 8000)
    >>> report = collect_audio_info(scan_audio(tmp / "n"))
    >>> audio_entries(report, tmp / "n", tmp)
    {'hum': {'wav': '{data_root}/n/hum.wav', 'duration': 0.1, 'sample_rate': 8000}}
    """
    paths = sorted(report.kept)
    ids = unique_ids([utterance_id(p, folder) for p in paths])
    entries = {}
    for uid, path in sorted(zip(ids, paths)):
        info = report.kept[path]
        entry = {
            "wav": placeholder_path(path, data_folder),
            "duration": round(info["duration"], 6),
            "sample_rate": info["sample_rate"],
        }
        if extra is not None:
            entry.update(extra(path))
        entries[uid] = entry
    return entries


def pair_files(noisy, clean, key, what="pairs"):
    """Pair degraded and clean files that share a key taken from the name.

    Files whose key cannot be computed (``key`` returns ``None``), degraded
    files without a clean partner and clean files without a degraded partner
    are reported with a warning and left out. Two clean files with the same
    key are an error (the pairing would be ambiguous).

    Arguments
    ---------
    noisy : list of Path
        Degraded files.
    clean : list of Path
        Clean reference files.
    key : callable
        ``key(path) -> str or None``, e.g. the DNS ``fileid``.
    what : str
        Name of the set, for messages.

    Returns
    -------
    pairs : list of (Path, Path)
        ``(noisy, clean)`` sorted by the noisy path.
    unpaired_noisy : list of Path
        Degraded files left out.
    unpaired_clean : list of Path
        Clean files left out.

    Raises
    ------
    ValueError
        If two clean files share a key.

    Example
    -------
    >>> def fileid(p):
    ...     m = re.search(r"fileid_(\\d+)", Path(p).stem)
    ...     return m.group(1) if m else None
    >>> pairs, lone_noisy, lone_clean = pair_files(
    ...     [Path("n/x_fileid_1.wav"), Path("n/y_fileid_2.wav")],
    ...     [Path("c/clean_fileid_1.wav"), Path("c/clean_fileid_3.wav")],
    ...     fileid,
    ... )
    >>> [(a.name, b.name) for a, b in pairs]
    [('x_fileid_1.wav', 'clean_fileid_1.wav')]
    >>> [p.name for p in lone_noisy], [p.name for p in lone_clean]
    (['y_fileid_2.wav'], ['clean_fileid_3.wav'])
    """
    by_key = {}
    unpaired_clean = []
    for path in clean:
        k = key(path)
        if k is None:
            logger.warning("%s: cannot pair clean file %s (no key)", what, path)
            unpaired_clean.append(path)
            continue
        if k in by_key:
            raise ValueError(
                f"{what}: clean files {by_key[k]} and {path} share the "
                f"pairing key {k!r}"
            )
        by_key[k] = path
    pairs, unpaired_noisy, used = [], [], set()
    for path in sorted(noisy):
        k = key(path)
        if k is None or k not in by_key:
            logger.warning(
                "%s: no clean reference for %s (key %r); skipped", what, path, k
            )
            unpaired_noisy.append(path)
            continue
        pairs.append((path, by_key[k]))
        used.add(k)
    for k, path in sorted(by_key.items()):
        if k not in used:
            logger.warning("%s: clean file %s has no degraded file", what, path)
            unpaired_clean.append(path)
    if unpaired_noisy or unpaired_clean:
        logger.warning(
            "%s: %d pairs, %d degraded and %d clean files unpaired",
            what,
            len(pairs),
            len(unpaired_noisy),
            len(unpaired_clean),
        )
    return pairs, unpaired_noisy, unpaired_clean


def paired_entries(pairs, data_folder, ids=None, what="pairs", extra=None):
    """Build manifest entries for ``(noisy, clean)`` pairs.

    Each entry is ``{"noisy_wav", "clean_wav", "duration", "sample_rate",
    "clean_sample_rate"}`` where ``duration`` and ``sample_rate`` are the
    degraded file's. Pairs where either file is unreadable are reported and
    skipped; a duration mismatch above 10 ms is reported (kept).

    Arguments
    ---------
    pairs : list of (Path, Path)
        Output of :func:`pair_files`.
    data_folder : str or Path
        The folder that ``{data_root}`` stands for.
    ids : list of str, optional
        One id per pair; default the degraded file's stem.
    what : str
        Name of the set, for messages.
    extra : callable, optional
        ``extra(noisy_path, clean_path) -> dict`` of additional fields.

    Returns
    -------
    dict
        Manifest entries, sorted by id.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "noisy" / "u1.wav"), torch.zeros(1600), 16000)
    >>> save_audio(str(tmp / "clean" / "u1.wav"), torch.zeros(1600), 16000)
    >>> paired_entries([(tmp / "noisy" / "u1.wav", tmp / "clean" / "u1.wav")], tmp)
    {'u1': {'noisy_wav': '{data_root}/noisy/u1.wav', 'clean_wav': '{data_root}/clean/u1.wav', 'duration': 0.1, 'sample_rate': 16000, 'clean_sample_rate': 16000}}
    """
    if ids is None:
        ids = [Path(n).stem for n, _ in pairs]
    ids = unique_ids(list(ids))
    entries, n_bad = {}, 0
    for uid, (noisy, clean) in sorted(zip(ids, pairs)):
        try:
            n_info = read_audio_info(noisy)
            c_info = read_audio_info(clean)
        except AudioError as err:
            logger.warning("%s: skipping pair %s: %s", what, uid, err)
            n_bad += 1
            continue
        if abs(n_info["duration"] - c_info["duration"]) > 0.01:
            logger.warning(
                "%s: %s lasts %.3f s but its reference %s lasts %.3f s",
                what,
                noisy,
                n_info["duration"],
                clean,
                c_info["duration"],
            )
        entry = {
            "noisy_wav": placeholder_path(noisy, data_folder),
            "clean_wav": placeholder_path(clean, data_folder),
            "duration": round(n_info["duration"], 6),
            "sample_rate": n_info["sample_rate"],
            "clean_sample_rate": c_info["sample_rate"],
        }
        if extra is not None:
            entry.update(extra(noisy, clean))
        entries[uid] = entry
    if n_bad:
        logger.warning(
            "%s: %d pairs with unreadable files skipped", what, n_bad
        )
    return entries


def split_ids(ids, ratios, seed=0):
    """Split ids into consecutive random subsets, reproducibly.

    Arguments
    ---------
    ids : list of str
        The ids (their order does not matter: they are sorted first).
    ratios : list of float
        Fraction of the ids for each subset after the first; the first
        subset takes the rest. A positive ratio gets at least one id as long
        as the first subset keeps one.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    list of list of str
        ``1 + len(ratios)`` sorted lists.

    Example
    -------
    >>> train, valid = split_ids([f"u{i}" for i in range(10)], [0.2], seed=1)
    >>> len(train), len(valid), sorted(train + valid)[:2]
    (8, 2, ['u0', 'u1'])
    """
    ids = sorted(ids)
    random.Random(seed).shuffle(ids)
    sizes = []
    for ratio in ratios:
        if ratio < 0 or ratio >= 1:
            raise ValueError(f"split ratios must be in [0, 1), got {ratio}")
        n = int(round(ratio * len(ids)))
        if ratio > 0 and n == 0:
            n = 1
        sizes.append(n)
    while sum(sizes) >= len(ids) and any(sizes):
        biggest = max(range(len(sizes)), key=lambda i: sizes[i])
        sizes[biggest] -= 1
    subsets, start = [], len(ids) - sum(sizes)
    for n in sizes:
        subsets.append(sorted(ids[start : start + n]))
        start += n
    return [sorted(ids[: len(ids) - sum(sizes)])] + subsets


def write_manifest(entries, path):
    """Write a SpeechBrain JSON manifest (atomically, creating folders).

    Arguments
    ---------
    entries : dict
        ``{utt_id: {field: value}}``.
    path : str or Path
        Output ``.json`` file.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> write_manifest({"a": {"wav": "{data_root}/a.wav"}}, tmp / "m.json")
    >>> load_manifest(tmp / "m.json", data_root="/d")
    {'a': {'wav': '/d/a.wav'}}
    """
    path = Path(path)
    with atomic_open(path) as fout:
        json.dump(entries, fout, indent=2)
        fout.write("\n")
    logger.info("Wrote %s (%d entries)", path, len(entries))


def load_manifest(path, data_root=None):
    """Read a JSON manifest, replacing ``{data_root}`` if a root is given.

    Arguments
    ---------
    path : str or Path
        The manifest.
    data_root : str or Path, optional
        Replacement for ``{data_root}`` in string fields.

    Returns
    -------
    dict
        The entries.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> write_manifest({"a": {"wav": "{data_root}/a.wav", "duration": 1.0}},
    ...                tmp / "m.json")
    >>> load_manifest(tmp / "m.json")["a"]["wav"]
    '{data_root}/a.wav'
    """
    with open(path, encoding="utf-8") as fin:
        entries = json.load(fin)
    if data_root is not None:
        root = str(data_root)
        for entry in entries.values():
            for k, v in entry.items():
                if isinstance(v, str):
                    entry[k] = v.replace(DATA_ROOT, root)
    return entries


def _options_file(save_folder, name):
    return Path(save_folder) / f"{name}_prepare_options.json"


def prepare_done(save_folder, name, options):
    """Tell whether a preparation already ran with the same options.

    True when ``<save_folder>/<name>_prepare_options.json`` holds the same
    options and every manifest it lists still exists.

    Arguments
    ---------
    save_folder : str or Path
        Where the manifests are.
    name : str
        Name of the preparation ("dns", "vctk", ...).
    options : dict
        JSON-serialisable options of the run.

    Returns
    -------
    bool
        Whether the work can be skipped.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> write_manifest({}, tmp / "train.json")
    >>> mark_prepare_done(tmp, "demo", {"seed": 0}, [tmp / "train.json"])
    >>> prepare_done(tmp, "demo", {"seed": 0}), prepare_done(tmp, "demo", {"seed": 1})
    (True, False)
    """
    opt_file = _options_file(save_folder, name)
    if not opt_file.is_file():
        return False
    try:
        with open(opt_file, encoding="utf-8") as fin:
            saved = json.load(fin)
    except (OSError, ValueError):
        return False
    if saved.get("options") != json.loads(json.dumps(options)):
        logger.info("%s: options changed since the last preparation", name)
        return False
    manifests = saved.get("manifests", {})
    return all(Path(save_folder, m).is_file() for m in manifests.values())


def mark_prepare_done(save_folder, name, options, manifests):
    """Record the options and manifests of a finished preparation.

    Arguments
    ---------
    save_folder : str or Path
        Where the manifests are.
    name : str
        Name of the preparation.
    options : dict
        JSON-serialisable options of the run.
    manifests : list of str or Path, or dict
        The manifests written (paths, or ``{key: path}``).

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> mark_prepare_done(tmp, "x", {}, {"train": tmp / "train.json"})
    >>> read_prepare_record(tmp, "x")
    {'train': 'train.json'}
    """
    if not isinstance(manifests, dict):
        manifests = {Path(m).stem: m for m in manifests}
    record = {
        "options": options,
        "manifests": {k: Path(v).name for k, v in manifests.items()},
    }
    opt_file = _options_file(save_folder, name)
    with atomic_open(opt_file) as fout:
        json.dump(record, fout, indent=2)


def read_prepare_record(save_folder, name):
    """Return ``{key: manifest file name}`` recorded by the last preparation.

    Arguments
    ---------
    save_folder : str or Path
        Where the manifests are.
    name : str
        Name of the preparation.

    Returns
    -------
    dict
        ``{key: file name}`` (empty if there is no record).

    Example
    -------
    >>> read_prepare_record(getfixture("tmpdir"), "nothing")
    {}
    """
    opt_file = _options_file(save_folder, name)
    if not opt_file.is_file():
        return {}
    with open(opt_file, encoding="utf-8") as fin:
        return json.load(fin).get("manifests", {})


def find_subfolder(data_folder, candidates):
    """Return the first existing ``data_folder/<candidate>`` folder.

    Arguments
    ---------
    data_folder : str or Path
        Root folder.
    candidates : str or list of str
        Relative sub-folder names tried in order.

    Returns
    -------
    Path or None
        The folder, or ``None`` when none exists.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / "b").mkdir()
    >>> find_subfolder(tmp, ["a", "b"]).name
    'b'
    """
    if isinstance(candidates, (str, Path)):
        candidates = [candidates]
    for cand in candidates:
        folder = Path(data_folder) / cand
        if folder.is_dir():
            return folder
    return None


def name_key(pattern, group=1):
    """Make a pairing key function from a regular expression on file stems.

    Arguments
    ---------
    pattern : str
        Regular expression searched in the file stem.
    group : int
        Group returned as the key.

    Returns
    -------
    callable
        ``key(path) -> str or None``.

    Example
    -------
    >>> key = name_key(r"fileid_(\\d+)$")
    >>> key("noisy/clnsp1_snr5_tl-21_fileid_158.wav"), key("x.wav")
    ('158', None)
    """
    regex = re.compile(pattern)

    def key(path):
        match = regex.search(Path(path).stem)
        return match.group(group) if match else None

    return key


def probe_clip(path, resample_folder=None, sample_rate=16000):
    """The file, duration and rate of a clip, optionally resampled once.

    With ``resample_folder``, a mono ``sample_rate`` copy
    ``<resample_folder>/<stem>.wav`` is written (if not there yet) and
    described instead of ``path``.

    Arguments
    ---------
    path : str or Path
        The clip.
    resample_folder : str or Path, optional
        Existing folder of the resampled copies.
    sample_rate : int
        Rate of the copies.

    Returns
    -------
    tuple
        ``(path used as str, duration in seconds, sample rate)``.

    Raises
    ------
    AudioError
        When the clip cannot be read.

    Example
    -------
    >>> import torch
    >>> tmp = Path(getfixture("tmpdir"))
    >>> save_audio(tmp / "a.flac", torch.zeros(22050), 22050)
    >>> probe_clip(tmp / "a.flac")[1:]
    (1.0, 22050)
    >>> (tmp / "16k").mkdir()
    >>> wav, duration, rate = probe_clip(tmp / "a.flac", tmp / "16k", 16000)
    >>> Path(wav).name, duration, rate
    ('a.wav', 1.0, 16000)
    """
    if resample_folder is not None:
        out = Path(resample_folder) / (Path(path).stem + ".wav")
        if not out.exists():
            wav, _ = load_audio(path, sample_rate=sample_rate)
            save_audio(out, wav, sample_rate)
        path = out
    info = audio_info(path)
    return str(path), info.duration, info.sample_rate


def label_manifest_paths(save_folder, splits, report=False):
    """The files an audio-classification preparation writes.

    Arguments
    ---------
    save_folder : str or Path
        Where they are written.
    splits : sequence of str
        Split names: one ``<split>.json`` manifest each.
    report : bool
        Whether a ``prepare_report.json`` is written too.

    Returns
    -------
    dict
        ``{split: path, "labels": class_labels.json path[, "report":
        prepare_report.json path]}`` (str paths, in that order).

    Example
    -------
    >>> paths = label_manifest_paths("out", ("train", "test"), report=True)
    >>> {k: Path(v).name for k, v in paths.items()}  # doctest: +NORMALIZE_WHITESPACE
    {'train': 'train.json', 'test': 'test.json', 'labels': 'class_labels.json',
     'report': 'prepare_report.json'}
    """
    save_folder = Path(save_folder)
    written = {split: str(save_folder / f"{split}.json") for split in splits}
    written["labels"] = str(save_folder / "class_labels.json")
    if report:
        written["report"] = str(save_folder / "prepare_report.json")
    return written


def write_label_manifests(
    save_folder, name, options, manifests, class_names, report=None, what=None
):
    """Write the outputs of an audio-classification preparation.

    Writes each split's manifest, the class names (``class_labels.json``,
    ``names[label]``), the report if any, then the record that lets
    :func:`prepare_done` skip the work next time.

    Arguments
    ---------
    save_folder : str or Path
        Where the files are written.
    name : str
        Name of the preparation (for :func:`mark_prepare_done`).
    options : dict
        JSON-serialisable options of the run.
    manifests : dict
        ``{split: {utt_id: entry}}``.
    class_names : list of str
        Class names, in label order.
    report : dict, optional
        Written to ``prepare_report.json``.
    what : str, optional
        Corpus name in the log lines (default ``name``).

    Returns
    -------
    dict
        The paths of :func:`label_manifest_paths`.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> entry = {"wav": "a.wav", "duration": 1.0, "labels": [1]}
    >>> out = write_label_manifests(tmp, "demo", {"seed": 0},
    ...     {"train": {"a": entry}, "test": {}}, ["no", "yes"])
    >>> sorted(out)
    ['labels', 'test', 'train']
    >>> json.loads(Path(out["labels"]).read_text())
    ['no', 'yes']
    >>> prepare_done(tmp, "demo", {"seed": 0})
    True
    """
    written = label_manifest_paths(
        save_folder, list(manifests), report=report is not None
    )
    for split, entries in manifests.items():
        write_manifest(entries, written[split])
        logger.info("%s %s: %d clips", what or name, split, len(entries))
    with atomic_open(written["labels"]) as fout:
        json.dump(class_names, fout, indent=1)
    if report is not None:
        with atomic_open(written["report"]) as fout:
            json.dump(report, fout, indent=1)
    mark_prepare_done(save_folder, name, options, written)
    return written
