"""``make demo``: the whole MaskSR pipeline, end to end, at smoke scale.

1. Make the mini corpus (espeak-ng speech, generated noises, simulated RIRs)
   in the DNS layout under ``demo/data``.
2. Write a tiny random-weight DAC codec to ``demo/codec/weights.pth``.
3. Train a tiny MaskSR for a few minutes through ``recipes/DNS/train.py
   hparams/masksr.yaml`` (tiny overrides) into ``demo/results``.
4. Export the best checkpoint to ``demo/model/`` with
   ``recipes/DNS/export_model.py``.
5. Restore one degraded test file with ``masksr-restore`` into
   ``demo/restored/``.
6. Print the metrics table: Unprocessed vs MaskSR-tiny vs Target.

Re-running reuses what exists (corpus, codec, trained model, restored file)
and prints the table again; ``--force`` retrains. With a tiny untrained codec
the model cannot sound good: this shows that every stage runs.

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"

# Tiny overrides of hparams/masksr.yaml: a few minutes on 2 CPU cores.
TRAIN_OVERRIDES = {
    "number_of_epochs": 80,
    "batch_size": 4,
    "num_workers": 1,
    "d_model": 96,
    "nhead": 4,
    "encoder_layers": 2,
    "lm_layers": 3,
    "dropout": 0.0,
    "segment_seconds": 1.5,
    "lr": 0.002,
    "warmup_steps": 20,
    "total_steps": 1000,
    "sampling_steps": 8,
    "valid_restore_clips": 1,
    "valid_restore_every": 20,
    "valid_metrics": "[lsd,estoi]",
    "test_sets": "[]",  # the demo scores its own restored file (step 6)
}
CORPUS = dict(n_speech=32, n_noise=6, n_rir=4, n_test=2, n_real=1, seed=0)
METRICS = ("lsd", "pesq", "estoi", "si_sdr", "dnsmos", "spk_sim")
FALLBACK_METRICS = ("lsd", "pesq", "estoi", "si_sdr")


def step(number, text):
    """Print a step header.

    Arguments
    ---------
    number : int
        Step number.
    text : str
        What the step does.
    """
    print(f"\n=== [{number}/6] {text}", flush=True)


def run(cmd):
    """Run a command (printed first), failing loudly.

    Arguments
    ---------
    cmd : list of str
        The command.
    """
    print("$ " + " ".join(shlex.quote(str(c)) for c in cmd), flush=True)
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(f"demo: command failed with status {result.returncode}")


def model_ready(folder):
    """Whether ``folder`` holds a complete exported model.

    Arguments
    ---------
    folder : Path
        Model folder.

    Returns
    -------
    bool
        True when hyperparams.yaml, model.ckpt and codec.pth exist.
    """
    names = ("hyperparams.yaml", "model.ckpt", "codec.pth")
    return all((folder / n).is_file() for n in names)


def pick_test_pair(data_folder):
    """A degraded DNS-style test file and its clean reference.

    Arguments
    ---------
    data_folder : Path
        Mini corpus root.

    Returns
    -------
    noisy, clean : Path
        The pair (``..._fileid_N.wav`` and ``clean_fileid_N.wav``).
    """
    base = data_folder / "datasets" / "test_set" / "synthetic" / "no_reverb"
    for noisy in sorted((base / "noisy").glob("*.wav")):
        match = re.search(r"fileid_(\d+)\.wav$", noisy.name)
        if match is None:
            continue
        clean = base / "clean" / f"clean_fileid_{match.group(1)}.wav"
        if clean.is_file():
            return noisy, clean
    sys.exit(f"demo: no noisy/clean test pair found under {base}")


def score(noisy, restored, clean):
    """Metric rows for the table.

    Arguments
    ---------
    noisy, restored, clean : Path
        The three files.

    Returns
    -------
    rows : dict
        ``{"Unprocessed": {...}, "MaskSR-tiny": {...}, "Target": {...}}``.
    """
    from speechbrain_masksr.dataio import load_audio
    from speechbrain_masksr.metrics import compute_metrics

    sr = 44100
    ref, _ = load_audio(clean, sample_rate=sr)
    systems = {
        "Unprocessed": load_audio(noisy, sample_rate=sr)[0],
        "MaskSR-tiny": load_audio(restored, sample_rate=sr)[0],
        "Target": ref,
    }
    try:
        return {
            name: compute_metrics(ref, est, sr, metrics=METRICS)
            for name, est in systems.items()
        }
    except Exception as err:  # e.g. resemblyzer / DNSMOS not installed
        print(f"note: {err}; showing {', '.join(FALLBACK_METRICS)} only")
        return {
            name: compute_metrics(ref, est, sr, metrics=FALLBACK_METRICS)
            for name, est in systems.items()
        }


def main(argv=None):
    """Run the demo.

    Arguments
    ---------
    argv : list of str, optional
        Command-line arguments.
    """
    parser = argparse.ArgumentParser(description="MaskSR smoke-scale demo")
    parser.add_argument(
        "--force", action="store_true", help="retrain and re-export"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=TRAIN_OVERRIDES["number_of_epochs"],
        help="training epochs",
    )
    args = parser.parse_args(argv)
    start = time.time()
    python = sys.executable
    data, codec = DEMO / "data", DEMO / "codec" / "weights.pth"
    results, model = DEMO / "results", DEMO / "model"

    step(1, f"mini corpus -> {data.relative_to(ROOT)}")
    from speechbrain_masksr.data.mini_corpus import make_mini_corpus

    info = make_mini_corpus(data, **CORPUS)
    print(f"speech: {info['speech_backend']}; files: ", end="")
    print(", ".join(f"{k} {len(v)}" for k, v in info["files"].items()))

    step(2, f"tiny random DAC codec -> {codec.relative_to(ROOT)}")
    if codec.is_file():
        print("exists, reused")
    else:
        from speechbrain_masksr.codecs.dac import save_tiny_dac

        save_tiny_dac(codec, seed=0)
        print("written")

    step(3, "train a tiny MaskSR (recipes/DNS/train.py)")
    if args.force and model.exists():
        for name in ("hyperparams.yaml", "model.ckpt", "codec.pth"):
            (model / name).unlink(missing_ok=True)
    if model_ready(model):
        print(f"{model.relative_to(ROOT)}/ exists, training skipped")
    else:
        overrides = dict(TRAIN_OVERRIDES, number_of_epochs=args.epochs)
        if args.force:
            # a fresh run: drop old checkpoints so the epochs run again
            import shutil

            shutil.rmtree(results, ignore_errors=True)
        run(
            [python, "recipes/DNS/train.py", "hparams/masksr.yaml"]
            + [f"--data_folder={data}", f"--codec_path={codec}"]
            + [f"--output_folder={results}", "--device=cpu"]
            + [f"--{k}={v}" for k, v in overrides.items()]
        )

    step(4, f"export -> {model.relative_to(ROOT)}/")
    if model_ready(model):
        print("exists, reused")
    else:
        run(
            [python, "recipes/DNS/export_model.py"]
            + ["--hparams", results / "hyperparams.yaml"]
            + ["--output", model, "--codec", "copy"]
        )

    step(5, "restore a degraded test file with masksr-restore")
    noisy, clean = pick_test_pair(data)
    out_dir = DEMO / "restored"
    restored = out_dir / noisy.name
    fresh = (
        restored.is_file()
        and restored.stat().st_mtime > (model / "model.ckpt").stat().st_mtime
    )
    if fresh:
        print(f"{restored.relative_to(ROOT)} exists, reused")
    else:
        exe = Path(python).parent / "masksr-restore"
        cmd = [exe]  # the console script
        if not exe.exists():
            cmd = [python, "-m", "speechbrain_masksr.cli.restore"]
        run(
            cmd
            + [noisy, "-o", out_dir, "--source", model]
            + ["--seed", "0", "--device", "cpu"]
        )

    step(6, "metrics (clean reference: " + clean.name + ")")
    from speechbrain_masksr.metrics import metrics_table

    print(metrics_table(score(noisy, restored, clean)))
    print(
        "\nNOTE: this is a SMOKE-SCALE model: a tiny randomly initialised "
        "codec (its tokens carry no meaning) and a tiny MaskSR trained for a "
        "few minutes on synthetic speech. It cannot sound good; the demo "
        "shows that every stage runs end to end. For real training (DAC "
        "44.1 kHz weights, DNS Challenge data) see README.md, section "
        "'Training the real model'."
    )
    print(
        f"\nfiles: model {model.relative_to(ROOT)}/, restored "
        f"{restored.relative_to(ROOT)}, training log "
        f"{(results / 'train_log.txt').relative_to(ROOT)}"
        f"\ndemo time: {time.time() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
