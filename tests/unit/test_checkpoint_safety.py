"""Training survives a kill at any moment, including during a save.

* :class:`SafeCheckpointer` skips a damaged newest checkpoint (truncated
  or missing parameter file, empty or missing ``CKPT.yaml``) with a warning
  naming it, and recovers the newest (or best) valid one;
* a save killed mid-way leaves no ``CKPT+*`` folder (only a hidden one,
  removed by the next save);
* a deletion killed mid-way leaves no half-removed ``CKPT+*`` folder (only
  a hidden ``.deleting-*`` one, removed at the next start);
* resuming when every checkpoint is damaged stops with an error naming them
  (no silent fresh start); an empty ``save/`` starts afresh;
* :class:`RNGState` round-trips the random generators, so a run killed and
  resumed at an epoch boundary gives the uninterrupted run's losses;
* ``recipes/DNS/export_model.py`` picks a valid checkpoint too.

Authors
 * speechbrain-masksr contributors 2026
"""

import importlib.util
import logging
import multiprocessing
import os
import random
import re
import shutil
import signal
import warnings
from pathlib import Path

import numpy as np
import pytest
import speechbrain as sb
import torch
from speechbrain.utils.checkpoints import Checkpointer
from speechbrain.utils.epoch_loop import EpochCounter

from speechbrain_masksr.errors import ModelFileError
from speechbrain_masksr.utils import checkpoints as checkpoints_module
from speechbrain_masksr.utils.checkpoints import RNGState, SafeCheckpointer

ROOT = Path(__file__).resolve().parents[2]


def _checkpointer(folder, lin=None, **kw):
    lin = lin if lin is not None else torch.nn.Linear(3, 2)
    opt = torch.optim.Adam(lin.parameters())
    lin(torch.ones(1, 3)).sum().backward()
    opt.step()  # an optimizer with state
    return SafeCheckpointer(
        folder, {"model": lin, "optimizer": opt, "rng": RNGState()}, **kw
    )


def _damage(ckpt, how, model="model"):
    if how == "truncated model":
        path = ckpt.path / f"{model}.ckpt"
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif how == "empty model":
        (ckpt.path / f"{model}.ckpt").write_bytes(b"")
    elif how == "no optimizer":
        (ckpt.path / "optimizer.ckpt").unlink()
    elif how == "empty CKPT.yaml":
        (ckpt.path / "CKPT.yaml").write_text("")
    elif how == "truncated CKPT.yaml":
        (ckpt.path / "CKPT.yaml").write_text("# yamllint disable\nend-of-ep")
    elif how == "no CKPT.yaml":
        (ckpt.path / "CKPT.yaml").unlink()


DAMAGES = [
    "truncated model",
    "empty model",
    "no optimizer",
    "empty CKPT.yaml",
    "truncated CKPT.yaml",
    "no CKPT.yaml",
]


@pytest.mark.parametrize("how", DAMAGES)
def test_damaged_newest_checkpoint_is_skipped_with_a_warning(tmp_path, how):
    lin = torch.nn.Linear(3, 2)
    ckpter = _checkpointer(tmp_path, lin)
    good = ckpter.save_checkpoint(meta={"loss": 2.0})
    weights = lin.weight.detach().clone()
    with torch.no_grad():
        lin.weight.add_(1.0)
    bad = ckpter.save_checkpoint(meta={"loss": 1.0})
    _damage(bad, how)
    # a fresh process (a restart) recovers the older valid one
    lin2 = torch.nn.Linear(3, 2)
    ckpter2 = _checkpointer(tmp_path, lin2)
    with pytest.warns(UserWarning, match=re.escape(bad.path.name)) as caught:
        assert ckpter2.recover_if_possible().path == good.path
    assert torch.equal(lin2.weight, weights)
    assert "Skipping the damaged checkpoint" in str(caught[0].message)
    # the best by a meta key, among the valid ones; warned only once
    assert ckpter2.recover_if_possible(min_key="loss").path == good.path
    assert ckpter2.find_checkpoint(max_key="loss").path == good.path


def test_truncated_file_that_passes_the_checks_is_skipped_on_load(tmp_path):
    # an old-format (non-zip) torch file cut short: only torch.load notices
    lin = torch.nn.Linear(3, 2)
    ckpter = _checkpointer(tmp_path, lin)
    good = ckpter.save_checkpoint()
    bad = ckpter.save_checkpoint()
    path = bad.path / "model.ckpt"
    torch.save(lin.state_dict(), path, _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:-20])
    ckpter2 = _checkpointer(tmp_path)
    with pytest.warns(
        UserWarning, match=re.escape(f"{bad.path.name}: cannot be read")
    ):
        assert ckpter2.recover_if_possible().path == good.path
    # every checkpoint unreadable: an error, not a silent fresh start
    good_path = good.path / "model.ckpt"
    good_path.write_bytes(path.read_bytes())
    with (
        pytest.warns(UserWarning),
        pytest.raises(ModelFileError, match="no checkpoint could be loaded"),
    ):
        _checkpointer(tmp_path).recover_if_possible()


def test_a_model_that_does_not_fit_still_raises(tmp_path):
    """Not a damaged checkpoint: a configuration error is not skipped."""
    _checkpointer(tmp_path).save_checkpoint()
    with pytest.raises(RuntimeError, match="size mismatch"):
        _checkpointer(tmp_path, torch.nn.Linear(3, 5)).recover_if_possible()


def test_checkpoints_without_rng_state_still_load(tmp_path):
    lin = torch.nn.Linear(3, 2)
    Checkpointer(tmp_path, {"model": lin}).save_checkpoint()
    lin2 = torch.nn.Linear(3, 2)
    ckpter = SafeCheckpointer(tmp_path, {"model": lin2, "rng": RNGState()})
    with pytest.warns(UserWarning, match="rng"):
        assert ckpter.recover_if_possible() is not None
    assert torch.equal(lin2.weight, lin.weight)


def _killed_save(folder):
    """Save a checkpoint and die (SIGKILL) after writing part of it."""

    def dying_save(obj, path):
        Path(path).write_bytes(b"PK\x03\x04partial")
        os.kill(os.getpid(), signal.SIGKILL)

    ckpter = _checkpointer(folder)
    ckpter.add_recoverable("z_last", torch.nn.Linear(1, 1), None, dying_save)
    ckpter.save_checkpoint(meta={"loss": 0.0})


def test_save_killed_midway_leaves_no_checkpoint(tmp_path):
    ckpter = _checkpointer(tmp_path)
    good = ckpter.save_checkpoint(meta={"loss": 1.0})
    child = multiprocessing.get_context("fork").Process(
        target=_killed_save, args=(tmp_path,)
    )
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    (left,) = [p for p in tmp_path.iterdir() if p != good.path]
    assert left.name.startswith(".tmp-CKPT+")
    assert (left / "model.ckpt").is_file()  # the save was under way
    # SpeechBrain's own Checkpointer does not see it either
    for ck in (_checkpointer(tmp_path), Checkpointer(tmp_path)):
        assert [c.path for c in ck.list_checkpoints()] == [good.path]
        assert [c.path for c in ck.find_checkpoints()] == [good.path]
    assert _checkpointer(tmp_path).recover_if_possible().path == good.path
    # the next save removes the leftover
    new = _checkpointer(tmp_path).save_checkpoint()
    assert sorted(tmp_path.iterdir()) == sorted([good.path, new.path])


def test_save_failing_midway_leaves_nothing(tmp_path):
    ckpter = _checkpointer(tmp_path)
    good = ckpter.save_checkpoint()

    def failing_save(obj, path):
        Path(path).write_bytes(b"partial")
        raise OSError("disk full")

    ckpter.add_recoverable("z_last", torch.nn.Linear(1, 1), None, failing_save)
    with pytest.raises(OSError, match="disk full"):
        ckpter.save_checkpoint()
    assert list(tmp_path.iterdir()) == [good.path]
    assert ckpter.list_checkpoints() == [good]


def test_rng_state_round_trip(tmp_path):
    ckpter = SafeCheckpointer(tmp_path, {"rng": RNGState()})
    torch.manual_seed(3)
    np.random.seed(3)
    random.seed(3)
    np.random.randn()  # numpy's cached Gaussian is part of the state
    ckpter.save_checkpoint()

    def draw():
        return (
            torch.rand(3).tolist(),
            np.random.randn(3).tolist(),
            random.random(),
            random.gauss(0, 1),
        )

    first = draw()
    torch.manual_seed(99)
    np.random.seed(99)
    random.seed(99)
    assert ckpter.recover_if_possible() is not None
    assert draw() == first
    # loaded with weights_only=True (no pickled numpy objects)
    state = torch.load(tmp_path.glob("CKPT+*/rng.ckpt").__next__())
    assert set(state) >= {"torch", "numpy_keys", "python_internal"}


class TinyBrain(sb.Brain):
    """Linear regression on data drawn inside the batch from every RNG."""

    def on_fit_start(self):
        torch.manual_seed(7)  # re-seeds per rank, as the package's Brains
        np.random.seed(7)
        random.seed(7)
        super().on_fit_start()

    def compute_forward(self, batch, stage):
        x = torch.rand(4, 3)
        return self.modules.lin(x), x

    def compute_objectives(self, predictions, batch, stage):
        out, x = predictions
        noise = 0.1 * np.random.randn() + 0.1 * random.random()
        target = x.sum(dim=-1, keepdim=True) + noise
        return ((out - target) ** 2).mean()

    def on_stage_end(self, stage, stage_loss, epoch=None):
        if stage == sb.Stage.TRAIN:
            self.losses.append(stage_loss)
        else:  # saved after validation, as in the recipes
            self.checkpointer.save_and_keep_only(meta={"loss": stage_loss})


def _train(folder, epochs, rng=True):
    """One launch: a fresh process's objects, resumed from ``folder``."""
    torch.manual_seed(0)
    lin = torch.nn.Linear(3, 1)
    counter = EpochCounter(limit=epochs)
    recoverables = {"lin": lin, "counter": counter}
    if rng:
        recoverables["rng_state"] = RNGState()
    brain = TinyBrain(
        modules={"lin": lin},
        opt_class=lambda params: torch.optim.Adam(params, lr=0.05),
        run_opts={"device": "cpu", "noprogressbar": True},
        checkpointer=SafeCheckpointer(folder, recoverables),
    )
    brain.losses = []
    data = torch.utils.data.DataLoader(torch.zeros(5, 1), batch_size=1)
    brain.fit(counter, data, data)
    return brain.losses


def test_resumed_training_reproduces_the_uninterrupted_losses(tmp_path):
    ref = _train(tmp_path / "ref", 4)
    assert len(ref) == 4
    first = _train(tmp_path / "run", 2)
    second = _train(tmp_path / "run", 4)
    assert first + second == ref
    # without the RNG state the resumed epochs draw other numbers
    _train(tmp_path / "norng", 2, rng=False)
    assert _train(tmp_path / "norng", 4, rng=False) != ref[2:]


def _only_checkpoint(folder):
    (path,) = folder.glob("CKPT+*")
    return SafeCheckpointer(folder).list_checkpoints()[0]._replace(path=path)


def _copy_checkpoint(ckpt, name, newer=True):
    """A copy of ``ckpt`` in ``CKPT+<name>``, one second newer (or older)."""
    copy = ckpt.path.with_name(f"CKPT+{name}")
    shutil.copytree(ckpt.path, copy)
    meta = copy / "CKPT.yaml"
    unixtime = ckpt.meta["unixtime"] + (1 if newer else -1)
    text = re.sub(r"unixtime: .*", f"unixtime: {unixtime}", meta.read_text())
    meta.write_text(text)
    return ckpt._replace(path=copy)


def _no_training(monkeypatch):
    def fit_batch(self, batch):
        raise AssertionError("training started")

    monkeypatch.setattr(TinyBrain, "fit_batch", fit_batch)


def _contents(folder):
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("how", DAMAGES)
def test_all_checkpoints_damaged_stops_before_training(
    tmp_path, monkeypatch, how
):
    save = tmp_path / "save"
    _train(save, 2)
    first = _only_checkpoint(save)
    second = _copy_checkpoint(first, "second")
    _damage(first, how, model="lin")
    _damage(second, "empty model", model="lin")
    before = _contents(save)
    _no_training(monkeypatch)
    with (
        pytest.warns(UserWarning, match="Skipping the damaged checkpoint"),
        pytest.raises(ModelFileError) as err,
    ):
        _train(save, 4)
    message = str(err.value)
    assert f"no checkpoint could be loaded from {save}" in message
    # names every damaged folder, with its problem
    assert f"{first.path}: " in message
    assert f"{second.path}: lin.ckpt is empty" in message
    # and the way to start afresh
    assert f"move these folders out of {save}" in message
    assert str(tmp_path / "damaged_checkpoints") in message
    assert "new output folder (the output_folder setting)" in message
    # nothing was trained, saved or deleted
    assert _contents(save) == before


def test_empty_save_folder_starts_afresh(tmp_path, caplog):
    save = tmp_path / "save"
    save.mkdir()
    ref = _train(tmp_path / "ref", 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with caplog.at_level(logging.INFO):
            assert _train(save, 2) == ref  # epochs 1 and 2
    assert not [w for w in caught if issubclass(w.category, UserWarning)]
    assert "none found yet" in caplog.text
    assert len(list(save.glob("CKPT+*"))) == 1


def test_one_good_and_one_damaged_resumes_from_the_good_one(tmp_path):
    ref = _train(tmp_path / "ref", 4)
    save = tmp_path / "save"
    _train(save, 2)
    good = _only_checkpoint(save)
    bad = _copy_checkpoint(good, "newer")  # the newest, hence preferred
    _damage(bad, "truncated model", model="lin")
    with pytest.warns(UserWarning, match=re.escape(bad.path.name)):
        assert _train(save, 4) == ref[2:]  # epochs 3 and 4, from the good
    assert bad.path.is_dir()  # damaged folders are never deleted


def _killed_deletion(folder):
    """Train 2 epochs; die (SIGKILL) while deleting epoch 1's checkpoint."""

    def dying_rmtree(path, *args, **kwargs):
        path = Path(path)
        if path.name.startswith(".deleting-"):
            (path / "lin.ckpt").unlink()  # part of it removed
            os.kill(os.getpid(), signal.SIGKILL)
        shutil.rmtree(path, *args, **kwargs)

    checkpoints_module.shutil.rmtree = dying_rmtree  # in this child only
    _train(folder, 2)


def test_deletion_killed_midway_is_cleaned_up_at_the_next_start(
    tmp_path, caplog
):
    ref = _train(tmp_path / "ref", 4)
    save = tmp_path / "save"
    child = multiprocessing.get_context("fork").Process(
        target=_killed_deletion, args=(save,)
    )
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    # the half-removed folder is hidden; the epoch-2 checkpoint is whole
    (left,) = save.glob(".deleting-CKPT+*")
    assert (left / "CKPT.yaml").is_file() and not (left / "lin.ckpt").exists()
    (kept,) = save.glob("CKPT+*")
    assert [c.path for c in SafeCheckpointer(save).list_checkpoints()] == [kept]
    # the next start removes it (an info log, no warning) and resumes
    for epochs, expected in ((3, ref[2:3]), (4, ref[3:])):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with caplog.at_level(logging.INFO):
                assert _train(save, epochs) == expected
        assert not [w for w in caught if issubclass(w.category, UserWarning)]
        assert not list(save.glob(".*"))
    assert f"Removing {left}, left by an interrupted deletion" in caplog.text
    assert caplog.text.count("interrupted deletion") == 1


def test_deletion_renames_the_folder_before_removing_it(tmp_path, monkeypatch):
    ckpter = _checkpointer(tmp_path)
    old = ckpter.save_checkpoint()
    new = ckpter.save_checkpoint()
    removed = []
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):
        removed.append(Path(path).name)
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(checkpoints_module.shutil, "rmtree", rmtree)
    ckpter.delete_checkpoints(num_to_keep=1)
    assert removed == [f".deleting-{old.path.name}"]
    assert list(tmp_path.iterdir()) == [new.path]
    # a leftover of an earlier deletion of the same name does not block
    named = ckpter.save_checkpoint(name="x")
    (tmp_path / ".deleting-CKPT+x").mkdir()
    ckpter.delete_checkpoints(num_to_keep=0)
    assert list(tmp_path.iterdir()) == []
    assert not named.path.exists()


def test_half_removed_folder_of_the_old_deletion_does_not_block(tmp_path):
    """As the previous version left it: a plain rmtree killed mid-way."""
    ref = _train(tmp_path / "ref", 4)
    save = tmp_path / "save"
    _train(save, 2)
    good = _only_checkpoint(save)
    for left in ("CKPT.yaml", "lin.ckpt"):  # whatever rmtree removed first
        half = _copy_checkpoint(good, f"half-{left}", newer=False)
        for path in half.path.iterdir():
            if path.name != left:
                path.unlink()
    empty = save / "CKPT+emptied"
    empty.mkdir()  # removed once its files were gone
    with pytest.warns(UserWarning, match="half-"):
        assert _train(save, 4) == ref[2:]
    assert not empty.exists()  # held nothing: removed


def test_empty_checkpoint_folders_alone_start_afresh(tmp_path, caplog):
    (tmp_path / "CKPT+empty").mkdir()
    (tmp_path / ".deleting-CKPT+old").mkdir()
    ckpter = _checkpointer(tmp_path)
    with caplog.at_level(logging.INFO):
        assert ckpter.recover_if_possible() is None
    assert list(tmp_path.iterdir()) == []
    assert "it is empty" in caplog.text and "none found yet" in caplog.text


def _export_module():
    """recipes/DNS/export_model.py as a module (recipes are not a package)."""
    path = ROOT / "recipes/DNS/export_model.py"
    spec = importlib.util.spec_from_file_location("export_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_skips_a_damaged_newest_checkpoint(tmp_path, capsys):
    export = _export_module()
    ckpter = _checkpointer(tmp_path)
    old = ckpter.save_checkpoint(meta={"loss": 2.0})
    best = ckpter.save_checkpoint(meta={"loss": 1.0})
    new = ckpter.save_checkpoint(meta={"loss": 0.5})
    _damage(new, "truncated model")
    with pytest.warns(UserWarning, match=re.escape(new.path.name)):
        assert export.find_checkpoint(tmp_path) == best.path  # lowest loss
    # export needs only model.ckpt: a checkpoint without an optimizer is fine
    (best.path / "optimizer.ckpt").unlink()
    assert export.find_checkpoint(tmp_path, max_key="loss") == old.path
    assert export.find_checkpoint(tmp_path, min_key="loss") == best.path
    (best.path / "model.ckpt").unlink()
    (old.path / "CKPT.yaml").write_text("")
    with (
        pytest.warns(UserWarning),
        pytest.raises(export.ExportError, match="no valid CKPT"),
    ):
        export.find_checkpoint(tmp_path)
