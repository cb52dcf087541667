"""Distributed helpers that SpeechBrain 1.1.2 does not provide.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
import torch.distributed as dist
from speechbrain.utils.distributed import ddp_barrier


def ddp_finish():
    """Wait for every rank, then tear the process group down.

    Call it at the very end of a recipe run under torchrun: a rank that exits
    while its gloo threads are still alive (for example because rank 0 is
    still writing an exported model) aborts with ``terminate called without an
    active exception``. Outside DDP it does nothing.

    Example
    -------
    >>> ddp_finish()  # no process group: a no-op
    """
    if dist.is_available() and dist.is_initialized():
        ddp_barrier()
        dist.destroy_process_group()


def rank_and_world():
    """This process's rank and the number of processes.

    Returns
    -------
    tuple of int
        ``(rank, world_size)``: from ``torch.distributed`` when a process
        group is up, else ``(0, 1)``.

    Example
    -------
    >>> rank_and_world()
    (0, 1)
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class RankSplitSampler(torch.utils.data.Sampler):
    """Every ``world_size``-th index from ``rank``, in order, no padding.

    The evaluation counterpart of a ``DistributedSampler``: each item is
    read by exactly one rank (a ``DistributedSampler`` repeats items to give
    every rank as many, which would count them twice in the metrics);
    ranks may get one item less than others.

    Arguments
    ---------
    length : int
        Items of the dataset.
    rank : int
        This process's rank.
    world_size : int
        Number of processes.

    Example
    -------
    >>> list(RankSplitSampler(5, 0, 2)), list(RankSplitSampler(5, 1, 2))
    ([0, 2, 4], [1, 3])
    >>> len(RankSplitSampler(5, 1, 2))
    2
    """

    def __init__(self, length, rank, world_size):
        self.length = int(length)
        self.rank = int(rank)
        self.world_size = int(world_size)

    def __iter__(self):
        return iter(range(self.rank, self.length, self.world_size))

    def __len__(self):
        return len(range(self.rank, self.length, self.world_size))


def gather_objects(obj):
    """Every rank's ``obj``, on every rank (``all_gather_object``).

    Arguments
    ---------
    obj : object
        Picklable.

    Returns
    -------
    list
        ``[obj of rank 0, obj of rank 1, ...]``; ``[obj]`` outside DDP.

    Example
    -------
    >>> gather_objects({"ids": ["a"]})
    [{'ids': ['a']}]
    """
    rank, world = rank_and_world()
    if world == 1:
        return [obj]
    out = [None] * world
    dist.all_gather_object(out, obj)
    return out
