"""Data preparation for VCTK, VoiceBank-DEMAND and the VoiceFixer test sets.

Three functions write SpeechBrain JSON manifests whose paths start with the
``{data_root}`` placeholder (replace it with the ``data_folder`` given here
when loading, ``DynamicItemDataset.from_json(path, replacements={"data_root":
data_folder})``):

* :func:`prepare_vctk`: the VCTK corpus (48 kHz). Layouts: VCTK-Corpus-0.92
  ``wav48_silence_trimmed/<spk>/<spk>_<utt>_mic1.flac`` (only ``mic1`` is
  kept by default) and the older ``wav48/<spk>/<spk>_<utt>.wav`` (also
  VoiceFixer's ``wav48/{train,test}/<spk>/...``). Held-out test speakers
  default to the VCTK-0.92 test split used by VoiceFixer and NVSR (same
  author): ``p360 p361 p362 p363 p364 p374 p376 s5``, with ``p280`` and
  ``p315`` left out; source: haoheliu/ssr_eval ``README.md`` ("Dataset
  Details"). The MaskSR demos use speakers from this list. The
  VoiceBank-DEMAND test speakers ``p232 p257`` (VoiceFixer's DENOISE set)
  are left out too, so that no evaluation speaker is in ``train.json``
  (lists in :mod:`speechbrain_masksr.data.speakers`).
  Writes ``train.json``, ``valid.json`` (held-out training speakers),
  ``test.json``; entries ``{"wav", "duration", "sample_rate", "speaker"}``.
* :func:`prepare_voicebank_demand`: VoiceBank-DEMAND (Valentini), folders
  ``clean_trainset_28spk_wav``, ``noisy_trainset_28spk_wav``,
  ``clean_testset_wav``, ``noisy_testset_wav`` (or SpeechBrain's resampled
  ``*_16k`` versions, or the ``56spk`` training set); noisy and clean paired
  by identical file name. Validation speakers ``p226 p287`` as in
  SpeechBrain's ``recipes/Voicebank/voicebank_prepare.py``. Writes
  ``vbd_train.json``, ``vbd_valid.json``, ``vbd_test.json``; entries
  ``{"noisy_wav", "clean_wav", "duration", "sample_rate",
  "clean_sample_rate", "speaker"}``. It lives in
  :mod:`speechbrain_masksr.data.voicebank` and is imported here (also used
  by ``recipes/VoiceBank/voicebank_prepare.py``).
* :func:`prepare_voicefixer_testsets`: VoiceFixer's GSR/SSR test sets
  (zenodo 5528144, 44.1 kHz), one manifest per condition, entries
  ``{"noisy_wav", "clean_wav", "duration", "sample_rate",
  "clean_sample_rate"}``, ids = degraded file stem. Pairing rules follow
  haoheliu/voicefixer_main ``evaluation_proc/config.py`` (``refresh_lists``):

  - ``ALL_GSR/simulated/<N>_*.wav`` with ``ALL_GSR/target/<N>_clean.wav``
    (first ``<digits>_`` in the name) -> ``test_gsr.json``;
  - ``SR/<filter>/<cutoff>/`` with ``SR/GroundTruth/`` ->
    ``test_sr_<filter>_<cutoff>.json`` (e.g. ``test_sr_cheby1_1000.json``);
  - ``DECLI/<threshold>/`` with ``DECLI/GroundTruth/`` ->
    ``test_decli_<threshold>.json`` (e.g. ``test_decli_0.1.json``);
  - ``DENOISE/vd_test/noisy_testset_wav`` with ``.../clean_testset_wav``
    (identical names) -> ``test_denoise.json``;
  - ``DEREV/Reverb_Speech`` with ``DEREV/GroundTruth`` -> ``test_derev.json``.

  SR, DECLI and DEREV files are paired by the ``<spk>_<utt>`` part of the
  name (``p360_001``), which VoiceFixer's regular expressions also use.

Unreadable files are logged with their path and skipped; unpaired files are
logged and skipped; a missing root folder is an error naming the layout.

Usage::

    python recipes/VCTK/vctk_prepare.py vctk /data/VCTK-Corpus-0.92 save/
    python recipes/VCTK/vctk_prepare.py vbd /data/VoiceBank-DEMAND save/
    python recipes/VCTK/vctk_prepare.py voicefixer /data/TestSets save/

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import random
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
    unique_ids,
    write_manifest,
)
from speechbrain_masksr.data.prepare import run_prepare_cli
from speechbrain_masksr.data.speakers import (  # noqa: F401 (re-exported)
    VBD_TEST_SPEAKERS,
    VCTK_NAME,
    VOICEFIXER_EXCLUDED_SPEAKERS,
    VOICEFIXER_TEST_SPEAKERS,
    vctk_speaker,
)
from speechbrain_masksr.data.voicebank import (  # noqa: F401 (re-exported)
    VBD_LAYOUT,
    VBD_VALID_SPEAKERS,
    prepare_voicebank_demand,
)

logger = get_logger(__name__)

VCTK_WAV_FOLDERS = ("wav48_silence_trimmed", "wav48", ".")
SPEAKER_UTT = r"([ps]\d+_\d+)"

VCTK_LAYOUT = (
    "Expected VCTK-Corpus-0.92 (<data_folder>/wav48_silence_trimmed/<spk>/"
    "<spk>_<utt>_mic1.flac) or the older <data_folder>/wav48/<spk>/"
    "<spk>_<utt>.wav."
)
VF_LAYOUT = (
    "Expected VoiceFixer's TestSets folder with ALL_GSR/{simulated,target}, "
    "SR/<filter>/<cutoff> + SR/GroundTruth, DECLI/<threshold> + "
    "DECLI/GroundTruth, DENOISE/vd_test/{noisy,clean}_testset_wav, "
    "DEREV/{Reverb_Speech,GroundTruth} (any of them)."
)


def prepare_vctk(
    data_folder,
    save_folder,
    skip_prep=False,
    test_speakers=VOICEFIXER_TEST_SPEAKERS,
    exclude_speakers=VOICEFIXER_EXCLUDED_SPEAKERS + VBD_TEST_SPEAKERS,
    valid_speakers=2,
    mic="mic1",
    min_duration=0.0,
    seed=1234,
    wav_folders=VCTK_WAV_FOLDERS,
):
    """Write VCTK manifests with held-out test and validation speakers.

    Arguments
    ---------
    data_folder : str or Path
        VCTK root (holding ``wav48_silence_trimmed/`` or ``wav48/``).
    save_folder : str or Path
        Where ``train.json``, ``valid.json``, ``test.json`` go.
    skip_prep : bool
        If True, do nothing.
    test_speakers : tuple of str
        Speakers of ``test.json`` (default VoiceFixer's test split).
    exclude_speakers : tuple of str
        Speakers left out entirely (default: ``p280 p315``, which
        VoiceFixer's split leaves out, and the VoiceBank-DEMAND test
        speakers ``p232 p257``).
    valid_speakers : int or tuple of str
        Validation speakers, taken out of the training speakers: a number
        (picked at random with ``seed``) or an explicit list.
    mic : str or None
        Keep only files of this microphone (names ending ``_mic1``); files
        without a microphone tag (older layout) are always kept. ``None``
        keeps every microphone.
    min_duration : float
        Files shorter than this (seconds) are skipped and counted.
    seed : int
        Seed used to pick the validation speakers.
    wav_folders : tuple of str
        Candidate audio folders under ``data_folder`` (first existing).

    Returns
    -------
    dict
        ``{"train": path, "valid": path, "test": path}``.

    Raises
    ------
    FileNotFoundError
        If the folder or its audio is missing.
    ValueError
        If a speaker is both a test and a validation speaker.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir") / "vctk"
    >>> for spk in ["p225", "p226", "p227", "p360"]:
    ...     for mic in ["mic1", "mic2"]:
    ...         name = f"wav48_silence_trimmed/{spk}/{spk}_001_{mic}.flac"
    ...         save_audio(str(root / name), 0.1 * torch.randn(480), 48000)
    >>> out = prepare_vctk(str(root), str(root / "save"), valid_speakers=1)
    >>> from speechbrain_masksr.data.manifest import load_manifest
    >>> sorted(load_manifest(out["test"]))
    ['p360_001_mic1']
    >>> len(load_manifest(out["train"])), len(load_manifest(out["valid"]))
    (2, 1)
    """
    if skip_prep:
        return _existing(save_folder, "vctk")
    data_folder, save_folder = Path(data_folder), Path(save_folder)
    if not data_folder.is_dir():
        raise FileNotFoundError(
            f"VCTK folder not found: {data_folder}. {VCTK_LAYOUT}"
        )
    options = {
        "data_folder": str(data_folder.resolve()),
        "test_speakers": list(test_speakers),
        "exclude_speakers": list(exclude_speakers),
        "valid_speakers": valid_speakers
        if isinstance(valid_speakers, int)
        else list(valid_speakers),
        "mic": mic,
        "min_duration": min_duration,
        "seed": seed,
        "wav_folders": list(wav_folders),
    }
    if prepare_done(save_folder, "vctk", options):
        logger.info("VCTK manifests in %s are up to date", save_folder)
        return _existing(save_folder, "vctk")
    wav_dir = find_subfolder(data_folder, wav_folders)
    files = scan_audio(wav_dir) if wav_dir is not None else []
    kept_files, n_other, n_mic = [], 0, 0
    for path in files:
        match = VCTK_NAME.match(path.stem)
        if match is None:
            n_other += 1
            continue
        if mic is not None and match.group(3) not in (None, mic):
            n_mic += 1
            continue
        if match.group(1) in exclude_speakers:
            continue
        kept_files.append(path)
    if n_other:
        logger.warning(
            "VCTK: %d audio files without a <spk>_<utt> name ignored", n_other
        )
    if n_mic:
        logger.info("VCTK: %d files of microphones other than %s", n_mic, mic)
    if not kept_files:
        raise FileNotFoundError(
            f"No VCTK audio found in {data_folder}. {VCTK_LAYOUT}"
        )
    report = collect_audio_info(kept_files, "VCTK", min_duration)
    entries = audio_entries(
        report, wav_dir, data_folder, lambda p: {"speaker": vctk_speaker(p)}
    )
    # ids are file stems (unique across VCTK), not folder-prefixed paths
    stems = unique_ids([Path(e["wav"]).stem for e in entries.values()])
    entries = dict(zip(stems, entries.values()))
    speakers = sorted({e["speaker"] for e in entries.values()})
    test_set = set(test_speakers)
    missing = sorted(test_set - set(speakers))
    if missing:
        logger.warning("VCTK: test speakers not found: %s", " ".join(missing))
    train_speakers = [s for s in speakers if s not in test_set]
    if isinstance(valid_speakers, int):
        n_valid = min(valid_speakers, max(len(train_speakers) - 1, 0))
        valid_set = set(random.Random(seed).sample(train_speakers, n_valid))
    else:
        valid_set = set(valid_speakers)
        both = sorted(valid_set & test_set)
        if both:
            raise ValueError(f"Speakers both in test and valid: {both}")
    split = {"train": {}, "valid": {}, "test": {}}
    for uid, entry in sorted(entries.items()):
        if entry["speaker"] in test_set:
            split["test"][uid] = entry
        elif entry["speaker"] in valid_set:
            split["valid"][uid] = entry
        else:
            split["train"][uid] = entry
    written = {}
    for name, subset in split.items():
        path = save_folder / f"{name}.json"
        write_manifest(subset, path)
        written[name] = str(path)
    logger.info(
        "VCTK: %d train, %d valid (%s), %d test utterances",
        len(split["train"]),
        len(split["valid"]),
        " ".join(sorted(valid_set)),
        len(split["test"]),
    )
    mark_prepare_done(save_folder, "vctk", options, written)
    return written


def _voicefixer_conditions(root):
    """List ``(manifest name, noisy dir, clean dir, key)`` found under root."""
    conds = []
    spk_utt = name_key(SPEAKER_UTT)
    gsr = root / "ALL_GSR"
    if (gsr / "simulated").is_dir() and (gsr / "target").is_dir():
        conds.append(
            ("test_gsr", gsr / "simulated", gsr / "target", name_key(r"(\d+)_"))
        )
    sr = root / "SR"
    if (sr / "GroundTruth").is_dir():
        for filt in sorted(p for p in sr.iterdir() if p.is_dir()):
            if filt.name == "GroundTruth":
                continue
            for cut in sorted(p for p in filt.iterdir() if p.is_dir()):
                name = f"test_sr_{filt.name}_{cut.name}"
                conds.append((name, cut, sr / "GroundTruth", spk_utt))
    decli = root / "DECLI"
    if (decli / "GroundTruth").is_dir():
        for thr in sorted(p for p in decli.iterdir() if p.is_dir()):
            if thr.name != "GroundTruth":
                conds.append(
                    (
                        f"test_decli_{thr.name}",
                        thr,
                        decli / "GroundTruth",
                        spk_utt,
                    )
                )
    vd = root / "DENOISE" / "vd_test"
    if (vd / "noisy_testset_wav").is_dir() and (
        vd / "clean_testset_wav"
    ).is_dir():
        conds.append(
            (
                "test_denoise",
                vd / "noisy_testset_wav",
                vd / "clean_testset_wav",
                name_key(r"^(.+)$"),
            )
        )
    derev = root / "DEREV"
    if (derev / "Reverb_Speech").is_dir() and (derev / "GroundTruth").is_dir():
        conds.append(
            (
                "test_derev",
                derev / "Reverb_Speech",
                derev / "GroundTruth",
                spk_utt,
            )
        )
    return conds


def prepare_voicefixer_testsets(data_folder, save_folder, skip_prep=False):
    """Write one paired manifest per VoiceFixer test condition found.

    Arguments
    ---------
    data_folder : str or Path
        VoiceFixer's ``TestSets`` folder (holding ``ALL_GSR``, ``SR``, ...).
    save_folder : str or Path
        Where the ``test_*.json`` manifests go.
    skip_prep : bool
        If True, do nothing.

    Returns
    -------
    dict
        ``{condition: path}``, e.g. ``{"test_gsr": ..., "test_sr_cheby1_1000":
        ..., "test_decli_0.1": ...}``.

    Raises
    ------
    FileNotFoundError
        If the folder does not exist or holds none of the test sets.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> root = getfixture("tmpdir") / "TestSets"
    >>> wav = torch.zeros(441)
    >>> save_audio(str(root / "ALL_GSR/simulated/3_p360_001.wav"), wav, 44100)
    >>> save_audio(str(root / "ALL_GSR/target/3_clean.wav"), wav, 44100)
    >>> save_audio(str(root / "DECLI/0.1/p360_001.wav"), wav, 44100)
    >>> save_audio(str(root / "DECLI/GroundTruth/p360_001_mic1.wav"), wav, 44100)
    >>> out = prepare_voicefixer_testsets(str(root), str(root / "save"))
    >>> sorted(out)
    ['test_decli_0.1', 'test_gsr']
    >>> from speechbrain_masksr.data.manifest import load_manifest
    >>> load_manifest(out["test_gsr"])["3_p360_001"]["clean_wav"]
    '{data_root}/ALL_GSR/target/3_clean.wav'
    """
    if skip_prep:
        return _existing(save_folder, "voicefixer")
    data_folder, save_folder = Path(data_folder), Path(save_folder)
    if not data_folder.is_dir():
        raise FileNotFoundError(
            f"VoiceFixer test-set folder not found: {data_folder}. {VF_LAYOUT}"
        )
    options = {"data_folder": str(data_folder.resolve())}
    if prepare_done(save_folder, "voicefixer", options):
        logger.info("VoiceFixer manifests up to date in %s", save_folder)
        return _existing(save_folder, "voicefixer")
    conds = _voicefixer_conditions(data_folder)
    if not conds:
        raise FileNotFoundError(
            f"No VoiceFixer test set found in {data_folder}. {VF_LAYOUT}"
        )
    written = {}
    for name, noisy_dir, clean_dir, key in conds:
        what = f"VoiceFixer {name}"
        pairs, _, _ = pair_files(
            scan_audio(noisy_dir), scan_audio(clean_dir), key, what
        )
        path = save_folder / f"{name}.json"
        write_manifest(paired_entries(pairs, data_folder, what=what), path)
        written[name] = str(path)
    mark_prepare_done(save_folder, "voicefixer", options, written)
    return written


def _existing(save_folder, name):
    """Manifests of the last preparation, else the standard names present."""
    record = read_prepare_record(save_folder, name)
    if not record:
        pattern = {"vctk": ("train", "valid", "test")}.get(name)
        if pattern is None:  # voicefixer: one manifest per condition
            files = sorted(Path(save_folder).glob("test_*.json"))
        else:
            files = [Path(save_folder) / f"{k}.json" for k in pattern]
        record = {f.stem: f.name for f in files if f.is_file()}
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
    >>> main(["vctk", str(tmp / "no_such_folder"), str(tmp / "save")])
    2
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", choices=["vctk", "vbd", "voicefixer"])
    parser.add_argument("data_folder")
    parser.add_argument("save_folder")
    parser.add_argument(
        "--test-speakers",
        nargs="+",
        default=list(VOICEFIXER_TEST_SPEAKERS),
        help="VCTK test speakers",
    )
    parser.add_argument("--valid-speakers", type=int, default=2)
    parser.add_argument("--mic", default="mic1")
    parser.add_argument("--min-duration", type=float, default=0.0)
    args = parser.parse_args(argv)
    if args.dataset == "vctk":
        prepare = prepare_vctk
        options = {
            "test_speakers": tuple(args.test_speakers),
            "valid_speakers": args.valid_speakers,
            "mic": args.mic,
            "min_duration": args.min_duration,
        }
    elif args.dataset == "vbd":
        prepare = prepare_voicebank_demand
        options = {"min_duration": args.min_duration}
    else:
        prepare, options = prepare_voicefixer_testsets, {}
    return run_prepare_cli(
        prepare, args.data_folder, args.save_folder, **options
    )


if __name__ == "__main__":
    sys.exit(main())
