"""AudioSet data preparation: segment CSVs + local audio -> JSON manifests.

AudioSet is distributed as lists of YouTube segments, so every copy on disk
is different (deleted videos, other sample rates, other file names). This
script reads the official lists

* ``balanced_train_segments.csv`` (AS-20K), ``unbalanced_train_segments.csv``
  (with the balanced list it makes AS-2M) and ``eval_segments.csv``: header
  lines start with ``#``, rows are ``YTID, start_seconds, end_seconds,
  "label1,label2"`` (label MIDs);
* ``class_labels_indices.csv``: ``index,mid,display_name``;

and a local audio folder searched recursively for files named by YouTube
id: ``<YTID>.wav`` / ``<YTID>.flac`` (any extension in
``speechbrain_masksr.dataio.AUDIO_EXTENSIONS``) or the ``Y<YTID>.wav``
variant used by several downloaders. Clips that are missing or unreadable are
counted, listed in ``prepare_report.json`` and skipped.

The manifests (``train.json``, ``valid.json``, ``eval.json``) map each YTID
to ``{"wav", "duration", "sample_rate", "labels"}`` where ``labels`` is the
list of class indices (the multi-hot tensor is built in the data pipeline).
``valid.json`` is a ``valid_ratio`` share of the training clips, held out
for checkpoint selection, so that ``eval.json`` serves only the final test.
Training entries also carry ``"weight"``: the AS-2M balancing weight of the
official ``gen_weight.py``, ``sum over the clip's labels of
1000 / (label_count + 0.01)`` with label counts taken over the prepared
training list; a ``WeightedRandomSampler`` draws clips proportionally to it.

Files may have any sample rate: the recipes resample to 16 kHz when loading
(``load_audio(path, sample_rate=16000)``). ``resample_folder`` instead writes
16 kHz mono copies once and points the manifests at them (faster training).

Example command (from ``recipes/AudioSet``)::

    python audioset_prepare.py /data/audioset/audio results/prepare \\
        --csv_folder /data/audioset/csv --train_set full

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import csv
import json
import logging
import math
import random
from pathlib import Path

import torch
from speechbrain.utils.distributed import run_on_main

from speechbrain_masksr.data.manifest import probe_clip
from speechbrain_masksr.dataio import (
    AUDIO_EXTENSIONS,
    AudioError,
    save_audio,
)
from speechbrain_masksr.utils.files import atomic_open

logger = logging.getLogger(__name__)

SEGMENT_FILES = {
    "balanced": "balanced_train_segments.csv",
    "unbalanced": "unbalanced_train_segments.csv",
    "eval": "eval_segments.csv",
}
LABEL_FILE = "class_labels_indices.csv"
TRAIN_SETS = {
    "balanced": ("balanced",),  # AS-20K
    "full": ("balanced", "unbalanced"),  # AS-2M
}
OPTS_FILE = "prepare_opts.json"
REPORT_FILE = "prepare_report.json"


def read_class_labels(label_csv):
    """Read ``class_labels_indices.csv``.

    Arguments
    ---------
    label_csv : str or Path
        File with the header ``index,mid,display_name``.

    Returns
    -------
    mid_to_index : dict
        Label MID (``/m/09x0r``) -> class index.
    names : list of str
        Display names, in class-index order.

    Example
    -------
    >>> path = Path(getfixture("tmpdir")) / "labels.csv"
    >>> _ = path.write_text(
    ...     'index,mid,display_name\\n0,/m/a,"Speech"\\n1,/m/b,"Dog, bark"\\n'
    ... )
    >>> read_class_labels(path)
    ({'/m/a': 0, '/m/b': 1}, ['Speech', 'Dog, bark'])
    """
    label_csv = Path(label_csv)
    if not label_csv.is_file():
        raise FileNotFoundError(f"{label_csv}: class label file not found")
    rows = []
    with open(label_csv, newline="", encoding="utf-8") as fin:
        for row in csv.DictReader(fin):
            rows.append((int(row["index"]), row["mid"], row["display_name"]))
    rows.sort()
    if [r[0] for r in rows] != list(range(len(rows))):
        raise ValueError(f"{label_csv}: indices are not 0..{len(rows) - 1}")
    return {mid: idx for idx, mid, _ in rows}, [r[2] for r in rows]


def read_segments(segment_csv, mid_to_index):
    """Read an AudioSet segment list.

    Arguments
    ---------
    segment_csv : str or Path
        File with ``#`` header lines and rows
        ``YTID, start_seconds, end_seconds, "mid1,mid2"``.
    mid_to_index : dict
        Label MID -> class index (from :func:`read_class_labels`).

    Returns
    -------
    list of dict
        One ``{"ytid", "start", "end", "labels"}`` per row, labels sorted.

    Example
    -------
    >>> path = Path(getfixture("tmpdir")) / "seg.csv"
    >>> _ = path.write_text(
    ...     "# Segments csv\\n# YTID, start_seconds, end_seconds, labels\\n"
    ...     'abc, 30.000, 40.000, "/m/b,/m/a"\\n'
    ... )
    >>> read_segments(path, {"/m/a": 0, "/m/b": 1})
    [{'ytid': 'abc', 'start': 30.0, 'end': 40.0, 'labels': [0, 1]}]
    """
    segment_csv = Path(segment_csv)
    if not segment_csv.is_file():
        raise FileNotFoundError(f"{segment_csv}: segment list not found")
    segments = []
    with open(segment_csv, newline="", encoding="utf-8") as fin:
        lines = (line for line in fin if not line.lstrip().startswith("#"))
        for lineno, row in enumerate(csv.reader(lines, skipinitialspace=True)):
            if not row:
                continue
            if len(row) < 4:
                raise ValueError(f"{segment_csv}: bad row {lineno}: {row}")
            mids = [m.strip() for m in row[3].split(",") if m.strip()]
            unknown = [m for m in mids if m not in mid_to_index]
            if unknown:
                raise ValueError(
                    f"{segment_csv}: labels {unknown} of {row[0]} are not in "
                    "the class label file"
                )
            segments.append(
                {
                    "ytid": row[0].strip(),
                    "start": float(row[1]),
                    "end": float(row[2]),
                    "labels": sorted({mid_to_index[m] for m in mids}),
                }
            )
    return segments


def index_audio_folder(data_folder, extensions=AUDIO_EXTENSIONS):
    """Map file stems to paths for every audio file under ``data_folder``.

    Arguments
    ---------
    data_folder : str or Path
        Folder searched recursively.
    extensions : tuple of str
        File endings that count as audio.

    Returns
    -------
    dict
        Stem (file name without extension) -> path; on duplicates the first
        path in sorted order wins.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> save_audio(str(tmp / "a" / "Yxyz.wav"), torch.zeros(16), 16000)
    >>> sorted(index_audio_folder(tmp))
    ['Yxyz']
    """
    data_folder = Path(data_folder)
    if not data_folder.is_dir():
        raise FileNotFoundError(f"{data_folder}: audio folder not found")
    stems = {}
    for path in sorted(data_folder.rglob("*")):
        if path.suffix.lower() in extensions and path.is_file():
            stems.setdefault(path.stem, path)
    return stems


def find_clip(ytid, stems):
    """Find the file of a YouTube id: ``<YTID>.*`` first, then ``Y<YTID>.*``.

    Arguments
    ---------
    ytid : str
        YouTube id.
    stems : dict
        Output of :func:`index_audio_folder`.

    Returns
    -------
    Path or None
        The file, or ``None`` if missing.

    Example
    -------
    >>> find_clip("abc", {"Yabc": "x/Yabc.wav"})
    'x/Yabc.wav'
    >>> find_clip("abc", {}) is None
    True
    """
    if ytid in stems:
        return stems[ytid]
    return stems.get("Y" + ytid)


def sample_weights(label_lists, n_classes):
    """Per-clip AS-2M sampling weights (official ``gen_weight.py`` logic).

    A label seen ``c`` times gets weight ``1000 / (c + 0.01)``; a clip's
    weight is the sum over its labels, so clips of rare classes are drawn
    more often.

    Arguments
    ---------
    label_lists : list of list of int
        Class indices of each clip.
    n_classes : int
        Number of classes.

    Returns
    -------
    list of float
        One weight per clip.

    Example
    -------
    >>> [round(w, 2) for w in sample_weights([[0], [0], [1], [0, 1]], 2)]
    [332.23, 332.23, 497.51, 829.74]
    """
    counts = torch.zeros(n_classes, dtype=torch.float64)
    for labels in label_lists:
        for lab in labels:
            counts[lab] += 1
    label_weight = 1000.0 / (counts + 0.01)
    return [float(label_weight[labels].sum()) for labels in label_lists]


def _skip(save_folder, opts):
    """True if the manifests exist and were made with the same options."""
    save_folder = Path(save_folder)
    names = ["train.json", "valid.json", "eval.json", OPTS_FILE]
    if not all((save_folder / n).is_file() for n in names):
        return False
    with open(save_folder / OPTS_FILE, encoding="utf-8") as fin:
        return json.load(fin) == opts


def prepare_audioset(
    data_folder,
    save_folder,
    csv_folder=None,
    label_csv=None,
    train_set="balanced",
    valid_ratio=0.1,
    resample_folder=None,
    sample_rate=16000,
    seed=1234,
    skip_prep=False,
):
    """Write AudioSet manifests from the segment lists and a local folder.

    Arguments
    ---------
    data_folder : str or Path
        Folder with the clips (searched recursively), named ``<YTID>.<ext>``
        or ``Y<YTID>.<ext>``, any sample rate.
    save_folder : str or Path
        Where ``train.json``, ``valid.json``, ``eval.json``,
        ``class_labels.json`` and ``prepare_report.json`` are written.
    csv_folder : str or Path, optional
        Folder holding the segment CSVs (default: ``data_folder``).
    label_csv : str or Path, optional
        ``class_labels_indices.csv`` (default: in ``csv_folder``).
    train_set : str
        ``"balanced"`` (AS-20K) or ``"full"`` (balanced + unbalanced, AS-2M).
    valid_ratio : float
        Fraction of the training clips held out as ``valid.json`` (at least
        one clip), for checkpoint selection. With 0 ``valid.json`` is the
        eval list, as in the official code, which picks models on the eval
        set.
    resample_folder : str or Path, optional
        If given, write ``sample_rate`` mono copies there and use them.
    sample_rate : int
        Rate of the copies in ``resample_folder``.
    seed : int
        Seed of the train/valid split.
    skip_prep : bool
        Do nothing (the manifests are assumed to exist).

    Returns
    -------
    dict
        The report: clips found / missing / unreadable per split.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> _ = make_toy_audioset(tmp / "as", n_train=4, n_eval=2, duration=0.5)
    >>> report = prepare_audioset(tmp / "as" / "audio", tmp / "out",
    ...     csv_folder=tmp / "as", valid_ratio=0.25)
    >>> report["train"]["found"], report["train"]["missing"]
    (4, 1)
    >>> report["valid"]["found"]  # held out from the 4 training clips
    1
    >>> sorted(json.loads((tmp / "out" / "eval.json").read_text()))[0]
    'eval000'
    """
    if skip_prep:
        return None
    if train_set not in TRAIN_SETS:
        raise ValueError(
            f"train_set={train_set!r}: use one of {sorted(TRAIN_SETS)}"
        )
    if not 0.0 <= valid_ratio < 1.0:
        raise ValueError(f"valid_ratio={valid_ratio}: must be in [0, 1)")
    csv_folder = Path(csv_folder if csv_folder is not None else data_folder)
    label_csv = Path(label_csv or csv_folder / LABEL_FILE)
    save_folder = Path(save_folder)
    opts = {
        "data_folder": str(Path(data_folder).resolve()),
        "csv_folder": str(csv_folder.resolve()),
        "label_csv": str(label_csv.resolve()),
        "train_set": train_set,
        "valid_ratio": valid_ratio,
        "resample_folder": str(resample_folder) if resample_folder else None,
        "sample_rate": sample_rate,
        "seed": seed,
    }
    if _skip(save_folder, opts):
        logger.info("AudioSet manifests already in %s, skipping", save_folder)
        with open(save_folder / REPORT_FILE, encoding="utf-8") as fin:
            return json.load(fin)

    mid_to_index, names = read_class_labels(label_csv)
    lists = {
        "train": [
            seg
            for name in TRAIN_SETS[train_set]
            for seg in read_segments(
                csv_folder / SEGMENT_FILES[name], mid_to_index
            )
        ],
        "eval": read_segments(csv_folder / SEGMENT_FILES["eval"], mid_to_index),
    }
    stems = index_audio_folder(data_folder)
    if resample_folder is not None:
        Path(resample_folder).mkdir(parents=True, exist_ok=True)

    manifests, report = {}, {}
    for split, segments in lists.items():
        entries, missing, unreadable, seen = {}, [], [], set()
        for seg in segments:
            if seg["ytid"] in seen:  # the unbalanced list repeats a few ids
                continue
            seen.add(seg["ytid"])
            path = find_clip(seg["ytid"], stems)
            if path is None:
                missing.append(seg["ytid"])
                continue
            try:
                wav, duration, sr = probe_clip(
                    path, resample_folder, sample_rate
                )
            except AudioError as err:
                unreadable.append(f"{seg['ytid']}: {err}")
                continue
            entries[seg["ytid"]] = {
                "wav": wav,
                "duration": round(duration, 4),
                "sample_rate": sr,
                "labels": seg["labels"],
            }
        manifests[split] = entries
        report[split] = {
            "listed": len(seen),
            "found": len(entries),
            "missing": len(missing),
            "unreadable": len(unreadable),
            "missing_ids": missing,
            "unreadable_files": unreadable,
        }
        logger.info(
            "AudioSet %s: %d of %d clips found, %d missing, %d unreadable",
            split,
            len(entries),
            len(seen),
            len(missing),
            len(unreadable),
        )
        if not entries:
            raise FileNotFoundError(
                f"no {split} clip of the segment list was found in "
                f"{data_folder} (files must be named <YTID>.wav or "
                "Y<YTID>.wav)"
            )

    train = manifests["train"]
    weights = sample_weights([e["labels"] for e in train.values()], len(names))
    for entry, weight in zip(train.values(), weights):
        entry["weight"] = weight
    if valid_ratio > 0:
        ids = sorted(train)
        random.Random(seed).shuffle(ids)
        n_valid = max(1, math.floor(len(ids) * valid_ratio))
        valid = {k: train.pop(k) for k in sorted(ids[:n_valid])}
        report["valid"] = {"listed": n_valid, "found": n_valid}
        report["valid"].update(missing=0, unreadable=0)
    else:
        valid = manifests["eval"]
        report["valid"] = dict(report["eval"])

    save_folder.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("train", train),
        ("valid", valid),
        ("eval", manifests["eval"]),
    ):
        with atomic_open(save_folder / f"{name}.json") as fo:
            json.dump(data, fo, indent=1)
    with atomic_open(save_folder / "class_labels.json") as fo:
        json.dump(names, fo, indent=1)
    with atomic_open(save_folder / REPORT_FILE) as fo:
        json.dump(report, fo, indent=1)
    with atomic_open(save_folder / OPTS_FILE) as fo:
        json.dump(opts, fo, indent=1)
    return report


def make_toy_audioset(
    out_dir,
    n_train=24,
    n_eval=12,
    n_classes=4,
    duration=1.0,
    sample_rate=22050,
    seed=0,
):
    """Write a tiny AudioSet-format corpus (for smoke tests and demos).

    Class ``k`` is a tone at ``250 * 2.2**k`` Hz (250, 550, 1210, ... Hz);
    clip ``i`` holds class ``i % n_classes`` and, with probability 0.3, a
    second one, plus a little noise, so the task is separable from a
    spectrogram. Files are ``Y<YTID>.wav`` at ``sample_rate`` (not
    16 kHz, to exercise resampling); one listed training clip has no file
    and one eval clip is not audio, as happens with real AudioSet copies.

    Arguments
    ---------
    out_dir : str or Path
        Receives ``audio/``, the three segment CSVs and
        ``class_labels_indices.csv``.
    n_train : int
        Training clips (listed in ``balanced_train_segments.csv``; the
        unbalanced list gets the same number of extra clips).
    n_eval : int
        Eval clips.
    n_classes : int
        Number of classes (at most 6).
    duration : float
        Clip length in seconds.
    sample_rate : int
        Rate of the written files.
    seed : int
        Random seed.

    Returns
    -------
    Path
        ``out_dir``.

    Example
    -------
    >>> out = make_toy_audioset(getfixture("tmpdir") / "toy", 2, 1, 2, 0.1)
    >>> sorted(p.name for p in out.iterdir())  # doctest: +NORMALIZE_WHITESPACE
    ['audio', 'balanced_train_segments.csv', 'class_labels_indices.csv',
     'eval_segments.csv', 'unbalanced_train_segments.csv']
    """
    if not 1 <= n_classes <= 6:
        raise ValueError("n_classes must be in 1..6")
    out_dir = Path(out_dir)
    audio = out_dir / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    mids = [f"/m/toy{k}" for k in range(n_classes)]
    with open(out_dir / LABEL_FILE, "w", encoding="utf-8") as fo:
        fo.write("index,mid,display_name\n")
        for k, mid in enumerate(mids):
            fo.write(f'{k},{mid},"Tone {k}"\n')
    t = torch.arange(int(duration * sample_rate)) / sample_rate

    def write_list(name, prefix, n, missing=False, broken=False):
        rows = []
        for i in range(n):
            ytid = f"{prefix}{i:03d}"
            labels = [i % n_classes]  # balanced classes
            if n_classes > 1 and float(torch.rand(1, generator=gen)) < 0.3:
                other = int(torch.randint(n_classes - 1, (1,), generator=gen))
                labels.append(other + (other >= labels[0]))
            wav = 0.02 * torch.randn(len(t), generator=gen)
            for lab in labels:
                f0 = 250.0 * 2.2**lab
                phase = 6.283 * float(torch.rand(1, generator=gen))
                wav += 0.3 * torch.sin(6.2832 * f0 * t + phase)
            save_audio(audio / f"Y{ytid}.wav", wav, sample_rate)
            rows.append((ytid, labels))
        if missing:  # listed, never downloaded
            rows.append((f"{prefix}gone", [0]))
        if broken:  # a file that is not audio
            (audio / f"{prefix}bad.wav").write_text("not audio")
            rows.append((f"{prefix}bad", [0]))
        with open(out_dir / name, "w", encoding="utf-8") as fo:
            fo.write(f"# Segments csv created by make_toy_audioset ({n})\n")
            fo.write("# YTID, start_seconds, end_seconds, positive_labels\n")
            for ytid, labels in rows:
                mid_list = ",".join(mids[k] for k in labels)
                fo.write(f'{ytid}, 0.000, {duration:.3f}, "{mid_list}"\n')

    write_list(SEGMENT_FILES["balanced"], "bal", n_train, missing=True)
    write_list(SEGMENT_FILES["unbalanced"], "unb", n_train)
    write_list(SEGMENT_FILES["eval"], "eval", n_eval, broken=True)
    return out_dir


def prepare_from_hparams(hparams):
    """Run :func:`prepare_audioset` (main process only) from recipe hparams.

    The shared preparation step of ``train.py`` and ``finetune.py``.

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters: ``data_folder``, ``manifest_folder``,
        ``csv_folder``, ``train_set``, ``valid_ratio``, ``resample_folder``,
        ``sample_rate``, ``seed`` and ``skip_prep``.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> _ = make_toy_audioset(tmp / "as", n_train=2, n_eval=1, duration=0.5)
    >>> hparams = {"data_folder": tmp / "as" / "audio",
    ...     "manifest_folder": tmp / "m", "csv_folder": tmp / "as",
    ...     "train_set": "balanced", "valid_ratio": 0.0,
    ...     "resample_folder": None, "sample_rate": 16000, "seed": 1,
    ...     "skip_prep": False}
    >>> prepare_from_hparams(hparams)
    >>> sorted(json.loads((tmp / "m" / "train.json").read_text()))
    ['bal000', 'bal001']
    """
    run_on_main(
        prepare_audioset,
        kwargs={
            "data_folder": hparams["data_folder"],
            "save_folder": hparams["manifest_folder"],
            "csv_folder": hparams["csv_folder"],
            "train_set": hparams["train_set"],
            "valid_ratio": hparams["valid_ratio"],
            "resample_folder": hparams["resample_folder"],
            "sample_rate": hparams["sample_rate"],
            "seed": hparams["seed"],
            "skip_prep": hparams["skip_prep"],
        },
    )


def main(argv=None):
    """Command-line entry point (``python audioset_prepare.py --help``).

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = make_toy_audioset(tmp / "as", 2, 1, 2, 0.1)
    >>> main([str(tmp / "as" / "audio"), str(tmp / "o"),
    ...       "--csv_folder", str(tmp / "as")])
    train: 2 of 3 clips found, 1 missing, 0 unreadable
    valid: 1 of 1 clips found, 0 missing, 0 unreadable
    eval: 1 of 2 clips found, 0 missing, 1 unreadable
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_folder", help="folder with the audio clips")
    parser.add_argument("save_folder", help="where manifests are written")
    parser.add_argument("--csv_folder", default=None)
    parser.add_argument("--label_csv", default=None)
    parser.add_argument(
        "--train_set", default="balanced", choices=sorted(TRAIN_SETS)
    )
    parser.add_argument(
        "--valid_ratio",
        type=float,
        default=0.1,
        help="share of the training clips held out for validation (0: the "
        "eval list, as the official code)",
    )
    parser.add_argument("--resample_folder", default=None)
    parser.add_argument("--sample_rate", type=int, default=16000)
    args = parser.parse_args(argv)
    report = prepare_audioset(
        args.data_folder,
        args.save_folder,
        csv_folder=args.csv_folder,
        label_csv=args.label_csv,
        train_set=args.train_set,
        valid_ratio=args.valid_ratio,
        resample_folder=args.resample_folder,
        sample_rate=args.sample_rate,
    )
    for split in ("train", "valid", "eval"):
        r = report[split]
        print(
            f"{split}: {r['found']} of {r['listed']} clips found, "
            f"{r['missing']} missing, {r['unreadable']} unreadable"
        )


if __name__ == "__main__":
    main()
