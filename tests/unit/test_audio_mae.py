"""Tests for the Audio-MAE models, front end, losses and checkpoint layout.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torchaudio.compliance import kaldi

from speechbrain_masksr.brains.audiomae_training import (
    SpecAugment,
    mixup,
    param_groups_lrd,
)
from speechbrain_masksr.lobes.audio_mae import (
    AUDIOSET_MEAN,
    AUDIOSET_STD,
    AudioMAE,
    AudioMAEClassifierModel,
    AudioMAEDecoder,
    AudioMAEEncoder,
    AudioMAEFbank,
    load_official_state_dict,
    official_to_ours,
    ours_to_official,
    vit_config,
)
from speechbrain_masksr.lobes.patching import (
    patchify,
    sincos_pos_embed_2d,
    unpatchify,
)
from speechbrain_masksr.lobes.transformer import Attention

TINY = {"embed_dim": 32, "depth": 1, "num_heads": 2}


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: intra-op threads only add sync overhead on busy CPUs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _mae(grid, mode="global", depth=1, **kwargs):
    encoder = AudioMAEEncoder(grid=grid, **TINY)
    decoder = AudioMAEDecoder(
        grid, 32, 16, depth=depth, num_heads=2, mode=mode, n_global=1
    )
    return AudioMAE(encoder, decoder, **kwargs)


def _block_input_lengths(module, run):
    """Sequence lengths seen by ``module`` during ``run()``."""
    lengths = []
    handle = module.register_forward_pre_hook(
        lambda _, args: lengths.append(args[0].shape[1])
    )
    try:
        run()
    finally:
        handle.remove()
    return lengths


@pytest.mark.parametrize("grid", [(64, 8), (32, 8), (8, 4), (12, 8)])
@pytest.mark.parametrize("mode", ["global", "local", "hybrid"])
def test_pretraining_shapes_and_visible_tokens(grid, mode):
    model = _mae(grid, mode, depth=2 if mode == "hybrid" else 1)
    length = grid[0] * grid[1]
    fbank = torch.randn(2, 16 * grid[0], 16 * grid[1])
    seen = _block_input_lengths(
        model.encoder.blocks[0], lambda: model.__call__(fbank)
    )
    out = model(fbank)
    n_visible = int(length * (1 - 0.8))
    assert seen == [n_visible + 1]  # cls + visible patches only
    assert out["pred"].shape == (2, length, 256)
    assert out["mask"].shape == (2, length)
    assert torch.equal(
        out["mask"].sum(1), torch.full((2,), length - n_visible * 1.0)
    )
    assert out["loss"].ndim == 0 and torch.isfinite(out["loss"])


@pytest.mark.parametrize(
    "mode, visible",
    [("random", 25), ("time", 24), ("freq", 16), ("time+freq", 24)],
)
def test_structured_pretraining_masks_reach_the_encoder(mode, visible):
    model = _mae((16, 8), mask_mode=mode)
    fbank = torch.randn(1, 256, 128)
    seen = _block_input_lengths(model.encoder.blocks[0], lambda: model(fbank))
    assert seen == [visible + 1]


def test_masked_input_patches_do_not_reach_the_encoder():
    model = _mae((8, 4)).eval()
    fbank = torch.randn(2, 128, 64)
    noise = torch.rand(2, 32)
    latent, mask, _ = model.forward_encoder(fbank, noise=noise)
    patches = patchify(fbank)
    changed = patches + 10.0 * mask[..., None] * torch.randn_like(patches)
    latent2, mask2, _ = model.forward_encoder(
        unpatchify(changed, (8, 4)), noise=noise
    )
    assert torch.equal(mask, mask2)
    assert torch.allclose(latent, latent2, atol=1e-6)
    # ... while changing a visible patch does change the latent.
    visible = patches + 10.0 * (1 - mask[..., None]) * torch.randn_like(patches)
    latent3, _, _ = model.forward_encoder(
        unpatchify(visible, (8, 4)), noise=noise
    )
    assert not torch.allclose(latent, latent3, atol=1e-3)


@pytest.mark.parametrize("norm_pix_loss", [True, False])
def test_loss_only_on_masked_patches(norm_pix_loss):
    model = _mae((8, 4), norm_pix_loss=norm_pix_loss)
    fbank = torch.randn(2, 128, 64)
    out = model(fbank)
    pred, mask = out["pred"].detach(), out["mask"]
    target = patchify(fbank)
    if norm_pix_loss:
        mean = target.mean(-1, keepdim=True)
        var = target.var(-1, unbiased=True, keepdim=True)
        target = (target - mean) / torch.sqrt(var + 1e-6)
    masked = mask.bool()
    expected = ((pred - target) ** 2)[masked].mean()
    assert torch.allclose(model.forward_loss(fbank, pred, mask), expected)
    # Changing predictions of visible patches leaves the loss unchanged.
    moved = pred + 100.0 * (~masked)[..., None]
    assert torch.allclose(
        model.forward_loss(fbank, moved, mask),
        model.forward_loss(fbank, pred, mask),
    )
    moved = pred + 1.0 * masked[..., None]
    assert not torch.allclose(
        model.forward_loss(fbank, moved, mask),
        model.forward_loss(fbank, pred, mask),
    )


def test_reconstruct_pastes_visible_patches():
    model = _mae((8, 4), norm_pix_loss=True).eval()
    fbank = torch.randn(1, 128, 64)
    out = model(fbank)
    rec = model.reconstruct(fbank, out["pred"], out["mask"])
    assert rec.shape == fbank.shape
    keep = out["mask"][0] == 0
    assert torch.allclose(patchify(rec)[0, keep], patchify(fbank)[0, keep])


@pytest.mark.parametrize("mode", ["random", "time+freq"])
def test_mask_and_reconstruct_is_seeded_and_keeps_the_rng_state(mode):
    model = _mae((8, 4), norm_pix_loss=True, mask_mode=mode).eval()
    fbank = torch.randn(2, 128, 64)
    state = torch.random.get_rng_state()
    with torch.no_grad():
        out = model.mask_and_reconstruct(fbank, 0.75, seed=5)
        again = model.mask_and_reconstruct(fbank, 0.75, seed=5)
        other = model.mask_and_reconstruct(fbank, 0.75, seed=6)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.equal(out["reconstruction"], again["reconstruction"])
    assert not torch.equal(out["mask_patches"], other["mask_patches"])
    # Pixel mask = patch mask; the reconstruction is reconstruct()'s.
    assert torch.equal(patchify(out["mask"]).amax(dim=-1), out["mask_patches"])
    expected = model.reconstruct(
        fbank, out["pred"], out["mask_patches"], stats="visible"
    )
    assert torch.equal(out["reconstruction"], expected)
    with pytest.raises(ValueError, match="stats must be"):
        model.mask_and_reconstruct(fbank, stats="true")


def test_given_noise_is_reproducible():
    model = _mae((8, 4), "local", depth=2).eval()
    fbank = torch.randn(2, 128, 64)
    noise = torch.rand(2, 32)
    a, b = model(fbank, noise=noise), model(fbank, noise=noise)
    assert torch.equal(a["pred"], b["pred"]) and torch.equal(
        a["mask"], b["mask"]
    )


def test_global_attention_matches_softmax_formula():
    attn = Attention(16, 4).eval()
    x = torch.randn(2, 7, 16)
    qkv = attn.qkv(x).reshape(2, 7, 3, 4, 4).permute(2, 0, 3, 1, 4)
    q, k, v = qkv
    weights = torch.softmax(q @ k.transpose(-1, -2) * 4**-0.5, dim=-1)
    expected = attn.proj((weights @ v).transpose(1, 2).reshape(2, 7, 16))
    assert torch.allclose(attn(x), expected, atol=1e-6)


def _structured_batch(n, generator):
    """Spectrogram-like patterns: harmonic stripes with a slow envelope."""
    t = torch.arange(128.0)[:, None]
    f = torch.arange(64.0)[None]
    out = []
    for _ in range(n):
        period, phase, t_period = torch.rand(3, generator=generator)
        stripes = torch.sin(2 * math.pi * f / (6 + 8 * period) + 6 * phase)
        out.append(
            stripes
            * (1 + 0.5 * torch.cos(2 * math.pi * t / (10 + 20 * t_period)))
        )
    return torch.stack(out)


def test_tiny_pretraining_lowers_the_loss():
    fbank = _structured_batch(8, torch.Generator().manual_seed(1))
    encoder = AudioMAEEncoder(grid=(8, 4), embed_dim=32, depth=2, num_heads=2)
    decoder = AudioMAEDecoder(
        (8, 4), 32, 16, depth=2, num_heads=2, mode="local"
    )
    model = AudioMAE(encoder, decoder, mask_ratio=0.75)
    noise = torch.rand(8, 32, generator=torch.Generator().manual_seed(5))

    def held_out_loss():
        """Loss with a fixed mask, in eval mode (no dropout)."""
        model.eval()
        with torch.no_grad():
            loss = model(fbank, noise=noise)["loss"].item()
        model.train()
        return loss

    before = held_out_loss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(40):
        loss = model(fbank)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert held_out_loss() < 0.85 * before


def _tone_or_noise(n, generator, samples=11200):
    """Even items: a random tone (class 0); odd items: white noise (1)."""
    t = torch.arange(samples) / 16000
    wavs, labels = [], []
    for index in range(n):
        u = torch.rand(3, generator=generator)
        if index % 2 == 0:
            wav = (0.1 + 0.4 * u[0]) * torch.sin(
                2 * math.pi * (200 + 3000 * u[1]) * t
            )
        else:
            wav = (0.05 + 0.25 * u[0]) * torch.randn(
                samples, generator=generator
            )
        wavs.append(wav)
        labels.append(index % 2)
    return torch.stack(wavs), torch.tensor(labels)


def test_tiny_finetuning_separates_tone_from_noise():
    generator = torch.Generator().manual_seed(0)
    front_end = AudioMAEFbank(target_length=64)
    train_wavs, train_y = _tone_or_noise(32, generator)
    test_wavs, test_y = _tone_or_noise(32, generator)
    train_x, test_x = front_end(train_wavs), front_end(test_wavs)
    encoder = AudioMAEEncoder(grid=(4, 8), **TINY)
    model = AudioMAEClassifierModel(encoder, n_classes=2)
    optimizer = torch.optim.AdamW(param_groups_lrd(model), lr=3e-3)
    for _ in range(30):
        model.train()
        loss = F.cross_entropy(model(train_x), train_y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(test_x).argmax(-1) == test_y).float().mean()
    assert accuracy > 0.9


def test_classifier_drops_rows_and_columns_only_in_training():
    encoder = AudioMAEEncoder(grid=(64, 8), **TINY)
    model = AudioMAEClassifierModel(encoder, n_classes=3)
    assert isinstance(model.encoder.norm, torch.nn.Identity)
    assert not model.encoder.pos_embed.requires_grad
    fbank = torch.randn(2, 1024, 128)
    block = model.encoder.blocks[0]
    seen = _block_input_lengths(block, lambda: model.train()(fbank))
    assert seen == [int(64 * 0.8) * int(8 * 0.8) + 1]
    seen = _block_input_lengths(block, lambda: model.eval()(fbank))
    assert seen == [512 + 1]
    cls_model = AudioMAEClassifierModel(
        AudioMAEEncoder(grid=(8, 4), **TINY), n_classes=3, global_pool=False
    )
    assert cls_model(torch.randn(2, 128, 64)).shape == (2, 3)
    with pytest.raises(ValueError, match="built for"):
        model(torch.randn(1, 512, 128))


def test_fbank_front_end_matches_the_official_recipe():
    front_end = AudioMAEFbank(target_length=128)
    t = torch.arange(16000) / 16000
    wav = 0.3 * torch.sin(2 * math.pi * 1000 * t) + 0.2  # with DC offset
    feats = front_end(wav[None])
    assert feats.shape == (1, 128, 128)
    raw = kaldi.fbank(
        (wav - wav.mean())[None],
        htk_compat=True,
        sample_frequency=16000,
        use_energy=False,
        window_type="hanning",
        num_mel_bins=128,
        dither=0.0,
        frame_shift=10,
        frame_length=25,
    )
    n_frames = raw.shape[0]  # 98 frames for 1 s
    assert n_frames == 98
    expected = (raw - AUDIOSET_MEAN) / (2 * AUDIOSET_STD)
    assert torch.allclose(feats[0, :n_frames], expected, atol=1e-5)
    # Zero padding happens before normalisation, as in the official loader.
    pad = -AUDIOSET_MEAN / (2 * AUDIOSET_STD)
    assert torch.allclose(feats[0, n_frames:], torch.full((30, 128), pad))
    # The 1 kHz tone peaks in the mel bin centred nearest to 1 kHz.

    def mel(hz):
        return 1127 * math.log(1 + hz / 700)

    step = (mel(8000) - mel(20)) / 129
    centre_bin = round((mel(1000) - mel(20)) / step) - 1
    assert abs(int(feats[0, 50].argmax()) - centre_bin) <= 1
    # Cropping to a shorter target keeps the first frames.
    short = AudioMAEFbank(target_length=64)(wav[None])
    assert torch.allclose(short[0], feats[0, :64])


def test_fbank_honours_relative_lengths_and_rejects_bad_input():
    front_end = AudioMAEFbank(target_length=64)
    wav = torch.randn(8000)
    batch = torch.zeros(2, 16000)
    batch[0] = torch.randn(16000)
    batch[1, :8000] = wav
    feats = front_end(batch, torch.tensor([1.0, 0.5]))
    assert torch.allclose(feats[1], front_end(wav[None])[0], atol=1e-5)
    with pytest.raises(ValueError, match="16000 Hz"):
        front_end(batch, sample_rate=44100)
    with pytest.raises(ValueError, match="mono"):
        front_end(torch.randn(2, 2, 16000))
    with pytest.raises(ValueError, match="NaN"):
        front_end(torch.full((1, 16000), float("nan")))
    with pytest.raises(ValueError, match="shorter than one"):
        front_end(torch.randn(1, 100))


def test_vit_configs():
    assert vit_config("small") == {
        "embed_dim": 384,
        "depth": 12,
        "num_heads": 6,
    }
    assert vit_config("base") == {
        "embed_dim": 768,
        "depth": 12,
        "num_heads": 12,
    }
    assert vit_config("large") == {
        "embed_dim": 1024,
        "depth": 24,
        "num_heads": 16,
    }
    assert vit_config("vit_b") == vit_config("base")
    with pytest.raises(ValueError, match="Unknown"):
        vit_config("huge")


def _official_pretrained(dim=32, dec=16, heads=2, grid=(8, 4), n_dec=2):
    """A synthetic state dict with the official pretrained key layout."""
    gen = torch.Generator().manual_seed(0)

    def r(*shape):
        return torch.randn(*shape, generator=gen)

    length = grid[0] * grid[1] + 1
    sd = {
        "patch_embed.proj.weight": r(dim, 1, 16, 16),
        "patch_embed.proj.bias": r(dim),
        "cls_token": r(1, 1, dim),
        "pos_embed": r(1, length, dim),
        "norm.weight": r(dim),
        "norm.bias": r(dim),
        "decoder_embed.weight": r(dec, dim),
        "decoder_embed.bias": r(dec),
        "mask_token": r(1, 1, dec),
        "decoder_pos_embed": r(1, length, dec),
        "decoder_norm.weight": r(dec),
        "decoder_norm.bias": r(dec),
        "decoder_pred.weight": r(256, dec),
        "decoder_pred.bias": r(256),
    }
    for prefix, width in [("blocks.0.", dim)] + [
        (f"decoder_blocks.{i}.", dec) for i in range(n_dec)
    ]:
        for norm in ("norm1", "norm2"):
            sd[prefix + norm + ".weight"] = r(width)
            sd[prefix + norm + ".bias"] = r(width)
        sd[prefix + "attn.qkv.weight"] = r(3 * width, width)
        sd[prefix + "attn.qkv.bias"] = r(3 * width)
        sd[prefix + "attn.proj.weight"] = r(width, width)
        sd[prefix + "attn.proj.bias"] = r(width)
        sd[prefix + "mlp.fc1.weight"] = r(4 * width, width)
        sd[prefix + "mlp.fc1.bias"] = r(4 * width)
        sd[prefix + "mlp.fc2.weight"] = r(width, 4 * width)
        sd[prefix + "mlp.fc2.bias"] = r(width)
        if prefix.startswith("decoder_blocks"):
            sd[prefix + "attn.tau"] = r(heads)
            sd[prefix + "attn.meta_mlp.fc1.weight"] = r(384, 2)
            sd[prefix + "attn.meta_mlp.fc1.bias"] = r(384)
            sd[prefix + "attn.meta_mlp.fc2.weight"] = r(heads, 384)
            sd[prefix + "attn.meta_mlp.fc2.bias"] = r(heads)
    return sd


def test_official_pretrained_layout_loads_strictly():
    official = _official_pretrained()
    model = _mae((8, 4), "local", depth=2)
    load_official_state_dict(model, {"model": official, "epoch": 32})
    assert torch.equal(
        model.decoder.decoder_blocks[1].attn.meta_mlp.fc2.weight,
        official["decoder_blocks.1.attn.meta_mlp.fc2.weight"],
    )
    assert torch.equal(model.encoder.pos_embed, official["pos_embed"])
    back = ours_to_official(model.state_dict(), "pretrained")
    assert back.keys() == official.keys()
    assert all(torch.equal(back[k], official[k]) for k in official)
    # Regenerated tables on request.
    load_official_state_dict(model, official, keep_pos_embed=False)
    assert torch.allclose(
        model.decoder.decoder_pos_embed[0],
        sincos_pos_embed_2d(16, (8, 4), cls_token=True),
    )
    # Unknown / missing keys are reported, never ignored.
    with pytest.raises(KeyError, match="contrastive_head.weight"):
        official_to_ours(
            {**official, "contrastive_head.weight": torch.zeros(1)}
        )
    partial = dict(official)
    del partial["decoder_blocks.1.attn.tau"]
    with pytest.raises(RuntimeError, match="decoder_blocks.1.attn.tau"):
        load_official_state_dict(model, partial)
    # A global 8-block decoder cannot take the local checkpoint.
    with pytest.raises(RuntimeError, match="unexpected keys"):
        load_official_state_dict(_mae((8, 4), "global", depth=2), official)


def test_official_finetuned_layout_and_pretrained_encoder():
    official = {
        k: v
        for k, v in _official_pretrained().items()
        if not k.startswith(("decoder", "mask_token", "norm."))
    }
    official["fc_norm.weight"] = torch.ones(32)
    official["fc_norm.bias"] = torch.zeros(32)
    official["head.weight"] = torch.randn(5, 32)
    official["head.bias"] = torch.randn(5)
    model = AudioMAEClassifierModel(AudioMAEEncoder(grid=(8, 4), **TINY), 5)
    load_official_state_dict(model, official)
    assert torch.equal(model.head.weight, official["head.weight"])
    assert (
        ours_to_official(model.state_dict(), "finetuned").keys()
        == official.keys()
    )
    # Pretrained AudioMAE weights initialise the classifier's encoder.
    pretrained = _mae((8, 4), "local", depth=2)
    model.load_pretrained_encoder(pretrained.state_dict())
    assert torch.equal(model.encoder.pos_embed, pretrained.encoder.pos_embed)
    with pytest.raises(RuntimeError, match="shape mismatches"):
        other = AudioMAEEncoder(grid=(4, 4), **TINY)
        model.load_pretrained_encoder(other.state_dict())


def test_layer_wise_lr_decay_groups():
    encoder = AudioMAEEncoder(grid=(4, 2), embed_dim=32, depth=2, num_heads=2)
    model = AudioMAEClassifierModel(encoder, n_classes=3, pos_trainable=True)
    groups = param_groups_lrd(model, weight_decay=0.05, layer_decay=0.5, lr=1.0)
    lookup = {}
    for group in groups:
        assert group["lr"] == group["lr_scale"]
        for param in group["params"]:
            lookup[id(param)] = (group["lr_scale"], group["weight_decay"])
    named = dict(model.named_parameters())
    assert lookup[id(named["encoder.patch_embed.proj.weight"])] == (0.125, 0.05)
    assert lookup[id(named["encoder.cls_token"])] == (0.125, 0.0)
    assert lookup[id(named["encoder.pos_embed"])] == (0.125, 0.0)
    assert lookup[id(named["encoder.blocks.0.attn.qkv.weight"])] == (0.25, 0.05)
    assert lookup[id(named["encoder.blocks.1.norm1.weight"])] == (0.5, 0.0)
    assert lookup[id(named["head.weight"])] == (1.0, 0.05)
    assert lookup[id(named["fc_norm.bias"])] == (1.0, 0.0)
    assert len(lookup) == len(named)
    # Frozen positional tables of a pretraining model are left out.
    mae = _mae((8, 4))
    ids = {id(p) for g in param_groups_lrd(mae) for p in g["params"]}
    assert id(mae.encoder.pos_embed) not in ids


def test_mixup_mixes_inputs_and_targets_alike():
    x = torch.randn(4, 50)
    y = torch.eye(4)
    perm = torch.tensor([1, 2, 3, 0])
    mixed, y_mix, lam = mixup(x, y, prob=1.0, permutation=perm)
    assert torch.allclose(
        mixed, lam[:, None] * x + (1 - lam[:, None]) * x[perm]
    )
    assert torch.allclose(y_mix[0, 0], lam[0]) and torch.allclose(
        y_mix[0, 1], 1 - lam[0]
    )
    unchanged, y_same, lam_one = mixup(x, y, prob=0.0)
    assert torch.equal(unchanged, x) and torch.equal(lam_one, torch.ones(4))
    # lam ~ Beta(10, 10): mean 0.5, std ~0.109.
    _, _, lams = mixup(torch.zeros(4000, 1), torch.zeros(4000, 2), prob=1.0)
    assert abs(lams.mean().item() - 0.5) < 0.01
    assert abs(lams.std().item() - math.sqrt(0.25 / 21)) < 0.01
    with pytest.raises(ValueError, match="float targets"):
        mixup(x, torch.arange(4))


def test_specaugment_masks_one_band_per_axis():
    aug = SpecAugment(freq_mask=20, time_mask=40)
    fbank = torch.randn(16, 200, 64)
    out = aug(fbank)
    value = -AUDIOSET_MEAN / (2 * AUDIOSET_STD)
    for b in range(16):
        masked = out[b] == value
        rows = masked.all(dim=1).nonzero().flatten()
        cols = masked.all(dim=0).nonzero().flatten()
        for idx, limit in ((rows, 40), (cols, 20)):
            assert idx.numel() < limit
            if idx.numel():
                assert idx[-1] - idx[0] + 1 == idx.numel()  # contiguous
        untouched = ~masked
        assert torch.equal(out[b][untouched], fbank[b][untouched])
    assert (out == value).any()
