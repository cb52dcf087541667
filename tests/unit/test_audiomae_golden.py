"""Audio-MAE parity with the OFFICIAL implementation (golden fixture).

``tests/fixtures/audiomae_golden.pt`` holds the inputs, weights and outputs
of the official facebookresearch/AudioMAE ``MaskedAutoencoderViT`` for a
tiny configuration (grid 12 x 8, patch 4, width 32, 2 encoder blocks, a
2-block global decoder and a 2-block shifted-window local decoder), made
once by ``tools/make_audiomae_golden.py`` from an official checkout (see
that script for the commit, the timm version and the compatibility shims).
Here the official weights go through our official-key conversion into
:class:`~speechbrain_masksr.lobes.audio_mae.AudioMAE`, and the encoder
output (visible tokens for the stored masking scores), the decoder
predictions and the losses must match the official ones.

Authors
 * speechbrain-masksr contributors 2026
"""

from pathlib import Path

import pytest
import torch

from speechbrain_masksr.lobes.audio_mae import (
    AudioMAE,
    AudioMAEDecoder,
    AudioMAEEncoder,
    load_official_state_dict,
)

FIXTURE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "audiomae_golden.pt"
)
ATOL = 1e-5


@pytest.fixture(scope="module")
def golden():
    """The fixture, loaded with ``weights_only`` (plain tensors and dicts)."""
    return torch.load(FIXTURE, weights_only=True)


def _float(state_dict):
    """The stored float16 weights as the float32 values the official run used."""
    return {key: value.float() for key, value in state_dict.items()}


def _build(config, mode):
    """Our model in the fixture's configuration (official table layout)."""
    grid = tuple(config["grid"])
    encoder = AudioMAEEncoder(
        grid=grid,
        patch_size=config["patch_size"],
        d_model=config["embed_dim"],  # the official name
        depth=config["depth"],
        num_heads=config["num_heads"],
        mlp_ratio=config["mlp_ratio"],
        pos_layout="official",
    )
    decoder = AudioMAEDecoder(
        grid,
        config["embed_dim"],
        config["decoder_dim"],
        depth=config["decoder_depth"],
        num_heads=config["decoder_num_heads"],
        mode=mode,
        patch_size=config["patch_size"],
        mlp_ratio=config["mlp_ratio"],
        window_size=tuple(config["window_size"]),
        shift=True,
        pos_layout="official",
    )
    return AudioMAE(
        encoder,
        decoder,
        mask_ratio=config["mask_ratio"],
        norm_pix_loss=True,
        mask_mode="random",
    )


def _loaded(golden, mode):
    model = _build(golden["config"], mode)
    weights = {**golden["encoder"], **golden[f"decoder_{mode}"]}
    load_official_state_dict(model, _float(weights))
    return model.eval()


def _max_diff(ours, official):
    return float((ours - official).abs().max())


def test_fixture_provenance_and_size(golden):
    assert golden["official"]["repository"] == "facebookresearch/AudioMAE"
    assert len(golden["official"]["commit"]) == 40
    assert FIXTURE.stat().st_size < 200 * 1024


def test_regenerated_tables_are_the_official_ones(golden):
    model = _build(golden["config"], "global")
    tables = (
        (model.encoder.pos_embed, golden["encoder"]["pos_embed"]),
        (
            model.decoder.decoder_pos_embed,
            golden["decoder_global"]["decoder_pos_embed"],
        ),
    )
    for ours, official in tables:
        assert ours.shape == official.shape
        assert _max_diff(ours, official) < 1e-6


def test_encoder_matches_official(golden):
    model = _loaded(golden, "global")
    fbank = golden["fbank"].float()
    with torch.no_grad():
        latent, mask, ids_restore = model.forward_encoder(
            fbank, noise=golden["noise"]
        )
    assert torch.equal(ids_restore, golden["ids_restore"])
    assert torch.equal(mask, golden["mask"])
    assert latent.shape == golden["latent"].shape
    assert _max_diff(latent, golden["latent"]) < ATOL


@pytest.mark.parametrize("mode", ["global", "local"])
def test_decoder_and_loss_match_official(golden, mode):
    model = _loaded(golden, mode)
    fbank = golden["fbank"].float()
    with torch.no_grad():
        out = model(fbank, noise=golden["noise"])
        model.norm_pix_loss = False
        plain = model.forward_loss(fbank, out["pred"], out["mask"])
    assert torch.equal(out["mask"], golden["mask"])
    assert _max_diff(out["pred"], golden[f"pred_{mode}"]) < ATOL
    assert _max_diff(out["loss"], golden[f"loss_{mode}_norm"]) < ATOL
    assert _max_diff(plain, golden[f"loss_{mode}_plain"]) < ATOL
