#!/usr/bin/env python3
"""Recipe: MAE speech enhancer on clean speech + noise (+ RIRs) folders.

The third input layout of the enhancement recipes: a folder of clean speech
(LibriSpeech, LibriTTS, ... any tree of audio files), a folder of noise and
optionally a folder of room impulse responses, mixed on the fly (new crop,
noise, SNR and RIR at every epoch; fixed ones, seeded per utterance, for
validation). At the end the best checkpoint enhances ``test_items`` whole
validation files (written under ``enhanced_folder`` next to their input and
target, scored in ``metrics.md``) and is exported to ``export_folder``, a
model folder that ``MAEEnhancement.from_folder`` and ``masksr-restore
--source`` load.

To run this recipe (from the repository root)::

    python recipes/Folders/train.py hparams/mae_se_istft_small.yaml \\
        --speech_folder=/data/LibriSpeech/train-clean-100 \\
        --noise_folder=/data/noise --rir_folder=/data/rirs

Mel-to-mel with the HiFi-GAN vocoder: ``hparams/mae_se_mel_multiplicative_small.yaml``,
``hparams/mae_se_additive_small.yaml``, ``hparams/mae_se_vanilla_small.yaml``.

Universal-enhancer fine-tuning (``recipes/UniversalSE``): the encoder of a
pretraining run (``--pretrained_path=<pretraining run>/model/enhancer.ckpt``)
trained on ``train_items`` paired utterances, for denoising
(``hparams/mae_universal_finetune_denoise_small.yaml``) or dereverberation
(``hparams/mae_universal_finetune_dereverb_small.yaml``, simulated RIRs
unless ``--rir_folder``); the same without pretraining:
``hparams/mae_universal_scratch_denoise_small.yaml``,
``hparams/mae_universal_scratch_dereverb_small.yaml``::

    python recipes/Folders/train.py \
        hparams/mae_universal_finetune_denoise_small.yaml \
        --pretrained_path=results/mae_universal_pretrain_small/1234/model/enhancer.ckpt \
        --speech_folder=/data/LibriSpeech/train-clean-100 \
        --noise_folder=/data/noise

Multi-GPU::

    torchrun --standalone --nproc_per_node=2 recipes/Folders/train.py ...

(on CPU add ``--device=cpu --distributed_backend=gloo``).

Authors
 * speechbrain-masksr contributors 2026
"""

import sys

import speechbrain as sb
from folders_prepare import prepare_from_hparams
from hyperpyyaml import load_hyperpyyaml

from speechbrain_masksr.brains.enhance_brain import fit_enhancer
from speechbrain_masksr.data.enhancement import enhancement_dataset
from speechbrain_masksr.distributed import ddp_finish

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
    distortion = hparams["distortion"](
        noises=manifests.get("noise"), rirs=manifests.get("rir")
    )
    # optional caps: train_items (small paired sets), test_items (debug)
    max_items = {
        "train": hparams.get("train_items"),
        "valid": None,
        "test": hparams["test_items"],
    }
    datasets = {
        stage: enhancement_dataset(
            manifests["train" if stage == "train" else "valid"],
            stage,
            "single",
            hparams["sample_rate"],
            hparams["segment_samples"],
            distortion=distortion,
            eval_seed=hparams["eval_seed"],
            max_items=max_items[stage],
        )
        for stage in ("train", "valid", "test")
    }
    fit_enhancer(hparams, run_opts, datasets)
    ddp_finish()
