"""Throughput of the distortions, in multiples of real time per CPU core.

Runs every distortion (and each low-pass family on its own) and the full GSR
pipeline on batches of 3 s clips at 44.1 kHz with one torch thread, and
prints ``<name> <x> x real time per core``: seconds of audio processed per
second of CPU time of this process (one core; robust to other load on the
machine), followed by the wall-clock figure. Noise and RIRs are tensors (no
disk I/O is timed).

Usage::

    python benchmarks/distortions.py [--batch 8] [--repeats 5]

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import time

import torch

from speechbrain_masksr.augment.distortions import (
    FILTER_FAMILIES,
    BandLimit,
    Clip,
    InterferingSpeaker,
    NoiseMixer,
    RoomReverb,
)
from speechbrain_masksr.augment.pipeline import GSRPipeline
from speechbrain_masksr.augment.rir import simulate_rir

SAMPLE_RATE = 44100
SECONDS = 3.0


def speech_like(batch, time_, generator):
    """Amplitude-modulated harmonic bursts with pauses, ``[batch, time]``."""
    t = torch.arange(time_) / SAMPLE_RATE
    f0 = 100 + 150 * torch.rand(batch, 1, generator=generator)
    wav = sum(torch.sin(2 * torch.pi * k * f0 * t) / k for k in range(1, 20))
    envelope = (torch.sin(2 * torch.pi * 2.0 * t) > -0.3).float()
    return 0.3 * wav * envelope


def measure(name, effect, wavs, repeats):
    """Time ``effect`` on ``wavs`` and print the real-time factor."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        effect(wavs, generator=g)  # warm-up
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(repeats):
            effect(wavs, generator=g)
        cpu = (time.process_time() - cpu) / repeats
        wall = (time.perf_counter() - wall) / repeats
    audio_seconds = wavs.shape[0] * wavs.shape[1] / SAMPLE_RATE
    print(
        f"{name:<22s} {audio_seconds / cpu:8.0f} x real time per core "
        f"(wall clock: {audio_seconds / wall:.0f} x)",
        flush=True,
    )
    return audio_seconds / cpu


def main():
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    length = int(SECONDS * SAMPLE_RATE)
    wavs = speech_like(args.batch, length, g)
    noises = torch.randn(4, 10 * SAMPLE_RATE, generator=g)
    rirs = torch.stack(
        [simulate_rir(SAMPLE_RATE, 0.6, duration=0.8, generator=g)] * 4
    )
    print(
        f"batch {args.batch} x {SECONDS:.0f} s at {SAMPLE_RATE} Hz, "
        f"1 thread, {args.repeats} repeats"
    )
    measure("NoiseMixer", NoiseMixer(noises), wavs, args.repeats)
    measure("NoiseMixer (generated)", NoiseMixer(None), wavs, args.repeats)
    measure("RoomReverb (files)", RoomReverb(rirs), wavs, args.repeats)
    measure("RoomReverb (simulated)", RoomReverb(None), wavs, args.repeats)
    measure("Clip", Clip(), wavs, args.repeats)
    measure(
        "InterferingSpeaker", InterferingSpeaker(wavs[:2]), wavs, args.repeats
    )
    for family in FILTER_FAMILIES:
        measure(
            f"BandLimit[{family}]",
            BandLimit(filters=(family,)),
            wavs,
            args.repeats,
        )
    measure("BandLimit (all)", BandLimit(), wavs, args.repeats)
    measure(
        "GSRPipeline",
        GSRPipeline(noises=noises, rirs=rirs),
        wavs,
        args.repeats,
    )
    measure(
        "GSRPipeline (all p=1)",
        GSRPipeline(
            noises=noises,
            rirs=rirs,
            reverb_prob=1.0,
            clip_prob=1.0,
            noise_bandlimit_prob=1.0,
        ),
        wavs,
        args.repeats,
    )


if __name__ == "__main__":
    main()
