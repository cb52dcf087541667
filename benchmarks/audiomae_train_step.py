#!/usr/bin/env python3
"""Benchmark: one Audio-MAE pretraining step (ViT-B + local decoder).

Times a full training step - forward (80% random masking, encoder on the
visible patches, 16-block shifted-window decoder, norm-pix MSE), backward
and an AdamW update - on 1024 x 128 fbank inputs, and reports samples per
second, seconds per step, peak memory and parameter counts. The fbank front
end is not timed (``--with-fbank`` adds it, from 10 s waveforms), as in the
official recipe, where it runs in the data loader.

``--official-repo PATH`` also times the official ``MaskedAutoencoderViT``
(facebookresearch/AudioMAE ``models_mae.py``, with timm 0.3.2 carrying the
repository's ``timm_patch``) with the same settings, the same batch, the
same number of threads and the same step loop, and prints both side by
side. ``PATH`` is either the clone itself (timm 0.3.2 then has to be
importable, e.g. through ``--official-path``) or a folder holding the clone
as ``audiomae/`` next to a ``pip install --target`` copy of timm 0.3.2 (see
``benchmarks/README.md``). The official files are not edited: the few
incompatibilities of that code with current numpy / torch are bridged
inside this process (see :func:`import_official`), and on CPU the
``.cuda()`` call of its ``forward`` is made a no-op for the duration of
that forward only (see :func:`cuda_call_stays_on_cpu`).

With ``--official-repo`` each model lives in its own child process of this
script (so that one model's CPU peak memory is not hidden by the other's),
and the steps are interleaved: every round runs one step of each model,
alternating which goes first, so both see the same machine load. Reported:
samples/s and mean seconds per step (wall clock), the fastest step (least
disturbed by other load), CPU seconds per step (all threads of the process;
with several threads on a busy machine this grows too, as OpenMP threads
spin while they wait for each other) and memory:

* GPU: ``torch.cuda.max_memory_allocated`` over the timed steps;
* CPU: the peak resident set size of the process (``ru_maxrss``, which
  covers model building, warm-up and timed steps) and, in brackets, its
  growth over the resident size just before the model was built (imports
  and the input batch excluded). tracemalloc is not used: it does not see
  the allocations of torch's CPU allocator.

Examples::

    python benchmarks/audiomae_train_step.py --device cpu --batch-size 2 \
        --steps 3 --official-repo /path/to/ref
    python benchmarks/audiomae_train_step.py --device cuda --batch-size 64 \
        --amp bf16 --official-repo /path/to/ref

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import contextlib
import importlib.util
import json
import math
import os
import resource
import subprocess
import sys
import time
import types

import torch

from speechbrain_masksr.lobes.audio_mae import (
    AudioMAE,
    AudioMAEDecoder,
    AudioMAEEncoder,
    AudioMAEFbank,
    vit_config,
)
from speechbrain_masksr.lobes.patching import grid_size

READY_TAG = "@@READY"
STEP_TAG = "@@STEP "
RESULT_TAG = "@@RESULT "
OFFICIAL_NAMES = {384: "small", 768: "base", 1024: "large"}


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
        cfg["d_model"],
        512,
        depth=args.decoder_depth,
        num_heads=16,
        mode=args.decoder,
    )
    return AudioMAE(encoder, decoder, mask_ratio=args.mask_ratio)


def official_sys_paths(path, extra=()):
    """Folders to put in front of ``sys.path`` for the official code.

    Arguments
    ---------
    path : str
        The AudioMAE clone, or a folder holding it as ``audiomae/`` next to
        a ``pip install --target`` copy of timm 0.3.2.
    extra : sequence of str
        More folders (e.g. where timm 0.3.2 is installed), searched first.

    Returns
    -------
    list of str
        Folders, first searched first.
    """
    path = os.path.abspath(path)
    if os.path.isfile(os.path.join(path, "models_mae.py")):
        repo, roots = path, []
    elif os.path.isfile(os.path.join(path, "audiomae", "models_mae.py")):
        repo, roots = os.path.join(path, "audiomae"), [path]
    else:
        raise SystemExit(
            f"--official-repo {path}: no models_mae.py there nor in "
            f"{os.path.join(path, 'audiomae')} (clone "
            "facebookresearch/AudioMAE; see benchmarks/README.md)"
        )
    return [os.path.abspath(p) for p in extra] + roots + [repo]


def install_compat_shims():
    """Bridge the official code's old-library assumptions, in this process.

    The official repository targets torch 1.8 / numpy < 1.24 / timm 0.3.2.
    Instead of editing its files, three gaps are filled here (only in the
    child process that runs the official model):

    * ``torch._six`` (removed in torch 2.0; ``util/misc.py`` imports
      ``inf`` from it): a module with the few names it used to hold;
    * ``numpy.float`` (removed in numpy 1.24; ``util/pos_embed.py`` uses it
      as a dtype): an alias of ``float``, which is what it always was;
    * ``torchvision`` (imported by timm 0.3.2's data-augmentation modules,
      which the model never uses), only when it is not installed: empty
      placeholder modules whose attributes are dummy classes.

    Returns
    -------
    list of str
        What was installed, for the log.
    """
    import collections.abc

    import numpy

    done = []
    if "torch._six" not in sys.modules:
        try:
            importlib.import_module("torch._six")
        except ImportError:
            six = types.ModuleType("torch._six")
            six.inf = math.inf
            six.nan = math.nan
            six.string_classes = (str, bytes)
            six.int_classes = int
            six.container_abcs = collections.abc
            sys.modules["torch._six"] = six
            torch._six = six
            done.append("torch._six")
    if "float" not in numpy.__dict__:
        numpy.float = float
        done.append("numpy.float")
    if importlib.util.find_spec("torchvision") is None:

        def dummy(attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return type(attr, (), {})

        def placeholder(name):
            module = types.ModuleType(name)
            module.__getattr__ = dummy
            sys.modules[name] = module
            return module

        vision = placeholder("torchvision")
        vision.transforms = placeholder("torchvision.transforms")
        vision.transforms.functional = placeholder(
            "torchvision.transforms.functional"
        )
        done.append("torchvision placeholder")
    return done


def import_official(args):
    """Import the official ``models_mae`` and check the timm it got.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed options (``official_repo``, ``official_path``).

    Returns
    -------
    module
        The official ``models_mae`` module.
    """
    paths = official_sys_paths(args.official_repo, args.official_path)
    if "timm" in sys.modules:
        raise SystemExit("timm was imported before the official code")
    sys.path[:0] = paths
    shims = install_compat_shims()
    try:
        import models_mae  # the official module, from the clone
    except ImportError as err:
        raise SystemExit(
            f"Cannot import the official models_mae from {paths}: {err}. "
            "It needs timm==0.3.2 with AudioMAE's timm_patch applied "
            "(timm/models/swin_transformer.py, layers/helpers.py); see "
            "benchmarks/README.md."
        ) from err
    import timm

    print(
        f"official code: {models_mae.__file__}; timm {timm.__version__} "
        f"from {os.path.dirname(timm.__file__)}; compatibility shims: "
        f"{', '.join(shims) or 'none'}",
        file=sys.stderr,
    )
    if timm.__version__ != "0.3.2":
        print(
            f"warning: the official code was written for timm 0.3.2, got "
            f"{timm.__version__}",
            file=sys.stderr,
        )
    return models_mae


def check_official_settings(args):
    """Refuse settings the official model cannot reproduce.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed options.

    Returns
    -------
    str
        The official size name (``"base"`` for ViT-B).
    """
    if args.decoder not in ("local", "global"):
        raise SystemExit("the official model has local / global decoders")
    if args.decoder == "local" and (
        args.decoder_depth != 16 or args.target_length != 1024
    ):
        raise SystemExit(
            "the official local decoder is fixed to 16 blocks on a 64 x 8 "
            "grid: use --decoder-depth 16 --target-length 1024"
        )
    return OFFICIAL_NAMES[vit_config(args.vit)["d_model"]]


def build_official(args):
    """The official model with the same settings as :func:`build_ours`.

    Arguments
    ---------
    args : argparse.Namespace
        Parsed options.

    Returns
    -------
    torch.nn.Module
        ``models_mae.mae_vit_<size>_patch16``: 1 input channel, audio mode,
        ``target_length x 128`` input, norm-pix loss, random (not 2-D)
        masking, decoder 512-d (local: the 16 shifted-window blocks the
        official code hard-wires; global: ``--decoder-depth`` ViT blocks).
    """
    size = check_official_settings(args)
    models_mae = import_official(args)
    return getattr(models_mae, f"mae_vit_{size}_patch16")(
        in_chans=1,
        audio_exp=True,
        img_size=(args.target_length, 128),
        decoder_mode={"global": 0, "local": 1}[args.decoder],
        decoder_depth=args.decoder_depth,
        norm_pix_loss=True,
        mask_2d=False,
    )


@contextlib.contextmanager
def cuda_call_stays_on_cpu(enabled=True):
    """Make ``Tensor.cuda()`` return the tensor unchanged, temporarily.

    The official ``MaskedAutoencoderViT.forward`` ends with
    ``loss_contrastive = torch.FloatTensor([0.0]).cuda()``, an unused
    constant that fails on a machine without CUDA. While this context is
    active (the official forward on CPU, nothing else) ``.cuda()`` is a
    no-op; the class attribute is restored on exit.

    Arguments
    ---------
    enabled : bool
        False makes this context do nothing (GPU runs).

    Yields
    ------
    None
    """
    if not enabled:
        yield
        return
    had_own = "cuda" in torch.Tensor.__dict__
    original = torch.Tensor.__dict__.get("cuda")
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        if had_own:
            torch.Tensor.cuda = original
        else:
            del torch.Tensor.cuda


def rss_now_mib():
    """Current resident set size of this process in MiB (Linux).

    Returns
    -------
    float
        From ``/proc/self/statm``; ``nan`` where that is missing.
    """
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def rss_peak_mib():
    """Peak resident set size of this process so far, in MiB.

    Returns
    -------
    float
        ``ru_maxrss`` (KiB on Linux) in MiB.
    """
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_batch(args, device):
    """The input batch, identical for every model (seeded generator).

    Arguments
    ---------
    args : argparse.Namespace
        Parsed options.
    device : torch.device
        Device.

    Returns
    -------
    torch.Tensor
        ``[batch, time, freq]`` fbanks, or ``[batch, samples]`` waveforms
        with ``--with-fbank``.
    """
    gen = torch.Generator().manual_seed(0)
    if args.with_fbank:
        shape = (args.batch_size, 10 * 16000)
        return (0.1 * torch.randn(*shape, generator=gen)).to(device)
    shape = (args.batch_size, args.target_length, 128)
    return torch.randn(*shape, generator=gen).to(device)


class StepRunner:
    """One model with its optimiser and batch, stepped on request.

    Arguments
    ---------
    name : str
        Row label.
    build : callable
        ``build(args) -> torch.nn.Module``.
    step_fn : callable
        ``step_fn(model, feats) -> loss`` with feats ``[batch, time, freq]``.
    args : argparse.Namespace
        Parsed options.
    device : torch.device
        Device.
    """

    def __init__(self, name, build, step_fn, args, device):
        torch.manual_seed(0)
        self.name, self.args, self.device = name, args, device
        self.step_fn = step_fn
        self.batch = make_batch(args, device)
        self.fbank = AudioMAEFbank(target_length=args.target_length)
        self.fbank = self.fbank.to(device)
        self.rss_before = rss_now_mib()
        self.model = build(args).to(device).train()
        self.n_params = sum(p.numel() for p in self.model.parameters())
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.n_trainable = sum(p.numel() for p in params)
        self.opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95))
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(
            args.amp
        )
        self.scaler = torch.amp.GradScaler(
            device.type, enabled=args.amp == "fp16" and device.type == "cuda"
        )
        self.warm, self.wall, self.cpu, self.loss = [], [], [], float("nan")

    def step(self, timed=True):
        """Run one training step (fwd + bwd + AdamW) and time it.

        Arguments
        ---------
        timed : bool
            False for a warm-up step (not counted; the GPU peak-memory
            counter is reset before the first timed step).

        Returns
        -------
        tuple
            (wall-clock seconds, CPU seconds of this process).
        """
        cuda = self.device.type == "cuda"
        if timed and not self.wall and cuda:
            torch.cuda.reset_peak_memory_stats(self.device)
        wall0, cpu0 = time.perf_counter(), time.process_time()
        args = self.args
        feats = self.fbank(self.batch) if args.with_fbank else self.batch
        with torch.autocast(
            self.device.type,
            dtype=self.amp_dtype,
            enabled=bool(self.amp_dtype),
        ):
            loss = self.step_fn(self.model, feats)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.opt)
        self.scaler.update()
        self.opt.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize(self.device)
        took = (time.perf_counter() - wall0, time.process_time() - cpu0)
        self.loss = float(loss.detach().float())
        if timed:
            self.wall.append(took[0])
            self.cpu.append(took[1])
        else:
            self.warm.append(took[0])
        kind = f"step {len(self.wall)}" if timed else "warm-up"
        print(
            f"[{self.name}] {kind}: {took[0]:.2f} s wall, {took[1]:.2f} s CPU",
            file=sys.stderr,
        )
        return took

    def result(self):
        """The result row of the timed steps.

        Returns
        -------
        dict
            ``name``, ``params``, ``trainable``, ``samples_per_s``,
            ``step_s`` (mean), ``step_s_min``, ``cpu_s`` (mean CPU seconds
            per step), ``memory``, last ``loss``.
        """
        if not self.wall:
            raise RuntimeError("no timed step was run")
        steps = len(self.wall)
        row = {
            "name": self.name,
            "params": self.n_params,
            "trainable": self.n_trainable,
            "samples_per_s": self.args.batch_size * steps / sum(self.wall),
            "step_s": sum(self.wall) / steps,
            "step_s_min": min(self.wall),
            "cpu_s": sum(self.cpu) / steps,
            "loss": self.loss,
        }
        if self.device.type == "cuda":
            peak = torch.cuda.max_memory_allocated(self.device) / 2**20
            row["memory"] = f"{peak:.0f} MiB allocated"
        else:
            peak = rss_peak_mib()
            growth = peak - self.rss_before
            row["memory"] = f"{peak:.0f} MiB RSS (+{growth:.0f})"
        return row


def make_runner(which, args, device):
    """Build the :class:`StepRunner` of one implementation.

    Arguments
    ---------
    which : str
        ``"ours"`` or ``"official"``.
    args : argparse.Namespace
        Parsed options.
    device : torch.device
        Device.

    Returns
    -------
    StepRunner
        Ready to step.
    """
    if which == "ours":
        size = OFFICIAL_NAMES[vit_config(args.vit)["d_model"]]
        return StepRunner(
            f"speechbrain_masksr ViT-{size[0].upper()} + {args.decoder}",
            build_ours,
            lambda m, x: m(x)["loss"],
            args,
            device,
        )

    def official_step(model, feats):
        # official input layout is [batch, 1, time, freq]
        with cuda_call_stays_on_cpu(enabled=device.type != "cuda"):
            return model(feats[:, None], mask_ratio=args.mask_ratio)[0]

    return StepRunner(
        f"official MaskedAutoencoderViT ({args.decoder})",
        build_official,
        official_step,
        args,
        device,
    )


def serve(which, args, device):
    """Child-process loop: build one model, step it when told to.

    Reads ``warmup`` / ``step`` / ``done`` lines on stdin and answers on
    stdout with tagged lines (``READY_TAG``, ``STEP_TAG``, ``RESULT_TAG``).

    Arguments
    ---------
    which : str
        ``"ours"`` or ``"official"``.
    args : argparse.Namespace
        Parsed options.
    device : torch.device
        Device.
    """
    runner = make_runner(which, args, device)
    print(READY_TAG, flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "done":
            break
        took = runner.step(timed=command == "step")
        print(STEP_TAG + json.dumps(took), flush=True)
    print(RESULT_TAG + json.dumps(runner.result()), flush=True)


class Child:
    """A child process of this script serving one model (see :func:`serve`).

    Arguments
    ---------
    which : str
        ``"ours"`` or ``"official"``.
    argv : list of str
        This run's command-line arguments.
    threads : int
        Torch threads for the child (the same for every model).
    """

    def __init__(self, which, argv, threads):
        self.which = which
        cmd = [sys.executable, os.path.abspath(__file__), *argv]
        cmd += ["--only", which, "--threads", str(threads)]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.expect(READY_TAG)

    def expect(self, tag):
        """Read the child's stdout up to the next line starting with tag.

        Arguments
        ---------
        tag : str
            Expected tag.

        Returns
        -------
        str
            The rest of that line.
        """
        for line in self.proc.stdout:
            if line.startswith(tag):
                return line[len(tag) :].strip()
            print(line, end="")
        code = self.proc.wait()
        raise SystemExit(f"the {self.which} run failed (exit {code})")

    def send(self, command, tag):
        """Send a command line and wait for the tagged answer.

        Arguments
        ---------
        command : str
            ``warmup``, ``step`` or ``done``.
        tag : str
            Tag of the answer.

        Returns
        -------
        str
            The answer.
        """
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.expect(tag)

    def finish(self):
        """Ask for the result row and wait for the child to exit.

        Returns
        -------
        dict
            The result row.
        """
        row = json.loads(self.send("done", RESULT_TAG))
        self.proc.stdin.close()
        self.proc.wait()
        return row


def run_interleaved(argv, args):
    """Time ours and the official model, one step of each in turn.

    Each model lives in its own child process (built one after the other);
    then every round runs one step of each, alternating which goes first,
    so both see the same machine load.

    Arguments
    ---------
    argv : list of str
        This run's command-line arguments.
    args : argparse.Namespace
        Parsed options.

    Returns
    -------
    list of dict
        Result rows, ours first.
    """
    children = []
    try:
        for which in ("ours", "official"):
            children.append(Child(which, argv, args.threads))
        rounds = ["warmup"] * args.warmup + ["step"] * args.steps
        for i, command in enumerate(rounds):
            for child in children[:: 1 if i % 2 == 0 else -1]:
                child.send(command, STEP_TAG)
        return [child.finish() for child in children]
    finally:
        for child in children:
            if child.proc.poll() is None:
                child.proc.kill()


def print_table(rows, args, device, load):
    """Print the side-by-side table.

    Arguments
    ---------
    rows : list of dict
        Result rows.
    args : argparse.Namespace
        Parsed options.
    device : torch.device
        Device.
    load : tuple
        1-minute load average before and after the run.
    """
    if device.type == "cuda":
        dev = torch.cuda.get_device_name(device)
        mem = "torch.cuda.max_memory_allocated over the timed steps"
    else:
        dev = f"CPU ({os.cpu_count()} cores), {args.threads} torch threads"
        mem = (
            "peak RSS of the process running the model (ru_maxrss), in "
            "brackets its growth over the RSS before the model was built"
        )
    print(
        f"Audio-MAE training step (fwd + bwd + AdamW): "
        f"{args.target_length}x128 fbank, mask {args.mask_ratio}, "
        f"{args.decoder} decoder, batch {args.batch_size}, {args.steps} "
        f"timed steps (+{args.warmup} warm-up), amp {args.amp}, {dev}"
        + (", fbank included" if args.with_fbank else "")
    )
    print(
        f"memory: {mem}; 1-min load average {load[0]:.2f} before, "
        f"{load[1]:.2f} after"
        + ("; steps interleaved" if len(rows) > 1 else "")
    )
    cols = (
        "model",
        "params (trainable)",
        "samples/s",
        "s/step",
        "min s/step",
        "CPU s/step",
        "peak memory",
        "last loss",
    )
    table = [cols]
    for r in rows:
        table.append(
            (
                r["name"],
                f"{r['params']:,} ({r['trainable']:,})",
                f"{r['samples_per_s']:.3f}",
                f"{r['step_s']:.2f}",
                f"{r['step_s_min']:.2f}",
                f"{r['cpu_s']:.2f}",
                r["memory"],
                f"{r['loss']:.4f}",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for i, row in enumerate(table):
        cells = (c.ljust(w) for c, w in zip(row, widths))
        print("| " + " | ".join(cells) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    if len(rows) == 2:
        ours, ref = rows
        same = (ours["params"], ours["trainable"]) == (
            ref["params"],
            ref["trainable"],
        )
        print(
            "parameter counts: "
            + ("identical" if same else "DIFFER")
            + "; ours / official: "
            f"samples/s {ours['samples_per_s'] / ref['samples_per_s']:.2f}x, "
            f"min s/step {ref['step_s_min'] / ours['step_s_min']:.2f}x "
            f"faster, CPU s/step {ref['cpu_s'] / ours['cpu_s']:.2f}x less"
        )


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
    parser.add_argument(
        "--official-repo",
        default=None,
        help="AudioMAE clone, or a folder with it as audiomae/ + timm 0.3.2",
    )
    parser.add_argument(
        "--official-path",
        action="append",
        default=[],
        help="extra folder for sys.path of the official run (e.g. timm)",
    )
    parser.add_argument(
        "--only", choices=("ours", "official"), help=argparse.SUPPRESS
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device here")
    if args.steps < 1:
        raise SystemExit("--steps must be at least 1")
    if args.batch_size is None:
        args.batch_size = 2 if device.type == "cpu" else 32
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()

    if args.only:
        serve(args.only, args, device)
        return []
    load_before = os.getloadavg()[0]
    if args.official_repo:
        official_sys_paths(args.official_repo, args.official_path)
        check_official_settings(args)
        rows = run_interleaved(argv, args)
    else:
        runner = make_runner("ours", args, device)
        for _ in range(args.warmup):
            runner.step(timed=False)
        for _ in range(args.steps):
            runner.step()
        rows = [runner.result()]
    print_table(rows, args, device, (load_before, os.getloadavg()[0]))
    return rows


if __name__ == "__main__":
    main()
