"""Converter round trip: official Audio-MAE state dicts -> our modules.

The reference below is an independent re-creation of the released
facebookresearch/AudioMAE model (``models_mae.py`` with ``decoder_mode=1``,
``models_vit.py`` with ``global_pool=True``, timm 0.3.2's ``Block`` and the
patched ``timm_patch/swin_transformer.py`` Swin block), written from the
official code's names and maths. Random official-format weights are
converted with ``audiomae-convert`` and both implementations must agree to
1e-4 on encoder features, decoder reconstructions and logits.

Authors
 * speechbrain-masksr contributors 2026
"""

import math

import numpy as np
import pytest
import torch
from torch import nn

# ----------------------------------------------------------------------------
# Reference implementation (official module names and maths)
# ----------------------------------------------------------------------------


def ref_1d_sincos(embed_dim, pos):
    """``get_1d_sincos_pos_embed_from_grid`` (np.float -> float64)."""
    omega = np.arange(embed_dim // 2, dtype=np.float64)
    omega /= embed_dim / 2.0
    omega = 1.0 / 10000**omega
    out = np.einsum("m,d->md", pos.reshape(-1), omega)
    return np.concatenate([np.sin(out), np.cos(out)], axis=1)


def ref_2d_sincos_flexible(embed_dim, grid_size, cls_token=False):
    """``get_2d_sincos_pos_embed_flexible`` on ``patch_hw`` = (F, T)."""
    grid_h = np.arange(grid_size[0], dtype=np.float32)
    grid_w = np.arange(grid_size[1], dtype=np.float32)
    grid = np.meshgrid(grid_w, grid_h)  # w goes first
    grid = np.stack(grid, axis=0).reshape([2, 1, grid_size[0], grid_size[1]])
    emb_h = ref_1d_sincos(embed_dim // 2, grid[0])
    emb_w = ref_1d_sincos(embed_dim // 2, grid[1])
    emb = np.concatenate([emb_h, emb_w], axis=1)
    if cls_token:
        emb = np.concatenate([np.zeros([1, embed_dim]), emb], axis=0)
    return emb


class RefPatchEmbed(nn.Module):
    """``PatchEmbed_org`` / ``PatchEmbed_new`` with stride = patch."""

    def __init__(self, img_size, patch_size, embed_dim):
        super().__init__()
        self.patch_hw = (img_size[1] // patch_size, img_size[0] // patch_size)
        self.num_patches = self.patch_hw[0] * self.patch_hw[1]
        self.proj = nn.Conv2d(1, embed_dim, patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class RefMlp(nn.Module):
    """timm ``Mlp`` (fc1 -> act -> fc2)."""

    def __init__(self, dim, hidden, out=None, act=nn.GELU):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = act()
        self.fc2 = nn.Linear(hidden, out or dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class RefAttention(nn.Module):
    """timm 0.3.2 ``Attention`` (qkv_bias=True, qk_scale=None)."""

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) * self.scale).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class RefBlock(nn.Module):
    """timm 0.3.2 ``Block``: pre-norm, LayerNorm eps 1e-6."""

    def __init__(self, dim, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = RefAttention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = RefMlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def ref_window_partition(x, ws):
    B, H, W, C = x.shape
    x = x.view(B, H // ws[0], ws[0], W // ws[1], ws[1], C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws[0], ws[1], C)


def ref_window_reverse(windows, ws, img_size):
    H, W = img_size
    B = int(windows.shape[0] / (H * W / ws[0] / ws[1]))
    x = windows.view(B, H // ws[0], W // ws[1], ws[0], ws[1], -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, -1)


class RefWindowAttention(nn.Module):
    """timm_patch ``WindowMultiHeadAttention``: cosine attention, tau,
    meta-MLP log-spaced relative position bias."""

    def __init__(self, dim, num_heads, window_size, meta_hidden_dim=384):
        super().__init__()
        self.window_size = window_size
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim, bias=True)
        self.meta_mlp = RefMlp(2, meta_hidden_dim, num_heads, act=nn.ReLU)
        self.register_parameter("tau", nn.Parameter(torch.ones(num_heads)))
        coords = torch.stack(
            torch.meshgrid(
                [torch.arange(window_size[0]), torch.arange(window_size[1])],
                indexing="ij",
            ),
            dim=0,
        ).flatten(1)
        rel = coords[:, :, None] - coords[:, None, :]
        rel = rel.permute(1, 2, 0).reshape(-1, 2).float()
        rel_log = torch.sign(rel) * torch.log(1.0 + rel.abs())
        self.register_buffer("relative_coordinates_log", rel_log, False)

    def forward(self, x, mask=None):
        Bw, L, C = x.shape
        qkv = self.qkv(x).view(Bw, L, 3, self.num_heads, C // self.num_heads)
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        denom = torch.norm(query, dim=-1, keepdim=True) @ torch.norm(
            key, dim=-1, keepdim=True
        ).transpose(-2, -1)
        attn = query @ key.transpose(-2, -1) / denom.clamp(min=1e-6)
        attn = attn / self.tau.clamp(min=0.01).reshape(1, self.num_heads, 1, 1)
        area = self.window_size[0] * self.window_size[1]
        bias = self.meta_mlp(self.relative_coordinates_log)
        attn = (
            attn
            + bias.transpose(1, 0).reshape(self.num_heads, area, area)[None]
        )
        if mask is not None:
            num_win = mask.shape[0]
            attn = attn.view(Bw // num_win, num_win, self.num_heads, L, L)
            attn = attn + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.num_heads, L, L)
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ value).transpose(1, 2).reshape(Bw, L, -1))


class RefSwinBlock(nn.Module):
    """timm_patch ``SwinTransformerBlock``: post-norm, cyclic shift."""

    def __init__(self, dim, num_heads, feat_size, window_size, shift_size):
        super().__init__()
        self.feat_size = feat_size
        self.window_size = tuple(
            f if f <= w else w for f, w in zip(feat_size, window_size)
        )
        self.shift_size = tuple(
            0 if f <= w else s
            for f, w, s in zip(feat_size, self.window_size, shift_size)
        )
        self.attn = RefWindowAttention(dim, num_heads, self.window_size)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = RefMlp(dim, int(dim * 4.0))
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.attn_mask = None
        if any(self.shift_size):
            H, W = feat_size
            ws, ss = self.window_size, self.shift_size
            img_mask = torch.zeros((1, H, W, 1))
            cnt = 0
            for h in (
                slice(0, -ws[0]),
                slice(-ws[0], -ss[0]),
                slice(-ss[0], None),
            ):
                for w in (
                    slice(0, -ws[1]),
                    slice(-ws[1], -ss[1]),
                    slice(-ss[1], None),
                ):
                    img_mask[:, h, w, :] = cnt
                    cnt += 1
            mw = ref_window_partition(img_mask, ws).view(-1, ws[0] * ws[1])
            am = mw.unsqueeze(1) - mw.unsqueeze(2)
            self.attn_mask = am.masked_fill(am != 0, -100.0).masked_fill(
                am == 0, 0.0
            )

    def _shifted_window_attn(self, x):
        H, W = self.feat_size
        B, L, C = x.shape
        x = x.view(B, H, W, C)
        sh, sw = self.shift_size
        if any(self.shift_size):
            x = torch.roll(x, shifts=(-sh, -sw), dims=(1, 2))
        ws = self.window_size
        xw = ref_window_partition(x, ws).view(-1, ws[0] * ws[1], C)
        aw = self.attn(xw, mask=self.attn_mask).view(-1, ws[0], ws[1], C)
        x = ref_window_reverse(aw, ws, self.feat_size)
        if any(self.shift_size):
            x = torch.roll(x, shifts=(sh, sw), dims=(1, 2))
        return x.view(B, L, C)

    def forward(self, x):
        x = x + self.norm1(self._shifted_window_attn(x))
        return x + self.norm2(self.mlp(x))


class RefMAE(nn.Module):
    """``MaskedAutoencoderViT`` (audio_exp, decoder_mode 0 or 1)."""

    def __init__(
        self,
        img_size=(1024, 128),
        embed_dim=64,
        depth=2,
        num_heads=4,
        decoder_embed_dim=64,
        decoder_depth=2,
        decoder_num_heads=16,
        decoder_mode=1,
    ):
        super().__init__()
        p = 16
        self.patch_embed = RefPatchEmbed(img_size, p, embed_dim)
        n = self.patch_embed.num_patches
        self.grid = (img_size[0] // p, img_size[1] // p)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, embed_dim), False)
        self.blocks = nn.ModuleList(
            [RefBlock(embed_dim, num_heads) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.decoder_embed = nn.Linear(embed_dim, decoder_embed_dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_embed_dim))
        self.decoder_pos_embed = nn.Parameter(
            torch.zeros(1, n + 1, decoder_embed_dim), False
        )
        self.decoder_mode = decoder_mode
        if decoder_mode == 1:  # 16 blocks in the release; fewer here
            self.decoder_blocks = nn.ModuleList(
                [
                    RefSwinBlock(
                        decoder_embed_dim,
                        16,
                        self.grid,
                        (4, 4),
                        (0, 0) if i % 2 == 0 else (2, 0),
                    )
                    for i in range(decoder_depth)
                ]
            )
        else:
            self.decoder_blocks = nn.ModuleList(
                [
                    RefBlock(decoder_embed_dim, decoder_num_heads)
                    for _ in range(decoder_depth)
                ]
            )
        self.decoder_norm = nn.LayerNorm(decoder_embed_dim, eps=1e-6)
        self.decoder_pred = nn.Linear(decoder_embed_dim, p * p)
        hw = self.patch_embed.patch_hw
        self.pos_embed.data.copy_(
            torch.from_numpy(ref_2d_sincos_flexible(embed_dim, hw, True))
            .float()
            .unsqueeze(0)
        )
        self.decoder_pos_embed.data.copy_(
            torch.from_numpy(
                ref_2d_sincos_flexible(decoder_embed_dim, hw, True)
            )
            .float()
            .unsqueeze(0)
        )

    def patchify(self, imgs):
        p = 16
        h, w = imgs.shape[2] // p, imgs.shape[3] // p
        x = imgs.reshape(imgs.shape[0], 1, h, p, w, p)
        x = torch.einsum("nchpwq->nhwpqc", x)
        return x.reshape(imgs.shape[0], h * w, p**2)

    def random_masking(self, x, mask_ratio, noise):
        N, L, D = x.shape
        len_keep = int(L * (1 - mask_ratio))
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :len_keep]
        x_masked = torch.gather(x, 1, ids_keep.unsqueeze(-1).repeat(1, 1, D))
        mask = torch.ones([N, L])
        mask[:, :len_keep] = 0
        mask = torch.gather(mask, dim=1, index=ids_restore)
        return x_masked, mask, ids_restore

    def forward_encoder(self, x, mask_ratio, noise):
        x = self.patch_embed(x) + self.pos_embed[:, 1:, :]
        x, mask, ids_restore = self.random_masking(x, mask_ratio, noise)
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(
            x.shape[0], -1, -1
        )
        x = torch.cat((cls, x), dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x), mask, ids_restore

    def forward_features(self, x):
        """All tokens, no masking: ``[B, 1 + L, D]`` after ``norm``."""
        x = self.patch_embed(x) + self.pos_embed[:, 1:, :]
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(
            x.shape[0], -1, -1
        )
        x = torch.cat((cls, x), dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)

    def forward_decoder(self, x, ids_restore):
        x = self.decoder_embed(x)
        mask_tokens = self.mask_token.repeat(
            x.shape[0], ids_restore.shape[1] + 1 - x.shape[1], 1
        )
        x_ = torch.cat([x[:, 1:, :], mask_tokens], dim=1)
        x_ = torch.gather(
            x_, 1, ids_restore.unsqueeze(-1).repeat(1, 1, x.shape[2])
        )
        x = torch.cat([x[:, :1, :], x_], dim=1) + self.decoder_pos_embed
        if self.decoder_mode != 0:
            x = x[:, 1:, :]
        for blk in self.decoder_blocks:
            x = blk(x)
        pred = self.decoder_pred(self.decoder_norm(x))
        return pred if self.decoder_mode != 0 else pred[:, 1:, :]

    def forward_loss(self, imgs, pred, mask):
        target = self.patchify(imgs)
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True)
        target = (target - mean) / (var + 1.0e-6) ** 0.5
        loss = ((pred - target) ** 2).mean(dim=-1)
        return (loss * mask).sum() / mask.sum()

    def forward(self, imgs, mask_ratio, noise):
        latent, mask, ids_restore = self.forward_encoder(
            imgs, mask_ratio, noise
        )
        pred = self.forward_decoder(latent, ids_restore)
        return self.forward_loss(imgs, pred, mask), pred, mask


class RefViT(nn.Module):
    """``models_vit.VisionTransformer`` with ``global_pool=True``."""

    def __init__(self, embed_dim=64, depth=2, num_heads=4, num_classes=5):
        super().__init__()
        self.patch_embed = RefPatchEmbed((1024, 128), 16, embed_dim)
        n = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, n + 1, embed_dim), False)
        self.blocks = nn.ModuleList(
            [RefBlock(embed_dim, num_heads) for _ in range(depth)]
        )
        self.fc_norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        B = x.shape[0]
        x = self.patch_embed(x) + self.pos_embed[:, 1:, :]
        cls = (self.cls_token + self.pos_embed[:, :1, :]).expand(B, -1, -1)
        x = torch.cat((cls, x), dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.fc_norm(x[:, 1:, :].mean(dim=1)))


def randomize(module, seed=0):
    """Random weights at a scale that keeps activations O(1)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "pos_embed" in name:
                continue  # the fixed sin-cos table, as in the checkpoints
            if name.endswith("tau"):
                p.copy_(0.05 + 0.95 * torch.rand(p.shape, generator=gen))
            elif p.dim() == 1 and "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif name in ("cls_token", "mask_token"):
                p.copy_(0.5 * torch.randn(p.shape, generator=gen))
            else:
                fan_in = math.prod(p.shape[1:])
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in**0.5)
    return module


def official_checkpoint(model, path):
    """Save like the official scripts: ``{"model": state_dict, ...}``."""
    torch.save({"model": model.state_dict(), "epoch": 32}, path)
    return path


# ----------------------------------------------------------------------------
# Tests
# ----------------------------------------------------------------------------

EMBED, DEPTH, HEADS = 128, 2, 2  # 2 heads = 128 // 64, the converter's rule
DEC_DIM, DEC_DEPTH = 64, 2  # one plain and one shifted window block


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A random official-format ``pretrained.pth`` and its conversion."""
    import argparse

    from speechbrain_masksr.cli.audiomae_convert import main

    tmp = tmp_path_factory.mktemp("pretrained")
    torch.manual_seed(0)
    ref = randomize(
        RefMAE(
            embed_dim=EMBED,
            depth=DEPTH,
            num_heads=HEADS,
            decoder_embed_dim=DEC_DIM,
            decoder_depth=DEC_DEPTH,
        )
    ).eval()
    ckpt = tmp / "pretrained.pth"
    torch.save(
        {
            "model": ref.state_dict(),
            "epoch": 32,
            "args": argparse.Namespace(blr=2e-4, decoder_mode=1),
        },
        ckpt,
    )
    assert main([str(ckpt), str(tmp / "out")]) == 0
    return ref, tmp / "out", ckpt


def test_pretrained_matches_reference(pretrained):
    from speechbrain_masksr.inference import AudioMAEReconstruction
    from speechbrain_masksr.lobes.patching import sincos_pos_embed_2d

    ref, folder, _ = pretrained
    mae = AudioMAEReconstruction.from_hparams(source=str(folder))
    ours = mae.mods.model
    assert (
        ours.decoder.mode == "local" and len(ours.decoder.decoder_blocks) == 2
    )
    assert ours.decoder.decoder_blocks[1].shift_size == (2, 0)

    # The checkpoint's transposed-grid tables are kept (and match the
    # official layout of our generator).
    assert torch.equal(ours.encoder.pos_embed, ref.pos_embed)
    assert torch.equal(ours.decoder.decoder_pos_embed, ref.decoder_pos_embed)
    official = sincos_pos_embed_2d(EMBED, (64, 8), True, layout="official")
    assert torch.allclose(official, ref.pos_embed[0], atol=1e-6)
    clean = sincos_pos_embed_2d(EMBED, (64, 8), True, layout="grid")
    assert not torch.allclose(clean, ref.pos_embed[0], atol=1e-3)

    torch.manual_seed(1)
    imgs = torch.randn(2, 1, 1024, 128)
    noise = torch.rand(2, 512)
    with torch.no_grad():
        feats_ref = ref.forward_features(imgs)
        feats_ours = ours.encoder(imgs[:, 0])
        loss_ref, pred_ref, mask_ref = ref(imgs, 0.8, noise)
        out = ours(imgs[:, 0], mask_ratio=0.8, noise=noise)
    assert feats_ref.std() > 0.1 and pred_ref.std() > 0.1
    assert torch.allclose(feats_ours, feats_ref, atol=1e-4, rtol=0)
    assert torch.equal(out["mask"], mask_ref)
    assert torch.allclose(out["pred"], pred_ref, atol=1e-4, rtol=0)
    assert abs(float(out["loss"]) - float(loss_ref)) < 1e-4


def test_finetuned_matches_reference(tmp_path):
    from speechbrain_masksr.cli.audiomae_convert import main
    from speechbrain_masksr.inference import AudioMAEClassifier

    torch.manual_seed(0)
    ref = randomize(RefViT(EMBED, DEPTH, HEADS, num_classes=5), seed=3).eval()
    ref.pos_embed.data.copy_(
        torch.from_numpy(ref_2d_sincos_flexible(EMBED, (8, 64), True))
        .float()
        .unsqueeze(0)
    )
    torch.save({"model": ref.state_dict()}, tmp_path / "finetuned.pth")
    names = ["Speech", "Dog, bark", "Music", "Yes", "Rain"]
    with open(tmp_path / "labels.csv", "w", encoding="utf-8") as fo:
        fo.write("index,mid,display_name\n")
        for i, name in enumerate(names):
            fo.write(f'{i},/m/x{i},"{name}"\n')
    rc = main(
        [
            str(tmp_path / "finetuned.pth"),
            str(tmp_path / "out"),
            "--labels",
            str(tmp_path / "labels.csv"),
        ]
    )
    assert rc == 0
    clf = AudioMAEClassifier.from_hparams(source=str(tmp_path / "out"))
    assert clf.label_names == names

    wavs = 0.1 * torch.randn(2, 16000 * 3)
    scores, top_s, top_i, top_names = clf.classify_batch(
        wavs, torch.tensor([1.0, 0.6]), topk=3
    )
    feats = clf.compute_fbank(wavs, torch.tensor([1.0, 0.6]))
    with torch.no_grad():
        expected = torch.sigmoid(ref(feats[:, None]))
    assert torch.allclose(scores, expected, atol=1e-4, rtol=0)
    assert top_names[0] == [names[i] for i in top_i[0].tolist()]
    assert torch.equal(top_s, scores.topk(3, dim=1).values)


def test_strict_key_check(tmp_path, pretrained, capsys):
    from speechbrain_masksr.cli.audiomae_convert import main

    ref, _, _ = pretrained
    state = dict(ref.state_dict())
    state["decoder_blocks.0.attn.extra_scale"] = torch.ones(3)
    torch.save({"model": state}, tmp_path / "extra.pth")
    assert main([str(tmp_path / "extra.pth"), str(tmp_path / "o1")]) == 1
    captured = capsys.readouterr()
    assert "decoder_blocks.0.attn.extra_scale" in captured.err
    assert captured.out == ""  # errors go to stderr

    state = dict(ref.state_dict())
    del state["decoder_norm.weight"]
    torch.save({"model": state}, tmp_path / "missing.pth")
    assert main([str(tmp_path / "missing.pth"), str(tmp_path / "o2")]) == 1
    assert "decoder.decoder_norm.weight" in capsys.readouterr().err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


class _Payload:
    """A pickled object whose unpickling runs code: it creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_unsafe_checkpoint_needs_trust(tmp_path, pretrained, capsys):
    from speechbrain_masksr.cli.audiomae_convert import (
        load_checkpoint,
        main,
    )
    from speechbrain_masksr.errors import ModelFileError

    ref, _, _ = pretrained
    marker = tmp_path / "PWNED"
    torch.save(
        {"model": ref.state_dict(), "x": _Payload(marker)}, tmp_path / "a.pth"
    )
    # The library names its argument, not the command-line flag ...
    with pytest.raises(ModelFileError, match="trust_checkpoint=True") as err:
        load_checkpoint(tmp_path / "a.pth")
    assert "--trust-checkpoint" not in str(err.value)
    assert isinstance(err.value, RuntimeError)
    # ... which the command line adds.
    assert main([str(tmp_path / "a.pth"), str(tmp_path / "o")]) == 1
    captured = capsys.readouterr()
    assert "(command line: --trust-checkpoint)" in captured.err
    assert captured.out == ""
    assert not marker.exists()  # refused before anything was unpickled
    rc = main(
        [str(tmp_path / "a.pth"), str(tmp_path / "o"), "--trust-checkpoint"]
    )
    assert rc == 0 and (tmp_path / "o" / "model.ckpt").is_file()
    assert marker.exists()  # the payload is real: trusting it ran it


def _official_finetuned(folder, n_classes):
    """A tiny fine-tuned model saved in the official layout; its path."""
    from speechbrain_masksr.cli.audiomae_convert import build_model
    from speechbrain_masksr.lobes.audio_mae import ours_to_official

    model, _ = build_model(
        {
            "kind": "finetuned",
            "fbank": {"num_mel_bins": 128, "target_length": 32},
            "encoder": {
                "grid": (2, 8),
                "d_model": 64,
                "depth": 1,
                "num_heads": 1,
            },
            "classifier": {"n_classes": n_classes},
        }
    )
    path = folder / f"ft{n_classes}.pth"
    torch.save(
        {"model": ours_to_official(model.state_dict(), "finetuned")}, path
    )
    return str(path)


def test_not_a_checkpoint_is_refused(tmp_path, capsys):
    from speechbrain_masksr.cli.audiomae_convert import main

    (tmp_path / "text.pth").write_text("not a checkpoint")
    assert main([str(tmp_path / "text.pth"), str(tmp_path / "o")]) == 1
    assert "not a PyTorch checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_existing_model_folder_needs_overwrite(tmp_path, capsys):
    from speechbrain_masksr.cli.audiomae_convert import main
    from speechbrain_masksr.inference import AudioMAEClassifier

    out = tmp_path / "models"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    ft3 = _official_finetuned(tmp_path, 3)
    assert main([ft3, str(out)]) == 0  # unrelated files are fine
    ckpt = (out / "model.ckpt").read_bytes()
    # A second conversion into a model folder is refused ...
    ft7 = _official_finetuned(tmp_path, 7)
    assert main([ft7, str(out)]) == 1
    assert "(command line: --overwrite)" in capsys.readouterr().err
    assert (out / "model.ckpt").read_bytes() == ckpt
    # ... unless asked for: both files are replaced, consistently.
    assert main([ft7, str(out), "--overwrite"]) == 0
    clf = AudioMAEClassifier.from_hparams(source=str(out))
    assert len(clf.label_names) == 7
    assert clf.classify_batch(0.1 * torch.randn(1, 4000))[0].shape == (1, 7)
    assert (out / "notes.txt").read_text() == "mine"


def test_out_dir_that_is_a_file_is_refused(tmp_path, capsys):
    from speechbrain_masksr.cli.audiomae_convert import main

    (tmp_path / "text.pth").write_text("not a checkpoint")
    ft3 = _official_finetuned(tmp_path, 3)
    assert main([ft3, str(tmp_path / "text.pth")]) == 1
    assert "not a folder" in capsys.readouterr().err
