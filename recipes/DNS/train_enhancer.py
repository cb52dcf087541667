#!/usr/bin/env python3
"""Recipe: MAE speech enhancer on the DNS Challenge data (mixed on the fly).

DNS clean speech (``train.json`` / ``valid.json`` / ``test.json`` of
``dns_prepare.py``) is mixed on the fly with the DNS noise and, with
probability ``reverb_prob``, convolved with the DNS impulse responses
(simulated ones when the folder is absent); the target is the dry clean
speech. At the end the best checkpoint enhances ``test_items`` whole files
of the held-out clean split (same fixed distortions), writes them with a
``metrics.md`` table, and is exported to ``export_folder`` (a model folder
for ``MAEEnhancement.from_folder`` and ``masksr-restore --source``).

To run this recipe (from the repository root)::

    python recipes/DNS/train_enhancer.py hparams/mae_se_dns_istft.yaml \\
        --data_folder=/data/DNS-Challenge

Multi-GPU: ``torchrun --standalone --nproc_per_node=4
recipes/DNS/train_enhancer.py ...`` (on CPU add ``--device=cpu
--distributed_backend=gloo``).

Authors
 * speechbrain-masksr contributors 2026
"""

import sys

import speechbrain as sb
from dns_prepare import prepare_from_hparams
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
        noises=manifests.get("noise"),
        rirs=manifests.get("rir"),
        replacements={"data_root": hparams["data_folder"]},
    )
    datasets = {
        stage: enhancement_dataset(
            manifests[stage],
            stage,
            "single",
            hparams["sample_rate"],
            hparams["segment_samples"],
            distortion=distortion,
            eval_seed=hparams["eval_seed"],
            replacements={"data_root": hparams["data_folder"]},
            max_items=hparams["test_items"] if stage == "test" else None,
        )
        for stage in ("train", "valid", "test")
    }
    fit_enhancer(hparams, run_opts, datasets)
    ddp_finish()
