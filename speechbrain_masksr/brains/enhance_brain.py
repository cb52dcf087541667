"""SpeechBrain ``Brain`` for the MAE speech enhancers.

:class:`MAEEnhanceBrain` trains ``modules.enhancer`` (a
:class:`~speechbrain_masksr.lobes.mae_enhancer.MAEEnhancer`) on batches of
``input_sig`` / ``target_sig`` made by
:func:`speechbrain_masksr.data.enhancement.enhancement_dataset` - noisy ->
clean (supervised enhancement) or augmented -> before-augmentation
(self-supervised universal-enhancer pretraining); the Brain does not know
which.

* TRAIN: the enhancer's loss, with its training-time masking.
* VALID / TEST: the loss on all patches without masking and, for STFT
  enhancers (waveform by inverse STFT), SI-SDR of the enhanced crop and of
  the input through SpeechBrain ``MetricStats``; checkpoints keep the
  lowest validation loss.
* Fine-tuning: ``pretrained_path`` (an ``enhancer.ckpt`` of a pretraining
  run or model folder) initialises the parts listed in
  ``pretrained_parts`` (``encoder``, ``decoder``, ``skip``) strictly before
  training, and ``trainable_encoder_blocks`` freezes the encoder (``0``),
  all but its top N blocks (``N``) or nothing (``null``).

Authors
 * speechbrain-masksr contributors 2026
"""

import os
import random
from pathlib import Path

import numpy as np
import speechbrain as sb
import torch
from speechbrain.utils.logger import get_logger

from speechbrain_masksr.brains.masksr_brain import rank_seed
from speechbrain_masksr.metrics.stats import metric_stats
from speechbrain_masksr.utils.checkpoints import (
    load_state_dict_strict,
    read_state_dict,
)
from speechbrain_masksr.utils.files import atomic_open

__all__ = [
    "MAEEnhanceBrain",
    "export_and_report",
    "fit_enhancer",
    "load_pretrained_parts",
]

logger = get_logger(__name__)

PARTS = ("encoder", "decoder", "skip")
DEFAULT_SCORES = ("pesq", "estoi", "si_sdr", "dnsmos_ovrl")


def load_pretrained_parts(enhancer, path, parts=("encoder",)):
    """Initialise parts of an enhancer from a saved enhancer state dict.

    Each part is loaded strictly (every key and shape must match), so a
    pretraining run with another grid or width fails with the names.

    Arguments
    ---------
    enhancer : MAEEnhancer
        Model to initialise.
    path : str or Path
        ``enhancer.ckpt`` (``MAEEnhancer.state_dict()``).
    parts : list of str
        Among ``"encoder"``, ``"decoder"`` and ``"skip"`` (the input skip;
        all three: the whole model, e.g. to continue training it).

    Example
    -------
    >>> from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    >>> from speechbrain_masksr.lobes.spectral import CompressedSTFT
    >>> def build(variant):
    ...     return build_mae_enhancer(CompressedSTFT(512, 128), 4096, variant,
    ...         d_model=32, depth=1, num_heads=2, decoder_dim=16,
    ...         decoder_depth=1, decoder_num_heads=2)
    >>> path = str(getfixture("tmpdir") / "enhancer.ckpt")
    >>> source = build("vanilla")
    >>> torch.save(source.state_dict(), path)
    >>> target = build("complex_mask")  # another head
    >>> load_pretrained_parts(target, path, ["encoder"])
    >>> bool(torch.equal(target.mae.encoder.blocks[0].attn.qkv.weight,
    ...                  source.mae.encoder.blocks[0].attn.qkv.weight))
    True
    """
    state = read_state_dict(path)
    for part in parts:
        if part not in PARTS:
            raise ValueError(f"pretrained_parts must be among {PARTS}: {part}")
        module = (
            enhancer.skip if part == "skip" else getattr(enhancer.mae, part)
        )
        if module is None:
            raise ValueError(f"{path}: the model has no input skip to load")
        prefix = "skip." if part == "skip" else f"mae.{part}."
        sub = {
            k[len(prefix) :]: v
            for k, v in state.items()
            if k.startswith(prefix)
        }
        load_state_dict_strict(module, sub, f"{path} ({part})", f"the {part}")


class MAEEnhanceBrain(sb.Brain):
    """Trains and evaluates an MAE speech enhancer (see module docstring).

    Example
    -------
    >>> from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
    >>> from speechbrain_masksr.lobes.spectral import CompressedSTFT
    >>> enhancer = build_mae_enhancer(CompressedSTFT(512, 128), 4096,
    ...     "multiplicative", d_model=32, depth=1, num_heads=2,
    ...     decoder_dim=16, decoder_depth=1, decoder_num_heads=2)
    >>> brain = MAEEnhanceBrain({"enhancer": enhancer},
    ...     lambda p: torch.optim.Adam(p, 1e-3), run_opts={"device": "cpu"})
    >>> brain.raw_enhancer is enhancer
    True
    """

    @property
    def raw_enhancer(self):
        """The enhancer module itself (unwrapped from DDP/DP)."""
        model = self.modules.enhancer
        return model.module if hasattr(model, "module") else model

    def on_fit_start(self):
        """Per-rank seeds, pretrained parts, freezing, then SpeechBrain's."""
        rank = int(os.environ.get("RANK", 0))
        seed = rank_seed(getattr(self.hparams, "seed", 0), rank)
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        random.seed(seed)
        path = getattr(self.hparams, "pretrained_path", None)
        parts = getattr(self.hparams, "pretrained_parts", ["encoder"])
        if path:
            load_pretrained_parts(self.raw_enhancer, path, parts)
        self.raw_enhancer.set_trainable_encoder(
            getattr(self.hparams, "trainable_encoder_blocks", None)
        )
        params = list(self.raw_enhancer.parameters())
        logger.info(
            "enhancer: %s; %.2f M of %.2f M parameters trainable",
            f"{parts} from {path}" if path else "trained from scratch",
            sum(p.numel() for p in params if p.requires_grad) / 1e6,
            sum(p.numel() for p in params) / 1e6,
        )
        super().on_fit_start()  # recovers the RNG state after the seeding

    def init_optimizers(self):
        """Optimizer over the trainable parameters only."""
        params = [p for p in self.modules.parameters() if p.requires_grad]
        self.optimizer = self.opt_class(params)
        self.optimizers_dict = {"opt_class": self.optimizer}
        if self.checkpointer is not None:
            self.checkpointer.add_recoverable("optimizer", self.optimizer)

    def compute_forward(self, batch, stage):
        """Enhance the input crops (masking only in training).

        Arguments
        ---------
        batch : PaddedBatch
            ``input_sig``, ``target_sig``.
        stage : sb.Stage
            The stage.

        Returns
        -------
        dict
            The enhancer's output.
        """
        batch = batch.to(self.device)
        inputs, _ = batch.input_sig
        mask_ratio = None if stage == sb.Stage.TRAIN else 0.0
        return self.modules.enhancer(inputs, mask_ratio=mask_ratio)

    def compute_objectives(self, predictions, batch, stage):
        """Enhancer loss; SI-SDR of enhanced and input crops (evaluation).

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
            The loss.
        """
        targets, lens = batch.target_sig
        loss = self.raw_enhancer.loss(predictions, targets)
        if stage != sb.Stage.TRAIN and not self.raw_enhancer.needs_vocoder:
            inputs, _ = batch.input_sig
            with torch.no_grad():
                est = self.raw_enhancer.waveform(predictions, inputs)
            self.si_sdr.append(batch.id, est.cpu(), targets.cpu(), lens.cpu())
            self.si_sdr_input.append(
                batch.id, inputs.cpu(), targets.cpu(), lens.cpu()
            )
        return loss

    def on_stage_start(self, stage, epoch=None):
        """Reset the metric trackers.

        Arguments
        ---------
        stage : sb.Stage
            The stage.
        epoch : int, optional
            The epoch.
        """
        if stage != sb.Stage.TRAIN:
            rate = self.raw_enhancer.sample_rate
            self.si_sdr = metric_stats("si_sdr", rate)
            self.si_sdr_input = metric_stats("si_sdr", rate)

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Log, anneal the learning rate, checkpoint on the validation loss.

        An optional ``lr_annealing`` hparam (an epoch-indexed SpeechBrain
        scheduler such as ``LinearScheduler``) sets the learning rate of
        the next epoch.

        Arguments
        ---------
        stage : sb.Stage
            The stage.
        stage_loss : float
            Mean loss.
        epoch : int, optional
            The epoch.
        """
        stats = {"loss": float(stage_loss)}
        if stage == sb.Stage.TRAIN:
            self.train_stats = stats
            return
        if not self.raw_enhancer.needs_vocoder and self.si_sdr.scores:
            stats["si_sdr"] = float(self.si_sdr.summarize("average"))
            stats["si_sdr_input"] = float(
                self.si_sdr_input.summarize("average")
            )
        self.last_stats = stats
        if stage == sb.Stage.VALID:
            lr = self.optimizer.param_groups[0]["lr"]
            annealing = getattr(self.hparams, "lr_annealing", None)
            if annealing is not None:
                _, next_lr = annealing(epoch)
                sb.nnet.schedulers.update_learning_rate(self.optimizer, next_lr)
            self.hparams.train_logger.log_stats(
                stats_meta={"epoch": epoch, "lr": lr},
                train_stats=getattr(self, "train_stats", None),
                valid_stats=stats,
            )
            self.checkpointer.save_and_keep_only(
                meta={"loss": stats["loss"]}, min_keys=["loss"]
            )
        else:
            self.hparams.train_logger.log_stats(
                stats_meta={"Epoch loaded": self.hparams.epoch_counter.current},
                test_stats=stats,
            )

    @torch.no_grad()
    def enhance_and_score(
        self, dataset, out_folder, vocoder=None, metrics=DEFAULT_SCORES
    ):
        """Enhance whole files, write them, score them against the targets.

        Writes ``<out_folder>/{input,enhanced,target}/<id>.wav`` (at the
        model's rate) and returns the mean scores of the unprocessed input
        and of the enhanced audio (SpeechBrain ``MetricStats`` per metric).

        Arguments
        ---------
        dataset : DynamicItemDataset
            ``"test"``-stage items (whole files).
        out_folder : str or Path
            Output folder.
        vocoder : Vocoder, optional
            For mel-to-mel enhancers.
        metrics : list of str
            Metric columns (see :func:`speechbrain_masksr.metrics.stats
            .metric_stats`).

        Returns
        -------
        dict
            ``{"Unprocessed": {metric: mean}, "Enhanced": {...}}``.
        """
        from speechbrain_masksr.dataio import save_audio
        from speechbrain_masksr.inference.enhancement import enhance_waveform

        enhancer = self.raw_enhancer.eval()
        rate = enhancer.sample_rate
        overlap = round(float(self.hparams.overlap_seconds) * rate)
        stats = {
            system: {m: metric_stats(m, rate) for m in metrics}
            for system in ("Unprocessed", "Enhanced")
        }
        folder = Path(out_folder)
        for item in dataset:
            uid = item["id"]
            noisy = item["input_sig"].to(self.device)
            clean = item["target_sig"]
            enhanced = enhance_waveform(
                enhancer, noisy, vocoder=vocoder, overlap=overlap
            ).cpu()
            outputs = {
                "input": noisy.cpu(),
                "enhanced": enhanced,
                "target": clean,
            }
            for name, wav in outputs.items():
                save_audio(str(folder / name / f"{uid}.wav"), wav, rate)
            for system, wav in (
                ("Unprocessed", noisy.cpu()),
                ("Enhanced", enhanced),
            ):
                for metric in metrics:
                    stats[system][metric].append([uid], wav[None], clean[None])
        return {
            system: {m: float(s.summarize("average")) for m, s in row.items()}
            for system, row in stats.items()
        }


def export_and_report(brain, hparams, test_set):
    """Best checkpoint -> scored test files, ``metrics.md``, model folder.

    Runs on the main process only: loads the lowest-validation-loss
    checkpoint, enhances and scores ``test_set`` with
    :meth:`MAEEnhanceBrain.enhance_and_score` (vocoder: ``hparams
    ["vocoder"]`` when the YAML has one), writes the Markdown table to
    ``<output_folder>/metrics.md`` and exports the model folder to
    ``export_folder`` (replacing the previous export of this run).

    Arguments
    ---------
    brain : MAEEnhanceBrain
        The trained Brain.
    hparams : dict
        Recipe hyperparameters (``output_folder``, ``enhanced_folder``,
        ``export_folder`` and the model keys of the template).
    test_set : DynamicItemDataset
        Whole-file items.

    Returns
    -------
    dict or None
        The scores on the main process.

    Example
    -------
    >>> # In a recipe, after ``brain.fit(...)``:
    >>> # export_and_report(brain, hparams, datasets["test"])
    >>> callable(export_and_report)
    True
    """
    from speechbrain.utils.distributed import if_main_process

    from speechbrain_masksr.inference.enhancement import write_enhancer_folder
    from speechbrain_masksr.metrics.compute import metrics_table

    if not if_main_process():
        return None
    brain.checkpointer.recover_if_possible(min_key="loss")
    scores = brain.enhance_and_score(
        test_set, hparams["enhanced_folder"], vocoder=hparams.get("vocoder")
    )
    table = metrics_table(
        {k: {"files": len(test_set), **v} for k, v in scores.items()}
    )
    path = Path(hparams["output_folder"]) / "metrics.md"
    with atomic_open(path) as fout:
        fout.write(table + "\n")
    print(table)
    folder = write_enhancer_folder(
        hparams["export_folder"], brain.raw_enhancer, hparams, overwrite=True
    )
    print(f"model folder: {folder}")
    return scores


def fit_enhancer(hparams, run_opts, datasets):
    """Train on ``datasets["train"]``, validate, then export and report.

    The whole training part of the enhancement recipes: builds
    :class:`MAEEnhanceBrain` from the recipe YAML (``modules``,
    ``opt_class``, ``checkpointer``, ``epoch_counter``,
    ``train_dataloader_opts``, ``valid_dataloader_opts``), fits it and runs
    :func:`export_and_report` on ``datasets["test"]``.

    Arguments
    ---------
    hparams : dict
        Loaded recipe YAML.
    run_opts : dict
        SpeechBrain run options.
    datasets : dict
        ``train``, ``valid`` and ``test`` datasets of
        :func:`speechbrain_masksr.data.enhancement.enhancement_dataset`.

    Returns
    -------
    MAEEnhanceBrain
        The trained Brain.

    Example
    -------
    >>> # In a recipe: fit_enhancer(hparams, run_opts, datasets)
    >>> callable(fit_enhancer)
    True
    """
    brain = MAEEnhanceBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs=hparams["train_dataloader_opts"],
        valid_loader_kwargs=hparams["valid_dataloader_opts"],
    )
    export_and_report(brain, hparams, datasets["test"])
    return brain
