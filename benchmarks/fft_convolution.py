"""FFT convolution for reverberation: ours vs ``torchaudio.functional.fftconvolve``.

``speechbrain_masksr.augment.distortions.fft_convolve`` pads the FFT to a
fast length (factors 2, 3, 5); torchaudio's ``fftconvolve`` uses the exact
full length ``time + taps - 1``, which often has a large prime factor. Both
give the same values (checked in ``tests/unit/test_augment.py``); this prints
their CPU time on batches of 3 s at 44.1 kHz with a 0.5 s RIR, one thread.

Usage::

    python benchmarks/fft_convolution.py [--batch 8] [--repeats 5]

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import time

import torch
import torchaudio

from speechbrain_masksr.augment.distortions import fft_convolve


def cpu_seconds(fn, repeats):
    """Mean process CPU time of ``fn()`` over ``repeats`` calls."""
    fn()  # warm-up
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - start) / repeats


def main():
    """Print the CPU time of both convolutions."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    wavs = torch.randn(args.batch, 3 * 44100, generator=g)
    rirs = torch.randn(args.batch, 22050, generator=g)
    n = wavs.shape[-1]
    ours = cpu_seconds(lambda: fft_convolve(wavs, rirs), args.repeats)
    theirs = cpu_seconds(
        lambda: torchaudio.functional.fftconvolve(wavs, rirs)[..., :n],
        args.repeats,
    )
    print(f"fft_convolve (fast FFT length)     {ours * 1000:8.1f} ms")
    print(f"torchaudio fftconvolve (full length) {theirs * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
