"""``make demo``: a small MAE speech enhancer that improves a real recording.

1. Train a small MAE speech enhancer (``recipes/Folders/train.py``,
   ``hparams/mae_se_istft_small.yaml``: ViT-AE-iSTFT, complex STFT mask) for
   a few minutes on 2 CPU cores, on real read speech (LibriSpeech, CC BY
   4.0) mixed on the fly with real ambient noise (``tools/demo_assets``, see
   its ATTRIBUTION.md), starting from the bundled checkpoint of the same
   model trained for 75 minutes on more LibriSpeech speakers
   (``tools/demo_assets/pretrained/enhancer.ckpt``; ``--from-scratch``
   trains from random weights instead, which needs far more than the
   demo's few minutes to beat the unprocessed input).
2. The recipe exports the best checkpoint to ``demo/enhancer/`` (a model
   folder for ``MAEEnhancement.from_folder`` and ``masksr-restore
   --source``).
3. Enhance real noisy recordings it never saw (VoiceBank-DEMAND speaker
   p287, recorded speech with DEMAND noise) with ``masksr-restore`` into
   ``demo/enhanced/``.
4. Print PESQ, ESTOI and DNSMOS OVRL of the unprocessed and enhanced audio
   against the clean recordings.

Re-running reuses the trained model; ``--force`` retrains. ``--masksr-check``
also runs the old MaskSR pipeline check (tiny random codec: it shows that
the stages run, it cannot sound good).

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"

# Tiny overrides of hparams/masksr.yaml: a few minutes on 2 CPU cores.
TRAIN_OVERRIDES = {
    "dns_clean_subsets": "[]",  # the mini corpus has no DNS 4 subsets
    "aishell_folder": "null",
    "number_of_epochs": 80,
    "batch_size": 4,
    "effective_batch_size": 4,
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
    "lr_decay": 0.1,
    "sampling_steps": 8,
    "valid_restore_clips": 1,
    "valid_restore_every": 20,
    "valid_metrics": "[lsd,estoi]",
    "test_sets": "[]",  # the demo scores its own restored file (step 6)
}
CORPUS = dict(n_speech=32, n_noise=6, n_rir=4, n_test=2, n_real=1, seed=0)
METRICS = ("lsd", "pesq", "estoi", "si_sdr", "dnsmos", "spk_sim")
DEMO_METRICS = ("pesq", "estoi", "si_sdr", "dnsmos_ovrl")
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


def masksr_check(args):
    """The MaskSR pipeline check (tiny random codec, smoke scale).

    Arguments
    ---------
    args : argparse.Namespace
        ``force`` and ``epochs``.
    """
    start = time.time()
    python = sys.executable
    data, codec = DEMO / "data", DEMO / "codec" / "weights.pth"
    results, model = DEMO / "results", DEMO / "model"

    step(1, f"mini corpus -> {data.relative_to(ROOT)}")
    from mini_corpus import make_mini_corpus

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
            + ["--overwrite"]  # an output older than the model: redone
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
        f"\nMaskSR check time: {time.time() - start:.0f} s"
    )


ASSETS = ROOT / "tools" / "demo_assets"
ENHANCER_YAML = "hparams/mae_se_istft_small.yaml"
# Starting point: the small ViT-AE-iSTFT trained for 75 minutes on this CPU
# (193 LibriSpeech train-clean-100 speakers + real ambient noise; see
# tools/demo_assets/ATTRIBUTION.md for the command). The demo continues
# training it on the bundled real speech and noise: 60 epochs, a few minutes on 2
# cores (45 utterances: 6 steps per epoch).
PRETRAINED = ASSETS / "pretrained" / "enhancer.ckpt"
ENHANCER_OVERRIDES = {
    "number_of_epochs": 60,
    "batch_size": 8,
    "num_workers": 0,
    "test_items": 2,
    "lr": 0.0002,
    "input_skip": False,
    "pretrained_path": PRETRAINED,
    "pretrained_parts": "[encoder,decoder]",
}


def enhancer_ready(folder, run_folder):
    """Whether ``folder`` holds an exported MAE enhancer.

    Arguments
    ---------
    folder : Path
        Model folder.
    run_folder : Path
        The training run that made it (removed with ``folder`` when the
        folder does not load).

    Returns
    -------
    bool
        True when hyperparams.yaml and enhancer.ckpt exist and the folder
        loads (one exported by an older version may not: it and its run
        folder are then removed, with a message saying why, and retrained).
    """
    if not all(
        (folder / n).is_file() for n in ("hyperparams.yaml", "enhancer.ckpt")
    ):
        return False
    from speechbrain_masksr.inference.enhancement import MAEEnhancement

    try:
        MAEEnhancement.from_folder(str(folder), run_opts={"device": "cpu"})
    except Exception as err:  # any reason it cannot serve the demo
        print(
            f"{folder.relative_to(ROOT)}/ does not load with this version "
            f"({type(err).__name__}: {str(err)[:200]}); removing it and "
            f"{run_folder.relative_to(ROOT)}/ to retrain"
        )
        shutil.rmtree(run_folder, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
        return False
    return True


def score_folder(clean_dir, systems, rate=16000):
    """Mean PESQ / ESTOI / DNSMOS OVRL of each system against the clean files.

    Arguments
    ---------
    clean_dir : Path
        Clean references.
    systems : dict
        ``{name: folder}`` with files of the same names.
    rate : int
        Scoring rate (the references' rate).

    Returns
    -------
    dict
        ``{name: {metric: mean}}``.
    """
    from speechbrain_masksr.dataio import load_audio
    from speechbrain_masksr.metrics import compute_metrics, mean_metrics

    table = {}
    for name, folder in systems.items():
        rows = []
        for ref_path in sorted(clean_dir.glob("*.wav")):
            ref, _ = load_audio(ref_path, sample_rate=rate)
            est, _ = load_audio(folder / ref_path.name, sample_rate=rate)
            rows.append(compute_metrics(ref, est, rate, metrics=DEMO_METRICS))
        table[name] = {"files": len(rows), **mean_metrics(rows)}
    return table


def main(argv=None):
    """Run the demo.

    Arguments
    ---------
    argv : list of str, optional
        Command-line arguments.
    """
    parser = argparse.ArgumentParser(description="MAE speech enhancer demo")
    parser.add_argument(
        "--force", action="store_true", help="retrain and re-export"
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=ENHANCER_OVERRIDES["number_of_epochs"],
        help="enhancer training epochs",
    )
    parser.add_argument(
        "--from-scratch",
        action="store_true",
        help="train from random weights instead of the bundled checkpoint",
    )
    parser.add_argument(
        "--masksr-check",
        action="store_true",
        help="also run the MaskSR pipeline check (tiny random codec)",
    )
    parser.add_argument(
        "--masksr-epochs",
        type=int,
        default=TRAIN_OVERRIDES["number_of_epochs"],
        help="MaskSR check training epochs",
    )
    args = parser.parse_args(argv)
    start = time.time()
    python = sys.executable
    results, model = DEMO / "enhancer_run", DEMO / "enhancer"
    noisy_dir, clean_dir = ASSETS / "test" / "noisy", ASSETS / "test" / "clean"

    print("\n=== [1/3] train a small MAE speech enhancer (recipes/Folders)")
    if args.force:
        shutil.rmtree(results, ignore_errors=True)
        shutil.rmtree(model, ignore_errors=True)
    if enhancer_ready(model, results):
        print(f"{model.relative_to(ROOT)}/ exists, training skipped")
    else:
        overrides = dict(ENHANCER_OVERRIDES, number_of_epochs=args.epochs)
        if args.from_scratch:
            overrides.update(pretrained_path="null", input_skip=True, lr=0.001)
        run(
            [python, "recipes/Folders/train.py", ENHANCER_YAML]
            + [f"--speech_folder={ASSETS / 'speech'}"]
            + [f"--noise_folder={ASSETS / 'noise'}"]
            + [f"--output_folder={results}", f"--export_folder={model}"]
            + ["--device=cpu"]
            + [f"--{k}={v}" for k, v in overrides.items()]
        )

    print("\n=== [2/3] enhance real noisy recordings with masksr-restore")
    out_dir = DEMO / "enhanced"
    exe = Path(python).parent / "masksr-restore"
    cmd = (
        [exe]
        if exe.exists()
        else [python, "-m", "speechbrain_masksr.cli.restore"]
    )
    if out_dir.exists():
        print(f"{out_dir.relative_to(ROOT)}/ is replaced (this demo's output)")
    run(
        cmd
        + [noisy_dir, "-o", out_dir, "--source", model, "--device", "cpu"]
        + ["--overwrite"]  # the demo's own earlier outputs
    )

    print("\n=== [3/3] scores against the clean recordings (16 kHz)")
    from speechbrain_masksr.metrics import metrics_table

    table = score_folder(
        clean_dir, {"Unprocessed": noisy_dir, "MAE enhancer": out_dir}
    )
    print(metrics_table(table))
    print(
        "\nReal VoiceBank-DEMAND recordings (speaker p287, DEMAND noise) the "
        "model never saw; it was trained on LibriSpeech speech mixed with "
        "other real noises (75 minutes before shipping, plus a few minutes "
        f"here on {len(list((ASSETS / 'speech').glob('*.flac')))} "
        "utterances)."
        f"\nfiles: model {model.relative_to(ROOT)}/, enhanced "
        f"{out_dir.relative_to(ROOT)}/, training log "
        f"{(results / 'train_log.txt').relative_to(ROOT)}"
        f"\ndemo time: {time.time() - start:.0f} s"
    )
    if args.masksr_check:
        args.epochs = args.masksr_epochs
        masksr_check(args)


if __name__ == "__main__":
    main()
