#!/usr/bin/env python3
"""Benchmark: one Audio-MAE pretraining step (ViT-B + local decoder).

Times a full training step - forward (80% random masking, encoder on the
visible patches, 16-block shifted-window decoder, norm-pix MSE), backward
and an AdamW update - on 1024 x 128 fbank inputs, and reports samples per
second and peak memory (GPU: ``torch.cuda.max_memory_allocated``; CPU: the
process's peak resident set size, ``ru_maxrss``, and its growth during the
run). The fbank front end is not timed (``--with-fbank`` adds it, from 10 s
waveforms), as in the official recipe, where it runs in the data loader.

``--official-repo PATH`` also times the official ``MaskedAutoencoderViT``
(facebookresearch/AudioMAE, needs timm with its ``timm_patch`` Swin block;
CUDA only, since its forward builds a ``.cuda()`` tensor) on the same
inputs, for a side-by-side comparison in one run.

Examples::

    python benchmarks/audiomae_train_step.py --device cpu --batch-size 2 --steps 3
    python benchmarks/audiomae_train_step.py --device cuda --batch-size 64 --amp bf16

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import resource
import sys
import time

import torch

from speechbrain_masksr.lobes.audio_mae import (
    AudioMAE,
    AudioMAEDecoder,
    AudioMAEEncoder,
    AudioMAEFbank,
    vit_config,
)
from speechbrain_masksr.lobes.patching import grid_size


def build_ours(args):
    """Our Audio-MAE (ViT encoder + decoder) for the benchmark.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed options.

    Returns
    -------
    AudioMAE
        The model.
    """
    grid = grid_size(args.target_length, 128)
    cfg = vit_config(args.vit)
    encoder = AudioMAEEncoder(grid=grid, **cfg)
    decoder = AudioMAEDecoder(
        grid,
        cfg["embed_dim"],
        512,
        depth=args.decoder_depth,
        num_heads=16,
        mode=args.decoder,
    )
    return AudioMAE(encoder, decoder, mask_ratio=args.mask_ratio)


def build_official(args):
    """The official model, imported from a clone of the official repo.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed options (``official_repo``).

    Returns
    -------
    torch.nn.Module
        ``models_mae.mae_vit_base_patch16`` with the local decoder.
    """
    sys.path.insert(0, args.official_repo)
    import models_mae  # noqa: E402 (from the official repository)

    return models_mae.mae_vit_base_patch16(
        in_chans=1,
        audio_exp=True,
        img_size=(args.target_length, 128),
        decoder_mode={"global": 0, "local": 1}[args.decoder],
        norm_pix_loss=True,
    )


def rss_mib():
    """Peak resident set size of this process so far, in MiB.

    Returns
    -------
    float
        ``ru_maxrss`` (KiB on Linux) in MiB.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_steps(name, model, step_fn, args, device):
    """Run warmup + timed steps; return a result row.

    Arguments
    ---------
    name : str
        Row label.
    model : torch.nn.Module
        Model to train.
    step_fn : callable
        ``step_fn(model, batch) -> loss``.
    args : argparse.Namespace
        Parsed options.
    device : torch.device
        Device.

    Returns
    -------
    dict
        ``name``, ``samples_per_s``, ``step_ms``, ``peak_mib``.
    """
    model = model.to(device).train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95))
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.amp)
    scaler = torch.amp.GradScaler(
        device.type, enabled=args.amp == "fp16" and device.type == "cuda"
    )
    fbank = AudioMAEFbank(target_length=args.target_length)
    gen = torch.Generator().manual_seed(0)
    if args.with_fbank:
        n = int(10.0 * 16000)
        batch = 0.1 * torch.randn(args.batch_size, n, generator=gen)
    else:
        batch = torch.randn(
            args.batch_size, args.target_length, 128, generator=gen
        )
    batch = batch.to(device)

    def one_step():
        feats = fbank(batch) if args.with_fbank else batch
        with torch.autocast(
            device.type, dtype=amp_dtype, enabled=bool(amp_dtype)
        ):
            loss = step_fn(model, feats)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        return loss

    for _ in range(args.warmup):
        one_step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    rss_before = rss_mib()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = one_step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**20
        mem = f"{peak:.0f} MiB allocated"
    else:
        peak = rss_mib()
        mem = f"{peak:.0f} MiB RSS (+{peak - rss_before:.0f})"
    return {
        "name": name,
        "samples_per_s": args.batch_size * args.steps / elapsed,
        "step_ms": 1000 * elapsed / args.steps,
        "memory": mem,
        "loss": float(loss.detach()),
    }


def main(argv=None):
    """Parse options, run the benchmark, print a table.

    Arguments
    ---------
    argv : list of str, optional
        Command-line arguments.

    Returns
    -------
    list of dict
        One row per implementation.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--device", default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--amp", choices=("none", "bf16", "fp16"), default="none"
    )
    parser.add_argument("--vit", default="base")
    parser.add_argument(
        "--decoder", choices=("local", "global", "hybrid"), default="local"
    )
    parser.add_argument("--decoder-depth", type=int, default=16)
    parser.add_argument("--mask-ratio", type=float, default=0.8)
    parser.add_argument("--target-length", type=int, default=1024)
    parser.add_argument("--with-fbank", action="store_true")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--official-repo", default=None)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if args.batch_size is None:
        args.batch_size = 2 if device.type == "cpu" else 32
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    rows = [
        time_steps(
            f"speechbrain_masksr ViT-{args.vit[0].upper()} + {args.decoder}",
            build_ours(args),
            lambda m, x: m(x)["loss"],
            args,
            device,
        )
    ]
    if args.official_repo:
        rows.append(
            time_steps(
                "official MaskedAutoencoderViT",
                build_official(args),
                lambda m, x: m(x[:, None], mask_ratio=args.mask_ratio)[0],
                args,
                device,
            )
        )

    dev = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else (f"CPU, {torch.get_num_threads()} threads")
    )
    print(
        f"Audio-MAE training step: {args.target_length}x128 fbank, mask "
        f"{args.mask_ratio}, batch {args.batch_size}, {args.steps} steps "
        f"(+{args.warmup} warmup), amp {args.amp}, {dev}"
        + (", fbank included" if args.with_fbank else "")
    )
    header = f"| {'model':<40} | samples/s | step (ms) | peak memory |"
    print(header)
    print("|" + "-" * 42 + "|-----------|-----------|-------------|")
    for row in rows:
        print(
            f"| {row['name']:<40} | {row['samples_per_s']:9.2f} | "
            f"{row['step_ms']:9.0f} | {row['memory']} |"
        )
    return rows


if __name__ == "__main__":
    main()
