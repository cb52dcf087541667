"""All metrics in one call, means over files, and Markdown tables.

:func:`compute_metrics` returns a dict keyed by the column names of the
``masksr-eval`` CSV (``lsd, pesq, estoi, si_sdr, dnsmos_sig, dnsmos_bak,
dnsmos_ovrl, spk_sim_resemblyzer``, plus the optional ``pesq_nb``,
``dnsmos_p808`` and ``spk_sim_ecapa``); the speaker-similarity columns are
named after their encoder (``spk_sim`` selects the default, Resemblyzer);
:func:`compute_nonintrusive_metrics` scores an estimate alone with the
reference-free metrics (DNSMOS P.835 SIG/BAK/OVRL and P.808);
:func:`metrics_table` formats rows such as "Unprocessed / Target / Model"
as a Markdown table.

Authors
 * speechbrain-masksr contributors 2026
"""

import math
import warnings

import numpy as np

from speechbrain_masksr.errors import MetricWarning
from speechbrain_masksr.metrics._utils import check_pair

#: Columns of the per-file CSV written by ``masksr-eval``.
CSV_COLUMNS = (
    "file",
    "lsd",
    "pesq",
    "estoi",
    "si_sdr",
    "dnsmos_sig",
    "dnsmos_bak",
    "dnsmos_ovrl",
    "spk_sim_resemblyzer",
)
#: Every metric column :func:`compute_metrics` can produce, in table order.
METRIC_COLUMNS = (
    "lsd",
    "pesq",
    "pesq_nb",
    "estoi",
    "si_sdr",
    "dnsmos_sig",
    "dnsmos_bak",
    "dnsmos_ovrl",
    "dnsmos_p808",
    "spk_sim_resemblyzer",
    "spk_sim_ecapa",
)
#: Metric names accepted by :func:`compute_metrics` (groups expand).
METRIC_GROUPS = {
    "lsd": ("lsd",),
    "pesq": ("pesq",),
    "pesq_wb": ("pesq",),
    "pesq_nb": ("pesq_nb",),
    "estoi": ("estoi",),
    "si_sdr": ("si_sdr",),
    "dnsmos": ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl"),
    "dnsmos_sig": ("dnsmos_sig",),
    "dnsmos_bak": ("dnsmos_bak",),
    "dnsmos_ovrl": ("dnsmos_ovrl",),
    "dnsmos_p808": ("dnsmos_p808",),
    "spk_sim": ("spk_sim_resemblyzer",),
    "spk_sim_resemblyzer": ("spk_sim_resemblyzer",),
    "spk_sim_ecapa": ("spk_sim_ecapa",),
}
#: The default selection: every CSV column (``spk_sim``: Resemblyzer).
DEFAULT_METRICS = ("lsd", "pesq", "estoi", "si_sdr", "dnsmos", "spk_sim")
#: Columns that need no reference signal (DNSMOS scores the estimate only).
NONINTRUSIVE_COLUMNS = (
    "dnsmos_sig",
    "dnsmos_bak",
    "dnsmos_ovrl",
    "dnsmos_p808",
)
#: Default selection of :func:`compute_nonintrusive_metrics`: all of them.
NONINTRUSIVE_METRICS = ("dnsmos", "dnsmos_p808")
#: Metrics where lower is better (all others: higher is better).
LOWER_IS_BETTER = ("lsd",)


def expand_metrics(metrics):
    """Turn metric names and groups into output columns (table order).

    Arguments
    ---------
    metrics : str or iterable of str
        Names from :data:`METRIC_GROUPS`; a string may be comma-separated.

    Returns
    -------
    tuple of str
        Output columns, in :data:`METRIC_COLUMNS` order, no duplicates.

    Example
    -------
    >>> expand_metrics("pesq,dnsmos")
    ('pesq', 'dnsmos_sig', 'dnsmos_bak', 'dnsmos_ovrl')
    >>> expand_metrics(["wer"])
    Traceback (most recent call last):
    ...
    ValueError: unknown metric 'wer'; choose from ...
    """
    if isinstance(metrics, str):
        metrics = [m for m in metrics.split(",")]
    wanted = set()
    for name in metrics:
        name = name.strip().lower()
        if not name:
            continue
        if name not in METRIC_GROUPS:
            raise ValueError(
                f"unknown metric {name!r}; choose from "
                f"{', '.join(METRIC_GROUPS)}"
            )
        wanted.update(METRIC_GROUPS[name])
    if not wanted:
        raise ValueError("no metric selected")
    return tuple(c for c in METRIC_COLUMNS if c in wanted)


def expand_nonintrusive_metrics(metrics):
    """Like :func:`expand_metrics`, but only reference-free metrics pass.

    Arguments
    ---------
    metrics : str or iterable of str
        Names from :data:`METRIC_GROUPS`; a string may be comma-separated.

    Returns
    -------
    tuple of str
        Output columns (a subset of :data:`NONINTRUSIVE_COLUMNS`).

    Raises
    ------
    ValueError
        For an unknown metric, or one that needs a reference (the message
        names them).

    Example
    -------
    >>> expand_nonintrusive_metrics("dnsmos,dnsmos_p808")
    ('dnsmos_sig', 'dnsmos_bak', 'dnsmos_ovrl', 'dnsmos_p808')
    >>> expand_nonintrusive_metrics("pesq,dnsmos_bak")
    Traceback (most recent call last):
    ...
    ValueError: pesq need(s) a reference signal; reference-free metrics: ...
    """
    columns = expand_metrics(metrics)
    if isinstance(metrics, str):
        metrics = metrics.split(",")
    names = [m.strip().lower() for m in metrics if m.strip()]
    intrusive = [
        name
        for name in dict.fromkeys(names)
        if any(c not in NONINTRUSIVE_COLUMNS for c in METRIC_GROUPS[name])
    ]
    if intrusive:
        free = [
            name
            for name, cols in METRIC_GROUPS.items()
            if all(c in NONINTRUSIVE_COLUMNS for c in cols)
        ]
        raise ValueError(
            f"{', '.join(intrusive)} need(s) a reference signal; "
            f"reference-free metrics: {', '.join(free)}"
        )
    return columns


def _guarded(name, fn, *args, **kwargs):
    """Run one metric; any failure gives NaN and a :class:`MetricWarning`.

    Missing packages or model files (``ImportError``,
    ``FileNotFoundError``) are set-up errors and are raised.
    """
    try:
        return fn(*args, **kwargs)
    except (ImportError, FileNotFoundError):
        raise
    except Exception as err:
        warnings.warn(
            f"{name}: failed ({type(err).__name__}: {err}); returning NaN",
            MetricWarning,
            stacklevel=3,
        )
        return math.nan


def compute_metrics(
    ref,
    est,
    sample_rate,
    metrics=DEFAULT_METRICS,
    spk_weights=None,
    dnsmos_personalized=False,
    spk_model=None,
):
    """Compute several metrics of one estimate against its reference.

    Lengths are matched first (truncation to the shorter signal); every
    metric then resamples internally to its own rate (PESQ, DNSMOS and
    speaker similarity at 16 kHz; LSD at 44.1 kHz; ESTOI and SI-SDR at
    ``sample_rate``). DNSMOS scores ``est`` only. A metric that fails on
    the pair gives NaN and a :class:`MetricWarning` (the other metrics are
    still computed); missing packages or model files raise.

    Arguments
    ---------
    ref : torch.Tensor or numpy.ndarray
        Reference audio ``[time]``.
    est : torch.Tensor or numpy.ndarray
        Estimated audio ``[time]`` at the same rate.
    sample_rate : int
        Rate of both signals.
    metrics : iterable of str
        Names or groups (see :func:`expand_metrics`).
    spk_weights : str, optional
        Another Resemblyzer checkpoint for ``spk_sim_resemblyzer``.
    dnsmos_personalized : bool
        Use the personalised DNSMOS P.835 model.
    spk_model : str, optional
        SpeechBrain ECAPA model folder or hub id, needed by
        ``spk_sim_ecapa`` (see
        :func:`~speechbrain_masksr.metrics.speaker.load_ecapa`).

    Returns
    -------
    dict
        ``{column: float}`` for the selected columns (NaN where a metric
        could not score the pair; a :class:`MetricWarning` says why).

    Raises
    ------
    ValueError
        ``spk_sim_ecapa`` asked for without ``spk_model``.
    FileNotFoundError
        A missing model folder or file (e.g. ``spk_model``).

    Example
    -------
    >>> import torch
    >>> x = torch.randn(16000)
    >>> scores = compute_metrics(x, x + 0.1 * torch.randn(16000), 16000,
    ...                          metrics=("lsd", "si_sdr"))
    >>> sorted(scores), 19 < scores["si_sdr"] < 21
    (['lsd', 'si_sdr'], True)
    """
    from speechbrain_masksr.metrics.intrusive import (
        estoi,
        pesq_nb,
        pesq_wb,
        si_sdr,
    )
    from speechbrain_masksr.metrics.lsd import lsd
    from speechbrain_masksr.metrics.speaker import (
        ecapa_similarity,
        get_ecapa,
        speaker_similarity,
    )

    columns = expand_metrics(metrics)
    if "spk_sim_ecapa" in columns:
        get_ecapa(None if spk_model is None else str(spk_model))
    ref, est = check_pair(ref, est)
    out = {}
    if "lsd" in columns:
        out["lsd"] = _guarded("lsd", lsd, ref, est, sample_rate)
    if "pesq" in columns:
        out["pesq"] = _guarded("pesq", pesq_wb, ref, est, sample_rate)
    if "estoi" in columns:
        out["estoi"] = _guarded("estoi", estoi, ref, est, sample_rate)
    if "pesq_nb" in columns:
        out["pesq_nb"] = _guarded("pesq_nb", pesq_nb, ref, est, sample_rate)
    if "si_sdr" in columns:
        out["si_sdr"] = _guarded("si_sdr", si_sdr, ref, est)
    out.update(_dnsmos_columns(est, sample_rate, columns, dnsmos_personalized))
    if "spk_sim_resemblyzer" in columns:
        out["spk_sim_resemblyzer"] = _guarded(
            "spk_sim_resemblyzer",
            speaker_similarity,
            ref,
            est,
            sample_rate,
            weights_fpath=spk_weights,
        )
    if "spk_sim_ecapa" in columns:
        out["spk_sim_ecapa"] = _guarded(
            "spk_sim_ecapa",
            ecapa_similarity,
            ref,
            est,
            sample_rate,
            source=spk_model,
        )
    return {c: out[c] for c in columns}


def _dnsmos_columns(est, sample_rate, columns, personalized):
    """The ``dnsmos_*`` entries of ``columns`` for ``est`` (NaN on failure)."""
    from speechbrain_masksr.metrics.dnsmos import dnsmos

    wanted = [c for c in NONINTRUSIVE_COLUMNS if c in columns]
    if not wanted:
        return {}
    scores = _guarded(
        "dnsmos", dnsmos, est, sample_rate, personalized=personalized
    )
    if isinstance(scores, float):  # failed: NaN (a MetricWarning says why)
        return {c: math.nan for c in wanted}
    return {c: scores[c.removeprefix("dnsmos_")] for c in wanted}


def compute_nonintrusive_metrics(
    est, sample_rate, metrics=NONINTRUSIVE_METRICS, dnsmos_personalized=False
):
    """Compute the reference-free metrics of one signal.

    DNSMOS P.835 (SIG/BAK/OVRL) and P.808 via
    :func:`speechbrain_masksr.metrics.dnsmos` (resampled to 16 kHz there).
    A failure gives NaN and a :class:`MetricWarning`; missing packages or
    model files raise.

    Arguments
    ---------
    est : torch.Tensor or numpy.ndarray
        Audio ``[time]``.
    sample_rate : int
        Its rate.
    metrics : iterable of str
        Reference-free names or groups (see
        :func:`expand_nonintrusive_metrics`); default: all four columns.
    dnsmos_personalized : bool
        Use the personalised DNSMOS P.835 model.

    Returns
    -------
    dict
        ``{column: float}`` for the selected columns of
        :data:`NONINTRUSIVE_COLUMNS`.

    Example
    -------
    >>> import torch
    >>> scores = compute_nonintrusive_metrics(0.05 * torch.randn(8000), 8000)
    >>> list(scores)
    ['dnsmos_sig', 'dnsmos_bak', 'dnsmos_ovrl', 'dnsmos_p808']
    >>> all(1 <= v <= 5 for v in scores.values())
    True
    """
    columns = expand_nonintrusive_metrics(metrics)
    return _dnsmos_columns(est, sample_rate, columns, dnsmos_personalized)


def mean_metrics(rows):
    """Mean of each metric over files, ignoring NaN (failed pairs).

    Arguments
    ---------
    rows : iterable of dict
        One ``{column: float}`` per file.

    Returns
    -------
    dict
        ``{column: mean}`` (NaN where no file has a value), in
        :data:`METRIC_COLUMNS` order.

    Example
    -------
    >>> mean_metrics([{"pesq": 2.0}, {"pesq": 4.0}, {"pesq": float("nan")}])
    {'pesq': 3.0}
    """
    rows = list(rows)
    keys = [c for c in METRIC_COLUMNS if any(c in r for r in rows)]
    means = {}
    for key in keys:
        vals = np.array(
            [float(r[key]) for r in rows if key in r and r[key] is not None],
            dtype=np.float64,
        )
        vals = vals[~np.isnan(vals)]
        means[key] = float(vals.mean()) if vals.size else math.nan
    return means


def _format_cell(value, precision):
    """Format one table cell."""
    if value is None:
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "nan"
        return f"{value:.{precision}f}"
    return str(value)


def metrics_table(rows, precision=3, columns=None, first_header="system"):
    """Format ``{row_name: {column: value}}`` as a Markdown table.

    Arguments
    ---------
    rows : dict
        Ordered ``{name: {column: value}}``, e.g. ``{"Unprocessed": {...},
        "Target": {...}, "Model": {...}}``.
    precision : int
        Decimals of float cells.
    columns : list of str, optional
        Columns to show; default: the metric columns present in any row
        (in :data:`METRIC_COLUMNS` order), then other keys in order of
        appearance. Missing cells show ``-``.
    first_header : str
        Header of the row-name column.

    Returns
    -------
    str
        The table, one line per row, no trailing newline. Metric headers
        carry an arrow: ``↓`` lower is better, ``↑`` higher is better.

    Example
    -------
    >>> print(metrics_table({"Noisy": {"pesq": 1.5, "lsd": 1.234},
    ...                      "Model": {"pesq": 3.0, "lsd": 0.9}}))
    | system | lsd ↓ | pesq ↑ |
    |---|---|---|
    | Noisy | 1.234 | 1.500 |
    | Model | 0.900 | 3.000 |
    """
    if columns is None:
        present = []
        for row in rows.values():
            for key in row:
                if key not in present:
                    present.append(key)
        columns = [c for c in METRIC_COLUMNS if c in present]
        columns += [c for c in present if c not in METRIC_COLUMNS]

    def header(col):
        if col in LOWER_IS_BETTER:
            return f"{col} ↓"
        if col in METRIC_COLUMNS:
            return f"{col} ↑"
        return col

    lines = [
        "| " + " | ".join([first_header] + [header(c) for c in columns]) + " |",
        "|" + "---|" * (len(columns) + 1),
    ]
    for name, row in rows.items():
        cells = [_format_cell(row.get(c), precision) for c in columns]
        lines.append("| " + " | ".join([str(name)] + cells) + " |")
    return "\n".join(lines)
