#!/usr/bin/env python3
"""Recipe: Audio-MAE self-supervised pretraining on AudioSet.

Prepares the manifests (``audioset_prepare.py``), then trains the masked
autoencoder of ``hparams/audiomae_pretrain.yaml`` with
``AudioMAEPretrainBrain`` and writes the best model (lowest validation loss)
as a folder for ``AudioMAEReconstruction.from_folder`` and as the
initialisation of ``finetune.py``.

To run this recipe (from ``recipes/AudioSet``)::

    python train.py ../../hparams/audiomae_pretrain.yaml \\
        --data_folder /data/audioset/audio --csv_folder /data/audioset/csv

On 8 GPUs (the official run used 64, batch 8 each; add
``--grad_accumulation_factor=8`` to keep the effective batch of 512)::

    torchrun --nproc_per_node=8 train.py ../../hparams/audiomae_pretrain.yaml \\
        --data_folder /data/audioset/audio --precision=fp16

Authors
 * speechbrain-masksr contributors 2026
"""

import sys
from pathlib import Path

import speechbrain as sb
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.distributed import if_main_process

from speechbrain_masksr.brains.audiomae_brain import AudioMAEPretrainBrain
from speechbrain_masksr.brains.audiomae_recipes import clip_pipeline
from speechbrain_masksr.distributed import ddp_finish
from speechbrain_masksr.inference.audio_mae import write_model_folder

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audioset_prepare import prepare_from_hparams  # noqa: E402


def dataio_prep(hparams):
    """Train / valid datasets of 16 kHz mono clips.

    Arguments
    ---------
    hparams : dict
        Loaded hyperparameters.

    Returns
    -------
    dict
        ``train`` and ``valid`` datasets with keys ``id`` and ``sig``.
    """
    audio_pipeline = clip_pipeline(hparams)

    manifests = {
        "train": hparams["train_annotation"],
        "valid": hparams["valid_annotation"],
    }
    datasets = {}
    for split, path in manifests.items():
        data = sb.dataio.dataset.DynamicItemDataset.from_json(
            path, dynamic_items=[audio_pipeline], output_keys=["id", "sig"]
        )
        datasets[split] = data.filtered_sorted(
            key_min_value={"duration": hparams["min_duration"]}
        )
    return datasets


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
    datasets = dataio_prep(hparams)

    brain = AudioMAEPretrainBrain(
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
        train_loader_kwargs=hparams["train_dataloader_opts"],
        valid_loader_kwargs=hparams["valid_dataloader_opts"],
    )

    # Best model (lowest validation loss) -> folder for the interfaces and
    # for finetune.py (its model.ckpt holds encoder.* and decoder.* keys).
    brain.checkpointer.recover_if_possible(min_key="loss")
    if if_main_process():
        write_model_folder(
            hparams["export_folder"],
            hparams["model"],
            hparams["compute_fbank"],
            overwrite=True,  # a rerun re-exports its best model
        )
    ddp_finish()
