"""Speech restoration metrics: LSD, PESQ, ESTOI, SI-SDR, DNSMOS, speaker sim.

* :func:`lsd` - VoiceFixer's log-spectral distance, in Bels (lower better);
* :func:`pesq_wb` / :func:`pesq_nb` - PESQ at 16 kHz;
* :func:`estoi` - extended STOI (pystoi);
* :func:`si_sdr` - scale-invariant SDR in dB;
* :func:`dnsmos` - DNSMOS P.835 SIG/BAK/OVRL and P.808 (non-intrusive);
* :func:`speaker_similarity` - cosine of Resemblyzer embeddings
  (``spk_sim_resemblyzer``, the default ``spk_sim``);
* :func:`ecapa_similarity` - cosine of SpeechBrain ECAPA embeddings
  (``spk_sim_ecapa``; weights given by folder or hub id, :func:`load_ecapa`);
* :func:`compute_metrics` / :func:`metrics_table` - all at once, as a table;
* :func:`compute_nonintrusive_metrics` - the reference-free ones (DNSMOS);
* :func:`metric_stats` / :class:`MetricFunction` - SpeechBrain ``MetricStats``;
  :func:`multi_metric_stats` - several columns as ``MultiMetricStats``
  (these load ``speechbrain.utils.metric_stats`` on first use).

Heavy dependencies (librosa, pesq, pystoi, onnxruntime, resemblyzer) are
imported on first use; the DNSMOS sessions and the speaker encoder are
loaded once per process. Every metric resamples to its own rate internally
and truncates mismatched lengths to the shorter signal.

Authors
 * speechbrain-masksr contributors 2026
"""

import importlib

from speechbrain_masksr.errors import MetricWarning
from speechbrain_masksr.metrics.compute import (
    CSV_COLUMNS,
    DEFAULT_METRICS,
    METRIC_COLUMNS,
    NONINTRUSIVE_COLUMNS,
    compute_metrics,
    compute_nonintrusive_metrics,
    expand_metrics,
    expand_nonintrusive_metrics,
    mean_metrics,
    metrics_table,
)
from speechbrain_masksr.metrics.dnsmos import DNSMOS, dnsmos, get_dnsmos
from speechbrain_masksr.metrics.intrusive import (
    estoi,
    pesq_nb,
    pesq_score,
    pesq_wb,
    si_sdr,
)
from speechbrain_masksr.metrics.lsd import lsd, lsd_stft_params
from speechbrain_masksr.metrics.speaker import (
    SpeakerEncoder,
    ecapa_similarity,
    get_speaker_encoder,
    load_ecapa,
    speaker_similarity,
)

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_METRICS",
    "DNSMOS",
    "METRIC_COLUMNS",
    "MetricFunction",
    "MetricWarning",
    "MultiMetricFunction",
    "NONINTRUSIVE_COLUMNS",
    "ScoreStats",
    "SpeakerEncoder",
    "compute_metrics",
    "compute_nonintrusive_metrics",
    "dnsmos",
    "ecapa_similarity",
    "estoi",
    "expand_metrics",
    "expand_nonintrusive_metrics",
    "get_dnsmos",
    "get_speaker_encoder",
    "load_ecapa",
    "lsd",
    "lsd_stft_params",
    "mean_metrics",
    "metric_stats",
    "metrics_table",
    "multi_metric_stats",
    "pesq_nb",
    "pesq_score",
    "pesq_wb",
    "si_sdr",
    "speaker_similarity",
]

#: SpeechBrain ``MetricStats`` adapters, imported on first use.
_LAZY = (
    "MetricFunction",
    "MultiMetricFunction",
    "ScoreStats",
    "metric_stats",
    "multi_metric_stats",
)


def __getattr__(name):
    """Load the ``MetricStats`` adapters of :mod:`.stats` on first use.

    Arguments
    ---------
    name : str
        Attribute asked for.

    Returns
    -------
    object
        The adapter.

    Example
    -------
    >>> import speechbrain_masksr.metrics as metrics
    >>> metrics.metric_stats.__name__
    'metric_stats'
    """
    if name in _LAZY:
        module = importlib.import_module("speechbrain_masksr.metrics.stats")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
