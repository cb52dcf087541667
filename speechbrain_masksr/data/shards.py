"""WebDataset shards of the MaskSR training set (audio + clean tokens).

For corpora that do not fit on a node's disk (DNS at 44.1 kHz, ~800 h),
the prepared training manifest can be packed into WebDataset shards (tar
files), read sequentially from any storage ``webdataset`` opens (local or
network file system, ``http(s)://``, ``pipe:`` commands). Each sample
holds one clean file as it is stored (its ``.wav`` / ``.flac`` bytes), its
clean codec tokens (the token cache's ``int16`` ``[n_codebooks, frames]``
array, ``.npy``) and a ``.json`` record (``id``, ``duration``,
``sample_rate``, ``speaker``): the token cache is sharded together with the
audio.

* :func:`write_shards` packs a manifest (``webdataset.ShardWriter``, at
  most ``max_count`` samples or ``max_megabytes`` per shard, written to a
  temporary folder and renamed into place) and writes ``shards.json``,
  the sample count of each shard.
* :func:`read_shards` is one pass over shards, split between DDP ranks
  (``webdataset.split_by_node``) and DataLoader workers
  (``webdataset.split_by_worker``), optionally with shuffled shards and a
  sample shuffle buffer; samples are decoded by :func:`decode_sample`.
* :class:`ShardedTrainSet` is the training ``IterableDataset``: it repeats
  :func:`read_shards` (shards reshuffled every pass) and turns each sample
  into an example with a transform (the recipe uses
  :func:`~speechbrain_masksr.data.token_cache.training_example`, the same
  crop + degradation as the folder layout); an epoch is a fixed number of
  batches per rank, so that all DDP ranks step together.

Authors
 * speechbrain-masksr contributors 2026
"""

import io
import json
import os
import random
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import webdataset as wds
from speechbrain.dataio.batch import PaddedBatch
from speechbrain.utils.logger import get_logger
from webdataset.shardlists import expand_urls

from speechbrain_masksr.data.speakers import vctk_speaker
from speechbrain_masksr.utils.files import atomic_open

logger = get_logger(__name__)

#: Name of the index written next to the shards: ``{"shards": {name:
#: samples}, "samples": total, "pattern": brace pattern}``.
SHARD_INDEX = "shards.json"


def shard_pattern(folder, prefix, count):
    """Brace pattern naming ``count`` shards (what ``train_shards`` takes).

    Arguments
    ---------
    folder : str or Path
        Where the shards are.
    prefix : str
        Shard name prefix.
    count : int
        Number of shards.

    Returns
    -------
    str
        ``<folder>/<prefix>-{000000..<count - 1>}.tar``.

    Example
    -------
    >>> shard_pattern("/data/shards", "train", 100)
    '/data/shards/train-{000000..000099}.tar'
    >>> shard_pattern("/s", "train", 1)
    '/s/train-000000.tar'
    """
    if count == 1:
        return f"{folder}/{prefix}-000000.tar"
    return f"{folder}/{prefix}-{{000000..{count - 1:06d}}}.tar"


def encode_tokens(tokens):
    """Bytes of a ``.npy`` file holding ``int16`` codes.

    Arguments
    ---------
    tokens : torch.Tensor
        Codes ``[n_codebooks, frames]``.

    Returns
    -------
    bytes
        The ``.npy`` file.

    Example
    -------
    >>> data = encode_tokens(torch.tensor([[1, 2], [3, 4]]))
    >>> np.load(io.BytesIO(data)).dtype
    dtype('int16')
    """
    buf = io.BytesIO()
    np.save(buf, torch.as_tensor(tokens).cpu().numpy().astype(np.int16))
    return buf.getvalue()


def write_shards(
    manifest,
    cache,
    folder,
    prefix="train",
    max_count=1000,
    max_megabytes=1000.0,
    data_root=None,
    seed=0,
):
    """Pack a prepared manifest and its cached tokens into WebDataset shards.

    Samples are written in a random order (``seed``), so that a shard holds
    a mix of speakers and sources. Shards are first written to a temporary
    sub-folder, then renamed into ``folder`` and indexed in
    :data:`SHARD_INDEX`; an interrupted run leaves no partial shard behind
    (rerun it). Existing shards of the same prefix are replaced.

    Arguments
    ---------
    manifest : str or Path or dict
        A manifest (``{id: {"wav", "duration", ...}}``, JSON path or dict).
    cache : TokenCache
        Holds the clean tokens of every id (extract them first).
    folder : str or Path
        Output folder.
    prefix : str
        Shard names ``<prefix>-000000.tar``, ...
    max_count : int
        Most samples per shard.
    max_megabytes : float
        Most megabytes per shard (a shard is closed once it exceeds this).
    data_root : str, optional
        Replacement of ``{data_root}`` in the manifest's paths.
    seed : int
        Seed of the sample order.

    Returns
    -------
    dict
        The index: ``{"pattern", "shards": {name: samples}, "samples"}``.

    Example
    -------
    >>> from speechbrain_masksr.data.token_cache import TokenCache
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> cache = TokenCache(tmp / "tokens", sample_rate=44100, hop_length=512)
    >>> manifest = {}
    >>> for i in range(5):
    ...     save_audio(str(tmp / f"u{i}.wav"), torch.zeros(1024), 44100)
    ...     cache.save(f"u{i}", torch.full((9, 2), i))
    ...     manifest[f"u{i}"] = {"wav": "{data_root}/" + f"u{i}.wav",
    ...                          "duration": 1024 / 44100}
    >>> index = write_shards(manifest, cache, tmp / "shards", max_count=2,
    ...                      data_root=str(tmp))
    >>> sorted(index["shards"].values()), index["samples"]
    ([1, 2, 2], 5)
    >>> index["pattern"].endswith("train-{000000..000002}.tar")
    True
    """
    if not isinstance(manifest, dict):
        with open(manifest, encoding="utf-8") as fin:
            manifest = json.load(fin)
    if not manifest:
        raise ValueError("the manifest is empty: nothing to shard")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{prefix}-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    ids = sorted(manifest)
    random.Random(seed).shuffle(ids)
    written = []
    with wds.ShardWriter(
        str(tmp / f"{prefix}-%06d.tar"),
        maxcount=int(max_count),
        maxsize=float(max_megabytes) * 1e6,
        encoder=False,
        verbose=0,
    ) as sink:
        for i, uid in enumerate(ids):
            entry = manifest[uid]
            path = str(entry["wav"])
            if data_root is not None:
                path = path.replace("{data_root}", str(data_root))
            ext = Path(path).suffix.lower().lstrip(".") or "wav"
            with open(path, "rb") as fin:
                audio = fin.read()
            meta = {
                "id": uid,
                "duration": entry.get("duration"),
                "sample_rate": entry.get("sample_rate"),
                "speaker": entry.get("speaker") or vctk_speaker(path),
            }
            sink.write(
                {
                    "__key__": f"{i:09d}",
                    ext: audio,
                    "npy": encode_tokens(cache.load(uid)),
                    "json": json.dumps(meta).encode(),
                }
            )
            written.append(sink.fname)
    counts = dict(Counter(Path(fname).name for fname in written))
    for old in folder.glob(f"{prefix}-*.tar"):
        if old.name not in counts:
            old.unlink()
    for name in counts:
        os.replace(tmp / name, folder / name)
    shutil.rmtree(tmp)
    index = {
        "pattern": shard_pattern(folder, prefix, len(counts)),
        "shards": counts,
        "samples": sum(counts.values()),
    }
    with atomic_open(folder / SHARD_INDEX) as fout:
        fout.write(json.dumps(index, indent=2) + "\n")
    logger.info(
        "Wrote %d samples in %d shards: %s",
        index["samples"],
        len(counts),
        index["pattern"],
    )
    return index


def decode_sample(sample):
    """Decode one raw WebDataset sample written by :func:`write_shards`.

    Arguments
    ---------
    sample : dict
        ``{"__key__", "json", "npy", "wav" or "flac" (bytes), ...}``.

    Returns
    -------
    dict
        ``{"id", "audio" (the file's bytes), "tokens" (long
        ``[n_codebooks, frames]``), "duration", "speaker", "key"}``.

    Example
    -------
    >>> raw = {"__key__": "000000001", "wav": b"RIFF...",
    ...        "npy": encode_tokens(torch.ones(9, 3)),
    ...        "json": b'{"id": "a/b", "duration": 1.0, "speaker": null}'}
    >>> out = decode_sample(raw)
    >>> out["id"], out["tokens"].shape, out["tokens"].dtype, out["audio"][:4]
    ('a/b', torch.Size([9, 3]), torch.int64, b'RIFF')
    """
    meta = json.loads(sample["json"])
    audio = None
    for key, value in sample.items():
        if key in ("wav", "flac", "ogg", "mp3", "aiff", "aif"):
            audio = value
    if audio is None:
        raise ValueError(f"shard sample {sample['__key__']} holds no audio")
    tokens = np.load(io.BytesIO(sample["npy"])).astype(np.int64)
    return {
        "id": meta["id"],
        "audio": audio,
        "tokens": torch.from_numpy(tokens),
        "duration": meta.get("duration"),
        "speaker": meta.get("speaker"),
        "key": sample["__key__"],
    }


def read_shards(urls, shuffle_shards=False, shuffle_buffer=0, seed=None):
    """One pass over shards, split between DDP ranks and loader workers.

    This process reads every ``world_size``-th shard from its rank
    (``webdataset.split_by_node``: ``RANK`` / ``WORLD_SIZE``, else
    ``torch.distributed``), and of those every ``num_workers``-th from its
    DataLoader worker (``webdataset.split_by_worker``), so ranks and
    workers read disjoint shards.

    Arguments
    ---------
    urls : str or list of str
        Shards: a brace pattern (``/data/train-{000000..000099}.tar``),
        several joined by ``::``, or a list.
    shuffle_shards : bool
        Shuffle this process's shards.
    shuffle_buffer : int
        Shuffle samples in a buffer of this size (0: keep the order).
    seed : int, optional
        Seed of both shuffles.

    Returns
    -------
    webdataset.WebDataset
        Iterable of decoded samples (:func:`decode_sample`).

    Example
    -------
    >>> from speechbrain_masksr.data.token_cache import TokenCache
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> cache = TokenCache(tmp / "tokens", sample_rate=44100, hop_length=512)
    >>> save_audio(str(tmp / "a.wav"), torch.zeros(1024), 44100)
    >>> cache.save("a", torch.zeros(9, 2))
    >>> index = write_shards({"a": {"wav": str(tmp / "a.wav")}}, cache,
    ...                      tmp / "shards")
    >>> [s["id"] for s in read_shards(index["pattern"])]
    ['a']
    """
    data = wds.WebDataset(
        urls,
        nodesplitter=wds.split_by_node,
        workersplitter=wds.split_by_worker,
        shardshuffle=100 if shuffle_shards else False,
        seed=seed,
        empty_check=False,
    )
    if shuffle_buffer:
        data = data.shuffle(int(shuffle_buffer), seed=seed)
    return data.map(decode_sample)


def shard_urls(urls):
    """The list of shards a pattern names.

    Arguments
    ---------
    urls : str or list of str
        Brace pattern(s) or a list.

    Returns
    -------
    list of str
        The expanded shard names.

    Example
    -------
    >>> shard_urls("/s/train-{000000..000002}.tar")
    ['/s/train-000000.tar', '/s/train-000001.tar', '/s/train-000002.tar']
    """
    if isinstance(urls, str):
        return expand_urls(urls)
    return [str(u) for u in urls]


def shard_sample_count(urls):
    """Number of samples in the shards, from their :data:`SHARD_INDEX`.

    Arguments
    ---------
    urls : str or list of str
        Local shards written by :func:`write_shards`.

    Returns
    -------
    int or None
        The count, or None when an index is missing (remote shards) or does
        not list a shard.

    Example
    -------
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / SHARD_INDEX).write('{"shards": {"t-0.tar": 3, "t-1.tar": 2}}')
    >>> shard_sample_count(str(tmp / "t-{0..1}.tar"))
    5
    >>> shard_sample_count("http://host/t-{0..1}.tar") is None
    True
    """
    total = 0
    indexes = {}
    for url in shard_urls(urls):
        folder = os.path.dirname(url)
        if folder not in indexes:
            path = os.path.join(folder, SHARD_INDEX)
            if not os.path.isfile(path):
                return None
            with open(path, encoding="utf-8") as fin:
                indexes[folder] = json.load(fin)["shards"]
        count = indexes[folder].get(os.path.basename(url))
        if count is None:
            return None
        total += int(count)
    return total


def epoch_batches(urls, batch_size, world_size=1, steps=None):
    """Batches per epoch and rank of a sharded training set.

    Arguments
    ---------
    urls : str or list of str
        The shards.
    batch_size : int
        Examples per batch (and process).
    world_size : int
        DDP processes.
    steps : int, optional
        The batches (e.g. ``shard_epoch_steps``); default: one pass over
        the samples of :func:`shard_sample_count`.

    Returns
    -------
    int
        Batches per epoch of each rank.

    Raises
    ------
    ValueError
        If ``steps`` is None and the shards have no index.

    Example
    -------
    >>> epoch_batches("http://h/t-{0..1}.tar", 4, steps=10)
    10
    >>> tmp = getfixture("tmpdir")
    >>> _ = (tmp / SHARD_INDEX).write('{"shards": {"t-0.tar": 50}}')
    >>> epoch_batches(str(tmp / "t-0.tar"), 4, world_size=2)
    6
    """
    if steps is not None:
        return max(1, int(steps))
    total = shard_sample_count(urls)
    if total is None:
        raise ValueError(
            f"no {SHARD_INDEX} lists the shards {urls!r}: set "
            "shard_epoch_steps (batches per epoch and process)"
        )
    return max(1, total // (int(batch_size) * int(world_size)))


def loader_kwargs(train_dataloader_opts):
    """DataLoader options for an ``IterableDataset`` of examples.

    Keeps ``batch_size``, ``num_workers`` and the like, drops what an
    ``IterableDataset`` refuses (``shuffle``, ``sampler``; shuffling is
    the shards' and the buffer's; ``drop_last``: each worker yields whole
    batches) and collates with SpeechBrain's ``PaddedBatch``.

    Arguments
    ---------
    train_dataloader_opts : dict
        The options of the folder layout.

    Returns
    -------
    dict
        Options for ``Brain.fit(train_loader_kwargs=...)``.

    Example
    -------
    >>> opts = loader_kwargs({"batch_size": 2, "shuffle": True,
    ...                       "drop_last": True, "num_workers": 0})
    >>> sorted(opts)
    ['batch_size', 'collate_fn', 'num_workers']
    """
    drop = ("shuffle", "sampler", "batch_sampler", "drop_last")
    opts = {k: v for k, v in train_dataloader_opts.items() if k not in drop}
    opts["collate_fn"] = PaddedBatch
    return opts


class ShardedTrainSet(torch.utils.data.IterableDataset):
    """Training examples streamed from shards, a fixed number per epoch.

    Each DataLoader worker of each rank repeats :func:`read_shards` on its
    own shards (reshuffled every pass, seeds drawn from the worker's torch
    RNG, which SpeechBrain and the DataLoader seed per rank, worker and
    epoch), applies ``transform`` to each decoded sample, and stops after
    its share of ``batches * batch_size`` examples (whole batches), so
    every rank yields exactly ``batches`` batches per epoch.

    Arguments
    ---------
    urls : str or list of str
        The shards (at least DDP processes x loader workers of them).
    transform : callable
        Decoded sample (:func:`decode_sample`) -> example dict (e.g.
        ``{"id", "clean_sig", "degraded_sig", "tokens"}``).
    batches : int
        Batches per epoch (and rank).
    batch_size : int
        Examples per batch.
    shuffle_buffer : int
        Sample shuffle buffer of each worker.

    Example
    -------
    >>> from speechbrain_masksr.data.token_cache import TokenCache
    >>> from speechbrain_masksr.dataio import save_audio
    >>> tmp = getfixture("tmpdir")
    >>> cache = TokenCache(tmp / "tokens", sample_rate=44100, hop_length=512)
    >>> save_audio(str(tmp / "a.wav"), torch.zeros(1024), 44100)
    >>> cache.save("a", torch.zeros(9, 2))
    >>> index = write_shards({"a": {"wav": str(tmp / "a.wav")}}, cache,
    ...                      tmp / "shards")
    >>> data = ShardedTrainSet(index["pattern"], lambda s: {"id": s["id"]},
    ...                        batches=2, batch_size=3)
    >>> len(data), [s["id"] for s in data]
    (6, ['a', 'a', 'a', 'a', 'a', 'a'])
    """

    def __init__(self, urls, transform, batches, batch_size, shuffle_buffer=0):
        super().__init__()
        self.urls = urls
        self.transform = transform
        self.batches = int(batches)
        self.batch_size = int(batch_size)
        self.shuffle_buffer = int(shuffle_buffer)

    def __len__(self):
        return self.batches * self.batch_size

    def _worker_quota(self):
        rank, world, worker, workers = wds.utils.pytorch_worker_info()
        n_shards = len(shard_urls(self.urls))
        if n_shards < world * workers:
            raise ValueError(
                f"{n_shards} shards for {world} processes x {workers} "
                "loader workers: every worker needs its own shards; write "
                "more, smaller shards (make_shards.py, shard_max_count) or "
                "lower num_workers"
            )
        batches = self.batches // workers
        batches += int(worker < self.batches % workers)
        return batches * self.batch_size

    def __iter__(self):
        quota = self._worker_quota()
        done = 0
        while done < quota:
            seed = int(torch.randint(0, 2**31, (1,)))
            empty = True
            for sample in read_shards(
                self.urls, True, self.shuffle_buffer, seed=seed
            ):
                empty = False
                yield self.transform(sample)
                done += 1
                if done >= quota:
                    return
            if empty:
                raise ValueError(f"no samples in the shards {self.urls!r}")
