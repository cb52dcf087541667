"""MaskSR training length, batch and interruption handling.

* the published defaults of ``hparams/masksr.yaml`` / ``masksr_m.yaml``
  (Adam, lr 1e-4, effective batch 64 / 256, 3 s segments, 800 k optimizer
  steps, intra-epoch checkpoints);
* the effective-batch check and the run-option helpers of
  :mod:`speechbrain_masksr.utils.training`; ``--ckpt_interval_steps=N``
  alone replaces the YAML's ``ckpt_interval_minutes``;
* a step-limited run of :class:`MaskSRBrain` stops at the step limit, and a
  run interrupted mid-epoch resumes from its intra-epoch checkpoint at the
  same optimizer step, batch and learning-rate step as an uninterrupted one,
  and a run killed at an epoch boundary resumes with the same losses (the
  random generators are in the checkpoints).

Authors
 * speechbrain-masksr contributors 2026
"""

from pathlib import Path

import pytest
import speechbrain as sb
import torch
import yaml
from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.nnet.schedulers import WarmAndExpDecayLRSchedule
from speechbrain.utils.epoch_loop import EpochCounter
from speechbrain.utils.train_logger import FileTrainLogger

from speechbrain_masksr.augment.pipeline import VOICEFIXER_ORDER
from speechbrain_masksr.brains.masksr_brain import MaskSRBrain
from speechbrain_masksr.data.speakers import EVALUATION_SPEAKERS
from speechbrain_masksr.errors import ConfigError
from speechbrain_masksr.lobes.masksr import build_masksr
from speechbrain_masksr.utils.checkpoints import RNGState, SafeCheckpointer
from speechbrain_masksr.utils.training import (
    check_effective_batch,
    ckpt_interval_options,
    effective_batch,
    int_step_limit,
    run_option,
)

ROOT = Path(__file__).resolve().parents[2]


class _TagLoader(yaml.SafeLoader):
    """Reads HyperPyYAML without building objects: tags become plain data."""


def _tagged(loader, suffix, node):
    tag = "!" + suffix
    if isinstance(node, yaml.MappingNode):
        return {"__tag__": tag, **loader.construct_mapping(node, deep=True)}
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return f"{tag} {loader.construct_scalar(node)}".strip()


_TagLoader.add_multi_constructor("!", _tagged)


def _yaml(name):
    with open(ROOT / "hparams" / name, encoding="utf-8") as fin:
        return yaml.load(fin, Loader=_TagLoader)


@pytest.mark.parametrize(
    "name, batch", [("masksr.yaml", 64), ("masksr_m.yaml", 256)]
)
def test_published_training_defaults(name, batch):
    hp = _yaml(name)
    # Adam, lr 1e-4, no weight decay
    assert hp["opt_class"]["__tag__"] == "!name:torch.optim.Adam"
    assert hp["lr"] == 0.0001 and hp["opt_class"]["lr"] == "!ref <lr>"
    assert "weight_decay" not in hp["opt_class"]
    # warm-up then the constant published rate (our warm-up)
    assert hp["lr_decay"] == 1.0
    assert hp["lr_scheduler"]["decay_factor"] == "!ref <lr_decay>"
    # 64 (S) / 256 (M) segments of 3 s per optimizer step, on one device
    assert hp["effective_batch_size"] == batch
    assert hp["segment_seconds"] == 3.0 and hp["sample_rate"] == 44100
    assert (
        effective_batch(hp["batch_size"], hp["grad_accumulation_factor"])
        == batch
    )
    assert hp["train_dataloader_opts"]["batch_size"] == "!ref <batch_size>"
    # 800 k optimizer steps; the step limit and the schedule share them
    assert hp["total_steps"] == 800000
    assert hp["optimizer_step_limit"] == "!ref <total_steps>"
    assert hp["lr_scheduler"]["total_steps"] == "!ref <total_steps>"
    assert hp["number_of_epochs"] >= 10000  # an upper bound only
    # intra-epoch checkpoints (time based)
    assert hp["ckpt_interval_minutes"] > 0
    assert "ckpt_interval_steps" not in hp
    # data: DNS 2022 read speech + VCTK, AISHELL-1, evaluation speakers out
    assert hp["dns_clean_subsets"] == [
        "read_speech",
        "vctk_wav48_silence_trimmed",
    ]
    assert hp["aishell_folder"] == "!PLACEHOLDER"
    assert sorted(hp["exclude_speakers"]) == sorted(EVALUATION_SPEAKERS)
    # distortions in VoiceFixer's order, with its probabilities
    gsr = hp["distortion"]
    assert tuple(gsr["order"]) == VOICEFIXER_ORDER
    probs = {k: gsr[k] for k in gsr if k.endswith("_prob")}
    assert probs == {
        "noise_prob": 1.0,
        "noise_bandlimit_prob": 0.5,
        "reverb_prob": 0.3,
        "clip_prob": 0.2,
        "bandlimit_prob": 1.0,
    }


def test_effective_batch_check():
    assert check_effective_batch(64, 64, 1) == 64
    assert check_effective_batch(256, 64, 4) == 256
    assert check_effective_batch(64, 16, 1, processes=4) == 64
    with pytest.raises(ValueError, match=r"= 256, .*e\.g\. batch_size 16$"):
        check_effective_batch(64, 64, 1, processes=4)
    with pytest.raises(ValueError, match=r"e\.g\. grad_accumulation_factor 2$"):
        check_effective_batch(256, 64, 3, processes=2)
    with pytest.raises(ValueError, match=r"= 6, but effective_batch_size"):
        check_effective_batch(64, 3, 2)


def test_run_option_priority_and_step_limit_type():
    hp = {"grad_accumulation_factor": 4, "optimizer_step_limit": 800000}
    _, opts, _ = sb.parse_arguments(["h.yaml"])
    assert run_option("grad_accumulation_factor", hp, opts) == 4
    assert run_option("ckpt_interval_steps", hp, opts) == 0  # default
    argv = [
        "h.yaml",
        "--grad_accumulation_factor=1",
        "--optimizer_step_limit=9",
    ]
    _, opts, _ = sb.parse_arguments(argv)
    assert run_option("grad_accumulation_factor", hp, opts) == 1
    assert opts.optimizer_step_limit == "9"  # SpeechBrain 1.1 parses a str
    fixed = int_step_limit(opts)
    assert fixed.optimizer_step_limit == 9
    assert fixed.overridden_args == opts.overridden_args
    assert int_step_limit({"optimizer_step_limit": None}) == {
        "optimizer_step_limit": None
    }


def _opts(*args):
    return sb.parse_arguments(["h.yaml", *args])[1]


def test_ckpt_interval_steps_alone_replaces_the_yaml_minutes():
    hp = {
        "ckpt_interval_minutes": _yaml("masksr.yaml")["ckpt_interval_minutes"]
    }
    assert hp["ckpt_interval_minutes"] > 0
    opts = ckpt_interval_options(hp, _opts("--ckpt_interval_steps=3"))
    assert (opts.ckpt_interval_minutes, opts.ckpt_interval_steps) == (0, 3)
    assert run_option("ckpt_interval_minutes", hp, opts) == 0
    # what sb.Brain makes of it (it exits when both are positive)
    tiny = build_masksr(
        d_model=16,
        encoder_layers=1,
        lm_layers=1,
        nhead=2,
        n_codebooks=2,
        codebook_size=8,
        hop_length=512,
    )
    brain = MaskSRBrain(
        {"model": tiny},
        hparams=dict(hp, seed=1, eval_seed=2, sample_rate=44100),
        run_opts=_opts("--device=cpu", "--ckpt_interval_steps=3"),
    )
    assert (brain.ckpt_interval_minutes, brain.ckpt_interval_steps) == (0, 3)
    # the documented work-around and the other cases are unchanged
    both = _opts("--ckpt_interval_minutes=0", "--ckpt_interval_steps=3")
    assert ckpt_interval_options(hp, both) is both
    minutes = _opts("--ckpt_interval_minutes=5")
    assert ckpt_interval_options(hp, minutes) is minutes
    # --ckpt_interval_minutes alone replaces a YAML's steps likewise
    opts = ckpt_interval_options({"ckpt_interval_steps": 9}, minutes)
    assert (opts.ckpt_interval_minutes, opts.ckpt_interval_steps) == (5, 0)
    # both positive, given the same way: a clear error
    both = _opts("--ckpt_interval_minutes=5", "--ckpt_interval_steps=3")
    with pytest.raises(ConfigError, match="both set on the command line"):
        ckpt_interval_options(hp, both)
    yaml_both = dict(hp, ckpt_interval_steps=3)
    with pytest.raises(ConfigError, match="both set in the YAML"):
        ckpt_interval_options(yaml_both, _opts())


# --------------------------------------------------------------- resuming --
BATCH, ACCUM = 2, 2
N_TRAIN = 12  # 6 batches = 3 optimizer steps per epoch


class Interrupted(Exception):
    """Stands for a killed job."""


class RecordingBrain(MaskSRBrain):
    """Records the batches it trains on; can "crash" before one of them."""

    interrupt_after = None

    def on_fit_start(self):
        super().on_fit_start()
        self.started_at = (self.optimizer_step, self.step)

    def fit_batch(self, batch):
        if len(self.seen) == self.interrupt_after:
            raise Interrupted
        epoch = self.hparams.epoch_counter.current
        self.seen.append((epoch, self.step, tuple(batch.id)))
        loss = super().fit_batch(batch)
        self.losses.append(float(loss))
        return loss


def _dataset(n, prefix):
    g = torch.Generator().manual_seed(n)
    data = {
        f"{prefix}{i:02d}": {
            "degraded_sig": torch.randn(1024, generator=g),
            "clean_sig": torch.randn(1024, generator=g),
            "tokens": torch.randint(0, 8, (2, 2), generator=g),
        }
        for i in range(n)
    }
    return DynamicItemDataset(
        data, output_keys=["id", "degraded_sig", "clean_sig", "tokens"]
    )


def _fit(folder, limit, ckpt_steps=0, interrupt_after=None, argv=None):
    """One launch of a tiny step-limited training in ``folder``.

    With ``argv``, the run options are parsed from that command line (with
    ``ckpt_steps`` as ``--ckpt_interval_steps``) and the hyperparameters set
    ``ckpt_interval_minutes: 15`` as the MaskSR YAMLs do.
    """
    torch.manual_seed(0)
    model = build_masksr(
        d_model=16,
        encoder_layers=1,
        lm_layers=1,
        nhead=2,
        n_codebooks=2,
        codebook_size=8,
        hop_length=512,
    )
    counter = EpochCounter(limit=100)
    scheduler = WarmAndExpDecayLRSchedule(
        lr=1e-3, n_warmup_steps=2, total_steps=limit, decay_factor=1.0
    )
    checkpointer = SafeCheckpointer(  # as in hparams/masksr.yaml
        folder / "save",
        recoverables={
            "model": model,
            "lr_scheduler": scheduler,
            "counter": counter,
            "rng_state": RNGState(),
        },
    )
    hparams = dict(
        seed=1,
        eval_seed=2,
        sample_rate=44100,
        lr_scheduler=scheduler,
        epoch_counter=counter,
        train_logger=FileTrainLogger(folder / "log.txt"),
        valid_restore_clips=0,
    )
    run_opts = {
        "device": "cpu",
        "grad_accumulation_factor": ACCUM,
        "optimizer_step_limit": limit,
        "ckpt_interval_steps": ckpt_steps,
        "noprogressbar": True,
    }
    if argv is not None:
        hparams["ckpt_interval_minutes"] = 15
        given = [f"--{key}={value}" for key, value in run_opts.items()]
        given[-1] = "--noprogressbar"
        run_opts = int_step_limit(_opts(*given, *argv))
    brain = RecordingBrain(
        {"model": model},
        opt_class=lambda params: torch.optim.Adam(params, lr=1e-3),
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=checkpointer,
    )
    brain.seen = []
    brain.losses = []
    brain.interrupt_after = interrupt_after
    try:
        brain.fit(
            counter,
            _dataset(N_TRAIN, "t"),
            _dataset(2, "v"),
            train_loader_kwargs={"batch_size": BATCH, "shuffle": True},
            valid_loader_kwargs={"batch_size": BATCH},
        )
    except Interrupted:
        pass
    return brain


def _adam_steps(brain):
    return {int(s["step"]) for s in brain.optimizer.state.values()}


def _log_steps(folder):
    lines = (folder / "log.txt").read_text().splitlines()
    return [ln.split(", ")[:2] for ln in lines]


def test_step_limit_stops_mid_epoch_and_resume_continues_there(tmp_path):
    # uninterrupted reference: 3 steps in epoch 1, then 2 more (4 batches)
    ref = _fit(tmp_path / "ref", limit=5)
    assert ref.optimizer_step == 5
    assert [(e, s) for e, s, _ in ref.seen] == [(1, i) for i in range(1, 7)] + [
        (2, i) for i in range(1, 5)
    ]
    assert ref.hparams.lr_scheduler.current_step == 6  # 1 initial + 5
    assert _adam_steps(ref) == {5}
    assert _log_steps(tmp_path / "ref") == [
        ["epoch: 1", "steps: 3"],
        ["epoch: 2", "steps: 5"],
    ]

    # killed before the 3rd batch of epoch 2 (checkpoints every 2 batches)
    run = tmp_path / "run"
    first = _fit(run, limit=5, ckpt_steps=2, interrupt_after=8)
    assert first.seen == ref.seen[:8]
    assert first.optimizer_step == 4
    # relaunched: resumes at optimizer step 4, batch 2 of epoch 2
    second = _fit(run, limit=5, ckpt_steps=2)
    assert second.started_at == (4, 2)
    assert second.seen == ref.seen[8:]  # the same batches, in order
    assert second.optimizer_step == 5
    assert second.hparams.lr_scheduler.current_step == 6
    assert _adam_steps(second) == {5}
    assert _log_steps(run) == _log_steps(tmp_path / "ref")
    # relaunched once more: the limit is reached, nothing runs
    third = _fit(run, limit=5, ckpt_steps=2)
    assert third.started_at == (5, 0)
    assert third.seen == [] and third.optimizer_step == 5
    assert _log_steps(run) == _log_steps(tmp_path / "ref")


def test_intra_epoch_checkpoints_wait_for_the_end_of_an_accumulation(
    tmp_path,
):
    # every 3 batches would be mid-accumulation (2): saved after batch 4
    first = _fit(tmp_path, limit=5, ckpt_steps=3, interrupt_after=5)
    assert len(first.seen) == 5
    second = _fit(tmp_path, limit=5, ckpt_steps=3)
    assert second.started_at == (2, 4)
    assert [s for _, s, _ in second.seen][:2] == [5, 6]
    assert second.optimizer_step == 5


def test_resume_at_an_epoch_boundary_reproduces_the_losses(tmp_path):
    """The RNG state in the checkpoints: same masks, same losses."""
    ref = _fit(tmp_path / "ref", limit=5)
    # killed before the first batch of epoch 2 (no intra-epoch checkpoint)
    first = _fit(tmp_path / "run", limit=5, interrupt_after=6)
    assert first.losses == ref.losses[:6]
    second = _fit(tmp_path / "run", limit=5)
    assert second.started_at == (3, 0)
    assert second.losses == ref.losses[6:]


def test_ckpt_interval_steps_alone_saves_by_steps(tmp_path):
    """``--ckpt_interval_steps=2`` on the command line, the YAML's 15 min."""
    ref = _fit(tmp_path / "ref", limit=5)
    run = tmp_path / "run"
    first = _fit(run, limit=5, ckpt_steps=2, interrupt_after=8, argv=[])
    assert first.ckpt_interval_minutes == 0
    assert first.ckpt_interval_steps == 2
    ckpts = SafeCheckpointer(run / "save").list_checkpoints()
    # one intra-epoch checkpoint (saved by steps: 15 min have not passed)
    assert len([c for c in ckpts if not c.meta["end-of-epoch"]]) == 1
    second = _fit(run, limit=5, ckpt_steps=2, argv=[])
    assert second.started_at == (4, 2)  # batch 2 of epoch 2
    assert second.seen == ref.seen[8:]
