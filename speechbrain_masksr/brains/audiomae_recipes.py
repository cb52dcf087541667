"""Shared parts of the Audio-MAE fine-tuning recipes.

``recipes/AudioSet/finetune.py`` (527 labels, mAP),
``recipes/ESC50/finetune.py`` (50 classes, accuracy, 5-fold
cross-validation) and ``recipes/SpeechCommands/finetune.py`` (35 classes,
accuracy) read the same kind of manifests (``{"wav", "duration",
"labels": [class indices]}`` with ``train`` / ``valid`` / ``test`` splits
and a ``class_labels.json``) and run the same fine-tuning:

* :func:`clip_pipeline` - ``wav -> sig``: 16 kHz mono clips, cut to what the
  fbank frames cover;
* :func:`label_pipeline` - ``labels -> targets`` (multi-/one-hot);
* :func:`classification_datasets` - the three datasets of a recipe;
* :func:`read_label_names` - the class names, checked against
  ``n_classes``;
* :func:`finetune_and_test` - pretrained encoder, ``fit`` with the
  checkpoint chosen on the **validation** split, test of that checkpoint on
  the test split, model folder export;
* :func:`summarize_folds` - mean and spread of cross-validation folds.

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import logging
import math

import speechbrain as sb
from speechbrain.utils.data_pipeline import provides, takes
from speechbrain.utils.distributed import if_main_process, run_on_main

from speechbrain_masksr.brains.audiomae_brain import (
    AudioMAEClassifierBrain,
    multi_hot,
)
from speechbrain_masksr.dataio import load_audio
from speechbrain_masksr.inference.audio_mae import write_model_folder
from speechbrain_masksr.utils.files import atomic_open

logger = logging.getLogger(__name__)

__all__ = [
    "classification_datasets",
    "clip_pipeline",
    "finetune_and_test",
    "label_pipeline",
    "read_label_names",
    "summarize_folds",
]


def clip_pipeline(hparams):
    """The recipes' ``wav -> sig`` pipeline: mono clips cut to the fbank.

    Clips are loaded at ``sample_rate`` and cut to the samples that the
    ``compute_fbank`` frames cover (``target_length`` frames); the rest
    would be dropped by the fbank anyway.

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters: ``sample_rate`` and
        ``compute_fbank`` (an ``AudioMAEFbank``).

    Returns
    -------
    DynamicItem
        Takes ``wav`` (a path), provides ``sig`` (``[time]``).

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> from speechbrain_masksr.lobes.audio_mae import AudioMAEFbank
    >>> fbank = AudioMAEFbank(sample_rate=16000, target_length=10)
    >>> path = str(getfixture("tmpdir") / "a.wav")
    >>> save_audio(path, 0.1 * torch.randn(8000), 8000)
    >>> pipeline = clip_pipeline(
    ...     {"sample_rate": 16000, "compute_fbank": fbank})
    >>> pipeline(path).shape
    torch.Size([1840])
    """
    sample_rate = hparams["sample_rate"]
    fbank = hparams["compute_fbank"]
    hop = int(round(fbank.sample_rate * fbank.frame_shift / 1000))
    limit = (fbank.target_length - 1) * hop + fbank.min_samples  # longer: cut

    @takes("wav")
    @provides("sig")
    def audio_pipeline(wav):
        sig, _ = load_audio(wav, sample_rate=sample_rate)
        return sig[:limit]

    return audio_pipeline


def label_pipeline(n_classes):
    """The recipes' ``labels -> targets`` pipeline (multi-/one-hot).

    Arguments
    ---------
    n_classes : int
        Number of classes.

    Returns
    -------
    DynamicItem
        Takes ``labels`` (class indices), provides ``targets``
        (``[n_classes]`` float).

    Example
    -------
    >>> label_pipeline(4)([1, 3]).tolist()
    [0.0, 1.0, 0.0, 1.0]
    """

    @takes("labels")
    @provides("targets")
    def pipeline(labels):
        return multi_hot(labels, n_classes)

    return pipeline


def classification_datasets(hparams):
    """Train / valid / test datasets of clips and class targets.

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters: ``train_annotation``,
        ``valid_annotation``, ``test_annotation`` (JSON manifests with
        ``wav``, ``duration`` and ``labels``), ``n_classes``,
        ``min_duration`` (shorter clips are skipped) and what
        :func:`clip_pipeline` reads.

    Returns
    -------
    dict
        ``train``, ``valid``, ``test`` datasets with keys ``id``, ``sig``
        and ``targets``.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.dataio import save_audio
    >>> from speechbrain_masksr.lobes.audio_mae import AudioMAEFbank
    >>> from pathlib import Path
    >>> tmp = Path(getfixture("tmpdir"))
    >>> save_audio(str(tmp / "a.wav"), torch.zeros(1600), 16000)
    >>> entry = {"a": {"wav": str(tmp / "a.wav"), "duration": 0.1,
    ...                "labels": [2]}}
    >>> hparams = {"sample_rate": 16000, "n_classes": 3, "min_duration": 0.05,
    ...     "compute_fbank": AudioMAEFbank(target_length=16)}
    >>> for split in ("train", "valid", "test"):
    ...     path = tmp / f"{split}.json"
    ...     _ = path.write_text(json.dumps(entry))
    ...     hparams[f"{split}_annotation"] = str(path)
    >>> data = classification_datasets(hparams)
    >>> item = data["test"][0]
    >>> item["id"], item["sig"].shape, item["targets"].tolist()
    ('a', torch.Size([1600]), [0.0, 0.0, 1.0])
    """
    dynamic_items = [
        clip_pipeline(hparams),
        label_pipeline(hparams["n_classes"]),
    ]
    manifests = {
        "train": hparams["train_annotation"],
        "valid": hparams["valid_annotation"],
        "test": hparams["test_annotation"],
    }
    datasets = {}
    for split, path in manifests.items():
        data = sb.dataio.dataset.DynamicItemDataset.from_json(
            path,
            dynamic_items=dynamic_items,
            output_keys=["id", "sig", "targets"],
        )
        datasets[split] = data.filtered_sorted(
            key_min_value={"duration": hparams["min_duration"]}
        )
    return datasets


def read_label_names(hparams):
    """Class names written by the preparation, checked against the model.

    Arguments
    ---------
    hparams : dict
        ``labels_file`` (a JSON list of names, in class order) and
        ``n_classes``.

    Returns
    -------
    list of str
        The names.

    Raises
    ------
    ValueError
        If the file lists another number of classes than ``n_classes``.

    Example
    -------
    >>> from pathlib import Path
    >>> path = Path(getfixture("tmpdir")) / "labels.json"
    >>> _ = path.write_text('["dog", "rain"]')
    >>> read_label_names({"labels_file": str(path), "n_classes": 2})
    ['dog', 'rain']
    >>> read_label_names({"labels_file": str(path), "n_classes": 3})
    Traceback (most recent call last):
    ...
    ValueError: ... lists 2 classes but n_classes is 3; set the YAML key n_classes
    """
    with open(hparams["labels_file"], encoding="utf-8") as fin:
        names = json.load(fin)
    if len(names) != hparams["n_classes"]:
        raise ValueError(
            f"{hparams['labels_file']} lists {len(names)} classes but "
            f"n_classes is {hparams['n_classes']}; set the YAML key n_classes"
        )
    return names


def finetune_and_test(
    hparams,
    run_opts,
    datasets=None,
    label_names=None,
    brain_class=AudioMAEClassifierBrain,
    train_loader_kwargs=None,
    stats_file=None,
):
    """Fine-tune, keep the best validation checkpoint, test it, export it.

    0. Without ``label_names`` / ``datasets``, reads them from the
       prepared manifests (:func:`read_label_names`,
       :func:`classification_datasets`).
    1. Fills the encoder from ``pretrained_path`` through ``pretrainer``
       (collected on the main process; ``null`` trains from scratch, with
       a warning).
    2. ``fit`` on ``datasets["train"]``; after each epoch the Brain scores
       ``datasets["valid"]`` and keeps the checkpoint with the best
       ``brain_class.select_key`` (mAP or accuracy). The test split takes
       no part in this choice.
    3. ``evaluate`` on ``datasets["test"]`` with that checkpoint.
    4. Writes the model (best checkpoint) to ``export_folder`` for
       ``AudioMAEClassifier.from_folder`` and the test statistics to
       ``stats_file``, if given (main process).

    Arguments
    ---------
    hparams : dict
        Loaded recipe hyperparameters (``pretrained_path``, ``pretrainer``,
        ``modules``, ``opt_class``, ``checkpointer``, ``epoch_counter``,
        ``train_dataloader_opts``, ``valid_dataloader_opts``,
        ``test_dataloader_opts``, ``export_folder``, ``model``,
        ``compute_fbank`` and what the Brain reads).
    run_opts : dict
        SpeechBrain run options.
    datasets : dict, optional
        ``train``, ``valid`` and ``test`` datasets (default:
        :func:`classification_datasets` of ``hparams``).
    label_names : list of str, optional
        Class names, stored with the exported model (default:
        :func:`read_label_names` of ``hparams``).
    brain_class : type
        :class:`~.audiomae_brain.AudioMAEClassifierBrain` or a subclass
        (e.g. :class:`~.audiomae_brain.AudioMAESingleLabelBrain`).
    train_loader_kwargs : dict, optional
        Training loader options (default ``train_dataloader_opts``).
    stats_file : str or Path, optional
        JSON file receiving the returned statistics.

    Returns
    -------
    dict
        Test statistics of the selected checkpoint (``loss`` and
        ``select_key``).

    Example
    -------
    >>> from pathlib import Path
    >>> import torch
    >>> from speechbrain.dataio.dataset import DynamicItemDataset
    >>> from speechbrain.utils.checkpoints import Checkpointer
    >>> from speechbrain.utils.epoch_loop import EpochCounter
    >>> from speechbrain.utils.train_logger import FileTrainLogger
    >>> from speechbrain_masksr.brains.audiomae_brain import (
    ...     WarmupCosineSchedule)
    >>> from speechbrain_masksr.brains.audiomae_training import SpecAugment
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEClassifierModel, AudioMAEEncoder, AudioMAEFbank)
    >>> tmp = Path(getfixture("tmpdir"))
    >>> enc = AudioMAEEncoder(grid=(4, 2), d_model=16, depth=1, num_heads=2)
    >>> model = AudioMAEClassifierModel(enc, n_classes=2)
    >>> counter = EpochCounter(1)
    >>> loader = {"batch_size": 2}
    >>> hparams = {"pretrained_path": None, "model": model,
    ...     "modules": {"model": model}, "opt_class": torch.optim.AdamW,
    ...     "epoch_counter": counter,
    ...     "checkpointer": Checkpointer(tmp / "save",
    ...         {"model": model, "counter": counter}),
    ...     "compute_fbank": AudioMAEFbank(num_mel_bins=32, target_length=64),
    ...     "roll_mag_aug": False, "mixup_prob": 0.0, "mixup_alpha": 10.0,
    ...     "spec_augment": SpecAugment(4, 8), "label_smoothing": 0.0,
    ...     "layer_decay": 0.75, "weight_decay": 0.0, "blr": 0.1,
    ...     "batch_size": 2, "lr_schedule": WarmupCosineSchedule(0, 1),
    ...     "train_logger": FileTrainLogger(tmp / "log.txt"),
    ...     "train_dataloader_opts": loader, "valid_dataloader_opts": loader,
    ...     "test_dataloader_opts": loader, "export_folder": tmp / "model"}
    >>> def clips(n):
    ...     data = {f"c{i}": {"sig": torch.randn(8000),
    ...                       "targets": torch.eye(2)[i % 2]} for i in range(n)}
    ...     return DynamicItemDataset(data, output_keys=["id", "sig", "targets"])
    >>> data = {"train": clips(4), "valid": clips(2), "test": clips(2)}
    >>> stats = finetune_and_test(hparams, {"device": "cpu"}, data, ["a", "b"],
    ...     stats_file=tmp / "test_stats.json")
    >>> sorted(stats), (tmp / "model" / "model.ckpt").is_file()
    (['loss', 'mAP'], True)
    >>> json.loads((tmp / "test_stats.json").read_text()) == stats
    True
    """
    if label_names is None:
        label_names = read_label_names(hparams)
    if datasets is None:
        datasets = classification_datasets(hparams)
    if hparams["pretrained_path"] is None:
        logger.warning("pretrained_path is null: fine-tuning from scratch")
    else:
        run_on_main(hparams["pretrainer"].collect_files)
        hparams["pretrainer"].load_collected()

    brain = brain_class(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    if train_loader_kwargs is None:
        train_loader_kwargs = hparams["train_dataloader_opts"]
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs=train_loader_kwargs,
        valid_loader_kwargs=hparams["valid_dataloader_opts"],
    )
    key = brain.select_key
    brain.evaluate(
        datasets["test"],
        max_key=key,
        test_loader_kwargs=hparams["test_dataloader_opts"],
    )
    stats = dict(brain.last_stats)
    if if_main_process():
        logger.info(
            "test %s: %.4f (checkpoint of the best validation %s)",
            key,
            stats.get(key, float("nan")),
            key,
        )
        write_model_folder(
            hparams["export_folder"],
            hparams["model"],
            hparams["compute_fbank"],
            label_names=label_names,
            overwrite=True,  # a rerun re-exports its best model
        )
        if stats_file is not None:
            with atomic_open(stats_file) as fo:
                json.dump(stats, fo, indent=1)
    return stats


def summarize_folds(fold_stats, key="acc"):
    """Mean and standard deviation of a statistic over folds.

    Arguments
    ---------
    fold_stats : dict
        ``{fold: stats dict}`` of the test statistics of each fold.
    key : str
        Statistic summarised.

    Returns
    -------
    dict
        ``{"folds": {fold: value}, "mean": m, "std": s, "n_folds": n}``;
        ``std`` is the population standard deviation over the folds.

    Example
    -------
    >>> summarize_folds({1: {"acc": 0.8}, 2: {"acc": 0.9}, 3: {"acc": 1.0}})
    {'folds': {'1': 0.8, '2': 0.9, '3': 1.0}, 'mean': 0.9, 'std': 0.08165, 'n_folds': 3}
    """
    values = {str(fold): float(s[key]) for fold, s in fold_stats.items()}
    if not values:
        raise ValueError("no fold to summarise")
    n = len(values)
    mean = sum(values.values()) / n
    var = sum((v - mean) ** 2 for v in values.values()) / n
    return {
        "folds": values,
        "mean": round(mean, 6),
        "std": round(math.sqrt(var), 6),
        "n_folds": n,
    }
