#!/usr/bin/env python3
"""Pack the MaskSR training set into WebDataset shards (audio + tokens).

Reads the same hparams file (and overrides) as ``train.py``, runs the DNS
data preparation, encodes the clean training files whose tokens are not
cached yet, and writes ``shard_folder/train-000000.tar``, ... (at most
``shard_max_count`` samples or ``shard_max_megabytes`` each; every sample
holds the clean file's bytes, its clean DAC tokens and a JSON record) plus
``shards.json``. It prints the brace pattern to train from::

    python recipes/DNS/make_shards.py hparams/masksr.yaml \\
        --data_folder=/path/to/DNS-Challenge \\
        --aishell_folder=/path/to/aishell --codec_path=/path/to/weights.pth \\
        --shard_folder=/data/shards
    python recipes/DNS/train.py hparams/masksr.yaml ... \\
        --train_shards='/data/shards/train-{000000..000099}.tar'

Run ``extract_tokens.py`` first to encode with several processes.

Authors
 * speechbrain-masksr contributors 2026
"""

import sys

import speechbrain as sb
from dns_prepare import prepare_from_hparams, token_cache_from_hparams
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.logger import get_logger

from speechbrain_masksr.data.shards import write_shards
from speechbrain_masksr.data.token_cache import manifest_cache_entries

logger = get_logger(__name__)


def main(argv=None):
    """Prepare, extract missing training tokens, write the shards.

    Arguments
    ---------
    argv : list of str, optional
        ``hparams.yaml`` followed by SpeechBrain options and overrides
        (default ``sys.argv[1:]``).

    Returns
    -------
    dict
        The shard index (``pattern``, ``shards``, ``samples``).
    """
    argv = sys.argv[1:] if argv is None else argv
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)
    manifests = prepare_from_hparams(hparams)
    cache = token_cache_from_hparams(hparams)
    entries = manifest_cache_entries(
        manifests, ["train"], data_root=hparams["data_folder"]
    )
    missing = cache.missing(entries)
    if missing:
        codec = hparams["codec"]
        codec.to(run_opts.get("device") or sb.utils.distributed.infer_device())
        cache.extract(codec, {k: entries[k] for k in missing})
    index = write_shards(
        manifests["train"],
        cache,
        hparams["shard_folder"],
        prefix="train",
        max_count=hparams["shard_max_count"],
        max_megabytes=hparams["shard_max_megabytes"],
        data_root=hparams["data_folder"],
        seed=hparams["seed"],
    )
    print(
        f"{index['samples']} samples in {len(index['shards'])} shards; "
        f"train with --train_shards='{index['pattern']}'"
    )
    return index


if __name__ == "__main__":
    main()
