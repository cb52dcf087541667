"""SpeechBrain relative lengths to absolute counts and masks: one rule.

SpeechBrain batches carry *relative* lengths (``wav_lens``): the valid part
of item ``b`` is ``wav_lens[b] * time`` of the padded ``time``. Every place in
the package that needs sample or frame counts converts them here, with one
validity rule (each relative length in ``(0, 1]``, else ``ValueError``) and
SpeechBrain's rounding
(:func:`speechbrain.dataio.dataio.relative_time_to_absolute`:
``round(rel * time)``, ties to even), computed in float64 on the CPU (the
same counts on every device; a float32 product can differ by one near
``x.5``).

Authors
 * speechbrain-masksr contributors 2026
"""

import torch
from speechbrain.dataio.dataio import length_to_mask, relative_time_to_absolute

__all__ = ["relative_to_absolute", "length_mask"]


def relative_to_absolute(wav_lens, max_len, batch=None):
    """Convert SpeechBrain relative lengths to absolute counts.

    ``round(rel * max_len)`` (SpeechBrain's rule, ties to even), at least 1
    (a positive relative length keeps at least one element) unless
    ``max_len`` is 0.

    Arguments
    ---------
    wav_lens : torch.Tensor, sequence of float or None
        Relative lengths ``[batch]``, each in ``(0, 1]``. ``None`` means
        every item is full length (then ``batch`` is needed).
    max_len : int
        Padded length (samples or frames) the lengths are relative to.
    batch : int, optional
        Expected batch size; checked when given.

    Returns
    -------
    torch.Tensor
        Long ``[batch]`` counts in ``[1, max_len]``, on the device of
        ``wav_lens`` (CPU for ``None`` or a sequence).

    Raises
    ------
    ValueError
        If ``wav_lens`` is not 1-D, does not have ``batch`` entries, or has
        a value outside ``(0, 1]`` (NaN included).

    Example
    -------
    >>> relative_to_absolute(torch.tensor([1.0, 0.5, 0.25]), 10)
    tensor([10,  5,  2])
    >>> relative_to_absolute(None, 4, batch=2)
    tensor([4, 4])
    >>> relative_to_absolute(torch.tensor([0.0]), 10)
    Traceback (most recent call last):
    ...
    ValueError: relative lengths (SpeechBrain wav_lens) must be [batch] values in (0, 1], got shape (1,): [0.0]
    """
    max_len = int(max_len)
    if wav_lens is None:
        if batch is None:
            raise ValueError("relative_to_absolute(None, ...) needs batch")
        return torch.full((int(batch),), max_len, dtype=torch.long)
    wav_lens = torch.as_tensor(wav_lens).detach()
    device = wav_lens.device
    wav_lens = wav_lens.cpu().to(torch.float64)  # float64: not on every device
    want = "[batch]" if batch is None else f"[batch] = [{batch}]"
    if (
        wav_lens.dim() != 1
        or (batch is not None and len(wav_lens) != batch)
        or not bool(((wav_lens > 0) & (wav_lens <= 1)).all())
    ):
        raise ValueError(
            f"relative lengths (SpeechBrain wav_lens) must be {want} "
            f"values in (0, 1], got shape {tuple(wav_lens.shape)}: "
            f"{wav_lens.tolist()}"
        )
    # relative_time_to_absolute only reads batch.shape[1]: an empty
    # [0, max_len] tensor stands for the padded batch; rate 1 = counts.
    padded = torch.empty(0, max_len)
    counts = relative_time_to_absolute(padded, wav_lens, 1).long()
    return counts.clamp(1, max_len).to(device)  # max_len 0 (empty batch): 0


def length_mask(abs_lengths, max_len, device=None):
    """Boolean mask of the valid positions (``t < length``).

    Arguments
    ---------
    abs_lengths : torch.Tensor or None
        Absolute counts ``[batch]`` (e.g. from
        :func:`relative_to_absolute`); ``None`` gives ``None`` (no padding).
    max_len : int
        Padded length.
    device : torch.device, optional
        Device of the mask (default: that of ``abs_lengths``).

    Returns
    -------
    torch.Tensor or None
        Bool ``[batch, max_len]``, ``True`` on valid positions.

    Example
    -------
    >>> length_mask(torch.tensor([1, 3]), 3)
    tensor([[ True, False, False],
            [ True,  True,  True]])
    >>> length_mask(None, 3) is None
    True
    """
    if abs_lengths is None:
        return None
    abs_lengths = torch.as_tensor(abs_lengths, device=device).long()
    return length_to_mask(abs_lengths, int(max_len), dtype=torch.bool)
