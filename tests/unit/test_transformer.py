"""The shared pre-norm block: MaskSR maths and checkpoint names unchanged.

MaskSR's own block (``qkv``, ``out_proj``, ``mlp`` as a ``Sequential``,
LayerNorm eps 1e-5) was merged into the Audio-MAE one
(:class:`~speechbrain_masksr.lobes.transformer.TransformerBlock`). The old
block is written out here to check that, with the same weights, the stack
computes the same outputs (eval and, with the same seed, training dropout)
and that the state dict still uses the old names.

Authors
 * speechbrain-masksr contributors 2026
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from speechbrain_masksr.lobes.transformer import (
    TransformerBlock,
    TransformerStack,
    frame_padding_mask,
)

D_MODEL, NHEAD = 32, 4


class OldMaskSRBlock(nn.Module):
    """The MaskSR block before the merge (verbatim maths and names)."""

    def __init__(self, d_model, nhead, dropout):
        super().__init__()
        self.nhead = nhead
        self.dropout = dropout
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(4 * d_model, d_model),
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x, attn_mask=None):
        batch, time, dim = x.shape
        q, k, v = (
            self.qkv(self.norm1(x))
            .view(batch, time, 3, self.nhead, dim // self.nhead)
            .permute(2, 0, 3, 1, 4)
        )
        mask = None if attn_mask is None else attn_mask[:, None, None, :]
        att = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
        )
        att = att.transpose(1, 2).reshape(batch, time, dim)
        x = x + self.drop(self.out_proj(att))
        return x + self.drop(self.mlp(self.norm2(x)))


@pytest.fixture
def stack_and_old_block():
    stack = TransformerStack(D_MODEL, num_layers=1, nhead=NHEAD, dropout=0.2)
    old = OldMaskSRBlock(D_MODEL, NHEAD, dropout=0.2)
    layer = {
        key[len("layers.0.") :]: value
        for key, value in stack.state_dict().items()
        if key.startswith("layers.0.")
    }
    old.load_state_dict(layer)  # strict: the old names, all of them
    return stack.layers[0], old


@pytest.mark.parametrize("training", [False, True])
def test_block_matches_the_old_masksr_block(stack_and_old_block, training):
    new, old = stack_and_old_block
    new.train(training)
    old.train(training)
    x = torch.randn(3, 11, D_MODEL)
    valid = frame_padding_mask(torch.tensor([11, 7, 3]), 11)
    outputs = []
    for block in (new, old):
        torch.manual_seed(1)  # same dropout draws, in the same order
        outputs.append(block(x, valid))
    assert torch.equal(*outputs)


def test_stack_state_dict_keeps_the_masksr_names():
    stack = TransformerStack(D_MODEL, num_layers=2, nhead=NHEAD)
    keys = list(stack.state_dict())
    assert keys[:12] == [
        f"layers.0.{name}.{param}"
        for name in ("norm1", "qkv", "out_proj", "norm2", "mlp.0", "mlp.3")
        for param in ("weight", "bias")
    ]
    assert keys[-2:] == ["norm.weight", "norm.bias"]
    assert len(keys) == 2 * 12 + 2


def test_stack_loads_old_and_block_names():
    source = TransformerStack(D_MODEL, num_layers=2, nhead=NHEAD)
    old_names = source.state_dict()
    target = TransformerStack(D_MODEL, num_layers=2, nhead=NHEAD)
    target.load_state_dict(old_names)  # strict
    proj = old_names["layers.1.out_proj.weight"]
    assert torch.equal(target.layers[1].attn.proj.weight, proj)
    # the block's own names (e.g. a hand-made state dict) load as well
    block_names = {
        name: param.detach().clone()
        for name, param in source.named_parameters()
    }
    assert "layers.0.attn.qkv.weight" in block_names
    fresh = TransformerStack(D_MODEL, num_layers=2, nhead=NHEAD)
    fresh.load_state_dict(block_names)
    assert "layers.0.attn.qkv.weight" in block_names  # caller's dict intact
    loaded = fresh.state_dict()
    for key, value in old_names.items():
        assert torch.equal(loaded[key], value), key


def test_block_attention_bias_hook():
    """A float mask is added to the logits; ``-inf`` hides keys."""
    block = TransformerBlock(D_MODEL, NHEAD, dropout=0.0).eval()
    x = torch.randn(2, 6, D_MODEL)
    valid = frame_padding_mask(torch.tensor([6, 4]), 6)
    bias = torch.zeros(2, 1, 1, 6).masked_fill(~valid[:, None, None], -1e9)
    torch.testing.assert_close(block(x, bias), block(x, valid))
    rel = torch.randn(1, NHEAD, 6, 6)
    assert not torch.allclose(block(x, rel), block(x))
