"""Tests for Audio-MAE patching, positional tables and masking.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import pytest
import torch

from speechbrain_masksr.lobes.masking import (
    drop_time_freq,
    mask_tokens,
    random_masking,
    structured_masking,
)
from speechbrain_masksr.lobes.patching import (
    PatchEmbed,
    grid_size,
    patchify,
    sincos_pos_embed_1d,
    sincos_pos_embed_2d,
    unpatchify,
)

GRIDS = [(64, 8), (32, 8), (8, 4), (12, 8)]


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: intra-op threads only add sync overhead on busy CPUs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("grid", GRIDS)
def test_patchify_order_and_round_trip(grid):
    n_time, n_freq = grid
    x = torch.randn(2, 16 * n_time, 16 * n_freq)
    patches = patchify(x)
    assert patches.shape == (2, n_time * n_freq, 256)
    # Patch t * F + f is the block [16t:16t+16, 16f:16f+16], time-major.
    for t, f in [(0, 0), (n_time - 1, n_freq - 1), (n_time // 2, 1)]:
        block = x[1, 16 * t : 16 * t + 16, 16 * f : 16 * f + 16]
        assert torch.equal(patches[1, t * n_freq + f], block.reshape(-1))
    assert torch.equal(unpatchify(patches, grid), x)


def test_patch_embed_is_a_linear_map_of_patchify():
    embed = PatchEmbed(patch_size=16, d_model=8)
    x = torch.randn(2, 16 * 12, 16 * 8)
    weight = embed.proj.weight.reshape(8, 256)
    expected = patchify(x) @ weight.T + embed.proj.bias
    assert torch.allclose(embed(x), expected, atol=1e-4)


def test_bad_sizes_raise_clear_errors():
    with pytest.raises(ValueError, match="multiple of the patch size"):
        grid_size(1000, 128)
    with pytest.raises(ValueError, match="multiple of the patch size"):
        PatchEmbed(d_model=4)(torch.randn(1, 100, 128))
    with pytest.raises(ValueError, match="do not fit grid"):
        unpatchify(torch.zeros(1, 10, 256), (4, 2))


def test_sincos_1d_formula():
    emb = sincos_pos_embed_1d(6, torch.tensor([2.0]))
    omegas = [1.0, 10000 ** (-1 / 3), 10000 ** (-2 / 3)]
    expected = [math.sin(2 * w) for w in omegas] + [
        math.cos(2 * w) for w in omegas
    ]
    assert torch.allclose(emb[0], torch.tensor(expected, dtype=torch.float64))


@pytest.mark.parametrize("grid", GRIDS)
def test_sincos_grid_layout_encodes_time_and_freq(grid):
    dim = 16
    table = sincos_pos_embed_2d(dim, grid, cls_token=True)
    n_time, n_freq = grid
    assert table.shape == (n_time * n_freq + 1, dim)
    assert torch.equal(table[0], torch.zeros(dim))
    t, f = n_time - 1, n_freq - 1
    row = table[1 + t * n_freq + f]
    assert torch.allclose(
        row[: dim // 2],
        sincos_pos_embed_1d(dim // 2, torch.tensor([f]))[0].float(),
    )
    assert torch.allclose(
        row[dim // 2 :],
        sincos_pos_embed_1d(dim // 2, torch.tensor([t]))[0].float(),
    )
    # All positions are distinct.
    assert (
        torch.cdist(table[1:], table[1:]).add(torch.eye(len(table) - 1)).min()
        > 0
    )


def test_official_layout_is_the_transposed_grid_scramble():
    """Official table: generated on an 8 x 64 grid, read in token order."""
    dim = 32
    official = sincos_pos_embed_2d(dim, (64, 8), layout="official")
    # Independent derivation of the official recipe: x-coordinate (column of
    # the 8 x 64 grid) in the first half, y-coordinate (row) in the second.
    for t, f in [(0, 0), (5, 3), (63, 7), (17, 6)]:
        k = t * 8 + f
        row, col = t // 8, 8 * (t % 8) + f
        assert (row, col) == (k // 64, k % 64)
        expected = torch.cat(
            [
                sincos_pos_embed_1d(dim // 2, torch.tensor([col])),
                sincos_pos_embed_1d(dim // 2, torch.tensor([row])),
            ],
            dim=1,
        )[0].float()
        assert torch.allclose(official[k], expected)
    clean = sincos_pos_embed_2d(dim, (64, 8))
    assert not torch.allclose(official, clean)
    # Same set of rows (a bijection), different assignment.
    assert torch.allclose(
        official.sort(dim=0).values,
        sincos_pos_embed_2d(dim, (8, 64)).sort(dim=0).values,
    )


@pytest.mark.parametrize("grid", GRIDS)
def test_random_masking_counts_and_restore(grid):
    length = grid[0] * grid[1]
    x = torch.randn(3, length, 5)
    visible, mask, ids_restore = random_masking(x, 0.8)
    n_keep = int(length * (1 - 0.8))
    assert visible.shape == (3, n_keep, 5)
    assert torch.equal(
        mask.sum(dim=1), torch.full((3,), float(length - n_keep))
    )
    # The visible tokens are exactly the unmasked ones.
    for b in range(3):
        kept = x[b][mask[b] == 0]
        assert torch.equal(
            kept.sort(dim=0).values, visible[b].sort(dim=0).values
        )
    # ids_restore undoes the shuffle: visible first, then masked tokens.
    n_masked = length - n_keep
    full = torch.cat([visible, torch.zeros(3, n_masked, 5)], dim=1)
    restored = torch.gather(full, 1, ids_restore[..., None].expand(-1, -1, 5))
    assert torch.equal(restored[mask == 0], x[mask == 0])
    assert torch.equal(restored[mask == 1], torch.zeros_like(x[mask == 1]))


def test_random_masking_respects_given_noise():
    x = torch.randn(1, 10, 2)
    noise = torch.linspace(0, 1, 10)[None]
    visible, mask, _ = random_masking(x, 0.5, noise=noise)
    assert torch.equal(visible[0], x[0, :5])
    assert mask[0].tolist() == [0.0] * 5 + [1.0] * 5


def test_structured_masks_remove_whole_rows_and_columns():
    grid = (16, 8)
    x = torch.randn(2, 128, 4)
    _, mask, _ = mask_tokens(x, grid, "time", mask_ratio=0.75)
    rows = mask.reshape(2, 16, 8)
    assert ((rows.sum(-1) == 0) | (rows.sum(-1) == 8)).all()
    assert torch.equal(rows[:, :, 0].sum(1), torch.tensor([12.0, 12.0]))
    _, mask, _ = mask_tokens(x, grid, "freq", mask_ratio=0.5)
    cols = mask.reshape(2, 16, 8)
    assert ((cols.sum(1) == 0) | (cols.sum(1) == 16)).all()
    visible, mask, ids_restore = structured_masking(x, grid, 0.6, 0.5)
    assert visible.shape[1] == int(16 * 0.4) * int(8 * 0.5)
    # Visible tokens stay in their original time-major order.
    for b in range(2):
        assert torch.equal(visible[b], x[b][mask[b] == 0])
    with pytest.raises(ValueError, match="mask mode"):
        mask_tokens(x, grid, "blocks")


def test_drop_time_freq_keeps_a_row_column_product():
    grid = (64, 8)
    index = torch.arange(512.0)
    x = index[None, :, None].repeat(2, 1, 3)
    kept, kept_grid = drop_time_freq(x, grid, 0.2, 0.2)
    assert kept_grid == (int(64 * 0.8), int(8 * 0.8))
    assert kept.shape == (2, kept_grid[0] * kept_grid[1], 3)
    for b in range(2):
        ids = kept[b, :, 0].long()
        rows, cols = ids // 8, ids % 8
        assert rows.unique().numel() == kept_grid[0]
        assert cols.unique().numel() == kept_grid[1]
    with pytest.raises(ValueError, match="drop the whole"):
        drop_time_freq(x, grid, 1.0, 0.2)
