"""SpeechBrain ``Brain`` for MaskSR training, validation and testing.

:class:`MaskSRBrain` wires a :class:`~speechbrain_masksr.lobes.masksr.MaskSR`
model (``modules.model``) to batches made by the DNS recipe:

* ``batch.degraded_sig``: the degraded waveform ``[batch, time]`` (the codec's rate);
* ``batch.clean_sig``: the clean waveform, same length (for metrics);
* ``batch.tokens``: the clean codec tokens, stored **frame-major**
  ``[batch, frames, n_codebooks]`` so that SpeechBrain's ``PaddedBatch``
  pads frames (they are turned back into ``[batch, Q, frames]`` here).

Stages:

* TRAIN: masked-token cross-entropy (``model.loss``); the warmup learning
  rate schedule is stepped after every optimizer step.
* VALID: loss and per-codebook token accuracy on deterministic masks; on
  the main process, ``valid_restore_clips`` clips are restored (iterative
  decoding + codec decoding) and scored against the clean crop, next to the
  unprocessed input.
* TEST: same loss/accuracy, and every clip is restored, written to
  ``<restore_folder>/<set>/<id>.wav`` (the input to ``unprocessed/``), and
  scored; :meth:`MaskSRBrain.write_metrics_table` writes the Markdown table
  (Unprocessed / MaskSR / codec resynthesis of the clean tokens / Target).
  Sets without references (``evaluate_set(..., reference_free=True)``, e.g.
  DNS ``real_recordings``) have no loss: their files are restored, written
  and scored by ``masksr-eval --est``'s function (DNSMOS).

Restoration (:meth:`MaskSRBrain.restore`) cuts the audio into windows with
:func:`~speechbrain_masksr.utils.windowing.restore_windowed`, the
function of the ``SpeechRestoration`` interface, so test numbers match what
the exported model gives.

Evaluation metrics go through SpeechBrain ``MetricStats`` objects made in
``on_stage_start`` and summarised in ``on_stage_end``: the token accuracy
(:class:`TokenAccuracy`) and, per system, the ``valid_metrics`` /
``test_metrics`` columns of the restored clips
(:func:`speechbrain_masksr.metrics.stats.multi_metric_stats`; means
without NaN scores, rounded to 6 decimals).

Training length and interruptions: MaskSR trains for a number of optimizer
steps. The SpeechBrain run options ``optimizer_step_limit`` (stop at that
step, mid-epoch if need be), ``grad_accumulation_factor`` and
``ckpt_interval_minutes`` / ``ckpt_interval_steps`` (intra-epoch
checkpoints, which store the optimizer step and the position in the epoch's
data order) do the work; :class:`MaskSRBrain` adds four things:

* intra-epoch checkpoints are only written between optimizer steps (never
  in the middle of a gradient accumulation, whose partial gradients a
  checkpoint would not hold), so a resumed run makes the same optimizer
  steps with the same number of batches;
* a run that is relaunched after reaching its step limit trains no more
  and does not validate again (the epoch counter is exhausted);
* the optimizer step is logged with every epoch (``steps``) and on resume;
* ``--ckpt_interval_steps=N`` alone on the command line replaces the
  YAML's ``ckpt_interval_minutes`` (SpeechBrain would stop, as both would
  be set; see :func:`speechbrain_masksr.utils.training.ckpt_interval_options`).

Randomness: SpeechBrain seeds every DDP rank identically, which would give
every rank the same masks and degradations. :meth:`MaskSRBrain.on_fit_start`
re-seeds the global RNGs with a per-rank offset (the DDP wrapper has
already broadcast rank 0's weights by then); a resumed run then restores
each rank's generators from the checkpoint (the YAML's ``rng_state``, an
:class:`~speechbrain_masksr.utils.checkpoints.RNGState`, is recovered by
SpeechBrain's ``on_fit_start`` after the re-seeding). Validation and test
masks come from a private generator re-seeded for each batch from its ids
(:func:`batch_seed`), so their numbers are comparable across epochs and do
not depend on the order of the batches.

DDP evaluation: validation and test sets are split between the ranks
(each takes every ``world_size``-th item, :class:`RankSplitSampler`, no
padding). Every rank computes the loss and accuracy of its batches and
restores, writes and scores its own test clips; at the end of the stage the
per-batch losses, accuracies and per-clip scores are gathered and merged in
the dataset's order, so the logs and the metrics table equal a
single-process run's (exactly for batches of one item, the test sets). The
validation clips restored for audio metrics (``valid_restore_clips``) are
the main process's first ones.

Authors
 * speechbrain-masksr contributors 2026
"""

import hashlib
import json
import math
import os
import random
from pathlib import Path

import numpy as np
import speechbrain as sb
import torch
from speechbrain.utils.distributed import ddp_broadcast, if_main_process
from speechbrain.utils.logger import get_logger
from speechbrain.utils.metric_stats import MetricStats

from speechbrain_masksr.dataio import save_audio
from speechbrain_masksr.distributed import (
    RankSplitSampler,
    gather_objects,
    rank_and_world,
)
from speechbrain_masksr.errors import ConfigError
from speechbrain_masksr.metrics.stats import multi_metric_stats
from speechbrain_masksr.utils.files import atomic_open
from speechbrain_masksr.utils.lengths import relative_to_absolute
from speechbrain_masksr.utils.training import ckpt_interval_options
from speechbrain_masksr.utils.windowing import restore_windowed, window_samples

logger = get_logger(__name__)

#: Offset between the seeds of two DDP ranks (a prime).
RANK_SEED_STRIDE = 7919
#: Systems scored on restored validation clips (rows, in order).
VALID_SYSTEMS = ("Unprocessed", "MaskSR")
#: Systems scored on test clips (rows of the metrics table, in order).
TEST_SYSTEMS = ("Unprocessed", "MaskSR", "Codec resynthesis", "Target")


def batch_seed(base, ids):
    """Seed of the evaluation masks of one batch, from its ids.

    Arguments
    ---------
    base : int
        The evaluation seed (``eval_seed``).
    ids : list of str
        Ids of the batch's items.

    Returns
    -------
    int
        A 62-bit seed: the same batch gets the same masks whatever the
        epoch, the rank or the batches before it.

    Example
    -------
    >>> batch_seed(1, ["a", "b"]) == batch_seed(1, ["a", "b"])
    True
    >>> batch_seed(1, ["a"]) == batch_seed(1, ["b"])
    False
    """
    key = "\x1f".join(str(i) for i in ids)
    digest = hashlib.sha1(f"{base}:{key}".encode()).hexdigest()
    return int(digest[:15], 16)


def _tracker_state(tracker):
    """Picklable ``{column: [(id, score), ...]}`` of a ``_ColumnStats``."""
    return {
        column: [(u, float(v)) for u, v in zip(stats.ids, stats.scores)]
        for column, stats in tracker.metrics.items()
    }


def _merge_tracker(tracker, states, position):
    """Refill ``tracker`` with the clips of every rank, in dataset order."""
    ids = set()
    for column, stats in tracker.metrics.items():
        pairs = sorted(
            (pair for state in states for pair in state.get(column, ())),
            key=lambda pair: position(pair[0]),
        )
        stats.ids = [u for u, _ in pairs]
        stats.scores = [v for _, v in pairs]
        ids.update(stats.ids)
    tracker.ids = sorted(ids, key=position)


def rank_seed(seed, rank):
    """Seed used by DDP rank ``rank`` for masks, dropout and degradations.

    Arguments
    ---------
    seed : int
        The experiment seed.
    rank : int
        The process rank (0 without DDP).

    Returns
    -------
    int
        ``seed + 7919 * (rank + 1)``: distinct per rank, and never the
        experiment seed itself (which already drew the initial weights).

    Example
    -------
    >>> rank_seed(1234, 0), rank_seed(1234, 1)
    (9153, 17072)
    """
    return int(seed) + RANK_SEED_STRIDE * (int(rank) + 1)


class TokenAccuracy(MetricStats):
    """SpeechBrain ``MetricStats`` of the per-codebook token accuracy.

    ``model.loss`` returns the accuracy of each codebook on the masked
    positions of one batch; weighting it by the number of masked positions
    gives the exact accuracy over the whole stage.

    Arguments
    ---------
    n_codebooks : int
        Number of codebooks ``Q``.

    Example
    -------
    >>> acc = TokenAccuracy(2)
    >>> acc.append(["a"], torch.tensor([1.0, 0.5]), torch.tensor([2, 4]))
    >>> acc.append(["b"], torch.tensor([0.0, float("nan")]),
    ...            torch.tensor([2, 0]))
    >>> acc.per_codebook()
    [0.5, 0.5]
    >>> acc.summarize()
    {'acc': 0.5, 'acc_q1': 0.5, 'acc_q2': 0.5}
    >>> acc.summarize("acc")
    0.5
    """

    def __init__(self, n_codebooks):
        self.n_codebooks = int(n_codebooks)
        super().__init__(metric=None)

    def clear(self):
        """Forget every batch."""
        super().clear()
        self.correct = torch.zeros(self.n_codebooks, dtype=torch.float64)
        self.counts = torch.zeros(self.n_codebooks, dtype=torch.float64)
        self.batches = []

    def append(self, ids, accuracy, counts):
        """Add one batch.

        Arguments
        ---------
        ids : list
            Ids of the batch's items.
        accuracy : torch.Tensor
            ``[Q]`` accuracy per codebook (NaN where nothing was masked).
        counts : torch.Tensor
            ``[Q]`` number of masked positions per codebook.
        """
        self.ids.extend(ids)
        accuracy = accuracy.detach().double().cpu()
        counts = counts.detach().double().cpu()
        self.batches.append((list(ids), accuracy, counts))
        self.correct += torch.nan_to_num(accuracy, nan=0.0) * counts
        self.counts += counts

    def merge(self, batches, position):
        """Replace the batches by ``batches`` (of every rank), re-added in
        dataset order (the sums of a single-process run).

        Arguments
        ---------
        batches : list
            ``(ids, accuracy, counts)`` of every batch (``self.batches`` of
            each rank).
        position : callable
            Id -> sort key.

        Example
        -------
        >>> a, b = TokenAccuracy(1), TokenAccuracy(1)
        >>> a.append(["x"], torch.tensor([1.0]), torch.tensor([2]))
        >>> b.append(["y"], torch.tensor([0.0]), torch.tensor([2]))
        >>> a.merge(a.batches + b.batches, {"y": 0, "x": 1}.get)
        >>> a.ids, a.per_codebook()
        (['y', 'x'], [0.5])
        """
        ordered = sorted(batches, key=lambda b: position(b[0][0]))
        self.clear()
        for ids, accuracy, counts in ordered:
            self.append(ids, accuracy, counts)

    def per_codebook(self):
        """Accuracy of each codebook (NaN if never masked).

        Returns
        -------
        list of float
            ``Q`` accuracies.
        """
        acc = self.correct / self.counts.clamp(min=1)
        acc[self.counts == 0] = float("nan")
        return [round(float(a), 6) for a in acc]

    def summarize(self, field=None):
        """Mean accuracy over codebooks and one entry per codebook.

        Arguments
        ---------
        field : str, optional
            One entry (``"acc"``, ``"acc_q1"``, ...); default: all.

        Returns
        -------
        float or dict
            The entry, or ``{"acc": mean, "acc_q1": ..., "acc_qQ": ...}``.
        """
        per_q = self.per_codebook()
        valid = [a for a in per_q if not math.isnan(a)]
        summary = {"acc": round(sum(valid) / len(valid), 6) if valid else 0.0}
        for q, a in enumerate(per_q):
            summary[f"acc_q{q + 1}"] = a
        self.summary = summary
        return summary if field is None else summary[field]


def system_means(stats):
    """Mean scores per system of ``multi_metric_stats`` trackers.

    Arguments
    ---------
    stats : dict
        ``{system: MultiMetricStats}`` (see
        :func:`speechbrain_masksr.metrics.stats.multi_metric_stats`).

    Returns
    -------
    dict
        ``{system: {column: mean}}``, means rounded to 6 decimals, ``None``
        for a column without any score; systems without clips are left out.

    Example
    -------
    >>> stats = {"Unprocessed": multi_metric_stats("si_sdr", 16000),
    ...          "MaskSR": multi_metric_stats("si_sdr", 16000)}
    >>> ref = torch.randn(1, 8000)
    >>> stats["MaskSR"].append(["a"], ref + 0.1 * torch.randn(1, 8000), ref)
    >>> means = system_means(stats)  # "Unprocessed" got no clip
    >>> list(means), 19 < means["MaskSR"]["si_sdr"] < 21
    (['MaskSR'], True)
    """
    out = {}
    for system, tracker in stats.items():
        if not tracker.ids:
            continue
        out[system] = {
            column: None if math.isnan(mean) else round(mean, 6)
            for column, mean in tracker.summarize("average").items()
        }
    return out


def reference_free_metrics(metrics):
    """The reference-free metrics of a selection (DNSMOS if it has none).

    Sets without clean references (DNS ``real_recordings``) are scored
    with these only.

    Arguments
    ---------
    metrics : iterable of str
        Metric names or groups (see
        :func:`speechbrain_masksr.metrics.expand_metrics`).

    Returns
    -------
    tuple of str
        The names that need no reference, or ``("dnsmos",)`` (DNSMOS
        P.835 SIG/BAK/OVRL) when there is none.

    Example
    -------
    >>> reference_free_metrics(["dnsmos", "lsd", "pesq", "spk_sim"])
    ('dnsmos',)
    >>> reference_free_metrics(["lsd", "estoi"])
    ('dnsmos',)
    >>> reference_free_metrics(["lsd", "dnsmos_ovrl", "dnsmos_p808"])
    ('dnsmos_ovrl', 'dnsmos_p808')
    """
    from speechbrain_masksr.metrics.compute import (
        METRIC_GROUPS,
        NONINTRUSIVE_COLUMNS,
    )

    free = []
    for name in metrics:
        name = str(name).strip().lower()
        cols = METRIC_GROUPS.get(name, ())
        if cols and all(c in NONINTRUSIVE_COLUMNS for c in cols):
            free.append(name)
    return tuple(dict.fromkeys(free)) or ("dnsmos",)


def _reference_free_section(name, result):
    """Markdown lines of a reference-free set in the metrics table."""
    from speechbrain_masksr.metrics import metrics_table

    lines = [f"## {name} ({result['clips']} clips, no reference)", ""]
    lines.append(
        "Reference-free scores of the written files (as `masksr-eval "
        f"--est`; per file in `{name}/scores.csv` and "
        f"`{name}/unprocessed/scores.csv` of the restore folder)."
    )
    for system, keys in result.get("failed", {}).items():
        if keys:
            lines.append(f"{system}: {len(keys)} file(s) not scored.")
    lines.append("")
    columns = ["files"] + list(result["metrics"])
    lines.append(metrics_table(result["systems"], columns=columns).rstrip())
    lines.append("")
    return lines


class MaskSRBrain(sb.Brain):
    """Brain for MaskSR (see the module docstring for batches and stages).

    Hyperparameters read (``self.hparams``): ``codec`` (the frozen
    :class:`~speechbrain_masksr.codecs.base.Codec`), ``sample_rate``,
    ``seed``, ``eval_seed``, ``lr_scheduler``, ``sampling_steps``,
    ``guidance``, ``sampling_noise``, ``upper_levels``, ``segment_seconds``,
    ``window_seconds``, ``overlap_seconds``, ``crossfade``,
    ``valid_restore_clips``, ``valid_restore_every``, ``valid_metrics``,
    ``test_metrics``, ``spk_model``, ``restore_folder``, ``train_logger``
    and ``epoch_counter``; the run options ``optimizer_step_limit``,
    ``grad_accumulation_factor`` and ``ckpt_interval_*`` as SpeechBrain
    reads them (YAML keys or command line; an interval given alone on the
    command line replaces the other one of the YAML).

    Example
    -------
    >>> from types import SimpleNamespace
    >>> from speechbrain.dataio.batch import PaddedBatch
    >>> from speechbrain_masksr.lobes.masksr import build_masksr
    >>> model = build_masksr(d_model=16, encoder_layers=1, lm_layers=1,
    ...                      nhead=2, n_codebooks=2, codebook_size=8,
    ...                      hop_length=512)
    >>> hparams = dict(seed=1, eval_seed=2, sample_rate=44100)
    >>> brain = MaskSRBrain({"model": model}, hparams=hparams,
    ...                     run_opts={"device": "cpu"})
    >>> batch = PaddedBatch([
    ...     {"id": "a", "degraded_sig": torch.randn(1024),
    ...      "clean_sig": torch.randn(1024),
    ...      "tokens": torch.randint(0, 8, (2, 2))},
    ... ])
    >>> out = brain.compute_forward(batch, sb.Stage.TRAIN)
    >>> loss = brain.compute_objectives(out, batch, sb.Stage.TRAIN)
    >>> bool(loss > 0)
    True
    """

    # ------------------------------------------------------------------ setup
    def __init__(
        self,
        modules=None,
        opt_class=None,
        hparams=None,
        run_opts=None,
        checkpointer=None,
    ):
        super().__init__(
            modules=modules,
            opt_class=opt_class,
            hparams=hparams,
            run_opts=ckpt_interval_options(hparams, run_opts),
            checkpointer=checkpointer,
        )

    @property
    def raw_model(self):
        """The MaskSR module itself (unwrapped from DDP/DP)."""
        model = self.modules.model
        return model.module if hasattr(model, "module") else model

    def make_dataloader(
        self, dataset, stage, ckpt_prefix="dataloader-", **loader_kwargs
    ):
        """SpeechBrain's loaders; validation and test split between ranks.

        Under DDP, a validation or test set (not an ``IterableDataset``,
        without a sampler of its own) gets a :class:`RankSplitSampler`: each
        rank reads every ``world_size``-th item. The dataset's id order is
        kept to merge the ranks' results in that order.

        Arguments
        ---------
        dataset : Dataset
            The data.
        stage : sb.Stage
            The stage.
        ckpt_prefix : str or None
            Checkpoint name prefix of the loader.
        **loader_kwargs : dict
            DataLoader options.

        Returns
        -------
        DataLoader
            The loader.
        """
        if stage != sb.Stage.TRAIN:
            if not hasattr(self, "_eval_orders"):
                self._eval_orders = {}
            ids = getattr(dataset, "data_ids", None) or []
            self._eval_orders[stage] = {u: i for i, u in enumerate(ids)}
            rank, world = rank_and_world()
            own = ("sampler", "batch_sampler")
            if (
                world > 1
                and not isinstance(dataset, torch.utils.data.IterableDataset)
                and not any(loader_kwargs.get(k) is not None for k in own)
            ):
                loader_kwargs = dict(loader_kwargs)
                loader_kwargs.pop("shuffle", None)
                loader_kwargs["sampler"] = RankSplitSampler(
                    len(dataset), rank, world
                )
        return super().make_dataloader(
            dataset, stage, ckpt_prefix=ckpt_prefix, **loader_kwargs
        )

    def _position(self, stage):
        """Sort key of an id: its place in the evaluated dataset."""
        order = getattr(self, "_eval_orders", {}).get(stage, {})
        return lambda uid: (order.get(uid, len(order)), str(uid))

    def on_fit_start(self):
        """Per-rank seeds, DDP wrapping, optimizer, recovery, codec device."""
        seed = getattr(self.hparams, "seed", 0)
        rank = int(os.environ.get("RANK", 0))
        offset_seed = rank_seed(seed, rank)
        torch.manual_seed(offset_seed)
        np.random.seed(offset_seed % 2**32)
        random.seed(offset_seed)
        super().on_fit_start()  # recovers the RNG state after the seeding
        self._codec_to_device()
        scheduler = getattr(self.hparams, "lr_scheduler", None)
        if scheduler is not None and getattr(scheduler, "current_step", 1) == 0:
            # First step of a fresh run: apply the warmup value before the
            # first update (SpeechBrain steps schedules after each update).
            scheduler(self.optimizer)
        counter = getattr(self.hparams, "epoch_counter", None)
        if self.optimizer_step > 0:
            logger.info(
                "Resumed at optimizer step %d (after epoch %s + %d batches)",
                self.optimizer_step,
                getattr(counter, "current", "?"),
                self.step,
            )
        limit = self.optimizer_step_limit
        if limit is not None and self.optimizer_step >= int(limit):
            logger.info(
                "The step limit (%d) is reached: no more training", int(limit)
            )
            if counter is not None:  # fit() then runs no epoch at all
                counter.current = counter.limit

    def _should_save_intra_epoch_ckpt(self, last_ckpt_time, steps_since_ckpt):
        """Intra-epoch checkpoints only between optimizer steps.

        SpeechBrain counts batches, so a checkpoint could fall inside a
        gradient accumulation; its partial gradients would be lost on
        resume. The decision is deferred to the next batch that ends an
        accumulation (``self.step`` is the same on every DDP rank, so all
        ranks defer together).

        Arguments
        ---------
        last_ckpt_time : float
            Time of the last intra-epoch checkpoint.
        steps_since_ckpt : int
            Batches since then.

        Returns
        -------
        bool
            Whether to save a checkpoint now.
        """
        if self.step % self.grad_accumulation_factor != 0:
            return False
        return super()._should_save_intra_epoch_ckpt(
            last_ckpt_time, steps_since_ckpt
        )

    def on_evaluate_start(self, max_key=None, min_key=None):
        """Load the best checkpoint and move the codec to the device.

        Arguments
        ---------
        max_key : str, optional
            Checkpoint metric to maximise.
        min_key : str, optional
            Checkpoint metric to minimise.
        """
        super().on_evaluate_start(max_key=max_key, min_key=min_key)
        self._codec_to_device()

    def _codec_to_device(self):
        codec = getattr(self.hparams, "codec", None)
        if codec is not None and hasattr(codec, "to"):
            codec.to(self.device)

    # --------------------------------------------------------------- forward
    def compute_forward(self, batch, stage):
        """Mask the clean tokens and predict them from the degraded input.

        Arguments
        ---------
        batch : PaddedBatch
            Has ``degraded_sig`` and ``tokens`` (see the module docstring).
        stage : sb.Stage
            TRAIN uses the global (per-rank) RNG and the DDP-wrapped
            model; VALID/TEST the model itself (ranks evaluate different
            numbers of batches) and a private generator seeded from the
            batch's ids (:func:`batch_seed`), for deterministic masks.

        Returns
        -------
        dict
            The model output (``logits``, ``mask``, ...).
        """
        batch = batch.to(self.device)
        degraded, wav_lens = batch.degraded_sig
        tokens = self._tokens(batch)
        if stage == sb.Stage.TRAIN:
            return self.modules.model(degraded, tokens, wav_lens=wav_lens)
        generator = self._eval_generator
        generator.manual_seed(batch_seed(self.hparams.eval_seed, batch.id))
        return self.raw_model(
            degraded, tokens, wav_lens=wav_lens, generator=generator
        )

    @staticmethod
    def _tokens(batch):
        tokens, _ = batch.tokens  # [batch, frames, Q] (frame-major)
        return tokens.transpose(1, 2).long()

    def compute_objectives(self, predictions, batch, stage):
        """Masked-token cross-entropy; accuracy and restoration in eval.

        Arguments
        ---------
        predictions : dict
            Output of :meth:`compute_forward`.
        batch : PaddedBatch
            The batch.
        stage : sb.Stage
            The stage.

        Returns
        -------
        torch.Tensor
            The scalar loss.
        """
        tokens = self._tokens(batch)
        mask = predictions["mask"]
        loss, accuracy = self.raw_model.loss(
            predictions["logits"], tokens, mask
        )
        if stage != sb.Stage.TRAIN:
            self.accuracy.append(batch.id, accuracy, mask.sum(dim=(0, 2)))
            if stage == sb.Stage.VALID:
                self._valid_restore(batch)
            else:
                self._test_restore(batch)
        return loss

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        """Step the learning-rate schedule after each optimizer step.

        Arguments
        ---------
        batch : PaddedBatch
            The batch.
        outputs : dict
            Output of :meth:`compute_forward`.
        loss : torch.Tensor
            The loss.
        should_step : bool
            Whether the optimizer stepped.
        """
        scheduler = getattr(self.hparams, "lr_scheduler", None)
        if should_step and scheduler is not None:
            scheduler(self.optimizer)

    # ------------------------------------------------------------ restoring
    def restore(self, degraded, wav_lens=None, seed=None):
        """Restore waveforms window by window, as the interface does.

        The audio is cut into windows (``window_seconds``,
        ``overlap_seconds``, ``crossfade``) by
        :func:`~speechbrain_masksr.utils.windowing.restore_windowed`,
        the function :class:`~speechbrain_masksr.inference.SpeechRestoration`
        uses too; each window is decoded iteratively
        (``sampling_steps``, ``guidance``, ``sampling_noise``,
        ``upper_levels``) and turned back into audio by the codec's decoder.

        Arguments
        ---------
        degraded : torch.Tensor
            ``[batch, time]`` degraded audio (the codec's rate).
        wav_lens : torch.Tensor, optional
            Relative lengths ``[batch]``.
        seed : int, optional
            Seed of the sampler.

        Returns
        -------
        torch.Tensor
            ``[batch, time]`` restored audio, zero past each length.
        """
        hparams = self.hparams
        settings = dict(
            steps=hparams.sampling_steps,
            guidance=hparams.guidance,
            noise=hparams.sampling_noise,
            upper_levels=getattr(self.hparams, "upper_levels", "greedy"),
        )

        def restore_fn(chunks, chunk_seed):
            tokens = self.raw_model.generate(
                chunks, seed=chunk_seed, **settings
            )
            return self._decode(tokens)[:, : chunks.shape[1]]

        hop = hparams.codec.hop_length  # windows align to codec frames
        window, overlap = window_samples(
            hparams.sample_rate,
            getattr(self.hparams, "window_seconds", hparams.segment_seconds),
            getattr(self.hparams, "overlap_seconds", 0.5),
            align=hop,
        )
        samples = relative_to_absolute(
            wav_lens, degraded.shape[1], degraded.shape[0]
        ).tolist()
        return restore_windowed(
            restore_fn,
            degraded,
            samples,
            window,
            overlap,
            crossfade=getattr(self.hparams, "crossfade", "hann"),
            align=hop,
            seed=seed,
        )

    def _decode(self, tokens):
        """Codec decoding in float32 (outside any mixed-precision context)."""
        with torch.autocast(device_type=self.device_type, enabled=False):
            return self.hparams.codec.decode(tokens).float()

    def _score(self, system, uid, ref, est):
        """Add one clip's scores to the tracker of ``system``."""
        if system not in self.restore_stats:
            raise ConfigError(
                "restored clips are scored with the hparams valid_metrics "
                "(validation) and test_metrics (test); set them"
            )
        self.restore_stats[system].append(
            [uid], est[None].cpu(), ref[None].cpu()
        )

    def _valid_restore(self, batch):
        if not (self._restore_this_epoch and if_main_process()):
            return
        done = max((len(s.ids) for s in self.restore_stats.values()), default=0)
        wanted = self.hparams.valid_restore_clips - done
        if wanted <= 0:
            return
        degraded, wav_lens = batch.degraded_sig
        clean, _ = batch.clean_sig
        n = min(wanted, degraded.shape[0])
        restored = self.restore(
            degraded[:n], wav_lens[:n], seed=self.hparams.eval_seed
        )
        samples = relative_to_absolute(wav_lens[:n], degraded.shape[1]).tolist()
        for i, length in enumerate(samples):
            uid = batch.id[i]
            ref = clean[i, :length]
            self._score("Unprocessed", uid, ref, degraded[i, :length])
            self._score("MaskSR", uid, ref, restored[i, :length])

    def _restore_and_write(self, batch):
        """Restore a test batch; write each restored clip and its input.

        Returns the restored audio ``[batch, time]``, each clip's length in
        samples and the ``(restored, unprocessed)`` paths of each clip.
        """
        degraded, wav_lens = batch.degraded_sig
        restored = self.restore(degraded, wav_lens, seed=self.hparams.eval_seed)
        folder = Path(self.hparams.restore_folder) / self.test_set_name
        sr = self.hparams.sample_rate
        samples = relative_to_absolute(wav_lens, degraded.shape[1]).tolist()
        paths = []
        for i, uid in enumerate(batch.id):
            length = samples[i]
            est = folder / f"{uid}.wav"
            raw = folder / "unprocessed" / f"{uid}.wav"
            save_audio(est, restored[i, :length].cpu(), sr)
            save_audio(raw, degraded[i, :length].cpu(), sr)
            paths.append((est, raw))
        return restored, samples, paths

    def _test_restore(self, batch):
        degraded, _ = batch.degraded_sig
        clean, _ = batch.clean_sig
        restored, samples, _ = self._restore_and_write(batch)
        resynth = self._decode(self._tokens(batch))
        for i, uid in enumerate(batch.id):
            length = samples[i]
            ref = clean[i, :length]
            self._score("Unprocessed", uid, ref, degraded[i, :length])
            self._score("MaskSR", uid, ref, restored[i, :length])
            self._score("Codec resynthesis", uid, ref, resynth[i, :length])
            self._score("Target", uid, ref, ref)

    @torch.no_grad()
    def evaluate_batch(self, batch, stage):
        """Evaluate one batch; reference-free test sets are only restored.

        Arguments
        ---------
        batch : PaddedBatch
            The batch (``id`` and ``degraded_sig`` only for a
            reference-free set).
        stage : sb.Stage
            The stage.

        Returns
        -------
        torch.Tensor
            The detached loss (NaN, which SpeechBrain's running average
            skips, for a reference-free set: it has no clean tokens).
        """
        if stage == sb.Stage.TEST and getattr(self, "reference_free", False):
            self._reference_free_restore(batch)
            return torch.tensor(float("nan"))
        loss = super().evaluate_batch(batch, stage)
        self._eval_losses.append((list(batch.id), float(loss)))
        return loss

    def _reference_free_restore(self, batch):
        """Restore a batch without references; write restored + input."""
        batch = batch.to(self.device)
        _, _, paths = self._restore_and_write(batch)
        for uid, (est, raw) in zip(batch.id, paths):
            self.reference_free_files["MaskSR"].append(est)
            self.reference_free_files["Unprocessed"].append(raw)
            self.reference_free_ids.append(uid)

    def _score_reference_free(self):
        """Score the written files as ``masksr-eval --est`` does.

        Returns
        -------
        dict
            The ``test_results`` entry of the set.
        """
        from speechbrain_masksr.cli.evaluate import (
            NONINTRUSIVE_CSV_COLUMNS,
            score_files,
            summarize_scores,
            write_csv,
        )
        from speechbrain_masksr.metrics.compute import (
            expand_nonintrusive_metrics,
        )

        metrics = reference_free_metrics(self.hparams.test_metrics)
        columns = expand_nonintrusive_metrics(metrics)
        folder = Path(self.hparams.restore_folder) / self.test_set_name
        systems, failed = {}, {}
        for system, root in (
            ("Unprocessed", folder / "unprocessed"),
            ("MaskSR", folder),
        ):
            files = self.reference_free_files[system]
            rows, bad = score_files(files, root, metrics)
            if rows:
                write_csv(
                    root / "scores.csv", rows, columns=NONINTRUSIVE_CSV_COLUMNS
                )
            systems[system] = summarize_scores(rows, bad)
            failed[system] = bad
        clips = len(self.reference_free_files["MaskSR"])
        return {
            "reference_free": True,
            "metrics": list(columns),
            "systems": systems,
            "failed": failed,
            "clips": clips,
        }

    # ---------------------------------------------------------------- stages
    def on_stage_start(self, stage, epoch=None):
        """New metric trackers and evaluation generator.

        Evaluation stages get a :class:`TokenAccuracy` (``self.accuracy``)
        and one :func:`~speechbrain_masksr.metrics.stats.multi_metric_stats`
        per system (``self.restore_stats``) for the ``valid_metrics`` or
        ``test_metrics`` of the restored clips.

        Arguments
        ---------
        stage : sb.Stage
            The stage.
        epoch : int, optional
            The epoch.
        """
        if stage == sb.Stage.TRAIN:
            return
        self.accuracy = TokenAccuracy(self.raw_model.n_codebooks)
        # Seeded for each batch from its ids (compute_forward).
        self._eval_generator = torch.Generator(device=self.device)
        every = max(1, int(getattr(self.hparams, "valid_restore_every", 1)))
        self._restore_this_epoch = epoch is None or epoch % every == 0
        if stage == sb.Stage.VALID:
            systems = VALID_SYSTEMS
            metrics = getattr(self.hparams, "valid_metrics", None)
        else:
            systems = TEST_SYSTEMS
            metrics = getattr(self.hparams, "test_metrics", None)
        self.restore_stats = {
            system: multi_metric_stats(
                metrics,
                self.hparams.sample_rate,
                spk_model=getattr(self.hparams, "spk_model", None),
            )
            for system in (systems if metrics else ())
        }
        if not hasattr(self, "test_set_name"):
            self.test_set_name = "test"
        self.reference_free_files = {"Unprocessed": [], "MaskSR": []}
        self.reference_free_ids = []
        self._eval_losses = []

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Log statistics, step checkpoints, collect test scores.

        Arguments
        ---------
        stage : sb.Stage
            The stage.
        stage_loss : float
            Average loss of the stage.
        epoch : int, optional
            The epoch.
        """
        stats = {"loss": float(stage_loss)}
        if stage == sb.Stage.TRAIN:
            self.train_stats = stats
            return
        if stage == sb.Stage.TEST and getattr(self, "reference_free", False):
            self._end_reference_free()
            return
        stats["loss"] = self._gather_eval(stage, stats["loss"])
        stats.update(self.accuracy.summarize())
        means = system_means(self.restore_stats)
        for system, row in means.items():
            tag = system.lower().replace(" ", "_")
            for key, value in row.items():
                if value is not None:
                    stats[f"{tag}_{key}"] = value
        if stage == sb.Stage.VALID:
            lr = self.optimizer.param_groups[0]["lr"]
            self.hparams.train_logger.log_stats(
                stats_meta={
                    "epoch": epoch,
                    "steps": self.optimizer_step,
                    "lr": lr,
                },
                train_stats=getattr(self, "train_stats", None),
                valid_stats=stats,
            )
            self.checkpointer.save_and_keep_only(
                meta={"loss": stats["loss"], "acc": stats["acc"]},
                min_keys=["loss"],
            )
        else:
            self.hparams.train_logger.log_stats(
                stats_meta={
                    "Epoch loaded": self.hparams.epoch_counter.current,
                    "test set": self.test_set_name,
                },
                test_stats=stats,
            )
            if not hasattr(self, "test_results"):
                self.test_results = {}
            self.test_results[self.test_set_name] = {
                "loss": stats["loss"],
                "accuracy": self.accuracy.per_codebook(),
                "systems": means,
                "clips": max(
                    (len(s.ids) for s in self.restore_stats.values()),
                    default=0,
                ),
            }

    def _gather_eval(self, stage, stage_loss):
        """DDP: merge every rank's batches and clip scores (dataset order).

        Arguments
        ---------
        stage : sb.Stage
            VALID or TEST.
        stage_loss : float
            This rank's average loss.

        Returns
        -------
        float
            The average loss over all ranks' batches, computed as
            SpeechBrain's running average of a single process would
            (``stage_loss`` itself outside DDP).
        """
        if rank_and_world()[1] == 1:
            return stage_loss
        parts = gather_objects(
            {
                "losses": self._eval_losses,
                "accuracy": self.accuracy.batches,
                "stats": {
                    system: _tracker_state(tracker)
                    for system, tracker in self.restore_stats.items()
                },
            }
        )
        position = self._position(stage)
        batches = sorted(
            (b for part in parts for b in part["losses"]),
            key=lambda b: position(b[0][0]),
        )
        average = 0.0
        for step, (_, loss) in enumerate(batches, start=1):
            if math.isfinite(loss):  # as sb.Brain.update_average
                average -= average / step
                average += loss / step
        self.accuracy.merge(
            [b for part in parts for b in part["accuracy"]], position
        )
        for system, tracker in self.restore_stats.items():
            states = [part["stats"].get(system, {}) for part in parts]
            _merge_tracker(tracker, states, position)
        return average

    def _end_reference_free(self):
        """Stage end of a reference-free set: score, log, keep the means."""
        if rank_and_world()[1] > 1:  # files written by every rank
            parts = gather_objects(
                [
                    (uid, str(raw), str(est))
                    for uid, raw, est in zip(
                        self.reference_free_ids,
                        self.reference_free_files["Unprocessed"],
                        self.reference_free_files["MaskSR"],
                    )
                ]
            )
            position = self._position(sb.Stage.TEST)
            rows = sorted(
                (row for part in parts for row in part),
                key=lambda row: position(row[0]),
            )
            self.reference_free_ids = [row[0] for row in rows]
            self.reference_free_files = {
                "Unprocessed": [Path(row[1]) for row in rows],
                "MaskSR": [Path(row[2]) for row in rows],
            }
        # Scored by the main process; every rank logs (SpeechBrain's
        # log_stats broadcasts its result: all ranks must call it).
        result = self._score_reference_free() if if_main_process() else None
        result = ddp_broadcast(result)
        stats = {}
        for system, row in result["systems"].items():
            tag = system.lower().replace(" ", "_")
            for key, value in row.items():
                if key != "files" and not math.isnan(value):
                    stats[f"{tag}_{key}"] = value
        self.hparams.train_logger.log_stats(
            stats_meta={
                "Epoch loaded": self.hparams.epoch_counter.current,
                "test set": self.test_set_name,
                "reference-free": True,
            },
            test_stats=stats,
        )
        if not hasattr(self, "test_results"):
            self.test_results = {}
        self.test_results[self.test_set_name] = result

    def evaluate_set(self, name, dataset, loader_kwargs, reference_free=False):
        """Evaluate one named test set with the best (lowest loss) checkpoint.

        Arguments
        ---------
        name : str
            Name of the set (sub-folder of the restored files, table title).
        dataset : Dataset
            The test data.
        loader_kwargs : dict
            DataLoader options.
        reference_free : bool
            The set has no clean references (e.g. DNS ``real_recordings``;
            items hold ``id`` and ``degraded_sig`` only): its files are
            restored, written, and scored reference-free by the function
            of ``masksr-eval --est`` (DNSMOS; the reference-free metrics
            of ``test_metrics``), per file (``scores.csv``) and as means.

        Returns
        -------
        float
            The average test loss (0 for a reference-free set).
        """
        self.test_set_name = name
        self.reference_free = bool(reference_free)
        try:
            return self.evaluate(
                dataset, min_key="loss", test_loader_kwargs=dict(loader_kwargs)
            )
        finally:
            self.reference_free = False

    def write_metrics_table(self, path):
        """Write the Markdown metrics table of all evaluated test sets.

        Also writes the same numbers as JSON next to it (``.json``). Only
        the main process writes.

        Arguments
        ---------
        path : str or Path
            The ``.md`` file.

        Returns
        -------
        str
            The Markdown text (empty on other processes).
        """
        if not if_main_process():
            return ""
        from speechbrain_masksr.metrics import metrics_table

        results = getattr(self, "test_results", {})
        parts = ["# MaskSR test results", ""]
        for name, result in results.items():
            if result.get("reference_free"):
                parts.extend(_reference_free_section(name, result))
                continue
            parts.append(f"## {name} ({result['clips']} clips)")
            parts.append("")
            parts.append(
                f"Masked-token loss {result['loss']:.4f}; token accuracy per "
                "codebook: "
                + ", ".join(
                    "nan" if math.isnan(a) else f"{a:.3f}"
                    for a in result["accuracy"]
                )
            )
            parts.append("")
            rows = {
                system: {k: v for k, v in row.items() if v is not None}
                for system, row in result["systems"].items()
            }
            if rows:
                parts.append(metrics_table(rows).rstrip())
            parts.append("")
        text = "\n".join(parts) + "\n"
        path = Path(path)
        with atomic_open(path) as fout:
            fout.write(text)
        with atomic_open(path.with_suffix(".json")) as fout:
            json.dump(results, fout, indent=2)
        logger.info("Metrics table written to %s\n%s", path, text)
        return text
