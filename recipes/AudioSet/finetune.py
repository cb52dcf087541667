#!/usr/bin/env python3
"""Recipe: fine-tune a pretrained Audio-MAE encoder for AudioSet tagging.

Prepares the manifests, loads the pretrained encoder (``pretrained_path``:
``model.ckpt`` from ``train.py`` or from ``audiomae-convert``), fine-tunes
``AudioMAEClassifierModel`` with ``AudioMAEClassifierBrain`` (layer-wise lr
decay, mixup, SpecAugment, time/frequency patch dropping), keeps the
checkpoint with the best validation mAP, reports the eval-set mAP and writes
a model folder for ``AudioMAEClassifier.from_hparams``.

AS-20K (balanced set; from ``recipes/AudioSet``)::

    python finetune.py ../../hparams/audiomae_finetune.yaml \\
        --data_folder /data/audioset/audio --csv_folder /data/audioset/csv \\
        --pretrained_path results/audiomae_pretrain/1234/model/model.ckpt

AS-2M with the weighted sampler, on 8 GPUs::

    torchrun --nproc_per_node=8 finetune.py ../../hparams/audiomae_finetune.yaml \\
        --data_folder /data/audioset/audio --pretrained_path PATH \\
        --train_set full --weighted_sampler True --number_of_epochs 100 \\
        --warmup_epochs 10 --batch_size 4 --precision=fp16

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import logging
import sys
from pathlib import Path

import speechbrain as sb
from hyperpyyaml import load_hyperpyyaml
from speechbrain.dataio.sampler import ReproducibleWeightedRandomSampler
from speechbrain.utils.distributed import if_main_process, run_on_main

from speechbrain_masksr.brains.audiomae_brain import (
    AudioMAEClassifierBrain,
    multi_hot,
)
from speechbrain_masksr.distributed import ddp_finish
from speechbrain_masksr.inference.audio_mae import write_model_folder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audioset_prepare import (  # noqa: E402
    clip_pipeline,
    prepare_from_hparams,
)

logger = logging.getLogger(__name__)


def dataio_prep(hparams):
    """Train / valid / test datasets: 16 kHz clips and multi-hot targets.

    Arguments
    ---------
    hparams : dict
        Loaded hyperparameters.

    Returns
    -------
    dict
        ``train``, ``valid``, ``test`` datasets with keys ``id``, ``sig``
        and ``targets``.
    """
    n_classes = hparams["n_classes"]
    audio_pipeline = clip_pipeline(hparams)

    @sb.utils.data_pipeline.takes("labels")
    @sb.utils.data_pipeline.provides("targets")
    def label_pipeline(labels):
        return multi_hot(labels, n_classes)

    manifests = {
        "train": hparams["train_annotation"],
        "valid": hparams["valid_annotation"],
        "test": hparams["test_annotation"],
    }
    datasets = {}
    for split, path in manifests.items():
        data = sb.dataio.dataset.DynamicItemDataset.from_json(
            path,
            dynamic_items=[audio_pipeline, label_pipeline],
            output_keys=["id", "sig", "targets"],
        )
        datasets[split] = data.filtered_sorted(
            key_min_value={"duration": hparams["min_duration"]}
        )
    return datasets


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
    with open(hparams["labels_file"], encoding="utf-8") as fin:
        label_names = json.load(fin)
    if len(label_names) != hparams["n_classes"]:
        raise ValueError(
            f"{hparams['labels_file']} lists {len(label_names)} classes but "
            f"n_classes is {hparams['n_classes']}; set --n_classes"
        )
    datasets = dataio_prep(hparams)

    if hparams["pretrained_path"] is None:
        logger.warning("pretrained_path is null: fine-tuning from scratch")
    else:
        run_on_main(hparams["pretrainer"].collect_files)
        hparams["pretrainer"].load_collected()

    brain = AudioMAEClassifierBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs=train_loader_options(hparams, datasets["train"]),
        valid_loader_kwargs=hparams["valid_dataloader_opts"],
    )
    brain.evaluate(
        datasets["test"],
        max_key="mAP",
        test_loader_kwargs=hparams["test_dataloader_opts"],
    )
    if if_main_process():
        logger.info("eval mAP: %.4f", brain.last_stats.get("mAP", float("nan")))
        write_model_folder(
            hparams["export_folder"],
            hparams["model"],
            hparams["compute_fbank"],
            label_names=label_names,
            overwrite=True,  # a rerun re-exports its best model
        )
    ddp_finish()
