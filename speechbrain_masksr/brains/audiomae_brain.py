"""Brains for Audio-MAE pretraining and fine-tuning.

:class:`AudioMAEPretrainBrain` trains the masked autoencoder (fbank ->
``AudioMAE`` -> masked-patch MSE); :class:`AudioMAEClassifierBrain`
fine-tunes the encoder as a multi-label classifier (fbank -> SpecAugment +
mixup -> ``AudioMAEClassifierModel`` -> ``BCEWithLogits``) and reports mAP
(AudioSet); :class:`AudioMAESingleLabelBrain` does the same for one label
per clip with cross-entropy or BCE and reports accuracy (ESC-50, Speech
Commands).
Both follow the released recipes of facebookresearch/AudioMAE:

* learning rate ``blr * effective_batch / 256``, linear warmup then a
  half-cycle cosine, set every iteration (:class:`WarmupCosineSchedule`);
* pretraining: AdamW (0.9, 0.95) without weight decay on biases and norms,
  random roll + gain of the waveform (:func:`roll_mag_aug`);
* fine-tuning: layer-wise learning-rate decay (``param_groups_lrd``),
  waveform mixup with ``lambda ~ Beta(10, 10)`` on half of the examples
  (``brains.audiomae_training.mixup``), one frequency mask of up to 48 bins
  and one time mask of up to 192 frames
  (``brains.audiomae_training.SpecAugment``), mAP over
  the classes with positives (:func:`mean_average_precision`, accumulated
  by a SpeechBrain ``MetricStats``: :class:`MeanAveragePrecisionStats`).

Both run under ``torchrun`` (DDP); the fbank front end stays outside
``modules`` (it has no parameters) and runs in float32.

Authors
 * speechbrain-masksr contributors 2026
"""

import logging
import math

import numpy as np
import speechbrain as sb
import torch
from speechbrain.utils.metric_stats import MetricStats

from speechbrain_masksr.brains.audiomae_training import (
    fbank_noise,
    fit_pos_embed,
    mixup,
    param_groups_lrd,
)
from speechbrain_masksr.utils.checkpoints import read_state_dict
from speechbrain_masksr.utils.lengths import relative_to_absolute

logger = logging.getLogger(__name__)

__all__ = [
    "AudioMAEClassifierBrain",
    "AudioMAEPretrainBrain",
    "AudioMAESingleLabelBrain",
    "ClassificationStats",
    "MeanAveragePrecisionStats",
    "WarmupCosineSchedule",
    "accuracy",
    "load_pretrained_encoder",
    "mean_average_precision",
    "multi_hot",
    "roll_mag_aug",
    "weight_decay_groups",
]


# ----------------------------------------------------------------------------
# Augmentation, metrics, schedules and loading helpers
# ----------------------------------------------------------------------------


def multi_hot(labels, n_classes):
    """Multi-hot float vector from a list of class indices.

    Arguments
    ---------
    labels : list of int
        Class indices.
    n_classes : int
        Number of classes.

    Returns
    -------
    torch.Tensor
        ``[n_classes]`` with ones at ``labels``.

    Example
    -------
    >>> multi_hot([0, 2], 4).tolist()
    [1.0, 0.0, 1.0, 0.0]
    """
    out = torch.zeros(n_classes)
    labels = torch.as_tensor(list(labels), dtype=torch.long)
    if labels.numel() and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels {labels.tolist()} outside 0..{n_classes - 1}")
    out[labels] = 1.0
    return out


def roll_mag_aug(wavs, wav_lens=None):
    """Random circular shift and gain of each waveform (official pretraining
    and fine-tuning augmentation).

    Each example is rolled by a uniform offset within its own length and
    scaled by ``Beta(10, 10) + 0.5``; padding stays zero. Uses the global
    torch random state.

    Arguments
    ---------
    wavs : torch.Tensor
        ``[batch, time]``.
    wav_lens : torch.Tensor, optional
        ``[batch]`` relative lengths.

    Returns
    -------
    torch.Tensor
        ``[batch, time]``.

    Example
    -------
    >>> wavs = torch.arange(1.0, 9.0).reshape(2, 4)
    >>> out = roll_mag_aug(wavs, torch.tensor([1.0, 0.5]))
    >>> bool(out[1, 2:].eq(0).all())
    True
    >>> gain = out[0].abs().sum() / wavs[0].sum()
    >>> 0.5 <= float(gain) <= 1.5
    True
    """
    out = torch.zeros_like(wavs)
    num_samples = relative_to_absolute(wav_lens, wavs.shape[-1], wavs.shape[0])
    num_samples = num_samples.tolist()
    gains = torch.distributions.Beta(10.0, 10.0).sample((len(num_samples),))
    gains = gains + 0.5
    for i, n in enumerate(num_samples):
        shift = int(torch.randint(n, (1,)))
        out[i, :n] = torch.roll(wavs[i, :n], shift) * float(gains[i])
    return out


def mean_average_precision(scores, targets):
    """Mean average precision over the classes that have a positive example.

    Arguments
    ---------
    scores : array-like
        ``[n_examples, n_classes]`` scores (any monotonic scale).
    targets : array-like
        ``[n_examples, n_classes]`` binary (or soft, thresholded at 0.5)
        targets.

    Returns
    -------
    mAP : float
        Mean of the per-class average precisions (NaN if no class has a
        positive example).
    ap : numpy.ndarray
        ``[n_classes]`` per-class AP, NaN for classes without positives.

    Example
    -------
    >>> scores = [[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]
    >>> targets = [[1, 0], [0, 1], [0, 0]]
    >>> m, ap = mean_average_precision(scores, targets)
    >>> float(m), ap.tolist()
    (1.0, [1.0, 1.0])
    >>> float(mean_average_precision([[0.9], [0.8]], [[0], [1]])[0])
    0.5
    """
    from sklearn.metrics import average_precision_score

    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets) >= 0.5
    ap = np.full(scores.shape[1], np.nan)
    for k in range(scores.shape[1]):
        if targets[:, k].any():
            ap[k] = average_precision_score(targets[:, k], scores[:, k])
    present = ~np.isnan(ap)
    m = float(ap[present].mean()) if present.any() else float("nan")
    return m, ap


class ClassificationStats(MetricStats):
    """SpeechBrain ``MetricStats`` of class scores and targets.

    ``append(ids, scores, targets)`` stores one row of class scores and
    targets per id; :meth:`summarize` calls ``metric(scores, targets)``
    (``[n_examples, n_classes]`` numpy arrays) once over all of them, which
    returns a dict of statistics.

    Arguments
    ---------
    metric : callable
        ``metric(scores, targets) -> dict``.

    Example
    -------
    >>> stats = ClassificationStats(lambda s, t: {"acc": accuracy(s, t)})
    >>> stats.append(["a", "b"], torch.tensor([[0.9, 0.1], [0.2, 0.8]]),
    ...              torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    >>> stats.summarize("acc")
    0.5
    """

    def clear(self):
        """Forget every example."""
        super().clear()
        self.targets = []

    def append(self, ids, scores, targets):
        """Add a batch of examples.

        Arguments
        ---------
        ids : list
            Ids of the examples.
        scores : torch.Tensor
            ``[batch, n_classes]`` scores (e.g. sigmoid outputs).
        targets : torch.Tensor
            ``[batch, n_classes]`` multi-hot, one-hot (or soft) targets.
        """
        self.ids.extend(ids)
        self.scores.extend(scores.detach().cpu())
        self.targets.extend(targets.detach().cpu())

    def summarize(self, field=None):
        """The statistics of every example appended.

        Arguments
        ---------
        field : str, optional
            One statistic; default: the dict of all.

        Returns
        -------
        float or numpy.ndarray or dict
            The field, or the dict returned by ``metric``.
        """
        self.summary = self.metric(
            torch.stack(self.scores).numpy(), torch.stack(self.targets).numpy()
        )
        return self.summary if field is None else self.summary[field]


def _map_and_ap(scores, targets):
    m, ap = mean_average_precision(scores, targets)
    return {"mAP": m, "ap": ap}


class MeanAveragePrecisionStats(ClassificationStats):
    """:class:`ClassificationStats` of multi-label mean average precision.

    :meth:`summarize` gives ``{"mAP": float, "ap": [n_classes] array}``
    (:func:`mean_average_precision`).

    Example
    -------
    >>> stats = MeanAveragePrecisionStats()
    >>> stats.append(["a", "b"], torch.tensor([[0.9, 0.1], [0.2, 0.8]]),
    ...              torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    >>> stats.append(["c"], torch.tensor([[0.7, 0.3]]), torch.zeros(1, 2))
    >>> stats.summarize("mAP"), stats.summary["ap"].tolist()
    (1.0, [1.0, 1.0])
    """

    def __init__(self):
        super().__init__(metric=_map_and_ap)


def accuracy(scores, targets):
    """Top-1 accuracy of single-label predictions.

    Arguments
    ---------
    scores : array-like
        ``[n_examples, n_classes]`` scores (any monotonic scale).
    targets : array-like
        ``[n_examples, n_classes]`` one-hot (or soft) targets; the class of
        an example is its largest target.

    Returns
    -------
    float
        Fraction of examples whose best-scored class is the target class
        (NaN without examples).

    Example
    -------
    >>> accuracy([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]], [[1, 0], [0, 1], [0, 1]])
    0.6666666666666666
    """
    scores = np.asarray(scores, dtype=np.float64)
    targets = np.asarray(targets)
    if scores.shape[0] == 0:
        return float("nan")
    hits = scores.argmax(axis=1) == targets.argmax(axis=1)
    return float(hits.mean())


class WarmupCosineSchedule:
    """Linear warmup, then half-cycle cosine decay, set per iteration.

    ``lr(e) = lr * e / warmup`` for ``e < warmup`` and then
    ``min_lr + (lr - min_lr) * (1 + cos(pi (e - warmup) / (epochs -
    warmup))) / 2``, where ``e`` is the fractional epoch. Each parameter
    group gets ``lr(e) * group["lr_scale"]`` (1 if absent), so layer-wise
    decay groups are honoured (official ``util/lr_sched.py``).

    Arguments
    ---------
    warmup_epochs : float
        Warmup length in epochs.
    total_epochs : float
        Length of the schedule in epochs.
    min_lr : float
        Final learning rate.

    Example
    -------
    >>> sched = WarmupCosineSchedule(warmup_epochs=1, total_epochs=3)
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> [round(sched(opt, 1.0, e), 3) for e in (0.0, 0.5, 1.0, 2.0, 3.0)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """

    def __init__(self, warmup_epochs, total_epochs, min_lr=0.0):
        if total_epochs <= warmup_epochs:
            raise ValueError(
                f"total_epochs ({total_epochs}) must exceed warmup_epochs "
                f"({warmup_epochs})"
            )
        self.warmup_epochs = float(warmup_epochs)
        self.total_epochs = float(total_epochs)
        self.min_lr = float(min_lr)

    def value(self, lr, epoch):
        """Learning rate at a fractional epoch.

        Arguments
        ---------
        lr : float
            Peak learning rate.
        epoch : float
            Fractional epoch (0-based).

        Returns
        -------
        float
            The learning rate.
        """
        if epoch < self.warmup_epochs:
            return lr * epoch / self.warmup_epochs
        progress = (epoch - self.warmup_epochs) / (
            self.total_epochs - self.warmup_epochs
        )
        progress = min(progress, 1.0)
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return self.min_lr + (lr - self.min_lr) * cosine

    def __call__(self, optimizer, lr, epoch):
        """Sets the learning rate of every group of ``optimizer``.

        Arguments
        ---------
        optimizer : torch.optim.Optimizer
            The optimizer.
        lr : float
            Peak learning rate.
        epoch : float
            Fractional epoch (0-based).

        Returns
        -------
        float
            The (unscaled) learning rate.
        """
        value = self.value(lr, epoch)
        for group in optimizer.param_groups:
            group["lr"] = value * group.get("lr_scale", 1.0)
        return value


def weight_decay_groups(module, weight_decay, skip=()):
    """Two parameter groups: with weight decay, and without it for biases,
    norms and other 1-D parameters (timm ``add_weight_decay``).

    Arguments
    ---------
    module : torch.nn.Module
        Model.
    weight_decay : float
        Decay of the first group.
    skip : tuple of str
        Extra parameter names without decay.

    Returns
    -------
    list of dict
        Optimizer parameter groups.

    Example
    -------
    >>> groups = weight_decay_groups(torch.nn.Linear(3, 2), 0.05)
    >>> [(len(g["params"]), g["weight_decay"]) for g in groups]
    [(1, 0.05), (1, 0.0)]
    """
    decay, no_decay = [], []
    for name, param in module.named_parameters():
        if not param.requires_grad:
            continue
        if param.dim() <= 1 or name.endswith(".bias") or name in skip:
            no_decay.append(param)
        else:
            decay.append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def load_pretrained_encoder(model, path):
    """Fill a classifier's encoder from an Audio-MAE checkpoint (strict).

    Accepts a pretraining ``model.ckpt`` (``AudioMAE``: ``encoder.*`` keys
    are used, ``decoder.*`` ignored; from ``train.py`` or from
    ``audiomae-convert pretrained.pth``), a classifier ``model.ckpt`` or a
    bare encoder state dict; every encoder key must be present (see
    ``AudioMAEClassifierModel.load_pretrained_encoder``). A positional
    table made for longer inputs (the 1024-frame AudioSet model fine-tuned
    on 512-frame ESC-50 or 128-frame Speech Commands clips) keeps its first
    time rows (``brains.audiomae_training.fit_pos_embed``). Usable as a
    ``Pretrainer`` custom hook.

    Arguments
    ---------
    model : AudioMAEClassifierModel
        The classifier whose encoder is filled.
    path : str or Path
        Checkpoint file.

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEClassifierModel, AudioMAEEncoder)
    >>> kw = dict(grid=(4, 2), d_model=32, depth=1, num_heads=2)
    >>> src = AudioMAEEncoder(**kw)
    >>> path = str(getfixture("tmpdir") / "model.ckpt")
    >>> torch.save({"encoder." + k: v for k, v in src.state_dict().items()},
    ...            path)
    >>> clf = AudioMAEClassifierModel(AudioMAEEncoder(**kw), n_classes=3)
    >>> load_pretrained_encoder(clf, path)
    >>> torch.equal(clf.encoder.cls_token, src.cls_token)
    True
    >>> short = AudioMAEClassifierModel(  # 2 of the 4 time rows
    ...     AudioMAEEncoder(**dict(kw, grid=(2, 2))), n_classes=3)
    >>> load_pretrained_encoder(short, path)
    >>> torch.equal(short.encoder.pos_embed, src.pos_embed[:, :5])
    True
    """
    state = read_state_dict(
        path,
        hint="Point the recipe option that names it (e.g. pretrained_path) "
        "to an Audio-MAE model.ckpt from train.py or from `audiomae-convert "
        "pretrained.pth OUT_DIR`.",
    )
    model.load_pretrained_encoder(fit_pos_embed(state, model.encoder.grid))


# ----------------------------------------------------------------------------
# Brains
# ----------------------------------------------------------------------------


class _AudioMAEBrainBase(sb.Brain):
    """Shared parts: fbank front end, lr schedule, effective batch size."""

    steps_per_epoch = None

    def make_dataloader(self, dataset, stage, ckpt_prefix="dataloader-", **kw):
        """Builds a loader and remembers the number of training batches.

        Arguments
        ---------
        dataset : Dataset
            Data.
        stage : speechbrain.Stage
            Stage.
        ckpt_prefix : str
            See ``speechbrain.Brain.make_dataloader``.
        **kw : dict
            Loader options.

        Returns
        -------
        DataLoader
            The loader.
        """
        loader = super().make_dataloader(dataset, stage, ckpt_prefix, **kw)
        if stage == sb.Stage.TRAIN:
            self.steps_per_epoch = len(loader)
        return loader

    def on_fit_start(self):
        """Moves the front end to the device and fixes the peak lr."""
        super().on_fit_start()
        self.hparams.compute_fbank.to(self.device)
        world = 1
        if torch.distributed.is_available() and (
            torch.distributed.is_initialized()
        ):
            world = torch.distributed.get_world_size()
        eff_batch = (
            self.hparams.batch_size * self.grad_accumulation_factor * world
        )
        self.peak_lr = self.hparams.blr * eff_batch / 256
        logger.info(
            "effective batch %d, base lr %.2e, peak lr %.2e",
            eff_batch,
            self.hparams.blr,
            self.peak_lr,
        )

    def on_fit_batch_start(self, batch, should_step):
        """Sets the learning rate for this iteration (before the step).

        Arguments
        ---------
        batch : PaddedBatch
            The batch.
        should_step : bool
            Whether the optimizer steps after this batch.
        """
        steps = self.steps_per_epoch or 1
        epoch = self.hparams.epoch_counter.current - 1 + (self.step - 1) / steps
        self.current_lr = self.hparams.lr_schedule(
            self.optimizer, self.peak_lr, epoch
        )

    def fbank(self, wavs, wav_lens):
        """Fbank features in float32 (outside autocast).

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` at 16 kHz.
        wav_lens : torch.Tensor
            ``[batch]`` relative lengths.

        Returns
        -------
        torch.Tensor
            ``[batch, target_length, n_mels]``.
        """
        with torch.autocast(device_type=self.device_type, enabled=False):
            return self.hparams.compute_fbank(wavs.float(), wav_lens)

    def _set_optimizer(self, groups):
        """Builds ``opt_class`` over ``groups`` and checkpoints it."""
        self.optimizer = self.opt_class(groups)
        self.optimizers_dict = {"opt_class": self.optimizer}
        if self.checkpointer is not None:
            self.checkpointer.add_recoverable("optimizer", self.optimizer)

    def _log_epoch(self, stage, epoch, stats):
        """Logs a stage summary (train stats are kept for the valid line)."""
        if stage == sb.Stage.TRAIN:
            self.train_stats = stats
            return
        meta = {"epoch": epoch}
        if stage == sb.Stage.VALID:
            meta["lr"] = getattr(self, "current_lr", 0.0)
            self.hparams.train_logger.log_stats(
                stats_meta=meta,
                train_stats=getattr(self, "train_stats", None),
                valid_stats=stats,
            )
        else:
            self.hparams.train_logger.log_stats(
                stats_meta={"Epoch loaded": self.hparams.epoch_counter.current},
                test_stats=stats,
            )


class AudioMAEPretrainBrain(_AudioMAEBrainBase):
    """Masked-autoencoder pretraining on fbank features.

    Expects ``modules.model`` (an ``AudioMAE``) and hparams
    ``compute_fbank``, ``roll_mag_aug`` (bool), ``blr``, ``batch_size``,
    ``weight_decay``, ``lr_schedule``, ``epoch_counter``, ``train_logger``,
    ``valid_seed``; the batch holds ``sig``. The best checkpoint is the one
    with the lowest validation loss (masks drawn from ``valid_seed``, so the
    validation loss is comparable across epochs).

    Example
    -------
    >>> from speechbrain.dataio.batch import PaddedBatch
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAE, AudioMAEDecoder, AudioMAEEncoder, AudioMAEFbank)
    >>> enc = AudioMAEEncoder(grid=(4, 2), d_model=16, depth=1, num_heads=2)
    >>> dec = AudioMAEDecoder((4, 2), 16, 16, depth=1, num_heads=2)
    >>> hparams = {"compute_fbank": AudioMAEFbank(num_mel_bins=32, target_length=64),
    ...            "roll_mag_aug": True, "valid_seed": 0}
    >>> brain = AudioMAEPretrainBrain({"model": AudioMAE(enc, dec)},
    ...     hparams=hparams, run_opts={"device": "cpu"})
    >>> batch = PaddedBatch([{"id": "a", "sig": torch.randn(8000)},
    ...                      {"id": "b", "sig": torch.randn(6000)}])
    >>> brain.on_stage_start(sb.Stage.VALID)
    >>> first = brain.evaluate_batch(batch, sb.Stage.VALID)
    >>> brain.on_stage_start(sb.Stage.VALID)  # same masks again
    >>> bool(brain.evaluate_batch(batch, sb.Stage.VALID) == first)
    True
    """

    def init_optimizers(self):
        """AdamW groups without weight decay on biases and norms."""
        groups = weight_decay_groups(
            self.modules.model, self.hparams.weight_decay
        )
        self._set_optimizer(groups)

    def compute_forward(self, batch, stage):
        """fbank -> masked autoencoder.

        Arguments
        ---------
        batch : PaddedBatch
            With ``sig``.
        stage : speechbrain.Stage
            Stage.

        Returns
        -------
        dict
            The model output (``loss``, ``pred``, ``mask``).
        """
        batch = batch.to(self.device)
        wavs, wav_lens = batch.sig
        if stage == sb.Stage.TRAIN and self.hparams.roll_mag_aug:
            wavs = roll_mag_aug(wavs, wav_lens)
        feats = self.fbank(wavs, wav_lens)
        if stage == sb.Stage.TRAIN:
            return self.modules.model(feats)
        # Fixed masks for validation: same seed every epoch.
        self.valid_batches += 1
        device = torch.device(self.device)
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(self.hparams.valid_seed + self.valid_batches)
            return self.modules.model(feats)

    def compute_objectives(self, predictions, batch, stage):
        """The reconstruction loss of the masked patches.

        Arguments
        ---------
        predictions : dict
            Output of :meth:`compute_forward`.
        batch : PaddedBatch
            The batch.
        stage : speechbrain.Stage
            Stage.

        Returns
        -------
        torch.Tensor
            Scalar loss.
        """
        return predictions["loss"]

    def on_stage_start(self, stage, epoch=None):
        """Resets the validation mask counter.

        Arguments
        ---------
        stage : speechbrain.Stage
            Stage.
        epoch : int
            Epoch.
        """
        self.valid_batches = 0

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs and keeps the checkpoint with the lowest valid loss.

        Arguments
        ---------
        stage : speechbrain.Stage
            Stage.
        stage_loss : float
            Average loss.
        epoch : int
            Epoch.
        """
        stats = {"loss": stage_loss}
        self._log_epoch(stage, epoch, stats)
        if stage == sb.Stage.VALID:
            self.checkpointer.save_and_keep_only(
                meta={"loss": stage_loss}, min_keys=["loss"]
            )


class AudioMAEClassifierBrain(_AudioMAEBrainBase):
    """Multi-label fine-tuning of the Audio-MAE encoder; reports mAP.

    Expects ``modules.model`` (an ``AudioMAEClassifierModel``) and hparams
    ``compute_fbank``, ``roll_mag_aug``, ``mixup_prob``, ``mixup_alpha``,
    ``spec_augment``, ``label_smoothing``, ``layer_decay``,
    ``weight_decay``, ``blr``, ``batch_size``, ``lr_schedule``,
    ``epoch_counter``, ``train_logger`` and optionally ``fbank_noise``
    (bool, default False: :func:`~.audiomae_training.fbank_noise` after
    SpecAugment, the official Speech Commands augmentation); the batch holds
    ``sig`` and ``targets`` (multi-hot). The best checkpoint has the highest
    mAP on the validation set (``select_key``).

    Example
    -------
    >>> from speechbrain.dataio.batch import PaddedBatch
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEClassifierModel, AudioMAEEncoder, AudioMAEFbank)
    >>> enc = AudioMAEEncoder(grid=(4, 2), d_model=16, depth=1, num_heads=2)
    >>> hparams = {"compute_fbank": AudioMAEFbank(num_mel_bins=32, target_length=64),
    ...            "label_smoothing": 0.0}
    >>> brain = AudioMAEClassifierBrain(
    ...     {"model": AudioMAEClassifierModel(enc, n_classes=3)},
    ...     hparams=hparams, run_opts={"device": "cpu"})
    >>> batch = PaddedBatch([
    ...     {"id": "a", "sig": torch.randn(8000), "targets": multi_hot([0], 3)},
    ...     {"id": "b", "sig": torch.randn(8000), "targets": multi_hot([2], 3)}])
    >>> brain.on_stage_start(sb.Stage.TEST)
    >>> loss = brain.evaluate_batch(batch, sb.Stage.TEST)
    >>> round(float(loss), 2), brain.class_stats.ids  # ~log(2) at init
    (0.69, ['a', 'b'])
    """

    #: Validation statistic that selects the checkpoint (higher is better).
    select_key = "mAP"

    def init_optimizers(self):
        """AdamW over layer-wise lr-decay groups (``lr_scale`` per group)."""
        model = self.modules.model
        model = getattr(model, "module", model)  # unwrap DDP
        groups = param_groups_lrd(
            model,
            weight_decay=self.hparams.weight_decay,
            layer_decay=self.hparams.layer_decay,
        )
        self._set_optimizer(groups)

    def compute_forward(self, batch, stage):
        """(augment) -> fbank -> (SpecAugment) -> classifier.

        Arguments
        ---------
        batch : PaddedBatch
            With ``sig`` and ``targets``.
        stage : speechbrain.Stage
            Stage.

        Returns
        -------
        logits : torch.Tensor
            ``[batch, n_classes]``.
        targets : torch.Tensor
            ``[batch, n_classes]`` (mixed in training).
        """
        batch = batch.to(self.device)
        wavs, wav_lens = batch.sig
        targets = batch.targets.data.float()
        if stage == sb.Stage.TRAIN:
            if self.hparams.roll_mag_aug:
                wavs = roll_mag_aug(wavs, wav_lens)
            # Partner waveforms are zero-padded / cut to each example's
            # length (the fbank reads only the first wav_lens samples).
            wavs, targets, _ = mixup(
                wavs,
                targets,
                alpha=self.hparams.mixup_alpha,
                prob=self.hparams.mixup_prob,
            )
        feats = self.fbank(wavs, wav_lens)
        if stage == sb.Stage.TRAIN:
            feats = self.hparams.spec_augment(feats)
            if getattr(self.hparams, "fbank_noise", False):
                feats = fbank_noise(feats)
        return self.modules.model(feats), targets

    def compute_objectives(self, predictions, batch, stage):
        """Binary cross-entropy; collects scores outside training.

        Arguments
        ---------
        predictions : tuple
            ``(logits, targets)``.
        batch : PaddedBatch
            The batch.
        stage : speechbrain.Stage
            Stage.

        Returns
        -------
        torch.Tensor
            Scalar loss.
        """
        logits, targets = predictions
        logits = logits.float()
        loss = self.classification_loss(logits, targets, stage)
        if stage != sb.Stage.TRAIN:
            self.class_stats.append(
                batch.id, self.class_scores(logits), targets
            )
        return loss

    def _loss_type(self):
        """``"bce"`` (multi-label); subclasses may also choose ``"ce"``."""
        return "bce"

    def classification_loss(self, logits, targets, stage):
        """Binary cross-entropy with logits (label smoothing in training).

        With ``_loss_type() == "ce"`` (single-label subclasses), the
        cross-entropy over the classes with soft targets instead.

        Arguments
        ---------
        logits : torch.Tensor
            ``[batch, n_classes]`` float32 logits.
        targets : torch.Tensor
            ``[batch, n_classes]`` (mixed) targets.
        stage : speechbrain.Stage
            Stage.

        Returns
        -------
        torch.Tensor
            Scalar loss.
        """
        smooth = self.hparams.label_smoothing
        if self._loss_type() == "ce":
            if stage == sb.Stage.TRAIN and smooth > 0:
                targets = targets * (1 - smooth) + smooth / targets.shape[1]
            log_probs = torch.nn.functional.log_softmax(logits, dim=-1)
            return -(targets * log_probs).sum(dim=-1).mean()
        if stage == sb.Stage.TRAIN and smooth > 0:
            targets = targets * (1 - smooth) + smooth / 2
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits, targets
        )

    def class_scores(self, logits):
        """Per-class scores kept for the metrics: sigmoid probabilities.

        Softmax probabilities with ``_loss_type() == "ce"``.

        Arguments
        ---------
        logits : torch.Tensor
            ``[batch, n_classes]`` logits.

        Returns
        -------
        torch.Tensor
            ``[batch, n_classes]``.
        """
        if self._loss_type() == "ce":
            return torch.softmax(logits, dim=-1)
        return torch.sigmoid(logits)

    def stage_metrics(self, scores, targets):
        """mAP (and the per-class APs, kept as ``last_ap``).

        Arguments
        ---------
        scores : numpy.ndarray
            ``[n_examples, n_classes]`` scores of the stage.
        targets : numpy.ndarray
            ``[n_examples, n_classes]`` targets.

        Returns
        -------
        dict
            ``{"mAP": value}``.
        """
        m, self.last_ap = mean_average_precision(scores, targets)
        return {"mAP": m}

    def on_stage_start(self, stage, epoch=None):
        """A new tracker of class scores (``self.class_stats``).

        Arguments
        ---------
        stage : speechbrain.Stage
            Stage.
        epoch : int
            Epoch.
        """
        self.class_stats = ClassificationStats(self.stage_metrics)

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Computes the metrics, logs, keeps the best checkpoint.

        The checkpoint kept is the one with the highest ``select_key``
        statistic on the validation set.

        Arguments
        ---------
        stage : speechbrain.Stage
            Stage.
        stage_loss : float
            Average loss.
        epoch : int
            Epoch.
        """
        stats = {"loss": stage_loss}
        if stage != sb.Stage.TRAIN and self.class_stats.ids:
            stats.update(self.class_stats.summarize())
        self._log_epoch(stage, epoch, stats)
        if stage == sb.Stage.VALID:
            key = self.select_key
            self.checkpointer.save_and_keep_only(
                meta={key: stats.get(key, 0.0)}, max_keys=[key]
            )
        self.last_stats = stats


class AudioMAESingleLabelBrain(AudioMAEClassifierBrain):
    """Single-label fine-tuning of the Audio-MAE encoder; reports accuracy.

    As :class:`AudioMAEClassifierBrain` (same hparams, one-hot ``targets``
    from the data pipeline, so mixup mixes them), plus ``loss_type``:
    ``"ce"`` (soft-target cross-entropy over the classes; the paper's ESC-50
    loss) or ``"bce"`` (binary cross-entropy; the paper's Speech Commands
    loss, with mixup). The best checkpoint has the highest validation
    accuracy (``acc``).

    Example
    -------
    >>> from speechbrain.dataio.batch import PaddedBatch
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEClassifierModel, AudioMAEEncoder, AudioMAEFbank)
    >>> enc = AudioMAEEncoder(grid=(4, 2), d_model=16, depth=1, num_heads=2)
    >>> hparams = {"compute_fbank": AudioMAEFbank(num_mel_bins=32, target_length=64),
    ...            "label_smoothing": 0.0, "loss_type": "ce"}
    >>> brain = AudioMAESingleLabelBrain(
    ...     {"model": AudioMAEClassifierModel(enc, n_classes=4)},
    ...     hparams=hparams, run_opts={"device": "cpu"})
    >>> batch = PaddedBatch([
    ...     {"id": "a", "sig": torch.randn(8000), "targets": multi_hot([0], 4)},
    ...     {"id": "b", "sig": torch.randn(8000), "targets": multi_hot([3], 4)}])
    >>> brain.on_stage_start(sb.Stage.TEST)
    >>> loss = brain.evaluate_batch(batch, sb.Stage.TEST)
    >>> round(float(loss), 2)  # ~log(4) at init
    1.39
    >>> scores = torch.stack(brain.class_stats.scores)
    >>> bool(torch.allclose(scores.sum(dim=1), torch.ones(2)))  # softmax
    True
    >>> brain.class_stats.summarize("acc") in (0, 0.5, 1)
    True
    """

    select_key = "acc"

    def _loss_type(self):
        """``loss_type`` of the hparams, checked (``"ce"`` or ``"bce"``)."""
        loss_type = self.hparams.loss_type
        if loss_type not in ("ce", "bce"):
            raise ValueError(f"loss_type={loss_type!r}: use 'ce' or 'bce'")
        return loss_type

    def stage_metrics(self, scores, targets):
        """Top-1 accuracy.

        Arguments
        ---------
        scores : numpy.ndarray
            ``[n_examples, n_classes]`` scores of the stage.
        targets : numpy.ndarray
            ``[n_examples, n_classes]`` one-hot targets.

        Returns
        -------
        dict
            ``{"acc": value}``.
        """
        return {"acc": accuracy(scores, targets)}
