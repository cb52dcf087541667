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
* :func:`metric_stats` / :class:`MetricFunction` - SpeechBrain ``MetricStats``.

Heavy dependencies (librosa, pesq, pystoi, onnxruntime, resemblyzer) are
imported on first use; the DNSMOS sessions and the speaker encoder are
loaded once per process. Every metric resamples to its own rate internally
and truncates mismatched lengths to the shorter signal.

Authors
 * speechbrain-masksr contributors 2026
"""

from speechbrain_masksr.metrics._utils import MetricWarning
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
from speechbrain_masksr.metrics.stats import MetricFunction, metric_stats

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_METRICS",
    "DNSMOS",
    "METRIC_COLUMNS",
    "MetricFunction",
    "MetricWarning",
    "NONINTRUSIVE_COLUMNS",
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
    "pesq_nb",
    "pesq_score",
    "pesq_wb",
    "si_sdr",
    "speaker_similarity",
]
