"""MaskSR input-feature ablation (paper appendix, Table 5), end to end.

``hparams/masksr_input_waveform.yaml`` (learned waveform front end) and
``hparams/masksr_input_dac.yaml`` (DAC tokens of the degraded input, no
speech encoder, 14 LM blocks, guidance 0.3):

* the full-size configs build what the paper describes;
* a tiny model of each trains with ``MaskSRBrain`` (its loss falls);
* the DAC-input Brain conditions on the codec tokens of the degraded input
  and restores with the config's guidance weight;
* a checkpoint exports (``export_model.py``) into a model folder that
  ``SpeechRestoration`` loads and restores with;
* the DNS recipe runs each config in ``--debug`` mode.

Authors
 * speechbrain-masksr contributors 2026
"""

import re
import sys
from pathlib import Path

import pytest
import speechbrain as sb
import test_masksr_recipe as recipe  # pytest puts this folder on sys.path
import torch
from helpers import speech_like
from hyperpyyaml import load_hyperpyyaml
from speechbrain.dataio.batch import PaddedBatch
from test_restoration_interface import _export_module

from speechbrain_masksr.brains.masksr_brain import MaskSRBrain
from speechbrain_masksr.codecs.dac import DACTokenizer
from speechbrain_masksr.inference import SpeechRestoration
from speechbrain_masksr.lobes.speech_encoder import (
    CodecTokenConditioner,
    SpeechEncoder,
)
from speechbrain_masksr.lobes.transformer import TransformerBlock

ROOT = Path(__file__).resolve().parents[2]
YAMLS = {
    "waveform": "hparams/masksr_input_waveform.yaml",
    "dac": "hparams/masksr_input_dac.yaml",
}
#: Tiny sizes (the keys each YAML has).
TINY = {
    "waveform": dict(encoder_layers=1, conv_channels=32),
    "dac": {},
}
SR = 44100

#: The recipe test's module-scoped fixture: mini DNS corpus + tiny DAC.
assets = recipe.assets


def load(kind, tmp_path, codec_path, **overrides):
    """Load an ablation YAML with tiny sizes (or ``full=True``)."""
    paths = {
        "data_folder": str(tmp_path / "data"),
        "codec_path": str(codec_path),
        "output_folder": str(tmp_path / "results"),
        "aishell_folder": None,
    }
    if not overrides.pop("full", False):
        paths.update(
            d_model=32,
            nhead=4,
            lm_layers=1,
            dropout=0.0,
            segment_seconds=0.5,
            sampling_steps=2,
            **TINY[kind],
        )
    paths.update(overrides)
    with open(ROOT / YAMLS[kind], encoding="utf-8") as fin:
        return load_hyperpyyaml(fin, paths), paths


def test_full_size_configs_follow_the_paper(tiny_dac_path, tmp_path):
    hp, _ = load("waveform", tmp_path, tiny_dac_path, full=True)
    enc = hp["model"].encoder
    assert isinstance(enc, SpeechEncoder) and enc.front_end == "waveform"
    conv = enc.conv
    assert (conv.in_channels, conv.out_channels) == (1, 2048)
    assert conv.kernel_size == (2048,) and conv.stride == (512,)
    assert conv.stride[0] == hp["codec"].hop_length  # codec frames
    assert [type(m).__name__ for m in enc.mlp] == ["LayerNorm", "Linear"]
    assert enc.mlp[1].out_features == 512
    assert len(enc.transformer.layers) == 6
    assert len(hp["model"].lm.transformer.layers) == 8
    assert hp["guidance"] == 2.0

    hp, _ = load("dac", tmp_path, tiny_dac_path, full=True)
    enc = hp["model"].encoder
    assert isinstance(enc, CodecTokenConditioner)
    assert enc.codec is hp["codec"]  # the same frozen codec as the targets
    assert not any(isinstance(m, TransformerBlock) for m in enc.modules())
    assert len(hp["model"].lm.transformer.layers) == 14
    assert hp["guidance"] == 0.3
    assert not any(
        k.startswith("encoder.codec") for k in hp["model"].state_dict()
    )


def make_batch(codec, seed=0):
    """Two clips (43 and 30 frames): degraded = clean + noise."""
    gen = torch.Generator().manual_seed(seed)
    items = []
    for i, frames in enumerate((43, 30)):
        clean = speech_like(samples=frames * 512, rate=SR, seed=seed + i)
        degraded = clean + 0.05 * torch.randn(clean.shape, generator=gen)
        tokens = codec.encode(clean[None])[0]
        items.append(
            {
                "id": f"u{i}",
                "clean_sig": clean,
                "degraded_sig": degraded,
                "tokens": tokens.t(),  # frame-major, as the recipe
            }
        )
    return PaddedBatch(items)


def make_brain(hp):
    return MaskSRBrain(
        modules=hp["modules"],
        opt_class=hp["opt_class"],
        hparams=hp,
        run_opts={"device": "cpu", "noprogressbar": True},
        checkpointer=hp["checkpointer"],
    )


@torch.no_grad()
def eval_loss(model, batch):
    """Masked-token loss on fixed masks (eval mode, fixed generator)."""
    model.eval()
    degraded, lengths = batch.degraded_sig
    tokens = MaskSRBrain._tokens(batch)
    gen = torch.Generator().manual_seed(123)
    out = model(degraded, tokens, wav_lens=lengths, generator=gen)
    return float(model.loss(out["logits"], tokens, out["mask"])[0])


@pytest.mark.parametrize("kind", list(YAMLS))
def test_tiny_model_trains_with_the_brain(kind, tiny_dac_path, tmp_path):
    torch.manual_seed(0)
    hp, _ = load(
        kind, tmp_path, tiny_dac_path, lr=0.003, warmup_steps=1, seed=0
    )
    batch = make_batch(hp["codec"])
    brain = make_brain(hp)
    brain.on_fit_start()
    model = brain.modules.model
    before = eval_loss(model, batch)
    assert 6.0 < before < 8.0  # about log(1024)
    model.train()
    losses = [float(brain.fit_batch(batch)) for _ in range(20)]
    after = eval_loss(model, batch)
    assert all(torch.isfinite(torch.tensor(losses)))
    assert after < before - 1.0, (before, after, losses)
    assert sum(losses[-5:]) < sum(losses[:5]) - 5 * 0.5, losses


def test_dac_brain_uses_degraded_tokens_and_config_guidance(
    tiny_dac_path, tmp_path
):
    hp, _ = load("dac", tmp_path, tiny_dac_path, cond_dropout=0.0)
    codec = hp["codec"]
    batch = make_batch(codec)
    brain = make_brain(hp)
    model = brain.modules.model
    encoded, conds = [], []
    encode = codec.encode
    codec.encode = lambda wavs, **kw: encoded.append(wavs) or encode(wavs)
    model.lm.register_forward_pre_hook(lambda m, args: conds.append(args[1]))
    brain.compute_forward(batch, sb.Stage.TRAIN)
    degraded, _ = batch.degraded_sig
    clean, _ = batch.clean_sig
    assert len(encoded) == 1 and torch.equal(encoded[0], degraded)
    assert not torch.equal(encoded[0], clean)
    expected = model.encoder.embeddings(encode(degraded))
    assert torch.allclose(conds[0], expected, atol=1e-6)

    calls = []
    generate = model.generate
    model.generate = lambda *a, **kw: calls.append(kw) or generate(*a, **kw)
    wavs = brain.restore(degraded, seed=0)
    assert calls[0]["guidance"] == 0.3 == hp["guidance"]
    assert calls[0]["steps"] == 2
    assert wavs.shape == degraded.shape
    # the restoration conditioned on the degraded tokens too
    assert torch.equal(encoded[-1], degraded)


@pytest.mark.parametrize("kind", list(YAMLS))
def test_export_and_restore(kind, tiny_dac_path, tmp_path):
    hp, overrides = load(kind, tmp_path, tiny_dac_path)
    with torch.no_grad():  # "trained" weights differ from a fresh init
        for p in hp["model"].parameters():
            p.add_(0.01 * torch.randn_like(p))
    hp["checkpointer"].save_checkpoint(meta={"loss": 1.0})
    out = _export_module().export(
        ROOT / YAMLS[kind], tmp_path / "exported", overrides=overrides
    )
    text = (out / "hyperparams.yaml").read_text()
    assert re.search(rf"^input_features: {kind}$", text, re.M)
    restorer = SpeechRestoration.from_hparams(source=str(out))
    model = restorer.mods.model
    loaded = model.state_dict()
    for key, value in hp["model"].state_dict().items():
        assert torch.equal(loaded[key], value), key
    assert set(loaded) == set(hp["model"].state_dict())
    assert restorer.hparams.guidance == hp["guidance"]
    assert model.encoder.input_features == kind
    if kind == "dac":
        assert model.encoder.codec is restorer.mods.codec
        assert restorer.hparams.encoder_layers == 0
        assert len(model.lm.transformer.layers) == 1
    else:
        assert model.encoder.conv.out_channels == 32
        assert model.encoder.conv.kernel_size == (2048,)

    calls = []
    generate = model.generate
    model.generate = lambda *a, **kw: calls.append(kw) or generate(*a, **kw)
    wavs = 0.1 * torch.randn(2, 9000)
    restored = restorer.restore_batch(wavs, seed=0)
    assert restored.shape == wavs.shape and torch.isfinite(restored).all()
    assert float(restored.abs().max()) > 0
    assert calls and all(c["guidance"] == hp["guidance"] for c in calls)
    # the exported encoder computes what the trained one does
    hp["model"].eval()
    assert torch.allclose(
        model.encoder(wavs), hp["model"].encoder(wavs), atol=1e-5
    )
    if kind == "dac":  # same frozen codec: same tokens of the input
        codec = DACTokenizer(load_path=tiny_dac_path)
        assert torch.equal(model.encoder.tokenize(wavs), codec.encode(wavs))


@pytest.mark.parametrize("kind", list(YAMLS))
def test_recipe_debug_run(kind, assets, tmp_path):
    out = tmp_path / "out"
    common = recipe._common(assets, out)
    if kind == "dac":  # no speech encoder: no encoder keys
        common = [
            a
            for a in common
            if not a.startswith(("--encoder_layers", "--n_fft"))
        ]
    else:
        common = [a for a in common if not a.startswith("--n_fft")]
        common.append("--conv_channels=32")
    recipe._run(
        [
            sys.executable,
            recipe.TRAIN,
            YAMLS[kind],
            *common,
            "--debug",
            "--debug_persistently",
        ]
    )
    log = (out / "train_log.txt").read_text()
    epoch = next(ln for ln in log.splitlines() if ln.startswith("epoch: 1"))
    assert re.search(r"valid loss: [0-9.]+", epoch)
    assert "valid masksr_lsd" in epoch  # restored-audio metrics
    state = torch.load(
        next((out / "save").glob("CKPT+*")) / "model.ckpt", weights_only=True
    )
    enc_keys = {k for k in state if k.startswith("encoder.")}
    if kind == "dac":
        assert enc_keys == {f"encoder.embeddings.{q}.weight" for q in range(9)}
    else:
        assert state["encoder.conv.weight"].shape == (32, 1, 2048)
    hparams = (out / "hyperparams.yaml").read_text()
    guidance = 0.3 if kind == "dac" else 2.0
    assert re.search(rf"^guidance: {guidance}\b", hparams, re.M)
    assert (out / "test_metrics.md").is_file()
