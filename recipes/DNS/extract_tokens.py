#!/usr/bin/env python3
"""Extract the DAC tokens of the clean DNS speech once, before training.

Reads the same hparams file (and overrides) as ``train.py``, runs the DNS
data preparation, and encodes every clean file of the train, valid and test
sets (and of the paired DNS 2020 test sets listed in ``test_sets``) into the
token cache (``token_folder``; one int16 ``.npy`` per file, whole file,
padded to a multiple of 512 samples). Files already cached are skipped, so
the script can be stopped and resumed. ``train.py`` also extracts missing
tokens itself, but on its main process only; this script can use several
processes or GPUs, each taking every N-th file::

    python recipes/DNS/extract_tokens.py hparams/masksr.yaml \\
        --data_folder=/path/to/DNS-Challenge \\
        --aishell_folder=/path/to/aishell --codec_path=/path/to/weights.pth
    torchrun --standalone --nproc_per_node=4 recipes/DNS/extract_tokens.py \\
        hparams/masksr.yaml --data_folder=... --aishell_folder=... \\
        --codec_path=...

(on CPU-only machines add ``--device=cpu --distributed_backend=gloo``).

Authors
 * speechbrain-masksr contributors 2026
"""

import os
import sys

import speechbrain as sb
from dns_prepare import prepare_from_hparams, token_cache_from_hparams
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.logger import get_logger

from speechbrain_masksr.data.token_cache import manifest_cache_entries
from speechbrain_masksr.distributed import ddp_finish

logger = get_logger(__name__)


def main(argv=None):
    """Prepare the manifests and fill the token cache.

    Arguments
    ---------
    argv : list of str, optional
        ``hparams.yaml`` followed by SpeechBrain options and overrides
        (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Number of files encoded by this process.
    """
    argv = sys.argv[1:] if argv is None else argv
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)
    sb.utils.distributed.ddp_init_group(run_opts)
    rank = int(os.environ.get("RANK", 0))
    world = int(os.environ.get("WORLD_SIZE", 1))

    manifests = prepare_from_hparams(hparams)
    names = ["train", "valid"] + list(hparams["test_sets"])
    entries = manifest_cache_entries(
        manifests, names, data_root=hparams["data_folder"]
    )
    codec = hparams["codec"]
    cache = token_cache_from_hparams(hparams)
    device = run_opts.get("device") or sb.utils.distributed.infer_device()
    codec.to(device)
    n_done = cache.extract(codec, entries, shard=(rank, world))
    logger.info(
        "Process %d/%d encoded %d files; %d of %d cached in %s",
        rank,
        world,
        n_done,
        len(entries) - len(cache.missing(entries)),
        len(entries),
        cache.folder,
    )
    ddp_finish()
    return n_done


if __name__ == "__main__":
    main()
