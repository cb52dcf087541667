"""DDP evaluation of the MaskSR DNS recipe: test sets split across ranks.

A tiny model is trained on one process and tested there; the same
checkpoint is then tested by two gloo processes under ``torchrun``
(``--test_only``), each restoring its share of every test set. The metrics
table (and its JSON) and the restored files must equal the single-process
ones.

Authors
 * speechbrain-masksr contributors 2026
"""

import json
import shutil
import sys

import pytest
import test_masksr_recipe as recipe  # pytest puts this folder on sys.path

SETS = "--test_sets=[test,test_no_reverb,test_real]"


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """A mini corpus with several clips in every test set."""
    from mini_corpus import make_mini_corpus

    from speechbrain_masksr.codecs.dac import save_tiny_dac

    root = tmp_path_factory.mktemp("masksr_ddp_eval")
    make_mini_corpus(
        root / "corpus",
        n_speech=10,
        n_noise=2,
        n_rir=2,
        n_test=3,
        n_real=3,
        min_duration=1.1,
        max_duration=1.3,
        seed=1,
    )
    return {
        "data": str(root / "corpus"),
        "dac": save_tiny_dac(root / "dac.pth"),
        "tokens": str(root / "tokens"),
    }


def test_two_process_test_stage_equals_one_process(assets, tmp_path):
    out = tmp_path / "out"
    common = [*recipe._common(assets, out), SETS]
    recipe._run([sys.executable, recipe.TRAIN, recipe.HPARAMS, *common])
    single = json.loads((out / "test_metrics.json").read_text())
    single_md = (out / "test_metrics.md").read_text()
    shutil.move(out / "restored", tmp_path / "restored_single")

    recipe._run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            recipe.TRAIN,
            recipe.HPARAMS,
            *common,
            "--test_only",
            "--device=cpu",
            "--distributed_backend=gloo",
        ]
    )
    ddp = json.loads((out / "test_metrics.json").read_text())
    assert ddp == single
    assert (out / "test_metrics.md").read_text() == single_md
    for name in ("test", "test_no_reverb", "test_real"):
        assert single[name]["clips"] >= 2, name  # both ranks had clips
    # every file restored once (by the rank that restored it), the same
    restored = sorted(
        p.relative_to(out / "restored")
        for p in (out / "restored").rglob("*.wav")
    )
    reference = sorted(
        p.relative_to(tmp_path / "restored_single")
        for p in (tmp_path / "restored_single").rglob("*.wav")
    )
    assert restored == reference and restored
    for rel in restored:
        a = (out / "restored" / rel).read_bytes()
        assert a == (tmp_path / "restored_single" / rel).read_bytes(), rel
