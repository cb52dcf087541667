"""Tests for the shifted-window (local) attention of the Audio-MAE decoder.

Authors
 * speechbrain-masksr contributors 2026
"""

import pytest
import torch

from speechbrain_masksr.lobes.attention import (
    SwinBlock,
    build_blocks,
    shifted_window_mask,
    window_config,
)
from speechbrain_masksr.lobes.audio_mae import AudioMAEDecoder
from speechbrain_masksr.lobes.transformer import TransformerBlock


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: intra-op threads only add sync overhead on busy CPUs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _randomize(module):
    """Non-trivial norms, temperatures and biases."""
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.endswith("tau"):
                param.copy_(
                    torch.tensor([0.005, 0.3, 1.5, 0.05][: param.numel()])
                )
            elif "norm" in name:
                param.add_(0.3 * torch.randn_like(param))
            elif name.endswith("bias"):
                param.copy_(0.1 * torch.randn_like(param))


def _official_regions(grid, window, shift):
    """Region labels built with the official slice recipe (overwrites)."""
    img = torch.zeros(grid)
    count = 0
    for h in (
        slice(0, -window[0]),
        slice(-window[0], -shift[0]),
        slice(-shift[0], None),
    ):
        for w in (
            slice(0, -window[1]),
            slice(-window[1], -shift[1]),
            slice(-shift[1], None),
        ):
            img[h, w] = count
            count += 1
    return img


def _reference_block(block, x):
    """Official Swin block maths, written as masked full attention."""
    batch, length, dim = x.shape
    n_time, n_freq = block.grid
    (w_t, w_f), (s_t, s_f) = block.window_size, block.shift_size
    attn = block.attn
    heads = attn.num_heads
    t = torch.arange(n_time).repeat_interleave(n_freq)
    f = torch.arange(n_freq).repeat(n_time)
    # Position of every token after the cyclic shift by -shift.
    rt, rf = (t - s_t) % n_time, (f - s_f) % n_freq
    window_id = (rt // w_t) * (n_freq // w_f) + rf // w_f
    same_window = window_id[:, None] == window_id[None, :]
    if s_t or s_f:
        region = _official_regions((n_time, n_freq), (w_t, w_f), (s_t, s_f))
        label = region[rt, rf]
        shift_mask = (label[:, None] != label[None, :]).float() * -100.0
    else:
        shift_mask = torch.zeros(length, length)
    rel = torch.stack(
        [
            (rt % w_t)[:, None] - (rt % w_t)[None, :],
            (rf % w_f)[:, None] - (rf % w_f)[None, :],
        ],
        dim=-1,
    ).float()
    rel = torch.sign(rel) * torch.log(1 + rel.abs())
    bias = attn.meta_mlp(rel).permute(2, 0, 1)  # heads, L, L
    qkv = attn.qkv(x).reshape(batch, length, 3, heads, dim // heads)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    denom = q.norm(dim=-1)[..., :, None] * k.norm(dim=-1)[..., None, :]
    logits = (q @ k.transpose(-1, -2)) / denom.clamp(min=1e-6)
    logits = logits / attn.tau.clamp(min=0.01)[None, :, None, None]
    logits = logits + bias[None] + shift_mask
    logits = logits.masked_fill(~same_window, float("-inf"))
    out = (logits.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, dim)
    x = x + block.norm1(attn.proj(out))
    return x + block.norm2(block.mlp(x))


@pytest.mark.parametrize(
    "grid, window, shift",
    [
        ((8, 4), (4, 4), (2, 0)),
        ((8, 8), (4, 4), (0, 0)),
        ((12, 8), (4, 4), (2, 0)),
        ((8, 8), (4, 4), (2, 2)),
        ((4, 2), (4, 4), (2, 0)),  # window clipped to the grid, no shift
    ],
)
def test_swin_block_matches_reference_maths(grid, window, shift):
    block = SwinBlock(16, 4, grid, window_size=window, shift_size=shift)
    block.eval()
    _randomize(block)
    x = torch.randn(2, grid[0] * grid[1], 16)
    with torch.no_grad():
        ours = block(x)
        reference = _reference_block(block, x)
    assert torch.allclose(ours, reference, atol=1e-5)


def test_window_clipping_and_mask_as_official():
    assert window_config((64, 8), (4, 4), (2, 0)) == ((4, 4), (2, 0))
    assert window_config((4, 2), (4, 4), (2, 0)) == ((4, 2), (0, 0))
    assert shifted_window_mask((8, 8), (4, 4), (0, 0)) is None
    mask = shifted_window_mask((64, 8), (4, 4), (2, 0))
    assert mask.shape == (32, 16, 16)
    # Only the last time-window row (wrapped rows) has masked pairs.
    masked_windows = (mask < 0).flatten(1).any(1).nonzero().flatten().tolist()
    assert masked_windows == [30, 31]
    with pytest.raises(ValueError, match="not a multiple"):
        window_config((6, 8), (4, 4), (0, 0))


def test_official_parameter_names():
    block = SwinBlock(16, 2, (8, 4), shift_size=(2, 0))
    assert set(block.state_dict()) == {
        "attn.tau",
        "attn.qkv.weight",
        "attn.qkv.bias",
        "attn.proj.weight",
        "attn.proj.bias",
        "attn.meta_mlp.fc1.weight",
        "attn.meta_mlp.fc1.bias",
        "attn.meta_mlp.fc2.weight",
        "attn.meta_mlp.fc2.bias",
        "norm1.weight",
        "norm1.bias",
        "mlp.fc1.weight",
        "mlp.fc1.bias",
        "mlp.fc2.weight",
        "mlp.fc2.bias",
        "norm2.weight",
        "norm2.bias",
    }
    assert block.attn.meta_mlp.fc1.weight.shape == (384, 2)
    assert block.attn.meta_mlp.fc2.weight.shape == (2, 384)


def _changed_cells(decoder, latent, ids_restore, t, f, grid):
    """Cells of the output grid that move when token (t, f) is perturbed."""
    with torch.no_grad():
        base = decoder(latent, ids_restore)
        bumped = latent.clone()
        bumped[:, 1 + t * grid[1] + f] += 5.0
        moved = decoder(bumped, ids_restore)
    diff = (moved - base).abs().amax(dim=(0, 2)).reshape(grid)
    return diff > 1e-6


def test_one_layer_local_decoder_is_local():
    grid = (8, 8)
    decoder = AudioMAEDecoder(grid, 16, 16, depth=1, num_heads=2, mode="local")
    decoder.eval()
    latent = torch.randn(2, 1 + 64, 16)
    ids_restore = torch.arange(64).repeat(2, 1)  # nothing masked
    changed = _changed_cells(decoder, latent, ids_restore, 5, 6, grid)
    expected = torch.zeros(grid, dtype=torch.bool)
    expected[4:8, 4:8] = True
    assert torch.equal(changed, expected)
    # A global decoder spreads the perturbation everywhere.
    glob = AudioMAEDecoder(grid, 16, 16, depth=1, num_heads=2).eval()
    assert _changed_cells(glob, latent, ids_restore, 5, 6, grid).all()


def test_shifted_windows_wrap_with_mask():
    grid = (8, 8)
    block = SwinBlock(16, 2, grid, shift_size=(2, 0)).eval()
    x = torch.randn(1, 64, 16)

    def changed(t, f):
        with torch.no_grad():
            bumped = x.clone()
            bumped[0, t * 8 + f] += 5.0
            diff = (block(bumped) - block(x)).abs().amax(-1)
        return diff.reshape(grid) > 1e-6

    # Row 3 sits in the shifted window of rows 2..5.
    expected = torch.zeros(grid, dtype=torch.bool)
    expected[2:6, 0:4] = True
    assert torch.equal(changed(3, 1), expected)
    # Row 0 shares the wrapped window with rows 6, 7 but the mask keeps the
    # two regions apart: only rows 0, 1 are affected.
    expected = torch.zeros(grid, dtype=torch.bool)
    expected[0:2, 4:8] = True
    assert torch.equal(changed(0, 5), expected)


def test_hybrid_stack_and_default_depths():
    decoder = AudioMAEDecoder((8, 4), 16, 16, num_heads=2, mode="local")
    blocks = decoder.decoder_blocks
    assert len(blocks) == 16
    assert [b.shift_size for b in blocks[:4]] == [
        (0, 0),
        (2, 0),
        (0, 0),
        (2, 0),
    ]
    assert len(AudioMAEDecoder((8, 4), 16, 16, num_heads=2).decoder_blocks) == 8
    hybrid = build_blocks("hybrid", 5, 16, 2, grid=(8, 4), n_global=2)
    is_global = [isinstance(b, TransformerBlock) for b in hybrid]
    assert is_global == [False] * 3 + [True] * 2
    # Hybrid: the global top spreads a local perturbation everywhere.
    decoder = AudioMAEDecoder(
        (8, 8), 16, 16, depth=2, num_heads=2, mode="hybrid", n_global=1
    ).eval()
    latent = torch.randn(1, 65, 16)
    ids_restore = torch.arange(64)[None]
    assert _changed_cells(decoder, latent, ids_restore, 0, 0, (8, 8)).all()
    with pytest.raises(ValueError, match="n_global"):
        build_blocks("hybrid", 2, 16, 2, grid=(8, 4), n_global=2)


def test_meta_mlp_dropout_only_in_training():
    block = SwinBlock(16, 2, (8, 4))
    x = torch.randn(1, 32, 16)
    block.eval()
    assert torch.equal(block(x), block(x))
    block.train()
    assert not torch.equal(block(x), block(x))
