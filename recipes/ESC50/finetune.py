#!/usr/bin/env python3
"""Recipe: fine-tune a pretrained Audio-MAE encoder on ESC-50 (5-fold CV).

For each test fold of ``folds`` (default 1-5): prepares the fold's
manifests (``esc50_prepare.py``: the fold is the test set, the other four
the training set, minus a held-out validation share), fine-tunes
``AudioMAEClassifierModel`` with ``AudioMAESingleLabelBrain``
(cross-entropy, layer-wise lr decay, SpecAugment, time/frequency patch
dropping), keeps the checkpoint with the best validation accuracy, tests
it on the fold and exports it to ``<output_folder>/fold<k>/model``. The
fold accuracies and their mean (the paper's ESC-50 number) are written to
``cv_results.json``. The fine-tuning steps are those of
``recipes/AudioSet/finetune.py``
(``speechbrain_masksr.brains.audiomae_recipes``).

To run this recipe (from ``recipes/ESC50``)::

    python finetune.py ../../hparams/audiomae_esc50.yaml \\
        --data_folder /data/ESC-50-master \\
        --pretrained_path models/audiomae-pretrained/model.ckpt

One fold only, e.g. as five parallel jobs with one output folder each::

    python finetune.py ../../hparams/audiomae_esc50.yaml --folds=[3] ...

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import logging
import sys
from pathlib import Path

import speechbrain as sb
import yaml
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.distributed import if_main_process

from speechbrain_masksr.brains.audiomae_brain import AudioMAESingleLabelBrain
from speechbrain_masksr.brains.audiomae_recipes import (
    finetune_and_test,
    summarize_folds,
)
from speechbrain_masksr.distributed import ddp_finish
from speechbrain_masksr.utils.files import atomic_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
from esc50_prepare import prepare_from_hparams  # noqa: E402

logger = logging.getLogger(__name__)


def fold_overrides(overrides, fold):
    """Command-line overrides plus ``test_fold: <fold>``.

    Arguments
    ---------
    overrides : str
        The YAML overrides of ``sb.parse_arguments``.
    fold : int
        Test fold.

    Returns
    -------
    str
        Overrides selecting the fold.

    Example
    -------
    >>> fold_overrides("seed: 3", 2)
    'seed: 3\\ntest_fold: 2'
    >>> fold_overrides("", 5)
    'test_fold: 5'
    """
    parsed = yaml.safe_load(overrides) if overrides else None
    if isinstance(parsed, dict) and "test_fold" in parsed:
        raise ValueError("choose the folds with --folds=[...], not --test_fold")
    line = f"test_fold: {int(fold)}"
    return f"{overrides}\n{line}" if overrides else line


def load_fold(hparams_file, overrides, fold):
    """Loads the hyperparameters of one fold (fresh model, same seed).

    Arguments
    ---------
    hparams_file : str
        The YAML file.
    overrides : str
        Command-line overrides.
    fold : int
        Test fold.

    Returns
    -------
    dict
        Loaded hyperparameters.
    """
    with open(hparams_file, encoding="utf-8") as fin:
        return load_hyperpyyaml(fin, fold_overrides(overrides, fold))


def run_fold(hparams, run_opts):
    """Prepares, fine-tunes and tests one fold.

    Arguments
    ---------
    hparams : dict
        Loaded hyperparameters of the fold.
    run_opts : dict
        SpeechBrain run options.

    Returns
    -------
    dict
        Test statistics (``loss``, ``acc``) of the fold's checkpoint with
        the best validation accuracy.
    """
    prepare_from_hparams(hparams)
    if hparams["valid_ratio"] == 0:
        logger.warning(
            "valid_ratio is 0: checkpoints are selected on the test fold"
        )
    return finetune_and_test(
        hparams,
        run_opts,
        brain_class=AudioMAESingleLabelBrain,
        stats_file=hparams["test_stats_file"],
    )


if __name__ == "__main__":
    hparams_file, run_opts, overrides = sb.parse_arguments(sys.argv[1:])
    sb.utils.distributed.ddp_init_group(run_opts)
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )
    folds = [int(f) for f in hparams["folds"]]
    cv_results_file = hparams["cv_results_file"]
    del hparams  # each fold gets a fresh model, seeded the same way

    results = {}
    for fold in folds:
        logger.info("ESC-50: test fold %d", fold)
        results[fold] = run_fold(
            load_fold(hparams_file, overrides, fold), run_opts
        )
    summary = summarize_folds(results, key="acc")
    if if_main_process():
        logger.info(
            "ESC-50 %d-fold accuracy: %.4f (std %.4f), folds %s",
            summary["n_folds"],
            summary["mean"],
            summary["std"],
            summary["folds"],
        )
        with atomic_open(cv_results_file) as fo:
            json.dump(summary, fo, indent=1)
    ddp_finish()
