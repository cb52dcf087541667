"""Copy-synthesis scores of a codec: how much its tokens keep.

:func:`copy_synthesis_scores` encodes clean speech, decodes it with the
first ``k`` codebooks for each ``k`` asked, and scores every output against
the input; ``k = 0`` is the decoder on the *unquantized* features (the
codec's ceiling: what the decoder alone loses). Besides the metrics of
:func:`~speechbrain_masksr.metrics.compute_metrics` each row has

* ``mel_l1``: the mean absolute log-mel difference between output and
  input (the codec's own front end; lower is better);
* ``kbps``: the bit rate of the tokens (``k log2(N)`` bits per frame).

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch

from speechbrain_masksr.metrics.compute import compute_metrics

__all__ = ["copy_synthesis_scores", "level_name"]


def level_name(level):
    """Row name of ``level`` codebooks (0: the unquantized ceiling).

    Arguments
    ---------
    level : int
        Codebooks used.

    Returns
    -------
    str
        The name.

    Example
    -------
    >>> level_name(0), level_name(1), level_name(9)
    ('decoder on the unquantized mel', '1 codebook', '9 codebooks')
    """
    if level == 0:
        return "decoder on the unquantized mel"
    return f"{level} codebook" + ("s" if level > 1 else "")


@torch.no_grad()
def copy_synthesis_scores(codec, wav, levels=(0, 1, 2, 4, 9), metrics=()):
    """Score copy-synthesis of one waveform at several codebook counts.

    Arguments
    ---------
    codec : speechbrain_masksr.codecs.mel.MelCodec
        A codec with ``encode``, ``log_mel(codes)``, ``bits_per_second``
        and a ``vocoder`` (decoder of log-mel frames).
    wav : torch.Tensor
        ``[time]`` clean speech at ``codec.sample_rate``.
    levels : sequence of int
        Codebook counts (0: the decoder on the unquantized features).
    metrics : sequence of str
        Metric names for :func:`compute_metrics` (e.g. ``pesq``,
        ``estoi``, ``dnsmos``).

    Returns
    -------
    dict
        ``{level_name(k): {column: value}}``.

    Example
    -------
    >>> from speechbrain_masksr.codecs.mel import MelCodec
    >>> from speechbrain_masksr.vocoders import Vocoder, GriffinLim
    >>> from speechbrain_masksr.lobes.spectral import HifiganMel
    >>> mel = HifiganMel()
    >>> codec = MelCodec(Vocoder(GriffinLim(mel, 2), mel), 2, 8)
    >>> _ = codec.quantizer.codebooks.normal_()
    >>> rows = copy_synthesis_scores(codec, torch.randn(4096) * 0.1, (0, 2))
    >>> sorted(rows["2 codebooks"]), rows["2 codebooks"]["kbps"]
    (['kbps', 'mel_l1'], 0.516796875)
    """
    wav = wav.float()
    codes = codec.encode(wav[None])
    frames = codes.shape[-1]
    padded = torch.nn.functional.pad(
        wav, (0, frames * codec.hop_length - wav.shape[-1])
    )
    clean_mel = codec.mel(padded[None])
    rows = {}
    for level in levels:
        if level == 0:
            mel = clean_mel
            kbps = math.nan
        else:
            mel = codec.log_mel(codes[:, :level])
            kbps = codec.bits_per_second(level) / 1000
        out = codec.vocoder(mel)[0, : wav.shape[-1]]
        out_mel = codec.mel(
            torch.nn.functional.pad(out, (0, padded.shape[-1] - out.shape[-1]))[
                None
            ]
        )
        row = {}
        if metrics:
            row.update(compute_metrics(wav, out, codec.sample_rate, metrics))
        row["mel_l1"] = float((out_mel - clean_mel).abs().mean())
        row["kbps"] = kbps
        rows[level_name(level)] = row
    return rows
