"""Write the Audio-MAE golden fixture with the OFFICIAL implementation.

Usage::

    python tools/make_audiomae_golden.py /path/to/AudioMAE \\
        [--out tests/fixtures/audiomae_golden.pt] [--official-commit SHA]

``/path/to/AudioMAE`` is a checkout of facebookresearch/AudioMAE (the
fixture in the repository was made from commit
``bd60e29651285f80d32a6405082835ad26e6f19f``). The official code is only
read from there, never copied into this repository. It needs the timm
version it was written for, ``timm==0.3.2``; install it apart from the
project's environment, without letting pip touch torch::

    python -m pip install --target /tmp/golden_pkgs timm==0.3.2 --no-deps
    PYTHONPATH=/tmp/golden_pkgs python tools/make_audiomae_golden.py ...

This script imports nothing from ``speechbrain_masksr``: the fixture holds
the official model's inputs and outputs only, and
``tests/unit/test_audiomae_golden.py`` loads its weights into our model
(through :func:`~speechbrain_masksr.lobes.audio_mae.load_official_state_dict`)
and compares.

Compatibility shims (the official code and timm 0.3.2 predate torch 2 /
numpy 2; none of them changes any maths):

* ``timm.models.layers.helpers``: replaced by the official
  ``timm_patch/helpers.py`` (what the official ``timm_patch.sh`` copies into
  timm; it avoids ``torch._six``), registered in ``sys.modules`` before
  timm is imported instead of being copied into the installed package.
* ``timm.models.swin_transformer``: the official
  ``timm_patch/swin_transformer.py`` (the other file ``timm_patch.sh``
  copies; timm 0.3.2 has no such module), registered the same way.
* ``torch._six``: gone from torch 2; ``util/misc.py`` imports ``inf`` from
  it, so a stand-in module with ``inf = math.inf`` is registered.
* ``torchvision``: timm 0.3.2's ``timm.data`` (image transforms, imported
  by ``import timm`` but not used by any model code) imports it, and
  installing it would pull another torch; when it is missing, a stand-in
  package is registered whose attributes raise if they are ever used.
* ``numpy.float``: gone from numpy >= 1.24; ``util/pos_embed.py`` uses it
  as a dtype, so it is set back to the builtin ``float`` (what it was an
  alias of).

What is computed, for a tiny configuration (``CONFIG`` below):

* The official ``MaskedAutoencoderViT`` (``audio_exp=True``, LayerNorm eps
  1e-6 as the official ``mae_vit_*`` factories) with every parameter
  randomised (seeded; the positional tables keep the official sin-cos
  values). Random weights and the input are rounded to float16 values and
  stored as float16; both sides run in float32 on the upcast values.
* Two decoders on the same encoder: the global one
  (``decoder_mode=0``) and the shifted-window local one
  (``decoder_mode=1``). The official constructor hard-codes the released
  local decoder (16 ``SwinTransformerBlock`` of 16 heads on the 64 x 8
  grid); here the same official block class is built the way that
  constructor builds it (window 4 x 4, shift (0, 0) on even and (2, 0) on
  odd blocks, post-norm LayerNorm) but on the tiny grid, with
  ``CONFIG["decoder_depth"]`` blocks of ``CONFIG["decoder_num_heads"]``
  heads, and put in ``model.decoder_blocks``; ``forward_decoder`` is the
  official one.
* Masking: the official ``random_masking`` draws its scores with
  ``torch.rand(N, L)``; during the encoder call ``torch.rand`` is
  temporarily replaced by a function that returns the stored ``noise``
  (and checks that it is called once, with that shape).
* Not covered: the official 2-D (time + frequency) masking,
  ``random_masking_2d``, which hard-codes the 64 x 8 (or 101 x 12) grid.
* ``forward`` itself ends with ``torch.FloatTensor([0.0]).cuda()``, which
  needs a GPU; its three steps (``forward_encoder``, ``forward_decoder``,
  ``forward_loss``) are called one by one instead, as ``forward`` calls
  them.

Fixture keys: ``config``, ``official`` (commit, timm and torch versions),
``fbank`` ``[B, T, F]``, ``noise`` ``[B, L]``, ``encoder`` /
``decoder_global`` / ``decoder_local`` (official state-dict keys),
``latent`` / ``mask`` / ``ids_restore`` (official ``forward_encoder``),
``pred_global`` / ``pred_local`` (official ``forward_decoder``) and
``loss_{global,local}_{norm,plain}`` (official ``forward_loss`` with
``norm_pix_loss`` True / False).

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import contextlib
import importlib.util
import math
import subprocess
import sys
import types
from functools import partial
from pathlib import Path

import torch
from torch import nn

#: The tiny configuration: a non-square grid (12 x 8, time x frequency,
#: as the released 64 x 8) so that the official positional tables show their
#: transposed-grid layout, and the local decoder has 3 x 2 windows of 4 x 4
#: with the (2, 0) shift wrapping in time. Patch 4 (the released model: 16)
#: keeps the fixture under 200 KiB; the patch maths is the same for any size.
CONFIG = {
    "batch": 2,
    "grid": (12, 8),
    "patch_size": 4,
    "embed_dim": 32,
    "depth": 2,
    "num_heads": 2,
    "decoder_dim": 16,
    "decoder_depth": 2,
    "decoder_num_heads": 2,
    "mlp_ratio": 4.0,
    "window_size": (4, 4),
    "shift": (2, 0),
    "mask_ratio": 0.8,
    "seed": 0,
}

_POS_TABLES = ("pos_embed", "decoder_pos_embed")


def _load_module(name, path):
    """Import ``path`` as module ``name`` (registered in ``sys.modules``)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _Unavailable:
    """Placeholder for a ``torchvision`` name: fails when used."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return _Unavailable(f"{self._name}.{attr}")

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{self._name}: torchvision stand-in, not usable")


def _torchvision_stand_in():
    """Registers ``torchvision`` (and ``.transforms[.functional]``) stubs."""
    names = (
        "torchvision",
        "torchvision.transforms",
        "torchvision.transforms.functional",
    )
    for name in names:
        module = types.ModuleType(name)
        module.__getattr__ = lambda attr, _n=name: _Unavailable(f"{_n}.{attr}")
        module.__path__ = []
        sys.modules[name] = module
    sys.modules["torchvision"].transforms = sys.modules[names[1]]
    sys.modules[names[1]].functional = sys.modules[names[2]]


def import_official(checkout):
    """Import the official ``models_mae`` with the documented shims."""
    import numpy

    checkout = Path(checkout).resolve()
    if not (checkout / "models_mae.py").is_file():
        sys.exit(f"{checkout}: not an AudioMAE checkout (no models_mae.py)")
    if not hasattr(numpy, "float"):
        numpy.float = float  # removed alias, used by util/pos_embed.py
    if "torch._six" not in sys.modules:
        six = types.ModuleType("torch._six")
        six.inf = math.inf
        sys.modules["torch._six"] = six
    if importlib.util.find_spec("torchvision") is None:
        _torchvision_stand_in()
    patch = checkout / "timm_patch"
    # Before ``import timm``: timm.models.layers imports .helpers on import.
    _load_module("timm.models.layers.helpers", patch / "helpers.py")
    import timm
    import timm.models

    if timm.__version__ != "0.3.2":
        print(f"warning: timm {timm.__version__}; the official code used 0.3.2")
    _load_module("timm.models.swin_transformer", patch / "swin_transformer.py")
    sys.path.insert(0, str(checkout))
    import models_mae

    return models_mae, timm.__version__


def _official_commit(checkout, given):
    if given:
        return given
    try:
        out = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _randomise(module, generator):
    """Seeded random values for every parameter except the sin-cos tables.

    Weights ~ N(0, 1 / fan_in), biases ~ N(0, 0.1), LayerNorm gains
    1 + N(0, 0.1), tokens ~ N(0, 0.5), ``tau`` ~ U(0.5, 1.5); rounded to
    float16 values.
    """
    with torch.no_grad():
        for name, param in module.named_parameters():
            if name.rsplit(".", 1)[-1] in _POS_TABLES:
                continue
            shape = param.shape
            noise = torch.randn(shape, generator=generator)
            if name.endswith("tau"):
                value = 0.5 + torch.rand(shape, generator=generator)
            elif name.endswith("token"):
                value = 0.5 * noise
            elif name.endswith("bias"):
                value = 0.1 * noise
            elif param.dim() == 1:  # LayerNorm weight
                value = 1 + 0.1 * noise
            else:
                fan_in = param[0].numel()
                value = noise / math.sqrt(fan_in)
            param.copy_(value.half().float())


def _stored(state_dict):
    """float16 copies of the random weights, float32 sin-cos tables."""
    return {
        key: (value if key in _POS_TABLES else value.half()).clone()
        for key, value in state_dict.items()
    }


@contextlib.contextmanager
def _fixed_rand(noise):
    """``torch.rand(N, L, ...)`` returns ``noise`` (once)."""
    original = torch.rand
    calls = []

    def rand(*size, **kwargs):
        shape = tuple(size[0]) if len(size) == 1 else tuple(size)
        if shape != tuple(noise.shape):
            raise AssertionError(f"unexpected torch.rand{shape}")
        calls.append(shape)
        return noise.clone().to(kwargs.get("device") or noise.device)

    torch.rand = rand
    try:
        yield calls
    finally:
        torch.rand = original
    if len(calls) != 1:
        raise AssertionError(f"torch.rand called {len(calls)} times")


def _local_blocks(models_mae, cfg, norm_layer):
    """The official constructor's local decoder, on the tiny grid."""
    blocks = []
    for index in range(cfg["decoder_depth"]):
        shift = (0, 0) if index % 2 == 0 else tuple(cfg["shift"])
        blocks.append(
            models_mae.SwinTransformerBlock(
                dim=cfg["decoder_dim"],
                num_heads=cfg["decoder_num_heads"],
                feat_size=tuple(cfg["grid"]),
                window_size=tuple(cfg["window_size"]),
                shift_size=shift,
                mlp_ratio=cfg["mlp_ratio"],
                drop=0.0,
                drop_attn=0.0,
                drop_path=0.0,
                extra_norm=False,
                sequential_attn=False,
                norm_layer=norm_layer,
            )
        )
    return nn.ModuleList(blocks)


def make_golden(models_mae, cfg=CONFIG):
    """Runs the official model on the tiny configuration.

    Arguments
    ---------
    models_mae : module
        The official ``models_mae`` (see :func:`import_official`).
    cfg : dict
        The configuration.

    Returns
    -------
    dict
        The fixture (without the ``official`` provenance entry).
    """
    torch.manual_seed(cfg["seed"])
    gen = torch.Generator().manual_seed(cfg["seed"])
    n_time, n_freq = cfg["grid"]
    p = cfg["patch_size"]
    norm_layer = partial(nn.LayerNorm, eps=1e-6)
    model = models_mae.MaskedAutoencoderViT(
        img_size=(n_time * p, n_freq * p),
        patch_size=p,
        in_chans=1,
        embed_dim=cfg["embed_dim"],
        depth=cfg["depth"],
        num_heads=cfg["num_heads"],
        decoder_embed_dim=cfg["decoder_dim"],
        decoder_depth=cfg["decoder_depth"],
        decoder_num_heads=cfg["decoder_num_heads"],
        mlp_ratio=cfg["mlp_ratio"],
        norm_layer=norm_layer,
        norm_pix_loss=True,
        audio_exp=True,
        decoder_mode=0,
    )
    local_blocks = _local_blocks(models_mae, cfg, norm_layer)
    _randomise(model, gen)
    # Clones: the local decoder is loaded into the same model below.
    encoder_sd = {
        k: v.clone()
        for k, v in model.state_dict().items()
        if not k.startswith(("decoder", "mask_token"))
    }
    global_sd = {
        k: v.clone()
        for k, v in model.state_dict().items()
        if k not in encoder_sd
    }
    # Local decoder: fresh random decoder weights and the official blocks.
    decoder_local = {
        "decoder_embed": nn.Linear(cfg["embed_dim"], cfg["decoder_dim"]),
        "decoder_norm": norm_layer(cfg["decoder_dim"]),
        "decoder_pred": nn.Linear(cfg["decoder_dim"], p * p),
        "decoder_blocks": local_blocks,
    }
    holder = nn.Module()
    for name, module in decoder_local.items():
        holder.add_module(name, module)
    holder.mask_token = nn.Parameter(torch.zeros(1, 1, cfg["decoder_dim"]))
    _randomise(holder, gen)
    local_sd = {
        **{k: v.clone() for k, v in holder.state_dict().items()},
        "decoder_pos_embed": global_sd["decoder_pos_embed"],
    }

    n_patches = n_time * n_freq
    fbank = torch.randn(cfg["batch"], n_time * p, n_freq * p, generator=gen)
    fbank = fbank.half().float()
    noise = torch.rand(cfg["batch"], n_patches, generator=gen)
    imgs = fbank[:, None]

    out = {}
    model.eval()
    with torch.no_grad():
        with _fixed_rand(noise):
            latent, mask, ids_restore, _ = model.forward_encoder(
                imgs, cfg["mask_ratio"], mask_2d=False
            )
        out.update(latent=latent, mask=mask, ids_restore=ids_restore)
        for kind, state in (("global", global_sd), ("local", local_sd)):
            if kind == "local":
                model.decoder_mode = 1
                model.decoder_blocks = local_blocks
                model.load_state_dict({**encoder_sd, **state}, strict=True)
                model.eval()
            pred, _, _ = model.forward_decoder(latent, ids_restore)
            out[f"pred_{kind}"] = pred
            for flag, name in ((True, "norm"), (False, "plain")):
                loss = model.forward_loss(imgs, pred, mask, norm_pix_loss=flag)
                out[f"loss_{kind}_{name}"] = loss
    fixture = {
        "config": dict(cfg),
        "fbank": fbank.half(),
        "noise": noise,
        "encoder": _stored(encoder_sd),
        "decoder_global": _stored(global_sd),
        "decoder_local": _stored(local_sd),
    }
    fixture.update({k: v.detach().clone() for k, v in out.items()})
    return fixture


def main():
    """Command line: official checkout in, fixture file out."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkout", help="facebookresearch/AudioMAE checkout")
    parser.add_argument(
        "--out",
        default=str(
            Path(__file__).resolve().parents[1]
            / "tests"
            / "fixtures"
            / "audiomae_golden.pt"
        ),
    )
    parser.add_argument(
        "--official-commit",
        default=None,
        help="commit of the checkout (default: git rev-parse HEAD)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    models_mae, timm_version = import_official(args.checkout)
    fixture = make_golden(models_mae)
    fixture["official"] = {
        "repository": "facebookresearch/AudioMAE",
        "commit": _official_commit(args.checkout, args.official_commit),
        "timm": str(timm_version),
        "torch": str(torch.__version__),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(fixture, out)
    print(f"wrote {out} ({out.stat().st_size / 1024:.1f} KiB)")
    for key in ("latent", "pred_global", "pred_local"):
        print(f"  {key}: {tuple(fixture[key].shape)}")
    for key in sorted(k for k in fixture if k.startswith("loss_")):
        print(f"  {key}: {float(fixture[key]):.6f}")


if __name__ == "__main__":
    main()
