"""SpeechBrain ``Brain`` for MaskSR training, validation and testing.

:class:`MaskSRBrain` wires a :class:`~speechbrain_masksr.lobes.masksr.MaskSR`
model (``modules.model``) to batches made by the DNS recipe:

* ``batch.degraded_sig``: the degraded waveform ``[batch, time]`` (44.1 kHz);
* ``batch.clean_sig``: the clean waveform, same length (for metrics);
* ``batch.tokens``: the clean DAC tokens, stored **frame-major**
  ``[batch, frames, n_codebooks]`` so that SpeechBrain's ``PaddedBatch``
  pads frames (they are turned back into ``[batch, Q, frames]`` here).

Stages:

* TRAIN: masked-token cross-entropy (``model.loss``); the warmup learning
  rate schedule is stepped after every optimizer step.
* VALID: loss and per-codebook token accuracy on deterministic masks; on
  the main process, ``valid_restore_clips`` clips are restored (iterative
  decoding + DAC decoding) and scored against the clean crop, next to the
  unprocessed input.
* TEST: same loss/accuracy, and every clip is restored, written to
  ``<restore_folder>/<set>/<id>.wav`` (the input to ``unprocessed/``), and
  scored; :meth:`MaskSRBrain.write_metrics_table` writes the Markdown table
  (Unprocessed / MaskSR / DAC resynthesis of the clean tokens / Target).

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
data order) do the work; :class:`MaskSRBrain` adds three things:

* intra-epoch checkpoints are only written between optimizer steps (never
  in the middle of a gradient accumulation, whose partial gradients a
  checkpoint would not hold), so a resumed run makes the same optimizer
  steps with the same number of batches;
* a run that is relaunched after reaching its step limit trains no more
  and does not validate again (the epoch counter is exhausted);
* the optimizer step is logged with every epoch (``steps``) and on resume.

Randomness: SpeechBrain seeds every DDP rank identically, which would give
every rank the same masks and degradations. :meth:`MaskSRBrain.on_fit_start`
re-seeds the global RNGs with a per-rank offset (the DDP wrapper has
already broadcast rank 0's weights by then). Validation and test use a
private generator re-seeded at each stage, so their numbers are comparable
across epochs.

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import math
import os
import random
from pathlib import Path

import numpy as np
import speechbrain as sb
import torch
from speechbrain.utils.distributed import if_main_process
from speechbrain.utils.logger import get_logger
from speechbrain.utils.metric_stats import MetricStats

from speechbrain_masksr.dataio import save_audio
from speechbrain_masksr.errors import ConfigError
from speechbrain_masksr.metrics.stats import multi_metric_stats
from speechbrain_masksr.utils.lengths import relative_to_absolute

logger = get_logger(__name__)

#: Offset between the seeds of two DDP ranks (a prime).
RANK_SEED_STRIDE = 7919
#: Systems scored on restored validation clips (rows, in order).
VALID_SYSTEMS = ("Unprocessed", "MaskSR")
#: Systems scored on test clips (rows of the metrics table, in order).
TEST_SYSTEMS = ("Unprocessed", "MaskSR", "DAC resynthesis", "Target")


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
        self.correct += torch.nan_to_num(accuracy, nan=0.0) * counts
        self.counts += counts

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


class MaskSRBrain(sb.Brain):
    """Brain for MaskSR (see the module docstring for batches and stages).

    Hyperparameters read (``self.hparams``): ``codec`` (frozen
    DACTokenizer), ``sample_rate``, ``seed``, ``eval_seed``,
    ``lr_scheduler``, ``sampling_steps``, ``guidance``, ``sampling_noise``,
    ``valid_restore_clips``, ``valid_restore_every``, ``valid_metrics``,
    ``test_metrics``, ``restore_folder``, ``train_logger`` and
    ``epoch_counter``; the run options ``optimizer_step_limit``,
    ``grad_accumulation_factor`` and ``ckpt_interval_*`` as SpeechBrain
    reads them (YAML keys or command line).

    Example
    -------
    >>> from types import SimpleNamespace
    >>> from speechbrain.dataio.batch import PaddedBatch
    >>> from speechbrain_masksr.lobes.masksr import build_masksr
    >>> model = build_masksr(d_model=16, encoder_layers=1, lm_layers=1,
    ...                      nhead=2, n_codebooks=2, codebook_size=8)
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
    @property
    def raw_model(self):
        """The MaskSR module itself (unwrapped from DDP/DP)."""
        model = self.modules.model
        return model.module if hasattr(model, "module") else model

    def on_fit_start(self):
        """Per-rank seeds, DDP wrapping, optimizer, recovery, codec device."""
        seed = getattr(self.hparams, "seed", 0)
        rank = int(os.environ.get("RANK", 0))
        offset_seed = rank_seed(seed, rank)
        torch.manual_seed(offset_seed)
        np.random.seed(offset_seed % 2**32)
        random.seed(offset_seed)
        super().on_fit_start()
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
            TRAIN uses the global (per-rank) RNG; VALID/TEST a private
            generator, for deterministic masks.

        Returns
        -------
        dict
            The model output (``logits``, ``mask``, ...).
        """
        batch = batch.to(self.device)
        degraded, lengths = batch.degraded_sig
        tokens = self._tokens(batch)
        generator = None if stage == sb.Stage.TRAIN else self._eval_generator
        return self.modules.model(
            degraded, tokens, lengths=lengths, generator=generator
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
    def restore(self, degraded, lengths=None, seed=None):
        """Restore waveforms: iterative decoding, then DAC decoding.

        Arguments
        ---------
        degraded : torch.Tensor
            ``[batch, time]`` degraded audio (44.1 kHz).
        lengths : torch.Tensor, optional
            Relative lengths ``[batch]``.
        seed : int, optional
            Seed of the sampler.

        Returns
        -------
        tokens : torch.Tensor
            ``[batch, Q, frames]`` predicted clean tokens.
        wavs : torch.Tensor
            ``[batch, frames * hop]`` restored audio.
        """
        tokens = self.raw_model.generate(
            degraded,
            steps=self.hparams.sampling_steps,
            guidance=self.hparams.guidance,
            noise=self.hparams.sampling_noise,
            seed=seed,
            lengths=lengths,
        )
        return tokens, self._decode(tokens)

    def _decode(self, tokens):
        """DAC decoding in float32 (outside any mixed-precision context)."""
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
        done = max((len(s.ids) for s in self.restore_stats.values()), default=0)
        wanted = self.hparams.valid_restore_clips - done
        if wanted <= 0 or not self._restore_this_epoch:
            return
        if not if_main_process():
            return
        degraded, lengths = batch.degraded_sig
        clean, _ = batch.clean_sig
        n = min(wanted, degraded.shape[0])
        _, restored = self.restore(
            degraded[:n], lengths[:n], seed=self.hparams.eval_seed
        )
        samples = relative_to_absolute(lengths[:n], degraded.shape[1]).tolist()
        for i, length in enumerate(samples):
            uid = batch.id[i]
            ref = clean[i, :length]
            self._score("Unprocessed", uid, ref, degraded[i, :length])
            self._score("MaskSR", uid, ref, restored[i, :length])

    def _test_restore(self, batch):
        if not if_main_process():
            return
        degraded, lengths = batch.degraded_sig
        clean, _ = batch.clean_sig
        _, restored = self.restore(
            degraded, lengths, seed=self.hparams.eval_seed
        )
        resynth = self._decode(self._tokens(batch))
        folder = Path(self.hparams.restore_folder) / self.test_set_name
        sr = self.hparams.sample_rate
        samples = relative_to_absolute(lengths, degraded.shape[1]).tolist()
        for i, uid in enumerate(batch.id):
            length = samples[i]
            ref = clean[i, :length]
            est = restored[i, :length]
            save_audio(folder / f"{uid}.wav", est.cpu(), sr)
            save_audio(
                folder / "unprocessed" / f"{uid}.wav",
                degraded[i, :length].cpu(),
                sr,
            )
            self._score("Unprocessed", uid, ref, degraded[i, :length])
            self._score("MaskSR", uid, ref, est)
            self._score("DAC resynthesis", uid, ref, resynth[i, :length])
            self._score("Target", uid, ref, ref)

    # ---------------------------------------------------------------- stages
    def on_stage_start(self, stage, epoch=None):
        """New metric trackers; seed the evaluation generator.

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
        self._eval_generator = torch.Generator(device=self.device)
        self._eval_generator.manual_seed(int(self.hparams.eval_seed))
        every = max(1, int(getattr(self.hparams, "valid_restore_every", 1)))
        self._restore_this_epoch = epoch is None or epoch % every == 0
        if stage == sb.Stage.VALID:
            systems = VALID_SYSTEMS
            metrics = getattr(self.hparams, "valid_metrics", None)
        else:
            systems = TEST_SYSTEMS
            metrics = getattr(self.hparams, "test_metrics", None)
        self.restore_stats = {
            system: multi_metric_stats(metrics, self.hparams.sample_rate)
            for system in (systems if metrics else ())
        }
        if not hasattr(self, "test_set_name"):
            self.test_set_name = "test"

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

    def evaluate_set(self, name, dataset, loader_kwargs):
        """Evaluate one named test set with the best (lowest loss) checkpoint.

        Arguments
        ---------
        name : str
            Name of the set (sub-folder of the restored files, table title).
        dataset : Dataset
            The test data.
        loader_kwargs : dict
            DataLoader options.

        Returns
        -------
        float
            The average test loss.
        """
        self.test_set_name = name
        return self.evaluate(
            dataset, min_key="loss", test_loader_kwargs=dict(loader_kwargs)
        )

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
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        with open(path.with_suffix(".json"), "w", encoding="utf-8") as fout:
            json.dump(results, fout, indent=2)
        logger.info("Metrics table written to %s\n%s", path, text)
        return text
