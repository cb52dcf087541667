#!/usr/bin/env python3
"""Recipe: self-supervised pretraining of the MAE universal speech enhancer.

Rajagopalan et al., "Masked Autoencoders as Universal Speech Enhancer"
(2026). Only noisy speech is needed: every training item is a crop of a
noisy recording (the *target*) and the same crop passed through an
augmentation stack (the *input*): additive noise, reverberation, clipping
and interfering talkers placed farther from the microphone (lower
direct-to-reverberant ratio) than the target, each with its own probability
(:class:`speechbrain_masksr.augment.pipeline.GSRPipeline`). Patches of the
input spectrogram are masked at random and the MAE learns to output the
spectrogram *before augmentation* on all patches, i.e. to remove the added
distortions and to fill in the masked regions at once.

Validation items are fixed crops of held-out noisy files with a fixed
augmentation per file; at the end the best checkpoint "enhances" (removes
the augmentation from) ``test_items`` whole validation files, scored
against the pre-augmentation audio in ``metrics.md``, and the model is
exported to ``export_folder`` (``model/enhancer.ckpt`` +
``hyperparams.yaml``, loadable with ``MAEEnhancement.from_folder``). The
encoder of that model initialises the downstream fine-tuning
(``recipes/Folders/train.py`` with ``--pretrained_path``).

YAMLs: ``hparams/mae_universal_pretrain_small.yaml`` (CPU-sized) and
``hparams/mae_universal_pretrain.yaml`` (ViT-B). To run this recipe (from
the repository root)::

    python recipes/UniversalSE/pretrain.py \\
        hparams/mae_universal_pretrain_small.yaml \\
        --speech_folder=/data/noisy_speech --noise_folder=/data/noise \\
        [--rir_folder=/data/rirs] [--speaker_folder=/data/interferers]

Without ``--speaker_folder`` the noisy pretraining audio itself provides
the interfering talkers. Multi-GPU::

    torchrun --standalone --nproc_per_node=4 recipes/UniversalSE/pretrain.py \\
        hparams/mae_universal_pretrain.yaml --speech_folder=... ...

(on CPU add ``--device=cpu --distributed_backend=gloo``).

Authors
 * speechbrain-masksr contributors 2026
"""

import sys

import speechbrain as sb
from hyperpyyaml import load_hyperpyyaml
from universal_prepare import prepare_from_hparams

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
    # target = the noisy audio as recorded, input = augmentation stack on it
    augmentation = hparams["augmentation"](
        noises=manifests.get("noise"),
        rirs=manifests.get("rir"),
        speakers=manifests.get("speaker", manifests["train"]),
    )
    datasets = {
        stage: enhancement_dataset(
            manifests["train" if stage == "train" else "valid"],
            stage,
            "single",
            hparams["sample_rate"],
            hparams["segment_samples"],
            distortion=augmentation,
            eval_seed=hparams["eval_seed"],
            max_items=hparams["test_items"] if stage == "test" else None,
        )
        for stage in ("train", "valid", "test")
    }
    fit_enhancer(hparams, run_opts, datasets)
    ddp_finish()
