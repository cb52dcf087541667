"""ESC-50 data preparation: manifests of one cross-validation fold.

ESC-50 (Piczak 2015; https://github.com/karolpiczak/ESC-50) holds 2000
five-second clips of 50 environmental sound classes, 40 per class, in five
folds made so that clips cut from the same source recording stay in one
fold. The archive unpacks to ``ESC-50-master/``:

* ``audio/<fold>-<source>-<take>-<target>.wav`` (44.1 kHz mono);
* ``meta/esc50.csv`` with the header
  ``filename,fold,target,category,esc10,src_file,take``.

The paper's protocol (Audio-MAE, after AST) is 5-fold cross-validation:
each fold in turn is the test set and the model is trained on the other
four. Here a ``valid_ratio`` share of the training folds is held out
(whole source recordings, per class) to choose the checkpoint, so that the
test fold serves only the final score; with ``valid_ratio: 0`` the test
fold is also the validation set, as in the released code.

SpeechBrain's own ``recipes/ESC50/esc50_prepare.py`` is a recipe file, not
part of the ``speechbrain`` package (which provides no ESC-50 preparation);
it downloads the archive and needs pandas. This script reads an existing
copy with the standard library and writes, per fold, ``train.json``,
``valid.json``, ``test.json`` with entries ``{"wav", "duration",
"sample_rate", "labels": [target], "category", "fold", "src_file"}``
(``labels`` as in the AudioSet manifests, so the fine-tuning code is
shared) and ``class_labels.json`` (the 50 category names, in target
order).

Example command (from ``recipes/ESC50``)::

    python esc50_prepare.py /data/ESC-50-master results/esc50_fold1 \\
        --test_fold 1

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import csv
import json
import logging
import random
import sys
from pathlib import Path

import torch

from speechbrain_masksr.data.manifest import (
    mark_prepare_done,
    prepare_done,
    write_manifest,
)
from speechbrain_masksr.data.prepare import prepare_on_main, run_prepare_cli
from speechbrain_masksr.dataio import (
    audio_info,
    load_audio,
    save_audio,
)
from speechbrain_masksr.utils.files import atomic_open

logger = logging.getLogger(__name__)

FOLDS = (1, 2, 3, 4, 5)
META_FILE = Path("meta") / "esc50.csv"
AUDIO_DIR = "audio"
META_COLUMNS = ("filename", "fold", "target", "category", "src_file")


def read_esc50_meta(meta_csv):
    """Read ``meta/esc50.csv``.

    Arguments
    ---------
    meta_csv : str or Path
        The metadata file.

    Returns
    -------
    list of dict
        One ``{"filename", "fold", "target", "category", "src_file"}`` per
        clip (``fold`` and ``target`` as int), in file order.

    Example
    -------
    >>> path = Path(getfixture("tmpdir")) / "esc50.csv"
    >>> _ = path.write_text(
    ...     "filename,fold,target,category,esc10,src_file,take\\n"
    ...     "1-100032-A-0.wav,1,0,dog,True,100032,A\\n"
    ... )
    >>> read_esc50_meta(path)  # doctest: +NORMALIZE_WHITESPACE
    [{'filename': '1-100032-A-0.wav', 'fold': 1, 'target': 0,
      'category': 'dog', 'src_file': '100032'}]
    """
    meta_csv = Path(meta_csv)
    if not meta_csv.is_file():
        raise FileNotFoundError(
            f"{meta_csv}: ESC-50 metadata not found (data_folder must be the "
            "ESC-50-master folder, with audio/ and meta/esc50.csv)"
        )
    rows = []
    with open(meta_csv, newline="", encoding="utf-8") as fin:
        reader = csv.DictReader(fin)
        missing = [
            c for c in META_COLUMNS if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise ValueError(f"{meta_csv}: columns {missing} missing")
        for row in reader:
            entry = {key: row[key] for key in META_COLUMNS}
            entry["fold"] = int(entry["fold"])
            entry["target"] = int(entry["target"])
            if entry["fold"] not in FOLDS:
                raise ValueError(f"{meta_csv}: fold {entry['fold']} not in 1-5")
            rows.append(entry)
    return rows


def class_names(rows):
    """Category names in target order.

    Arguments
    ---------
    rows : list of dict
        Output of :func:`read_esc50_meta`.

    Returns
    -------
    list of str
        ``names[target]``.

    Example
    -------
    >>> class_names([{"target": 1, "category": "rooster"},
    ...              {"target": 0, "category": "dog"}])
    ['dog', 'rooster']
    """
    names = {}
    for row in rows:
        if names.setdefault(row["target"], row["category"]) != row["category"]:
            raise ValueError(f"target {row['target']} has two category names")
    if sorted(names) != list(range(len(names))):
        raise ValueError(f"targets are not 0..{len(names) - 1}")
    return [names[k] for k in range(len(names))]


def split_fold(rows, test_fold, valid_ratio=0.1, seed=1234):
    """Train / valid / test rows of one cross-validation fold.

    The test rows are those of ``test_fold``; the others are training rows,
    of which about ``valid_ratio`` per class (at least one source recording
    per class when ``valid_ratio > 0``) is held out as validation, taking
    whole source recordings (``src_file``), as the folds do. With
    ``valid_ratio = 0`` the validation rows are the test rows.

    Arguments
    ---------
    rows : list of dict
        Output of :func:`read_esc50_meta`.
    test_fold : int
        Fold used for testing (1-5).
    valid_ratio : float
        Share of the training rows held out, in ``[0, 1)``.
    seed : int
        Seed of the held-out choice.

    Returns
    -------
    dict
        ``{"train": rows, "valid": rows, "test": rows}``.

    Example
    -------
    >>> rows = [{"filename": f"{f}-{s}-A-{t}.wav", "fold": f, "target": t,
    ...          "src_file": str(s)}
    ...         for f in (1, 2, 3, 4, 5) for t in (0, 1) for s in (10 * t + f,
    ...                                                      10 * t + f + 5)]
    >>> split = split_fold(rows, test_fold=2, valid_ratio=0.25)
    >>> {k: len(v) for k, v in split.items()}
    {'train': 12, 'valid': 4, 'test': 4}
    >>> sorted({r["fold"] for r in split["test"]})
    [2]
    >>> sorted(r["target"] for r in split["valid"])
    [0, 0, 1, 1]
    """
    if test_fold not in FOLDS:
        raise ValueError(f"test_fold={test_fold}: use one of {FOLDS}")
    if not 0.0 <= valid_ratio < 1.0:
        raise ValueError(f"valid_ratio={valid_ratio}: must be in [0, 1)")
    test = [r for r in rows if r["fold"] == test_fold]
    train = [r for r in rows if r["fold"] != test_fold]
    if valid_ratio == 0:
        return {"train": train, "valid": list(test), "test": test}
    rng = random.Random(seed)
    held = set()
    for target in sorted({r["target"] for r in train}):
        of_class = [r for r in train if r["target"] == target]
        sources = sorted({r["src_file"] for r in of_class})
        rng.shuffle(sources)
        wanted = max(1, round(valid_ratio * len(of_class)))
        taken = 0
        for source in sources[:-1]:  # keep one source for training
            if taken >= wanted:
                break
            held.add((target, source))
            taken += sum(r["src_file"] == source for r in of_class)
    valid = [r for r in train if (r["target"], r["src_file"]) in held]
    train = [r for r in train if (r["target"], r["src_file"]) not in held]
    return {"train": train, "valid": valid, "test": test}


def _probe(path, resample_folder, sample_rate):
    """Checks one clip; returns (path used, duration, sample rate)."""
    if resample_folder is not None:
        out = Path(resample_folder) / (Path(path).stem + ".wav")
        if not out.exists():
            wav, _ = load_audio(path, sample_rate=sample_rate)
            save_audio(out, wav, sample_rate)
        path = out
    info = audio_info(path)
    return str(path), info.duration, info.sample_rate


def prepare_esc50(
    data_folder,
    save_folder,
    test_fold=1,
    valid_ratio=0.1,
    resample_folder=None,
    sample_rate=16000,
    seed=1234,
    skip_prep=False,
):
    """Write the manifests of one ESC-50 cross-validation fold.

    Arguments
    ---------
    data_folder : str or Path
        The ``ESC-50-master`` folder (``audio/``, ``meta/esc50.csv``).
    save_folder : str or Path
        Where ``train.json``, ``valid.json``, ``test.json`` and
        ``class_labels.json`` are written.
    test_fold : int
        Fold used for testing (1-5); the other four are for training.
    valid_ratio : float
        Share of the training folds held out for checkpoint selection
        (whole source recordings, per class); 0: validate on the test
        fold, as the released code does.
    resample_folder : str or Path, optional
        If given, write ``sample_rate`` mono copies there once and use them
        (the clips are 44.1 kHz; otherwise they are resampled when loaded).
    sample_rate : int
        Rate of the copies in ``resample_folder``.
    seed : int
        Seed of the held-out choice.
    skip_prep : bool
        Only return the manifest paths (assumed written).

    Returns
    -------
    dict
        ``{"train", "valid", "test", "labels"}`` -> path.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> data = make_toy_esc50(tmp / "ESC-50-master", n_classes=2,
    ...     clips_per_fold=2, duration=0.2)
    >>> out = prepare_esc50(data, tmp / "fold3", test_fold=3,
    ...     valid_ratio=0.25)
    >>> sizes = {k: len(json.loads(Path(out[k]).read_text()))
    ...          for k in ("train", "valid", "test")}
    >>> sizes
    {'train': 12, 'valid': 4, 'test': 4}
    >>> json.loads(Path(out["labels"]).read_text())
    ['tone 0', 'tone 1']
    """
    save_folder = Path(save_folder)
    written = {
        "train": str(save_folder / "train.json"),
        "valid": str(save_folder / "valid.json"),
        "test": str(save_folder / "test.json"),
        "labels": str(save_folder / "class_labels.json"),
    }
    if skip_prep:
        return written
    data_folder = Path(data_folder)
    options = {
        "data_folder": str(data_folder.resolve()),
        "test_fold": int(test_fold),
        "valid_ratio": float(valid_ratio),
        "resample_folder": str(resample_folder) if resample_folder else None,
        "sample_rate": int(sample_rate),
        "seed": int(seed),
    }
    if prepare_done(save_folder, "esc50", options):
        logger.info("ESC-50 manifests already in %s, skipping", save_folder)
        return written

    rows = read_esc50_meta(data_folder / META_FILE)
    names = class_names(rows)
    splits = split_fold(rows, int(test_fold), valid_ratio, seed)
    if resample_folder is not None:
        Path(resample_folder).mkdir(parents=True, exist_ok=True)
    probed = {}
    for split, split_rows in splits.items():
        entries = {}
        for row in split_rows:
            name = row["filename"]
            if name not in probed:
                probed[name] = _probe(
                    data_folder / AUDIO_DIR / name, resample_folder, sample_rate
                )
            wav, duration, rate = probed[name]
            entries[Path(name).stem] = {
                "wav": wav,
                "duration": round(duration, 4),
                "sample_rate": rate,
                "labels": [row["target"]],
                "category": row["category"],
                "fold": row["fold"],
                "src_file": row["src_file"],
            }
        write_manifest(entries, written[split])
        logger.info(
            "ESC-50 fold %s %s: %d clips", test_fold, split, len(entries)
        )
    with atomic_open(written["labels"]) as fout:
        json.dump(names, fout, indent=1)
    mark_prepare_done(save_folder, "esc50", options, written)
    return written


def prepare_from_hparams(hparams):
    """Run :func:`prepare_esc50` (main process only) from recipe hparams.

    Arguments
    ---------
    hparams : dict
        ``data_folder``, ``manifest_folder``, ``test_fold``,
        ``valid_ratio``, ``resample_folder``, ``sample_rate``, ``seed`` and
        ``skip_prep``.

    Returns
    -------
    dict
        The manifest paths.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> data = make_toy_esc50(tmp / "esc", 2, 1, duration=0.2)
    >>> out = prepare_from_hparams({"data_folder": data,
    ...     "manifest_folder": tmp / "m", "test_fold": 5, "valid_ratio": 0.0,
    ...     "resample_folder": None, "sample_rate": 16000, "seed": 1,
    ...     "skip_prep": False})
    >>> sorted(json.loads(Path(out["test"]).read_text()))
    ['5-50-A-0', '5-51-A-1']
    """
    return prepare_on_main(
        prepare_esc50,
        data_folder=hparams["data_folder"],
        save_folder=hparams["manifest_folder"],
        test_fold=hparams["test_fold"],
        valid_ratio=hparams["valid_ratio"],
        resample_folder=hparams["resample_folder"],
        sample_rate=hparams["sample_rate"],
        seed=hparams["seed"],
        skip_prep=hparams["skip_prep"],
    )


def make_toy_esc50(
    out_dir,
    n_classes=4,
    clips_per_fold=2,
    duration=1.0,
    sample_rate=22050,
    seed=0,
):
    """Write a tiny ESC-50-format corpus (for smoke tests and demos).

    Class ``k`` is a tone at ``250 * 2.2**k`` Hz plus a little noise; every
    fold holds ``clips_per_fold`` clips of each class, each from its own
    source recording (``<fold>-<source>-A-<target>.wav``, source ids
    ``10 * fold + k`` upwards), at ``sample_rate`` (not 16 kHz, as ESC-50,
    to exercise resampling).

    Arguments
    ---------
    out_dir : str or Path
        Receives ``audio/`` and ``meta/esc50.csv``.
    n_classes : int
        Number of classes (at most 6).
    clips_per_fold : int
        Clips of each class in each fold.
    duration : float
        Clip length in seconds.
    sample_rate : int
        Rate of the files.
    seed : int
        Random seed.

    Returns
    -------
    Path
        ``out_dir``.

    Example
    -------
    >>> out = make_toy_esc50(getfixture("tmpdir") / "esc", 2, 1, 0.1)
    >>> len(list((out / "audio").glob("*.wav")))
    10
    >>> (out / "meta" / "esc50.csv").read_text().splitlines()[1]
    '1-10-A-0.wav,1,0,tone 0,False,10,A'
    """
    if not 1 <= n_classes <= 6:
        raise ValueError("n_classes must be in 1..6")
    out_dir = Path(out_dir)
    (out_dir / AUDIO_DIR).mkdir(parents=True, exist_ok=True)
    (out_dir / "meta").mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(int(duration * sample_rate)) / sample_rate
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for fold in FOLDS:
        source = 10 * fold
        for target in range(n_classes):
            for _ in range(clips_per_fold):
                name = f"{fold}-{source}-A-{target}.wav"
                phase = 6.283 * float(torch.rand(1, generator=gen))
                wav = 0.3 * torch.sin(6.2832 * 250.0 * 2.2**target * t + phase)
                wav += 0.02 * torch.randn(len(t), generator=gen)
                save_audio(out_dir / AUDIO_DIR / name, wav, sample_rate)
                lines.append(
                    f"{name},{fold},{target},tone {target},False,{source},A"
                )
                source += 1
    (out_dir / "meta" / "esc50.csv").write_text(
        "\n".join(lines) + "\n", encoding="utf-8"
    )
    return out_dir


def main(argv=None):
    """Command-line entry point (``python esc50_prepare.py --help``).

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.

    Example
    -------
    >>> tmp = Path(getfixture("tmpdir"))
    >>> data = make_toy_esc50(tmp / "esc", 2, 1, duration=0.1)
    >>> main([str(data), str(tmp / "o"), "--test_fold", "2"])
    train: .../o/train.json
    valid: .../o/valid.json
    test: .../o/test.json
    labels: .../o/class_labels.json
    0
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_folder", help="the ESC-50-master folder")
    parser.add_argument("save_folder", help="where manifests are written")
    parser.add_argument("--test_fold", type=int, default=1, choices=FOLDS)
    parser.add_argument(
        "--valid_ratio",
        type=float,
        default=0.1,
        help="share of the training folds held out for validation (0: "
        "validate on the test fold)",
    )
    parser.add_argument("--resample_folder", default=None)
    parser.add_argument("--sample_rate", type=int, default=16000)
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args(argv)
    return run_prepare_cli(
        prepare_esc50,
        args.data_folder,
        args.save_folder,
        test_fold=args.test_fold,
        valid_ratio=args.valid_ratio,
        resample_folder=args.resample_folder,
        sample_rate=args.sample_rate,
        seed=args.seed,
    )


if __name__ == "__main__":
    sys.exit(main())
