"""Long-audio windowing: frame-aligned windows, cross-faded and joined.

MaskSR is trained on short crops (3 s), so long audio is restored window by
window. :func:`restore_windowed` is the one implementation used by both the
DNS recipe's test stage (``MaskSRBrain.restore``) and
:class:`~speechbrain_masksr.inference.restoration.SpeechRestoration`, so
their numbers are comparable; the MAE enhancer
(:func:`~speechbrain_masksr.inference.enhancement.enhance_waveform`) and the
codec's windowed decoding
(:meth:`~speechbrain_masksr.codecs.dac.DACTokenizer.decode_windowed`) use
the same window starts and cross-fade weights. Two configurations
(``window_seconds``, ``overlap_seconds``, ``crossfade``):

* ``overlap_seconds > 0`` (interface default: 3 s windows, 0.5 s overlap):
  windows start every ``window - overlap`` samples, the last one is moved
  back to end with the signal, and overlapping windows are joined by a
  raised-cosine (``"hann"``) or linear cross-fade;
* ``overlap_seconds = 0``: the MaskSR paper's protocol, back-to-back
  non-overlapping windows (3 s), the last one zero-padded; the windows are
  simply concatenated.

Windows are aligned to ``align`` samples, which every caller passes: the
codec's ``hop_length`` for MaskSR (so windows are whole codec frames), the
front end's hop for the MAE enhancer, ``1`` for windows counted in frames.
Nothing here knows a codec: this module sits below ``codecs/`` and
``inference/`` and imports neither.

Every window has the same length (the signal's length rounded up to whole
frames when it is shorter than one window), so all windows of a batch are
restored together, ``max_batch`` at a time, with the seeds
``seed + 1000 * g + j`` (window length group ``g``, batch ``j``).

The loop streams: windows are cut when their batch is due and each
restored batch is added into the output with its cross-fade weights
(:func:`add_window`, one window's weights at a time) and dropped, so the
memory it needs beyond the input and output waveforms does not grow with
the input's length (an hour of audio costs what a minute does).

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch

__all__ = [
    "CROSSFADE_SHAPES",
    "add_window",
    "crossfade_weight",
    "crossfade_weights",
    "cut_window",
    "overlap_add",
    "progress_reporter",
    "restore_windowed",
    "window_samples",
    "window_starts",
]

CROSSFADE_SHAPES = ("hann", "linear")


def window_starts(length, window, overlap, align, shift_last=True):
    """Start samples of (overlapping) windows covering ``length`` samples.

    Windows start every ``window - overlap`` samples (both rounded to
    ``align``). With ``shift_last`` the last window is moved back so that it
    ends at most ``align - 1`` samples after ``length`` (the short tail is
    zero-padded), so every window is a full ``window`` long and overlaps
    its neighbour. Without it the windows keep their regular starts and the
    last one reaches past ``length`` (zero-padded): with ``overlap = 0``
    that is back-to-back, non-overlapping windows. Audio no longer than
    one window gives a single window.

    Arguments
    ---------
    length : int
        Number of samples to cover.
    window : int
        Window length in samples (a multiple of ``align``).
    overlap : int
        Wanted overlap of consecutive windows in samples.
    align : int
        Starts are multiples of this: the codec hop (windows of whole
        codec frames), or 1.
    shift_last : bool
        Move the last window back to end with the signal.

    Returns
    -------
    starts : list of int
        Increasing start samples; ``starts[-1] + window >= length``.

    Example
    -------
    >>> window_starts(7 * 44100, 3 * 44032, 22016, align=512)
    [0, 110080, 176640]
    >>> window_starts(7 * 44100, 3 * 44032, 0, align=512, shift_last=False)
    [0, 132096, 264192]
    >>> window_starts(1000, 132096, 22016, align=512)
    [0]
    >>> window_starts(70, 24, 8, align=1)
    [0, 16, 32, 46]
    """
    align = _check_align(align)
    if window <= 0 or window % align:
        raise ValueError(
            f"window ({window}) must be a positive multiple of {align}"
        )
    if not 0 <= overlap < window:
        raise ValueError(f"overlap ({overlap}) must be in [0, {window})")
    if length <= window:
        return [0]
    hop = max(align, (window - overlap) // align * align)
    if not shift_last:
        return list(range(0, length, hop))
    starts = list(range(0, length - window, hop))
    last = math.ceil((length - window) / align) * align
    if last > starts[-1]:
        starts.append(last)
    return starts


def _check_align(align):
    """``align`` as a positive int (the caller's frame hop)."""
    if isinstance(align, bool) or int(align) != align or align < 1:
        raise ValueError(f"align must be a positive integer, got {align!r}")
    return int(align)


def _round_up(n, align):
    """``n`` rounded up to a multiple of ``align``: whole frames."""
    return -(-int(n) // align) * align


def _ramp(n, shape):
    """Fade-in of ``n`` strictly positive weights rising towards 1."""
    x = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    if shape == "hann":
        return torch.sin(0.5 * math.pi * x) ** 2
    return x  # "linear" (callers check the shape)


def _check_crossfade(shape):
    if shape not in CROSSFADE_SHAPES:
        raise ValueError(
            f"crossfade must be one of {CROSSFADE_SHAPES}, got {shape!r}"
        )


def _raw_weight(starts, index, window, shape):
    """Un-normalised weight of window ``index``: fades over its overlaps."""
    raw = torch.ones(window, dtype=torch.float64)
    if index > 0:
        fade = starts[index - 1] + window - starts[index]
        if fade > 0:
            raw[:fade] *= _ramp(fade, shape)
    if index < len(starts) - 1:
        fade = starts[index] + window - starts[index + 1]
        if fade > 0:
            raw[window - fade :] *= _ramp(fade, shape).flip(0)
    return raw


def crossfade_weight(starts, index, window, length, shape="hann"):
    """Cross-fade weight of one window (a row of :func:`crossfade_weights`).

    Computed from the window and its overlapping neighbours only, so a
    streaming loop needs memory for one window, not for all of them; the
    values are bit-identical to ``crossfade_weights(...)[index]`` (the same
    float64 sums in the same order).

    Arguments
    ---------
    starts : list of int
        Window starts (increasing), as from :func:`window_starts`.
    index : int
        Which window.
    window : int
        Window length in samples.
    length : int
        Length of the joined signal (weights past it are zero).
    shape : str
        ``"hann"`` (raised cosine) or ``"linear"``.

    Returns
    -------
    weight : torch.Tensor
        ``[window]`` float64.

    Example
    -------
    >>> starts = window_starts(5000, 1024, 300, align=512)
    >>> rows = crossfade_weights(starts, 1024, 5000, "linear")
    >>> all(torch.equal(crossfade_weight(starts, i, 1024, 5000, "linear"), r)
    ...     for i, r in enumerate(rows))
    True
    """
    _check_crossfade(shape)
    s = starts[index]
    first = index
    while first > 0 and starts[first - 1] + window > s:
        first -= 1
    last = index
    while last < len(starts) - 1 and starts[last + 1] < s + window:
        last += 1
    # the sum of all raw weights over [s, s + window), added in window
    # order as crossfade_weights does over the whole signal
    total = torch.zeros(window, dtype=torch.float64)
    raw = None
    for j in range(first, last + 1):
        raw_j = _raw_weight(starts, j, window, shape)
        if j == index:
            raw = raw_j
        lo, hi = max(s, starts[j]), min(s + window, starts[j] + window)
        total[lo - s : hi - s] += raw_j[lo - starts[j] : hi - starts[j]]
    weight = raw / total
    weight[max(0, length - s) :] = 0.0
    return weight


def crossfade_weights(starts, window, length, shape="hann"):
    """Cross-fade weights that join overlapping windows into one signal.

    Each window fades in over its overlap with the previous window and out
    over its overlap with the next one (raised cosine or linear ramps); the
    weights are then normalised so that, at every sample, they sum to 1
    over the windows covering it. Where exactly two windows overlap this is
    the usual complementary cross-fade; non-overlapping windows get weight
    1. This is the whole ``[n_windows, window]`` table; streaming code uses
    one row at a time (:func:`crossfade_weight`).

    Arguments
    ---------
    starts : list of int
        Window starts (increasing), as from :func:`window_starts`.
    window : int
        Window length in samples.
    length : int
        Length of the joined signal (samples past it are dropped).
    shape : str
        ``"hann"`` (raised cosine) or ``"linear"``.

    Returns
    -------
    weights : torch.Tensor
        ``[n_windows, window]`` weights (zero past ``length``).

    Example
    -------
    >>> starts = window_starts(2000, 1024, 512, align=512)
    >>> w = crossfade_weights(starts, 1024, 2000)
    >>> total = torch.zeros(2000, dtype=w.dtype)
    >>> for s, wi in zip(starts, w):
    ...     n = min(1024, 2000 - s)
    ...     total[s : s + n] += wi[:n]
    >>> bool(torch.allclose(total, torch.ones(2000, dtype=w.dtype)))
    True
    """
    _check_crossfade(shape)
    n = len(starts)
    raw = torch.stack([_raw_weight(starts, i, window, shape) for i in range(n)])
    total = torch.zeros(max(length, starts[-1] + window), dtype=raw.dtype)
    for s, w in zip(starts, raw):
        total[s : s + window] += w
    weights = torch.stack(
        [w / total[s : s + window] for s, w in zip(starts, raw)]
    )
    for i, s in enumerate(starts):
        weights[i, max(0, length - s) :] = 0.0
    return weights


def add_window(out, chunk, starts, index, shape="hann"):
    """Add one restored window, cross-fade weighted, into ``out`` in place.

    The streaming form of :func:`overlap_add`: adding every window of
    ``starts`` in order into a zeroed ``out`` gives exactly
    ``overlap_add(chunks, starts, len(out), shape)`` (up to ``out``'s
    dtype), while only one window's weight is ever held.

    Arguments
    ---------
    out : torch.Tensor
        ``[length]`` signal being built (a view is fine: ``wavs[b, :n]``).
    chunk : torch.Tensor
        ``[window]`` restored window ``index``.
    starts : list of int
        All window starts of the signal.
    index : int
        Which window ``chunk`` is.
    shape : str
        Cross-fade shape, ``"hann"`` or ``"linear"``.

    Example
    -------
    >>> x = torch.randn(3000)
    >>> starts = window_starts(3000, 1024, 512, align=512)
    >>> padded = torch.nn.functional.pad(x, (0, 1024))
    >>> out = torch.zeros(3000)
    >>> for i, s in enumerate(starts):
    ...     add_window(out, padded[s : s + 1024], starts, i)
    >>> bool(torch.allclose(out, x, atol=1e-6))
    True
    """
    length = out.shape[-1]
    window = chunk.shape[-1]
    s = starts[index]
    n = min(window, length - s)
    if n <= 0:
        return
    weight = crossfade_weight(starts, index, window, length, shape)
    weight = weight.to(chunk.dtype).to(chunk.device)
    out[s : s + n] += (chunk * weight)[:n].to(out.device)


def overlap_add(chunks, starts, length, shape="hann"):
    """Join restored windows with :func:`crossfade_weights`.

    Arguments
    ---------
    chunks : torch.Tensor
        ``[n_windows, window]`` restored windows.
    starts : list of int
        Their start samples.
    length : int
        Output length.
    shape : str
        Cross-fade shape, ``"hann"`` or ``"linear"``.

    Returns
    -------
    signal : torch.Tensor
        ``[length]``.

    Example
    -------
    >>> x = torch.randn(3000)
    >>> starts = window_starts(3000, 1024, 512, align=512)
    >>> chunks = torch.stack(
    ...     [torch.nn.functional.pad(x, (0, 1024))[s : s + 1024] for s in starts]
    ... )
    >>> bool(torch.allclose(overlap_add(chunks, starts, 3000), x, atol=1e-6))
    True
    """
    out = torch.zeros(length, dtype=chunks.dtype, device=chunks.device)
    for i, chunk in enumerate(chunks):
        add_window(out, chunk, starts, i, shape)
    return out


def progress_reporter(progress, total, min_total=1, desc="windows"):
    """One ``update()`` per finished window, from a flag or a callback.

    Arguments
    ---------
    progress : bool or callable or None
        ``True``: a ``tqdm`` bar over the windows (on stderr, removed when
        done) if there are more than ``min_total`` of them; a callable:
        ``progress(done, total)`` after each window; ``None``/``False``:
        nothing.
    total : int
        Number of windows.
    min_total : int
        Shortest job that gets a bar (a bar over one batch says nothing).
    desc : str
        Bar label.

    Returns
    -------
    update : callable
        Call with no argument once per finished window.
    close : callable
        Call once at the end.

    Example
    -------
    >>> seen = []
    >>> update, close = progress_reporter(lambda d, t: seen.append((d, t)), 2)
    >>> update(); update(); close()
    >>> seen
    [(1, 2), (2, 2)]
    """
    if progress is None or progress is False:
        return (lambda: None), (lambda: None)
    if callable(progress):
        done = [0]

        def update():
            done[0] += 1
            progress(done[0], total)

        return update, (lambda: None)
    if total <= min_total:
        return (lambda: None), (lambda: None)
    import sys

    from tqdm import tqdm

    bar = tqdm(
        total=total, desc=desc, unit="window", leave=False, file=sys.stderr
    )
    return (lambda: bar.update(1)), bar.close


def window_samples(sample_rate, window_seconds, overlap_seconds, align):
    """Window and overlap in samples, as multiples of ``align``.

    The window is rounded down to whole hops (at least one); the overlap
    is rounded down to whole hops and capped at half the window.

    Arguments
    ---------
    sample_rate : int
        Audio rate.
    window_seconds : float
        Window length in seconds (3 s in the MaskSR paper).
    overlap_seconds : float
        Overlap of consecutive windows (0: the paper's non-overlapping
        windows).
    align : int
        The codec hop (windows of whole codec frames).

    Returns
    -------
    window : int
        Samples per window.
    overlap : int
        Samples of overlap.

    Example
    -------
    >>> window_samples(44100, 3.0, 0.5, align=512)  # DAC 44.1 kHz
    (132096, 22016)
    >>> window_samples(44100, 3.0, 0.0, align=512)
    (132096, 0)
    >>> window_samples(44100, 0.5, 0.5, align=512)  # overlap <= half a window
    (22016, 10752)
    >>> window_samples(22050, 3.0, 0.5, align=256)  # the mel codec
    (66048, 11008)
    """
    align = _check_align(align)
    window = round(float(window_seconds) * sample_rate)
    window = max(align, window // align * align)
    overlap = round(float(overlap_seconds) * sample_rate)
    if overlap < 0:
        raise ValueError(f"overlap_seconds must be >= 0, got {overlap_seconds}")
    overlap = min(overlap // align * align, window // 2 // align * align)
    return window, overlap


def restore_windowed(
    restore_fn,
    wavs,
    num_samples,
    window,
    overlap,
    align,
    crossfade="hann",
    max_batch=8,
    seed=None,
    progress=None,
):
    """Restore waveforms of any length window by window and join them.

    Each waveform (its first ``num_samples[b]`` samples) is cut into windows of
    ``min(window, its length rounded up to align)`` samples by
    :func:`window_starts` (``overlap = 0``: back-to-back windows, the last
    one zero-padded; otherwise the last window is moved back and windows
    overlap by about ``min(overlap, win // 2)``). The windows of all
    waveforms are grouped by length and passed to ``restore_fn``
    ``max_batch`` at a time; each restored batch is added at once, with its
    cross-fade weights (:func:`add_window`), into the preallocated output
    and freed. Windows are cut from ``wavs`` only when their batch is due,
    so memory beyond the input and output waveforms is one batch of
    windows, whatever the length (the result is the same as joining all
    windows at the end with :func:`overlap_add`).

    Arguments
    ---------
    restore_fn : callable
        ``restore_fn(chunks[n, win], seed) -> restored[n, win]``
        (``seed`` is None or an int; see the module docstring).
    wavs : torch.Tensor
        ``[batch, time]``.
    num_samples : list of int
        Valid samples of each waveform.
    window : int
        Window length in samples (a multiple of ``align``), e.g. from
        :func:`window_samples`.
    overlap : int
        Overlap in samples (0 = the paper's non-overlapping windows).
    align : int
        The codec hop: windows are whole codec frames.
    crossfade : str
        ``"hann"`` or ``"linear"``.
    max_batch : int, optional
        Windows per ``restore_fn`` call (``None`` or 0: all windows of a
        length group at once).
    seed : int, optional
        Base seed.
    progress : bool or callable, optional
        ``True``: a ``tqdm`` bar over the windows when there is more than
        one batch of them; a callable: ``progress(done, total)`` after
        each window (see :func:`progress_reporter`).

    Returns
    -------
    restored : torch.Tensor
        ``[batch, time]``; zero past each length.

    Example
    -------
    >>> x = torch.randn(2, 5000)
    >>> same = restore_windowed(lambda c, s: c, x, [5000, 3000], 1024, 256, 512)
    >>> bool(torch.allclose(same[0], x[0], atol=1e-6)), bool(same[1, 3000:].any())
    (True, False)
    >>> calls = []
    >>> def fn(chunks, seed):
    ...     calls.append((len(chunks), seed))
    ...     return chunks
    >>> _ = restore_windowed(fn, x, [5000, 5000], 1024, 0, 512, max_batch=8, seed=7)
    >>> calls  # 2 x 5 back-to-back windows, 8 per call, seeds 7 and 8
    [(8, 7), (2, 8)]
    >>> done = []
    >>> _ = restore_windowed(fn, x, [5000, 5000], 1024, 0, 512,
    ...                      progress=lambda d, t: done.append(d))
    >>> done
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    """
    _check_crossfade(crossfade)
    align = _check_align(align)
    batch, time = wavs.shape
    plans = []  # (length, window, starts) of each waveform
    for n in num_samples:
        n = int(n)
        win = min(window, _round_up(n, align))
        win_overlap = min(overlap, win // 2)
        starts = window_starts(
            n, win, win_overlap, align=align, shift_last=win_overlap > 0
        )
        plans.append((n, win, starts))
    total = sum(len(starts) for _, _, starts in plans)
    size = int(max_batch) if max_batch else 0
    update, close = progress_reporter(progress, total, size or total)

    out = None
    try:
        for g, j, win, todo in _window_batches(plans, size):
            chunks = torch.stack(
                [
                    cut_window(wavs[b], plans[b][0], plans[b][2][i], win)
                    for b, i in todo
                ]
            )
            batch_seed = None if seed is None else int(seed) + 1000 * g + j
            restored = restore_fn(chunks, batch_seed)
            del chunks
            if out is None:  # the dtype/device of the restored windows
                out = torch.zeros(
                    batch, time, dtype=restored.dtype, device=restored.device
                )
            for (b, i), chunk in zip(todo, restored):
                n, _, starts = plans[b]
                add_window(out[b, :n], chunk[:win], starts, i, crossfade)
                update()
            del restored
    finally:
        close()
    if out is None:  # no windows at all (an empty batch)
        out = torch.zeros(batch, time, device=wavs.device)
    return out.to(device=wavs.device, dtype=torch.get_default_dtype())


def _window_batches(plans, size):
    """``(group, batch, window, [(waveform, window index), ...])`` batches.

    Windows are grouped by length (group ``g`` in increasing length), kept
    in (waveform, window) order inside a group and cut ``size`` at a time
    (``0``: the whole group), as the seeds ``seed + 1000 * g + j`` expect.
    """
    for g, win in enumerate(sorted({w for _, w, _ in plans})):
        items = [
            (b, i)
            for b, (_, w, starts) in enumerate(plans)
            if w == win
            for i in range(len(starts))
        ]
        step = size or len(items)
        for j, first in enumerate(range(0, len(items), step)):
            yield g, j, win, items[first : first + step]


def cut_window(wav, n, start, win):
    """``wav[start : start + win]``, zero-padded past ``n`` samples.

    Arguments
    ---------
    wav : torch.Tensor
        ``[time]`` signal.
    n : int
        Valid samples of ``wav`` (later ones are treated as zeros).
    start : int
        First sample of the window.
    win : int
        Window length.

    Returns
    -------
    chunk : torch.Tensor
        ``[win]``.

    Example
    -------
    >>> cut_window(torch.arange(1.0, 6.0), 4, 2, 4)
    tensor([3., 4., 0., 0.])
    """
    chunk = wav[start : min(start + win, n)]
    if chunk.shape[0] < win:
        chunk = torch.nn.functional.pad(chunk, (0, win - chunk.shape[0]))
    return chunk
