"""Adapters that make every metric usable as a SpeechBrain ``MetricStats``.

``speechbrain.utils.metric_stats.MetricStats(metric=f)`` calls ``f`` in two
ways (SpeechBrain 1.1.2):

* ``batch_eval=True`` (default): ``stats.append(ids, predictions, targets,
  lengths)`` calls ``f(predictions, targets, lengths)`` on the batch
  (``[batch, time]`` tensors, relative ``lengths``) and expects one score per
  item;
* ``batch_eval=False``: ``stats.append(ids, predict=..., target=...,
  lengths=...)`` cuts each item to its length and calls ``f(p, t)`` on
  ``[time]`` tensors (``n_jobs > 1`` runs these in joblib workers).

:class:`MetricFunction` supports both; :func:`metric_stats` builds the
``MetricStats`` directly. :func:`multi_metric_stats` scores several columns
with one :func:`compute_metrics` call per item (a SpeechBrain
``MultiMetricStats`` over :class:`MultiMetricFunction`) and averages each
column without its NaN scores (:class:`ScoreStats`), like
:func:`~speechbrain_masksr.metrics.compute.mean_metrics`.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import torch
from speechbrain.utils.metric_stats import MetricStats, MultiMetricStats

from speechbrain_masksr.metrics.compute import (
    METRIC_COLUMNS,
    compute_metrics,
    expand_metrics,
)
from speechbrain_masksr.utils.lengths import relative_to_absolute


class MetricFunction:
    """A picklable per-item metric with SpeechBrain's ``metric`` signature.

    Arguments
    ---------
    metric : str
        One column of :data:`METRIC_COLUMNS` (``"pesq"``, ``"lsd"``,
        ``"dnsmos_ovrl"``, ...). DNSMOS columns ignore the targets.
    sample_rate : int
        Rate of the waveforms.
    **kwargs
        Passed to :func:`compute_metrics` (``spk_weights``,
        ``dnsmos_personalized``, ``spk_model``).

    Example
    -------
    >>> f = MetricFunction("si_sdr", 16000)
    >>> ref = torch.randn(2, 8000)
    >>> est = ref + 0.1 * torch.randn(2, 8000)
    >>> f(est, ref, torch.tensor([1.0, 0.5])).shape
    torch.Size([2])
    """

    def __init__(self, metric, sample_rate, **kwargs):
        if metric not in METRIC_COLUMNS:
            raise ValueError(
                f"unknown metric {metric!r}; choose one of "
                f"{', '.join(METRIC_COLUMNS)}"
            )
        self.metric = metric
        self.sample_rate = int(sample_rate)
        self.kwargs = kwargs

    def score(self, prediction, target):
        """Score one item.

        Arguments
        ---------
        prediction : torch.Tensor
            Estimate ``[time]``.
        target : torch.Tensor
            Reference ``[time]`` (ignored by DNSMOS columns).

        Returns
        -------
        float
            The metric (NaN where it cannot score the pair).
        """
        if target is None:
            if not self.metric.startswith("dnsmos_"):
                raise ValueError(f"{self.metric} needs targets")
            target = prediction
        scores = compute_metrics(
            target,
            prediction,
            self.sample_rate,
            metrics=(self.metric,),
            **self.kwargs,
        )
        return scores[self.metric]

    def __call__(self, predictions, targets=None, lengths=None):
        """Score a batch ``[batch, time]`` (or one item ``[time]``).

        Arguments
        ---------
        predictions : torch.Tensor
            Estimates ``[batch, time]`` or ``[time]``.
        targets : torch.Tensor, optional
            References, same shape.
        lengths : torch.Tensor, optional
            Relative lengths ``[batch]`` in (0, 1] (SpeechBrain's
            ``wav_lens``).

        Returns
        -------
        torch.Tensor or float
            Scores ``[batch]`` for batched input, a float for ``[time]``.
        """
        predictions = torch.as_tensor(predictions)
        if targets is not None:
            targets = torch.as_tensor(targets)
        if predictions.dim() == 1:
            return self.score(predictions, targets)
        batch, time = predictions.shape[0], predictions.shape[-1]
        abs_lens = relative_to_absolute(lengths, time, batch).tolist()
        scores = []
        for i, n in enumerate(abs_lens):
            target = None if targets is None else targets[i, :n]
            scores.append(self.score(predictions[i, :n], target))
        return torch.tensor(scores, dtype=torch.float64)


def metric_stats(metric, sample_rate, n_jobs=1, batch_eval=True, **kwargs):
    """A SpeechBrain ``MetricStats`` that accumulates one of our metrics.

    Arguments
    ---------
    metric : str
        One column of :data:`METRIC_COLUMNS`.
    sample_rate : int
        Rate of the waveforms passed to ``append``.
    n_jobs : int
        Worker processes (only with ``batch_eval=False``).
    batch_eval : bool
        See SpeechBrain's ``MetricStats``.
    **kwargs
        Passed to :class:`MetricFunction`.

    Returns
    -------
    speechbrain.utils.metric_stats.MetricStats
        Call ``append(ids, predictions, targets, lengths)`` then
        ``summarize("average")``.

    Example
    -------
    >>> stats = metric_stats("si_sdr", 16000)
    >>> ref = torch.randn(2, 8000)
    >>> stats.append(["a", "b"], ref + 0.1 * torch.randn(2, 8000), ref)
    >>> 19 < stats.summarize("average") < 21
    True
    """
    return MetricStats(
        metric=MetricFunction(metric, sample_rate, **kwargs),
        n_jobs=n_jobs,
        batch_eval=batch_eval,
    )


class MultiMetricFunction:
    """Several metric columns of one :func:`compute_metrics` call per item.

    The batch counterpart of :class:`MetricFunction` for SpeechBrain's
    ``MultiMetricStats(batch_eval=True)``: one call scores every selected
    column of each item (DNSMOS runs once for its three columns).

    Arguments
    ---------
    metrics : str or list of str
        Metric names or groups (see :func:`expand_metrics`).
    sample_rate : int
        Rate of the waveforms.
    **kwargs
        Passed to :func:`compute_metrics` (``spk_weights``,
        ``dnsmos_personalized``).

    Example
    -------
    >>> f = MultiMetricFunction(["lsd", "si_sdr"], 16000)
    >>> ref = torch.randn(2, 8000)
    >>> scores = f(ref + 0.1 * torch.randn(2, 8000), ref)
    >>> f.columns, scores["si_sdr"].shape
    (('lsd', 'si_sdr'), torch.Size([2]))
    """

    def __init__(self, metrics, sample_rate, **kwargs):
        self.columns = expand_metrics(metrics)
        self.sample_rate = int(sample_rate)
        self.kwargs = kwargs

    def __call__(self, predictions, targets, lengths=None):
        """Score a batch ``[batch, time]``.

        Arguments
        ---------
        predictions : torch.Tensor
            Estimates ``[batch, time]``.
        targets : torch.Tensor
            References, same shape.
        lengths : torch.Tensor, optional
            Relative lengths ``[batch]`` in (0, 1].

        Returns
        -------
        dict
            ``{column: scores}``, float64 tensors ``[batch]`` (NaN where a
            metric could not score an item).
        """
        predictions = torch.as_tensor(predictions)
        targets = torch.as_tensor(targets)
        batch, time = predictions.shape[0], predictions.shape[-1]
        abs_lens = relative_to_absolute(lengths, time, batch).tolist()
        rows = [
            compute_metrics(
                targets[i, :n],
                predictions[i, :n],
                self.sample_rate,
                metrics=self.columns,
                **self.kwargs,
            )
            for i, n in enumerate(abs_lens)
        ]
        return {
            c: torch.tensor([row[c] for row in rows], dtype=torch.float64)
            for c in self.columns
        }


def _identity(scores):
    """The ``metric`` of a :class:`ScoreStats`: scores are appended as is."""
    return scores


class ScoreStats(MetricStats):
    """A SpeechBrain ``MetricStats`` of given scores that leaves NaN out.

    ``append(ids, scores)`` stores one score per id; :meth:`summarize`
    averages the scores that are not NaN (a metric that could not score an
    item) and is NaN (ids ``None``) when none is left.

    Example
    -------
    >>> stats = ScoreStats()
    >>> stats.append(["a", "b", "c"], torch.tensor([1.0, float("nan"), 3.0]))
    >>> stats.summarize()
    {'average': 2.0, 'min_score': 1.0, 'min_id': 'a', 'max_score': 3.0, 'max_id': 'c'}
    """

    def __init__(self):
        super().__init__(metric=_identity, batch_eval=True)

    def summarize(self, field=None):
        """Average, minimum and maximum of the scores that are not NaN.

        Arguments
        ---------
        field : str, optional
            One statistic (``"average"``, ``"min_score"``, ``"min_id"``,
            ``"max_score"``, ``"max_id"``); default: all of them.

        Returns
        -------
        float or dict
            The statistic, or all of them.
        """
        kept = [
            (uid, float(score))
            for uid, score in zip(self.ids, self.scores)
            if not math.isnan(float(score))
        ]
        if kept:
            ids, vals = zip(*kept)
            low = min(range(len(vals)), key=vals.__getitem__)
            high = max(range(len(vals)), key=vals.__getitem__)
            self.summary = {
                "average": sum(vals) / len(vals),
                "min_score": vals[low],
                "min_id": ids[low],
                "max_score": vals[high],
                "max_id": ids[high],
            }
        else:
            self.summary = {
                "average": math.nan,
                "min_score": math.nan,
                "min_id": None,
                "max_score": math.nan,
                "max_id": None,
            }
        return self.summary if field is None else self.summary[field]


class _ColumnStats(MultiMetricStats):
    """``MultiMetricStats`` with one :class:`ScoreStats` per column."""

    def __init__(self, function):
        super().__init__(function, batch_eval=True)
        self.metrics = {column: ScoreStats() for column in function.columns}


def multi_metric_stats(metrics, sample_rate, **kwargs):
    """A SpeechBrain ``MultiMetricStats`` over several of our metrics.

    One :func:`compute_metrics` call per item scores every column; each
    column is averaged without its NaN scores (:class:`ScoreStats`).

    Arguments
    ---------
    metrics : str or list of str
        Metric names or groups (see :func:`expand_metrics`).
    sample_rate : int
        Rate of the waveforms passed to ``append``.
    **kwargs
        Passed to :class:`MultiMetricFunction`.

    Returns
    -------
    speechbrain.utils.metric_stats.MultiMetricStats
        Call ``append(ids, predictions, targets, lengths)`` then
        ``summarize("average")`` (``{column: mean}``, NaN for a column
        without any score).

    Example
    -------
    >>> stats = multi_metric_stats("lsd,si_sdr", 16000)
    >>> ref = torch.randn(2, 8000)
    >>> stats.append(["a", "b"], ref + 0.1 * torch.randn(2, 8000), ref)
    >>> means = stats.summarize("average")
    >>> list(means), 19 < means["si_sdr"] < 21
    (['lsd', 'si_sdr'], True)
    """
    return _ColumnStats(MultiMetricFunction(metrics, sample_rate, **kwargs))
