"""MaskSR training from WebDataset shards (``recipes/DNS/make_shards.py``).

On the mini DNS corpus and tiny DAC of ``test_masksr_recipe``:

* the shards hold the same (id, audio, tokens) as the folder layout
  (``train.json`` + token cache), and give the same training examples;
* two ranks x two loader workers read disjoint shards that cover the set
  (simulated ranks; and two gloo processes under ``torchrun``);
* ``ShardedTrainSet`` yields a fixed number of batches per rank;
* ``train.py --train_shards=...`` trains one tiny epoch.

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import sys
from pathlib import Path

import pytest
import test_masksr_recipe as recipe  # pytest puts this folder on sys.path
import torch
from speechbrain.dataio.batch import PaddedBatch

from speechbrain_masksr.data.shards import (
    SHARD_INDEX,
    ShardedTrainSet,
    loader_kwargs,
    read_shards,
    shard_urls,
)
from speechbrain_masksr.data.token_cache import TokenCache, training_example

#: The recipe test's module-scoped fixture: mini DNS corpus + tiny DAC.
assets = recipe.assets


@pytest.fixture(scope="module")
def shards(assets, tmp_path_factory):
    """``make_shards.py`` run on the mini corpus, one sample per shard."""
    out = tmp_path_factory.mktemp("masksr_shards") / "out"
    folder = out / "shards"
    proc = recipe._run(
        [
            sys.executable,
            "recipes/DNS/make_shards.py",
            recipe.HPARAMS,
            *recipe._common(assets, out),
            f"--shard_folder={folder}",
            "--shard_max_count=1",
        ]
    )
    index = json.loads((folder / SHARD_INDEX).read_text())
    assert f"--train_shards='{index['pattern']}'" in proc.stdout
    manifest = json.loads((out / "save" / "train.json").read_text())
    cache = TokenCache(
        assets["tokens"],
        codec_path=assets["dac"],
        sample_rate=44100,
        hop_length=512,
    )
    return {
        "pattern": index["pattern"],
        "index": index,
        "manifest": manifest,
        "cache": cache,
        "data": assets["data"],
    }


def _wav(shards, uid):
    return shards["manifest"][uid]["wav"].replace("{data_root}", shards["data"])


def test_shards_hold_the_folder_layout(shards):
    """Same ids, audio bytes and tokens as train.json + the token cache."""
    index = shards["index"]
    assert index["samples"] == len(shards["manifest"]) >= 4
    assert len(shard_urls(shards["pattern"])) == index["samples"]
    assert not list(Path(shards["pattern"]).parent.glob(".tmp-*"))
    seen = {}
    for sample in read_shards(shards["pattern"]):
        seen[sample["id"]] = sample
    assert set(seen) == set(shards["manifest"])
    for uid, sample in seen.items():
        assert sample["audio"] == Path(_wav(shards, uid)).read_bytes()
        assert torch.equal(sample["tokens"], shards["cache"].load(uid))
        assert sample["duration"] == shards["manifest"][uid]["duration"]


def test_shards_give_the_folder_layout_examples(shards):
    """Same generator state -> the same crop, degradation and tokens."""

    def noisy(clean, generator=None):
        return clean + torch.randn(clean.shape, generator=generator)

    for sample in read_shards(shards["pattern"]):
        uid = sample["id"]
        made = []
        for tokens, audio in (
            (sample["tokens"], sample["audio"]),
            (shards["cache"].load(uid), _wav(shards, uid)),
        ):
            generator = torch.Generator().manual_seed(7)
            made.append(
                training_example(tokens, audio, noisy, 8, 44100, 512, generator)
            )
        for from_shard, from_folder in zip(*made):
            assert torch.equal(from_shard, from_folder)
        assert made[0][0].shape == (8 * 512,)


def _ids(pattern, monkeypatch, rank, world, worker, workers):
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setenv("WORLD_SIZE", str(world))
    monkeypatch.setenv("WORKER", str(worker))
    monkeypatch.setenv("NUM_WORKERS", str(workers))
    return [s["id"] for s in read_shards(pattern, shuffle_shards=True, seed=1)]


def test_ranks_and_workers_read_disjoint_shards(shards, monkeypatch):
    """2 ranks x 2 workers: disjoint reads that cover every sample."""
    reads = [
        _ids(shards["pattern"], monkeypatch, rank, 2, worker, 2)
        for rank in range(2)
        for worker in range(2)
    ]
    assert all(reads)
    flat = [uid for ids in reads for uid in ids]
    assert len(flat) == len(set(flat))
    assert set(flat) == set(shards["manifest"])


def test_sharded_train_set_epoch_per_rank(shards, monkeypatch):
    """Two loader workers per rank; each rank yields exactly its batches,
    and only from its own shards."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    per_rank = []
    for rank in range(2):
        monkeypatch.setenv("RANK", str(rank))
        data = ShardedTrainSet(
            shards["pattern"],
            lambda s: {"id": s["id"], "tokens": s["tokens"].t()},
            batches=3,
            batch_size=2,
            shuffle_buffer=2,
        )
        opts = loader_kwargs({"batch_size": 2, "num_workers": 2})
        loader = torch.utils.data.DataLoader(data, **opts)
        batches = list(loader)
        assert len(loader) == len(batches) == 3
        assert all(isinstance(b, PaddedBatch) for b in batches)
        assert all(b.tokens.data.shape[0] == 2 for b in batches)
        per_rank.append({uid for b in batches for uid in b.id})
    assert not per_rank[0] & per_rank[1]


def test_too_few_shards_is_a_clear_error(shards, monkeypatch):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "64")
    data = ShardedTrainSet(shards["pattern"], dict, batches=1, batch_size=1)
    with pytest.raises(ValueError, match="shards for 64 processes"):
        next(iter(data))


_READ_IDS = """
import json, os, sys
import torch.distributed as dist
from speechbrain_masksr.data.shards import read_shards
dist.init_process_group("gloo")
ids = [s["id"] for s in read_shards(sys.argv[1], shuffle_shards=True)]
with open(os.path.join(sys.argv[2], f"rank{dist.get_rank()}.json"), "w") as f:
    json.dump(ids, f)
dist.barrier()
dist.destroy_process_group()
"""


def test_torchrun_two_gloo_processes_read_disjoint_shards(shards, tmp_path):
    script = tmp_path / "read_ids.py"
    script.write_text(_READ_IDS)
    recipe._run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            str(script),
            shards["pattern"],
            str(tmp_path),
        ],
        timeout=300,
    )
    reads = [
        json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)
    ]
    assert reads[0] and reads[1]
    assert not set(reads[0]) & set(reads[1])
    assert sorted(reads[0] + reads[1]) == sorted(shards["manifest"])


def test_recipe_trains_one_epoch_from_shards(assets, shards, tmp_path):
    out = tmp_path / "out"
    recipe._run(
        [
            sys.executable,
            recipe.TRAIN,
            recipe.HPARAMS,
            *recipe._common(assets, out),
            f"--train_shards={shards['pattern']}",
        ]
    )
    log = (out / "train_log.txt").read_text()
    epochs = [ln for ln in log.splitlines() if ln.startswith("epoch:")]
    # one pass: samples // batch_size (2) steps
    steps = shards["index"]["samples"] // 2
    assert len(epochs) == 1 and f"steps: {steps}," in epochs[0], log
    assert "train loss" in epochs[0]
    assert "Training from the shards" in (out / "log.txt").read_text()
    assert (out / "test_metrics.md").is_file()


def test_torchrun_two_cpu_processes_train_from_shards(assets, shards, tmp_path):
    """DDP from shards: every rank steps the same number of batches."""
    out = tmp_path / "ddp"
    recipe._run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            recipe.TRAIN,
            recipe.HPARAMS,
            *recipe._common(assets, out, effective_batch=4),
            f"--train_shards={shards['pattern']}",
            "--device=cpu",
            "--distributed_backend=gloo",
        ]
    )
    log = (out / "train_log.txt").read_text()
    epochs = [ln for ln in log.splitlines() if ln.startswith("epoch:")]
    steps = shards["index"]["samples"] // 4  # 2 processes x batch 2
    assert len(epochs) == 1 and f"steps: {steps}," in epochs[0], log
    assert (out / "test_metrics.md").is_file()
