#!/usr/bin/env python3
"""Recipe: MAE speech enhancer on VoiceBank-DEMAND (supervised, paired).

Zhong et al., "Extending Audio Masked Autoencoders Toward Audio
Restoration" (WASPAA 2023): the Audio-MAE ViT autoencoder trained as a
speech enhancer on the noisy/clean pairs of VoiceBank-DEMAND. The noisy and
clean files (16 kHz or 48 kHz release) are resampled to the model's rate;
training items are random ``segment_samples`` crops of aligned pairs,
validation items fixed crops of the held-out training speakers (``p226``,
``p287``). At the end the best checkpoint (lowest validation loss) enhances
the whole test files (``test_items`` of them; ``null`` = all 824), which
are written under ``enhanced_folder`` next to their input and target and
scored in ``metrics.md``, and the model is exported to ``export_folder``, a
model folder that ``MAEEnhancement.from_folder`` and ``masksr-restore
--source`` load.

One YAML per variant of the paper (paper-sized ViT-B encoder):

* ``hparams/mae_se_vbd_vanilla.yaml``: mel-to-mel, clean log-mel directly;
* ``hparams/mae_se_vbd_additive.yaml``: mel-to-mel, additive correction;
* ``hparams/mae_se_vbd_multiplicative.yaml``: mel-to-mel, mel mask;
* ``hparams/mae_se_vbd_istft.yaml``: ViT-AE-iSTFT, complex STFT mask.

The mel-to-mel variants are vocoded with HiFi-GAN for testing and export.

To run this recipe (from the repository root)::

    python recipes/VoiceBank/train.py hparams/mae_se_vbd_istft.yaml \\
        --data_folder=/data/VoiceBank-DEMAND

Multi-GPU::

    torchrun --standalone --nproc_per_node=4 recipes/VoiceBank/train.py \\
        hparams/mae_se_vbd_multiplicative.yaml \\
        --data_folder=/data/VoiceBank-DEMAND

(on CPU add ``--device=cpu --distributed_backend=gloo``).

Authors
 * speechbrain-masksr contributors 2026
"""

import sys

import speechbrain as sb
from hyperpyyaml import load_hyperpyyaml
from voicebank_prepare import prepare_from_hparams

from speechbrain_masksr.brains.enhance_brain import fit_enhancer
from speechbrain_masksr.data.enhancement import enhancement_dataset
from speechbrain_masksr.distributed import ddp_finish

#: Manifest of each stage (written by ``voicebank_prepare.py``).
STAGE_MANIFESTS = {
    "train": "vbd_train",
    "valid": "vbd_valid",
    "test": "vbd_test",
}

if __name__ == "__main__":
    hparams_file, run_opts, overrides = sb.parse_arguments(sys.argv[1:])
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)
    sb.utils.distributed.ddp_init_group(run_opts)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )
    manifests = prepare_from_hparams(hparams)
    missing = [m for m in STAGE_MANIFESTS.values() if m not in manifests]
    if missing:
        raise FileNotFoundError(
            f"VoiceBank-DEMAND manifests {missing} were not written: are the "
            f"train and test folders in {hparams['data_folder']}?"
        )
    datasets = {
        stage: enhancement_dataset(
            manifests[name],
            stage,
            "paired",
            hparams["sample_rate"],
            hparams["segment_samples"],
            eval_seed=hparams["eval_seed"],
            replacements={"data_root": hparams["data_folder"]},
            max_items=hparams["test_items"] if stage == "test" else None,
        )
        for stage, name in STAGE_MANIFESTS.items()
    }
    fit_enhancer(hparams, run_opts, datasets)
    ddp_finish()
