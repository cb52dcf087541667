#!/usr/bin/env python3
"""Recipe: fine-tune a pretrained Audio-MAE encoder for AudioSet tagging.

Prepares the manifests, loads the pretrained encoder (``pretrained_path``:
``model.ckpt`` from ``train.py`` or from ``audiomae-convert``), fine-tunes
``AudioMAEClassifierModel`` with ``AudioMAEClassifierBrain`` (layer-wise lr
decay, mixup, SpecAugment, time/frequency patch dropping), keeps the
checkpoint with the best mAP on the validation split (``valid_ratio`` of the
training clips, held out by ``audioset_prepare.py``), reports that
checkpoint's mAP on the eval set and writes a model folder for
``AudioMAEClassifier.from_folder``. The shared steps live in
``speechbrain_masksr.brains.audiomae_recipes`` (also used by
``recipes/ESC50`` and ``recipes/SpeechCommands``).

AS-20K (balanced set; from ``recipes/AudioSet``)::

    python finetune.py ../../hparams/audiomae_finetune.yaml \\
        --data_folder /data/audioset/audio --csv_folder /data/audioset/csv \\
        --pretrained_path results/audiomae_pretrain/1234/model/model.ckpt

AS-2M with the weighted sampler, on 8 GPUs (paper Table 3: batch 512,
blr 2e-4, 100 epochs, warmup 20; the released script: 64 x 4, warmup 10)::

    torchrun --nproc_per_node=8 finetune.py ../../hparams/audiomae_finetune.yaml \\
        --data_folder /data/audioset/audio --pretrained_path PATH \\
        --train_set full --weighted_sampler True --blr 0.0002 \\
        --number_of_epochs 100 --warmup_epochs 20 --batch_size 64 \\
        --precision=fp16

Authors
 * speechbrain-masksr contributors 2026
"""

import logging
import sys
from pathlib import Path

import speechbrain as sb
from hyperpyyaml import load_hyperpyyaml
from speechbrain.dataio.sampler import ReproducibleWeightedRandomSampler

from speechbrain_masksr.brains.audiomae_brain import AudioMAEClassifierBrain
from speechbrain_masksr.brains.audiomae_recipes import (
    classification_datasets,
    finetune_and_test,
    read_label_names,
)
from speechbrain_masksr.distributed import ddp_finish

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audioset_prepare import prepare_from_hparams  # noqa: E402

logger = logging.getLogger(__name__)


def train_loader_options(hparams, train_data):
    """Loader options; with ``weighted_sampler`` a weighted random sampler.

    Arguments
    ---------
    hparams : dict
        Loaded hyperparameters.
    train_data : DynamicItemDataset
        Training set (manifest entries carry ``weight``).

    Returns
    -------
    dict
        Options for ``Brain.fit`` (DDP wraps the sampler per process).
    """
    opts = dict(hparams["train_dataloader_opts"])
    if hparams["weighted_sampler"]:
        weights = [train_data.data[i]["weight"] for i in train_data.data_ids]
        opts.pop("shuffle", None)
        opts["sampler"] = ReproducibleWeightedRandomSampler(
            weights,
            num_samples=min(hparams["epoch_len"], len(weights))
            if not hparams["sampler_replacement"]
            else hparams["epoch_len"],
            replacement=hparams["sampler_replacement"],
            seed=hparams["seed"],
        )
    return opts


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
    prepare_from_hparams(hparams)
    if hparams["valid_ratio"] == 0:
        logger.warning(
            "valid_ratio is 0: checkpoints are selected on the eval set, "
            "which is also the test set (the released code's protocol)"
        )
    label_names = read_label_names(hparams)
    datasets = classification_datasets(hparams)
    finetune_and_test(
        hparams,
        run_opts,
        datasets,
        label_names,
        brain_class=AudioMAEClassifierBrain,
        train_loader_kwargs=train_loader_options(hparams, datasets["train"]),
    )
    ddp_finish()
