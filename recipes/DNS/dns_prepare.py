"""Data preparation for the DNS Challenge (clean speech, noise, RIRs, test set).

Writes SpeechBrain JSON manifests from a DNS Challenge checkout (or from the
mini corpus of ``tools/mini_corpus.py``, which uses the same layout). Paths
are stored with the ``{data_root}`` placeholder, to be replaced by
``data_folder`` when loading::

    DynamicItemDataset.from_json(
        "train.json", replacements={"data_root": data_folder}
    )

Expected layout under ``data_folder`` (sub-folder names are options; the
first existing candidate is used and searched recursively)::

    datasets/clean/**.wav               (DNS4: datasets_fullband/clean_fullband)
    datasets/noise/**.wav               (DNS4: datasets_fullband/noise_fullband)
    datasets/impulse_responses/**.wav   (DNS 2021/4; optional)
    datasets/test_set/synthetic/{no_reverb,with_reverb}/{clean,noisy}/*.wav
    datasets/test_set/real_recordings/*.wav                  (optional)

Clean speech, as in MaskSR (Li, Wang, Liu, Interspeech 2024):

* ``clean_subsets`` picks sub-folders of the clean-speech folder; MaskSR
  trains on the ``read_speech`` and ``vctk_wav48_silence_trimmed`` subsets
  of the DNS Challenge 2022 (DNS 4) full-band clean speech. ``None`` (the
  default) takes the whole folder (DNS 2020/2021 layouts, mini corpus);
  a listed subset that does not exist is an error.
* ``aishell_folder`` adds AISHELL-1 (MaskSR's Mandarin speech): the folder
  holding ``data_aishell/wav/{train,dev,test}/<SPEAKER>/*.wav`` (or that
  ``data_aishell`` / ``wav`` folder itself), splits chosen by
  ``aishell_splits``; the per-speaker ``.tar.gz`` files of the release must
  be unpacked. Its entries store absolute paths (it lives outside
  ``data_folder``) and ids ``aishell_<file stem>``.
* ``exclude_speakers``: VCTK speakers whose files are left out of the clean
  speech, matched by file name (``p360_001_mic1.wav``) in every source; by
  default the speakers of VoiceFixer's and VoiceBank-DEMAND's test sets
  (:data:`speechbrain_masksr.data.speakers.EVALUATION_SPEAKERS`), on which
  MaskSR is evaluated and which the DNS 4 VCTK subset contains.

Files at other rates (48 kHz DNS and VCTK, 16 kHz AISHELL-1) are listed with
their own ``sample_rate``; the recipe resamples them to 44.1 kHz when it
reads them (token extraction and training crops alike).

Manifests written to ``save_folder``:

* ``train.json``, ``valid.json``, ``test.json``: clean speech, split at random
  (by ``seed``) with ``valid_ratio`` / ``test_ratio``;
  entries ``{"wav", "duration", "sample_rate"}``.
* ``noise.json``, ``rir.json``: entries ``{"wav", "duration",
  "sample_rate"}`` (only when the folder exists).
* ``test_no_reverb.json``, ``test_with_reverb.json``: the DNS 2020 synthetic
  test set, noisy files paired with ``clean_fileid_<N>.wav`` by the
  ``fileid_<N>`` at the end of the noisy name; ids ``fileid_<N>``; entries
  ``{"noisy_wav", "clean_wav", "duration", "sample_rate",
  "clean_sample_rate"}``. In the DNS 2020 ``with_reverb`` set the clean
  references are themselves reverberant.
* ``test_real.json``: ``real_recordings`` (no reference); entries
  ``{"noisy_wav", "duration", "sample_rate"}``.

Unreadable files (corrupt, not audio, empty) are logged with their path and
skipped, with a count per group; unpaired test files are logged and skipped.

Usage::

    python recipes/DNS/dns_prepare.py /path/to/DNS-Challenge results/dns

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import sys
from pathlib import Path

from speechbrain.utils.logger import get_logger

from speechbrain_masksr.data.manifest import (
    audio_entries,
    collect_audio_info,
    find_subfolder,
    mark_prepare_done,
    name_key,
    pair_files,
    paired_entries,
    prepare_done,
    read_prepare_record,
    scan_audio,
    split_ids,
    unique_ids,
    write_manifest,
)
from speechbrain_masksr.data.prepare import prepare_on_main, run_prepare_cli
from speechbrain_masksr.data.speakers import EVALUATION_SPEAKERS, drop_speakers
from speechbrain_masksr.data.token_cache import TokenCache

logger = get_logger(__name__)

CLEAN_FOLDERS = ("datasets/clean", "datasets_fullband/clean_fullband", "clean")
NOISE_FOLDERS = ("datasets/noise", "datasets_fullband/noise_fullband", "noise")
RIR_FOLDERS = (
    "datasets/impulse_responses",
    "datasets_fullband/impulse_responses",
    "impulse_responses",
)
TEST_FOLDERS = ("datasets/test_set", "test_set")
TEST_CONDITIONS = ("no_reverb", "with_reverb")
#: DNS 4 clean-speech subsets MaskSR trains on (with AISHELL-1).
MASKSR_CLEAN_SUBSETS = ("read_speech", "vctk_wav48_silence_trimmed")
AISHELL_WAV_FOLDERS = ("data_aishell/wav", "wav", ".")
AISHELL_SPLITS = ("train", "dev", "test")
AISHELL_LAYOUT = (
    "Expected AISHELL-1 as <aishell_folder>/data_aishell/wav/"
    "{train,dev,test}/<SPEAKER>/*.wav (unpack the per-speaker .tar.gz "
    "files of data_aishell/wav/ first)."
)

LAYOUT_HELP = (
    "Expected a DNS Challenge layout: <data_folder>/datasets/clean/ "
    "(or datasets_fullband/clean_fullband/), datasets/noise/, "
    "datasets/impulse_responses/ and datasets/test_set/synthetic/"
    "{no_reverb,with_reverb}/{clean,noisy}/ (a mini corpus made by "
    "tools/mini_corpus.py has this layout)."
)

# DNS 2020 names: noisy ..._fileid_158.wav <-> clean clean_fileid_158.wav
fileid_key = name_key(r"fileid_(\d+)$")


def prepare_dns(
    data_folder,
    save_folder,
    skip_prep=False,
    valid_ratio=0.05,
    test_ratio=0.05,
    seed=1234,
    min_duration=0.0,
    clean_folders=CLEAN_FOLDERS,
    noise_folders=NOISE_FOLDERS,
    rir_folders=RIR_FOLDERS,
    test_folders=TEST_FOLDERS,
    clean_subsets=None,
    aishell_folder=None,
    aishell_splits=AISHELL_SPLITS,
    exclude_speakers=EVALUATION_SPEAKERS,
):
    """Write the DNS manifests (see the module docstring for the schema).

    Arguments
    ---------
    data_folder : str or Path
        Root of the DNS checkout (the folder holding ``datasets/``).
    save_folder : str or Path
        Where the JSON manifests go.
    skip_prep : bool
        If True, do nothing (the manifests are assumed to exist).
    valid_ratio : float
        Fraction of the clean speech files held out for ``valid.json``.
    test_ratio : float
        Fraction of the clean speech files held out for ``test.json``.
    seed : int
        Seed of the random train/valid/test split.
    min_duration : float
        Clean speech files shorter than this (seconds, e.g. the training
        crop) are skipped and counted.
    clean_folders, noise_folders, rir_folders, test_folders : tuple of str
        Candidate sub-folders of ``data_folder``; the first that exists is
        used. Noise, RIR and test folders are optional.
    clean_subsets : sequence of str, optional
        Sub-folders of the clean-speech folder to use (MaskSR:
        :data:`MASKSR_CLEAN_SUBSETS`); ``None`` or empty: the whole folder.
    aishell_folder : str or Path, optional
        AISHELL-1 root, added to the clean speech (see the module
        docstring); ``None`` leaves it out.
    aishell_splits : sequence of str
        AISHELL-1 splits (sub-folders of ``data_aishell/wav``) to use.
    exclude_speakers : sequence of str
        VCTK speakers left out of the clean speech (matched by file name;
        default: the evaluation speakers).

    Returns
    -------
    dict
        ``{name: path}`` of the manifests, with names among ``train``,
        ``valid``, ``test``, ``noise``, ``rir``, ``test_no_reverb``,
        ``test_with_reverb``, ``test_real``.

    Raises
    ------
    FileNotFoundError
        If ``data_folder``, its clean-speech folder, a listed clean subset
        or the AISHELL-1 folder does not exist (the message names the path
        and the expected layout).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir") / "dns"
    >>> for i in range(4):
    ...     save_audio(str(root / "datasets/clean" / f"u{i}.wav"),
    ...                0.1 * torch.randn(1600), 16000)
    >>> save_audio(str(root / "datasets/noise/n.wav"), torch.zeros(800), 16000)
    >>> out = prepare_dns(str(root), str(root / "save"), valid_ratio=0.25,
    ...                   test_ratio=0.25)
    >>> sorted(out)
    ['noise', 'test', 'train', 'valid']
    >>> from speechbrain_masksr.data.manifest import load_manifest
    >>> train = load_manifest(out["train"])
    >>> len(train), sorted(train[next(iter(train))])
    (2, ['duration', 'sample_rate', 'wav'])
    """
    if skip_prep:
        return _existing(save_folder)
    data_folder = Path(data_folder)
    save_folder = Path(save_folder)
    if not data_folder.is_dir():
        raise FileNotFoundError(
            f"DNS data folder not found: {data_folder}. {LAYOUT_HELP}"
        )
    options = {
        "data_folder": str(data_folder.resolve()),
        "valid_ratio": valid_ratio,
        "test_ratio": test_ratio,
        "seed": seed,
        "min_duration": min_duration,
        "clean_folders": list(clean_folders),
        "noise_folders": list(noise_folders),
        "rir_folders": list(rir_folders),
        "test_folders": list(test_folders),
        "clean_subsets": list(clean_subsets or []),
        "aishell_folder": (
            str(Path(aishell_folder).resolve()) if aishell_folder else None
        ),
        "aishell_splits": list(aishell_splits),
        "exclude_speakers": sorted(exclude_speakers or []),
    }
    if prepare_done(save_folder, "dns", options):
        logger.info("DNS manifests in %s are up to date, skipping", save_folder)
        return _existing(save_folder)

    clean_dir = find_subfolder(data_folder, clean_folders)
    if clean_dir is None:
        raise FileNotFoundError(
            f"No clean-speech folder in {data_folder} (looked for "
            f"{', '.join(clean_folders)}). {LAYOUT_HELP}"
        )
    test_dir = find_subfolder(data_folder, test_folders)
    exclude = [test_dir] if test_dir is not None else []
    written = {}

    # clean speech (DNS subsets + AISHELL-1) -> train / valid / test
    files = _clean_files(clean_dir, clean_subsets, exclude)
    files, _ = drop_speakers(files, exclude_speakers, "DNS clean speech")
    report = collect_audio_info(
        files, what="clean speech", min_duration=min_duration
    )
    if not report.kept:
        raise FileNotFoundError(
            f"No readable clean speech in {clean_dir} "
            f"({report.summary()}). {LAYOUT_HELP}"
        )
    clean = audio_entries(report, clean_dir, data_folder)
    if aishell_folder:
        aishell = _aishell_entries(
            aishell_folder, aishell_splits, exclude_speakers, min_duration
        )
        both = sorted(set(clean) & set(aishell))
        if both:
            raise ValueError(
                f"ids both in the DNS clean speech and AISHELL-1: {both[:5]}"
            )
        clean.update(aishell)
    train, valid, test = split_ids(
        list(clean), [valid_ratio, test_ratio], seed=seed
    )
    for name, ids in (("train", train), ("valid", valid), ("test", test)):
        path = save_folder / f"{name}.json"
        write_manifest({i: clean[i] for i in ids}, path)
        written[name] = str(path)

    # noise and impulse responses (optional)
    for name, candidates in (("noise", noise_folders), ("rir", rir_folders)):
        folder = find_subfolder(data_folder, candidates)
        if folder is None:
            logger.warning(
                "No %s folder in %s (looked for %s); %s.json not written",
                name,
                data_folder,
                ", ".join(candidates),
                name,
            )
            continue
        rep = collect_audio_info(scan_audio(folder, exclude=exclude), what=name)
        path = save_folder / f"{name}.json"
        write_manifest(audio_entries(rep, folder, data_folder), path)
        written[name] = str(path)

    # DNS 2020 test set (optional)
    if test_dir is None:
        logger.warning(
            "No DNS test set in %s (looked for %s)",
            data_folder,
            ", ".join(test_folders),
        )
    else:
        written.update(_prepare_test_set(test_dir, data_folder, save_folder))

    mark_prepare_done(save_folder, "dns", options, written)
    return written


def prepare_from_hparams(hparams):
    """Prepare the manifests (main process only) from recipe hparams.

    The shared preparation step of ``train.py`` and ``extract_tokens.py``:
    :func:`prepare_dns` runs on the main process, then every process reads
    the list of manifests written.

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters: ``data_folder``, ``save_folder``,
        ``skip_prep``, ``valid_ratio``, ``test_ratio``, ``seed`` and
        ``segment_seconds`` (the shortest clean file kept); optionally
        ``dns_clean_subsets``, ``aishell_folder`` and ``exclude_speakers``
        (see :func:`prepare_dns`; absent: whole clean folder, no
        AISHELL-1, the evaluation speakers left out).

    Returns
    -------
    dict
        ``{name: path}`` of the manifests (see :func:`prepare_dns`).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir") / "dns"
    >>> for i in range(4):
    ...     save_audio(str(root / "datasets/clean" / f"u{i}.wav"),
    ...                0.1 * torch.randn(1600), 16000)
    >>> hparams = {"data_folder": str(root), "save_folder": str(root / "s"),
    ...     "skip_prep": False, "valid_ratio": 0.25, "test_ratio": 0.25,
    ...     "seed": 1, "segment_seconds": 0.05}
    >>> sorted(prepare_from_hparams(hparams))
    ['test', 'train', 'valid']
    """
    if "aishell_folder" in hparams and not hparams["aishell_folder"]:
        logger.warning(
            "aishell_folder is null: AISHELL-1 is left out, so the clean "
            "speech differs from MaskSR's (DNS 2022 read speech + VCTK + "
            "AISHELL-1)"
        )
    return prepare_on_main(
        prepare_dns,
        data_folder=hparams["data_folder"],
        save_folder=hparams["save_folder"],
        skip_prep=hparams["skip_prep"],
        valid_ratio=hparams["valid_ratio"],
        test_ratio=hparams["test_ratio"],
        seed=hparams["seed"],
        min_duration=hparams["segment_seconds"],
        clean_subsets=hparams.get("dns_clean_subsets"),
        aishell_folder=hparams.get("aishell_folder"),
        exclude_speakers=hparams.get("exclude_speakers", EVALUATION_SPEAKERS),
    )


def token_cache_from_hparams(hparams):
    """The recipe's token cache of the clean speech, from its hparams.

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters: ``token_folder``, ``codec_path``,
        ``sample_rate`` and ``codec`` (its ``hop_length`` is used).

    Returns
    -------
    TokenCache
        The cache (nothing is extracted).

    Example
    -------
    >>> from types import SimpleNamespace
    >>> cache = token_cache_from_hparams({"token_folder": "/tokens",
    ...     "codec_path": None, "sample_rate": 44100,
    ...     "codec": SimpleNamespace(hop_length=512)})
    >>> str(cache.folder), cache.hop_length
    ('/tokens/codec-default', 512)
    """
    return TokenCache(
        hparams["token_folder"],
        codec_path=hparams["codec_path"],
        sample_rate=hparams["sample_rate"],
        hop_length=hparams["codec"].hop_length,
    )


def _clean_files(clean_dir, subsets, exclude):
    """Clean-speech files of the chosen subsets (all when none is given)."""
    if not subsets:
        return scan_audio(clean_dir, exclude=exclude)
    missing = [s for s in subsets if not (clean_dir / s).is_dir()]
    if missing:
        present = sorted(p.name for p in clean_dir.iterdir() if p.is_dir())
        raise FileNotFoundError(
            f"Clean-speech subset(s) {missing} not found in {clean_dir} "
            f"(sub-folders there: {present or 'none'}). MaskSR uses the DNS "
            f"Challenge 2022 subsets {list(MASKSR_CLEAN_SUBSETS)}; an empty "
            "clean_subsets (YAML: dns_clean_subsets: []) uses the whole "
            "clean folder."
        )
    files = []
    for subset in subsets:
        found = scan_audio(clean_dir / subset, exclude=exclude)
        logger.info("DNS clean subset %s: %d files", subset, len(found))
        files.extend(found)
    return sorted(set(files))


def aishell_files(aishell_folder, splits=AISHELL_SPLITS):
    """List the AISHELL-1 files of some splits.

    Arguments
    ---------
    aishell_folder : str or Path
        The folder holding ``data_aishell/`` (or ``data_aishell`` or its
        ``wav`` folder).
    splits : sequence of str
        Splits (sub-folders of ``wav/``).

    Returns
    -------
    wav_dir : Path
        The ``wav`` folder (ids are relative to it).
    files : list of Path
        The audio files of the splits, sorted.

    Raises
    ------
    FileNotFoundError
        If the folder or a split is missing (the message gives the layout).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir") / "aishell"
    >>> name = "data_aishell/wav/train/S0002/BAC009S0002W0122.wav"
    >>> save_audio(str(root / name), torch.zeros(1600), 16000)
    >>> wav_dir, files = aishell_files(root, ["train"])
    >>> wav_dir.name, [f.name for f in files]
    ('wav', ['BAC009S0002W0122.wav'])
    """
    root = Path(aishell_folder)
    if not root.is_dir():
        raise FileNotFoundError(
            f"AISHELL-1 folder not found: {root}. {AISHELL_LAYOUT}"
        )
    wav_dir = None
    for cand in AISHELL_WAV_FOLDERS:
        if any((root / cand / s).is_dir() for s in splits):
            wav_dir = root / cand
            break
    if wav_dir is None:
        raise FileNotFoundError(
            f"No AISHELL-1 split {list(splits)} in {root}. {AISHELL_LAYOUT}"
        )
    missing = [s for s in splits if not (wav_dir / s).is_dir()]
    if missing:
        raise FileNotFoundError(
            f"AISHELL-1 split(s) {missing} missing in {wav_dir}. "
            f"{AISHELL_LAYOUT}"
        )
    files = []
    for split in splits:
        files.extend(scan_audio(wav_dir / split))
    return wav_dir, sorted(files)


def _aishell_entries(aishell_folder, splits, exclude_speakers, min_duration):
    """Manifest entries (absolute paths) of the AISHELL-1 clean speech."""
    wav_dir, files = aishell_files(aishell_folder, splits)
    files, _ = drop_speakers(files, exclude_speakers, "AISHELL-1")
    report = collect_audio_info(
        files, what="AISHELL-1", min_duration=min_duration
    )
    if not report.kept:
        raise FileNotFoundError(
            f"No readable AISHELL-1 speech in {wav_dir} "
            f"({report.summary()}). {AISHELL_LAYOUT}"
        )
    ids = unique_ids([f"aishell_{p.stem}" for p in sorted(report.kept)])
    entries = {}
    for uid, path in zip(ids, sorted(report.kept)):
        info = report.kept[path]
        entries[uid] = {
            "wav": str(path.resolve()),
            "duration": round(info["duration"], 6),
            "sample_rate": info["sample_rate"],
        }
    return entries


def _prepare_test_set(test_dir, data_folder, save_folder):
    """Write the synthetic (paired) and real (noisy-only) test manifests."""
    written = {}
    for cond in TEST_CONDITIONS:
        noisy_dir = test_dir / "synthetic" / cond / "noisy"
        clean_dir = test_dir / "synthetic" / cond / "clean"
        if not noisy_dir.is_dir() or not clean_dir.is_dir():
            logger.warning(
                "DNS test set: %s or %s missing; test_%s.json not written",
                noisy_dir,
                clean_dir,
                cond,
            )
            continue
        what = f"DNS test {cond}"
        pairs, _, _ = pair_files(
            scan_audio(noisy_dir), scan_audio(clean_dir), fileid_key, what
        )
        ids = [f"fileid_{fileid_key(n)}" for n, _ in pairs]
        path = save_folder / f"test_{cond}.json"
        write_manifest(paired_entries(pairs, data_folder, ids, what), path)
        written[f"test_{cond}"] = str(path)
    real_dir = test_dir / "real_recordings"
    if real_dir.is_dir():
        rep = collect_audio_info(scan_audio(real_dir), what="DNS test real")
        entries = {}
        for uid, entry in audio_entries(rep, real_dir, data_folder).items():
            entries[uid] = {
                "noisy_wav": entry["wav"],
                "duration": entry["duration"],
                "sample_rate": entry["sample_rate"],
            }
        path = save_folder / "test_real.json"
        write_manifest(entries, path)
        written["test_real"] = str(path)
    return written


MANIFEST_NAMES = (
    "train",
    "valid",
    "test",
    "noise",
    "rir",
    "test_no_reverb",
    "test_with_reverb",
    "test_real",
)


def _existing(save_folder):
    """Manifests of the last preparation, else the standard names present."""
    record = read_prepare_record(save_folder, "dns")
    if not record:
        record = {
            k: f"{k}.json"
            for k in MANIFEST_NAMES
            if (Path(save_folder) / f"{k}.json").is_file()
        }
    return {k: str(Path(save_folder) / v) for k, v in record.items()}


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
    >>> tmp = getfixture("tmpdir")
    >>> main([str(tmp / "no_such_folder"), str(tmp / "save")])
    2
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_folder", help="root of the DNS checkout")
    parser.add_argument("save_folder", help="where the manifests go")
    parser.add_argument("--valid-ratio", type=float, default=0.05)
    parser.add_argument("--test-ratio", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--min-duration",
        type=float,
        default=0.0,
        help="skip clean speech shorter than this (seconds)",
    )
    parser.add_argument(
        "--clean-folder", action="append", help="clean speech sub-folder"
    )
    parser.add_argument("--noise-folder", action="append")
    parser.add_argument("--rir-folder", action="append")
    parser.add_argument("--test-folder", action="append")
    parser.add_argument(
        "--clean-subset",
        action="append",
        help="clean-speech sub-folder to use (repeat; MaskSR: read_speech "
        "and vctk_wav48_silence_trimmed); default: the whole folder",
    )
    parser.add_argument(
        "--aishell-folder", help="AISHELL-1 root (holding data_aishell/)"
    )
    parser.add_argument(
        "--aishell-split", action="append", help="AISHELL-1 split (repeat)"
    )
    parser.add_argument(
        "--exclude-speakers",
        nargs="*",
        default=list(EVALUATION_SPEAKERS),
        help="VCTK speakers left out of the clean speech (default: those "
        "of the VoiceFixer and VoiceBank-DEMAND test sets)",
    )
    args = parser.parse_args(argv)
    return run_prepare_cli(
        prepare_dns,
        args.data_folder,
        args.save_folder,
        errors=(FileNotFoundError,),
        valid_ratio=args.valid_ratio,
        test_ratio=args.test_ratio,
        seed=args.seed,
        min_duration=args.min_duration,
        clean_folders=args.clean_folder or CLEAN_FOLDERS,
        noise_folders=args.noise_folder or NOISE_FOLDERS,
        rir_folders=args.rir_folder or RIR_FOLDERS,
        test_folders=args.test_folder or TEST_FOLDERS,
        clean_subsets=args.clean_subset,
        aishell_folder=args.aishell_folder,
        aishell_splits=args.aishell_split or AISHELL_SPLITS,
        exclude_speakers=args.exclude_speakers,
    )


if __name__ == "__main__":
    sys.exit(main())
