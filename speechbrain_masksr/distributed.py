"""Distributed helpers that SpeechBrain 1.1.2 does not provide.

Authors
 * speechbrain-masksr contributors 2026
"""

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
