#!/usr/bin/env python3
"""Recipe: fine-tune a pretrained Audio-MAE encoder on Speech Commands v2.

Prepares the manifests of the official split (``speechcommands_prepare.py``:
35 words, ``validation_list.txt`` / ``testing_list.txt``), fine-tunes
``AudioMAEClassifierModel`` with ``AudioMAESingleLabelBrain`` (BCE with
waveform mixup, fbank noise, SpecAugment, time/frequency patch dropping,
layer-wise lr decay), keeps the checkpoint with the best accuracy on the
validation list, reports its accuracy on the testing list (the paper's
SPC-2 number) and exports it to ``<output_folder>/model``. The fine-tuning
steps are those of ``recipes/AudioSet/finetune.py``
(``speechbrain_masksr.brains.audiomae_recipes``).

To run this recipe (from ``recipes/SpeechCommands``)::

    python finetune.py ../../hparams/audiomae_speechcommands.yaml \\
        --data_folder /data/speech_commands_v0.02 \\
        --pretrained_path models/audiomae-pretrained/model.ckpt

On 4 GPUs (the paper: 4 x 64)::

    torchrun --nproc_per_node=4 finetune.py \\
        ../../hparams/audiomae_speechcommands.yaml --data_folder ... \\
        --pretrained_path ... --precision=fp16

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import logging
import sys
from pathlib import Path

import speechbrain as sb
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.distributed import if_main_process

from speechbrain_masksr.brains.audiomae_brain import AudioMAESingleLabelBrain
from speechbrain_masksr.brains.audiomae_recipes import (
    classification_datasets,
    finetune_and_test,
    read_label_names,
)
from speechbrain_masksr.distributed import ddp_finish
from speechbrain_masksr.utils.files import atomic_open

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speechcommands_prepare import prepare_from_hparams  # noqa: E402

logger = logging.getLogger(__name__)


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
    label_names = read_label_names(hparams)
    datasets = classification_datasets(hparams)
    stats = finetune_and_test(
        hparams,
        run_opts,
        datasets,
        label_names,
        brain_class=AudioMAESingleLabelBrain,
    )
    if if_main_process():
        logger.info("Speech Commands v2 test accuracy: %.4f", stats["acc"])
        with atomic_open(hparams["test_stats_file"]) as fo:
            json.dump(stats, fo, indent=1)
    ddp_finish()
