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
``MetricStats`` directly.

Authors
 * speechbrain-masksr contributors 2026
"""

import torch

from speechbrain_masksr.metrics.compute import METRIC_COLUMNS, compute_metrics
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
    from speechbrain.utils.metric_stats import MetricStats

    return MetricStats(
        metric=MetricFunction(metric, sample_rate, **kwargs),
        n_jobs=n_jobs,
        batch_eval=batch_eval,
    )
