"""MaskSR-S inference cost: LM sampling, codec decoding, achieved FLOP/s.

For each input length the script builds MaskSR-S (d 512, encoder 6 blocks,
LM 8 blocks, 16 heads, 9 x 1024 tokens; random weights, which does not
change the cost), runs :meth:`MaskSR.generate` (speech encoder once, then
``--steps`` guided steps, each one batched LM call on conditional +
unconditional inputs) and decodes the tokens with DAC. It prints:

* seconds of the speech encoder, of the whole sampling (encoder included)
  and of the DAC decoding, and the real-time factor;
* an analytic FLOP count of the LM calls (matmuls only: projections, MLP,
  attention scores and values, output heads) and the FLOP/s achieved during
  sampling;
* the fp32 throughput of a plain square ``torch.matmul`` measured in the
  same run, and the ratio of the two.

Without ``--codec-path`` the codec is the real-size DAC 44.1 kHz
architecture with RANDOM weights: its decode time is representative, its
audio is not (timing only).

Usage::

    python benchmarks/masksr_inference.py [--lengths 4 8 12 16] [--steps 40]
        [--device cpu|cuda] [--guidance 2.0] [--codec-path weights.pth]

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import time
import warnings

import torch

from speechbrain_masksr.codecs.base import codec_frames
from speechbrain_masksr.codecs.dac import DAC_HOP_LENGTH, DAC_SAMPLE_RATE
from speechbrain_masksr.lobes.masksr import MASKSR_CONFIGS, build_masksr

SAMPLE_RATE = DAC_SAMPLE_RATE
HOP = DAC_HOP_LENGTH


def sync(device):
    """Wait for queued kernels (CUDA) before reading the clock."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` and return (result, seconds)."""
    sync(device)
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    sync(device)
    return out, time.perf_counter() - start


def lm_flops_per_call(batch, frames, d_model, layers, n_codebooks, vocab):
    """Matmul FLOPs (2 per multiply-add) of one LM forward."""
    per_token_layer = 2 * 12 * d_model**2 + 2 * 2 * frames * d_model
    per_token = layers * per_token_layer + 2 * d_model**2
    per_token += 2 * n_codebooks * vocab * d_model
    return batch * frames * per_token


def encoder_flops(batch, frames, d_model, layers, n_bins=1025):
    """Matmul FLOPs of the speech encoder (STFT excluded)."""
    per_token = 2 * n_bins * d_model + 2 * d_model**2
    per_token += layers * (2 * 12 * d_model**2 + 4 * frames * d_model)
    return batch * frames * per_token


def matmul_throughput(device, size, repeats=5):
    """FLOP/s of a square fp32 ``torch.matmul``."""
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    torch.matmul(a, b)  # warm-up
    _, seconds = timed(
        lambda: [torch.matmul(a, b) for _ in range(repeats)], device
    )
    return 2 * size**3 * repeats / seconds


def build_codec(path, device):
    """DAC decoder: real weights from ``path`` or a random real-size DAC."""
    if path:
        from speechbrain_masksr.codecs.dac import DACTokenizer

        codec = DACTokenizer(load_path=path).to(device)
        return codec.decode, "DAC weights from " + str(path)
    import dac

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*weight_norm.*")
        model = dac.DAC().to(device).eval().requires_grad_(False)

    @torch.no_grad()
    def decode(codes):
        z, _, _ = model.quantizer.from_codes(codes)
        return model.decode(z)[:, 0]

    return decode, "real-size DAC architecture, RANDOM weights (timing only)"


def main(argv=None):
    """Parse arguments, run the benchmark and print the figures.

    Arguments
    ---------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--lengths", type=float, nargs="+", default=[4, 8, 12, 16]
    )
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--guidance", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--size", default="S", choices=sorted(MASKSR_CONFIGS))
    parser.add_argument("--device", default=None)
    parser.add_argument("--codec-path", default=None)
    parser.add_argument("--matmul-size", type=int, default=None)
    args = parser.parse_args(argv)

    device = torch.device(
        args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    )
    cfg = MASKSR_CONFIGS[args.size]
    model = build_masksr(
        args.size, n_codebooks=9, codebook_size=1024, hop_length=HOP
    )
    model = model.to(device).eval()
    decode, codec_note = build_codec(args.codec_path, device)
    size = args.matmul_size or (8192 if device.type == "cuda" else 2048)
    peak = matmul_throughput(device, size)
    print(
        f"device {device} | torch threads {torch.get_num_threads()} | "
        f"MaskSR-{args.size} d={cfg['d_model']} enc={cfg['encoder_layers']} "
        f"lm={cfg['lm_layers']} heads={cfg['nhead']} | steps {args.steps} "
        f"| guidance {args.guidance} | batch {args.batch}"
    )
    print(f"codec: {codec_note}")
    print(f"fp32 matmul {size}x{size}: {peak / 1e9:.1f} GFLOP/s")
    header = (
        "len_s frames encoder_s sampling_s decode_s total_s RTF "
        "lm_GFLOP lm_GFLOP/s vs_matmul"
    )
    print(header)
    rows = []
    # warm-up (allocations, kernel selection)
    wav = torch.randn(args.batch, HOP * 8, device=device)
    model.generate(wav, steps=2, guidance=args.guidance, seed=0)
    for seconds in args.lengths:
        n = int(round(seconds * SAMPLE_RATE))
        wav = 0.1 * torch.randn(args.batch, n, device=device)
        frames = codec_frames(n, HOP)
        with torch.no_grad():
            _, enc_s = timed(model.encoder, device, wav)
        tokens, samp_s = timed(
            model.generate,
            device,
            wav,
            steps=args.steps,
            guidance=args.guidance,
            seed=0,
        )
        _, dec_s = timed(decode, device, tokens)
        lm_batch = args.batch * (2 if args.guidance != 0 else 1)
        flops = args.steps * lm_flops_per_call(
            lm_batch,
            frames,
            cfg["d_model"],
            cfg["lm_layers"],
            model.n_codebooks,
            model.codebook_size,
        )
        flops += encoder_flops(
            args.batch, frames, cfg["d_model"], cfg["encoder_layers"]
        )
        rate = flops / samp_s
        total = samp_s + dec_s
        print(
            f"{seconds:5.1f} {frames:6d} {enc_s:9.3f} {samp_s:10.3f} "
            f"{dec_s:8.3f} {total:7.3f} {total / seconds:5.2f} "
            f"{flops / 1e9:8.1f} {rate / 1e9:11.1f} {rate / peak:9.1%}"
        )
        rows.append((seconds, rate))
    # A transient load during the first matmul measurement would inflate
    # every ratio: measure again and use the best of the two.
    again = matmul_throughput(device, size)
    best = max(peak, again)
    print(
        f"fp32 matmul again: {again / 1e9:.1f} GFLOP/s; "
        f"LM FLOP/s relative to the best matmul ({best / 1e9:.1f} GFLOP/s):"
    )
    print(" ".join(f"{s:g}s={r / best:.1%}" for s, r in rows))


if __name__ == "__main__":
    main()
