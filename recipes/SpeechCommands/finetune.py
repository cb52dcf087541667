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

import logging
import sys
from pathlib import Path

import speechbrain as sb
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.distributed import if_main_process

from speechbrain_masksr.brains.audiomae_brain import AudioMAESingleLabelBrain
from speechbrain_masksr.brains.audiomae_recipes import finetune_and_test
from speechbrain_masksr.distributed import ddp_finish

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
    stats = finetune_and_test(
        hparams,
        run_opts,
        brain_class=AudioMAESingleLabelBrain,
        stats_file=hparams["test_stats_file"],
    )
    if if_main_process():
        logger.info("Speech Commands v2 test accuracy: %.4f", stats["acc"])
    ddp_finish()
