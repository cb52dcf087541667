#!/usr/bin/env python3
"""Recipe for training MaskSR (masked codec LM speech restoration) on DNS.

Clean DNS speech is encoded once into DAC tokens (token cache); each training
example is a random crop aligned to the 512-sample codec frames, degraded on
the fly by the general speech restoration pipeline (noise, reverberation,
clipping, band limitation). Validation reports the masked-token loss, the
token accuracy of each codebook and, on a few clips, restored-audio metrics;
the test stage restores every test file (in windows, with the function the
``SpeechRestoration`` interface uses: ``window_seconds``, ``overlap_seconds``,
``crossfade``), writes the restored audio and a Markdown metrics table.
Test sets without clean references (DNS ``real_recordings``: add
``test_real`` to ``test_sets``) are restored and scored reference-free
(DNSMOS SIG/BAK/OVRL per file and as means, as ``masksr-eval --est``).

Training lasts ``total_steps`` optimizer steps (SpeechBrain's
``optimizer_step_limit``), each on ``effective_batch_size`` examples
(``batch_size`` x ``grad_accumulation_factor`` x DDP processes, checked
before training); intra-epoch checkpoints (``ckpt_interval_minutes``, or
``--ckpt_interval_steps=N`` to save every N batches instead) let an
interrupted run resume, by relaunching the same command, at the saved
optimizer step and batch.

To run this recipe (from the repository root)::

    python recipes/DNS/train.py hparams/masksr.yaml \\
        --data_folder=/path/to/DNS-Challenge \\
        --aishell_folder=/path/to/aishell --codec_path=/path/to/weights.pth

MaskSR-M: ``hparams/masksr_m.yaml``. Input-feature ablation of the paper
(appendix, Table 5): ``hparams/masksr_input_waveform.yaml`` (learned
waveform front end) and ``hparams/masksr_input_dac.yaml`` (DAC tokens of the
degraded input, no speech encoder, 14 LM blocks, guidance 0.3). Multi-GPU
(DDP; keep the effective batch, here 4 x 16 = 64)::

    torchrun --standalone --nproc_per_node=4 recipes/DNS/train.py \\
        hparams/masksr.yaml --batch_size=16 --data_folder=... \\
        --aishell_folder=... --codec_path=...

On CPU add ``--device=cpu --distributed_backend=gloo``. ``--debug`` runs two
batches of two epochs.

Corpora that do not fit on every node's disk: ``make_shards.py`` packs the
training set (clean audio + clean tokens) into WebDataset shards, and
``--train_shards='/data/shards/train-{000000..000099}.tar'`` trains from
them (each process and loader worker reads its own shards; same examples as
the folder layout); README.md shows a 2-node torchrun command.

Authors
 * speechbrain-masksr contributors 2026
"""

import hashlib
import json
import sys

import speechbrain as sb
import torch
from dns_prepare import prepare_from_hparams, token_cache_from_hparams
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.distributed import run_on_main
from speechbrain.utils.logger import get_logger

from speechbrain_masksr.brains.masksr_brain import MaskSRBrain
from speechbrain_masksr.data.shards import (
    ShardedTrainSet,
    epoch_batches,
    loader_kwargs,
)
from speechbrain_masksr.data.token_cache import (
    cache_key,
    manifest_cache_entries,
    training_example,
)
from speechbrain_masksr.dataio import load_audio, load_segment
from speechbrain_masksr.distributed import ddp_finish
from speechbrain_masksr.inference.restoration import load_model_weights
from speechbrain_masksr.utils.training import (
    check_effective_batch,
    ckpt_interval_options,
    int_step_limit,
    run_option,
    world_size,
)

logger = get_logger(__name__)


def item_seed(base, uid):
    """Deterministic 62-bit seed for one item (fixed valid/test degradations).

    Arguments
    ---------
    base : int
        The evaluation seed.
    uid : str
        Utterance id.

    Returns
    -------
    int
        The seed.
    """
    digest = hashlib.sha1(f"{base}:{uid}".encode()).hexdigest()
    return int(digest[:15], 16)


def reference_free_sets(hparams, manifests):
    """Names of the test sets whose items have no clean reference.

    Arguments
    ---------
    hparams : dict
        Hyperparameters (``test_sets``).
    manifests : dict
        ``{name: json path}``.

    Returns
    -------
    set of str
        E.g. ``{"test_real"}`` (DNS ``real_recordings``): sets other
        than ``test`` with an entry that has no ``clean_wav``.
    """
    names = set()
    for name in hparams["test_sets"]:
        if name == "test" or name not in manifests:
            continue
        with open(manifests[name], encoding="utf-8") as fin:
            entries = json.load(fin)
        if any("clean_wav" not in e for e in entries.values()):
            names.add(name)
    return names


def dataio_prep(hparams, manifests, cache, distortion, debug_items=None):
    """Build the train / valid / test datasets.

    Arguments
    ---------
    hparams : dict
        Loaded hyperparameters.
    manifests : dict
        ``{name: json path}`` from ``prepare_dns``.
    cache : TokenCache
        The clean-token cache.
    distortion : GSRPipeline
        The degradation pipeline.
    debug_items : int, optional
        Keep only this many items per set (``--debug``).

    Returns
    -------
    dict
        ``{"train", "valid", <test set names>}`` -> DynamicItemDataset;
        with ``train_shards``, ``"train"`` is a ``ShardedTrainSet`` that
        makes the same examples from WebDataset shards.
        Items of reference-free test sets (:func:`reference_free_sets`)
        hold ``id`` and ``degraded_sig`` only.
    """
    sr = hparams["sample_rate"]
    hop = hparams["codec"].hop_length
    crop = max(1, int(round(hparams["segment_seconds"] * sr / hop)))
    eval_seed = hparams["eval_seed"]
    replacements = {"data_root": hparams["data_folder"]}
    outputs = ["id", "clean_sig", "degraded_sig", "tokens"]

    def train_example(sample):
        # Drawn from the (per-rank, per-worker) global RNG: new each epoch.
        seed = int(torch.randint(0, 2**62, (1,)))
        generator = torch.Generator().manual_seed(seed)
        clean, degraded, tokens = training_example(
            sample["tokens"],
            sample["audio"],
            distortion,
            crop,
            sr,
            hop,
            generator,
        )
        return {
            "id": sample["id"],
            "clean_sig": clean,
            "degraded_sig": degraded,
            "tokens": tokens,  # frame-major, padded by PaddedBatch
        }

    @sb.utils.data_pipeline.takes("id", "wav")
    @sb.utils.data_pipeline.provides("clean_sig", "degraded_sig", "tokens")
    def train_pipeline(uid, wav):
        example = train_example(
            {"id": uid, "tokens": cache.load(uid), "audio": wav}
        )
        return tuple(example[k] for k in outputs[1:])

    @sb.utils.data_pipeline.takes("id", "wav")
    @sb.utils.data_pipeline.provides("clean_sig", "degraded_sig", "tokens")
    def valid_pipeline(uid, wav):
        generator = torch.Generator().manual_seed(item_seed(eval_seed, uid))
        return training_example(
            cache.load(uid), wav, distortion, crop, sr, hop, generator
        )

    def degrade(clean, generator):
        with torch.no_grad():
            return distortion(clean.unsqueeze(0), generator=generator)[0]

    def whole_file(key, wav):
        tokens = cache.load(key)
        clean = load_segment(wav, 0, tokens.shape[1] * hop, sr)
        return clean, tokens

    @sb.utils.data_pipeline.takes("id", "wav")
    @sb.utils.data_pipeline.provides("clean_sig", "degraded_sig", "tokens")
    def test_pipeline(uid, wav):
        generator = torch.Generator().manual_seed(item_seed(eval_seed, uid))
        clean, tokens = whole_file(uid, wav)
        yield clean
        yield degrade(clean, generator)
        yield tokens.t()

    def paired_pipeline(name):
        @sb.utils.data_pipeline.takes("id", "clean_wav", "noisy_wav")
        @sb.utils.data_pipeline.provides("clean_sig", "degraded_sig", "tokens")
        def pipeline(uid, clean_wav, noisy_wav):
            clean, tokens = whole_file(cache_key(name, uid, True), clean_wav)
            yield clean
            yield load_segment(noisy_wav, 0, clean.shape[0], sr)
            yield tokens.t()

        return pipeline

    @sb.utils.data_pipeline.takes("noisy_wav")
    @sb.utils.data_pipeline.provides("degraded_sig")
    def reference_free_pipeline(noisy_wav):
        return load_audio(noisy_wav, sample_rate=sr)[0]

    def load(name, pipeline, keys=outputs):
        data = sb.dataio.dataset.DynamicItemDataset.from_json(
            manifests[name], replacements=replacements
        )
        if debug_items is not None:
            data = data.filtered_sorted(select_n=debug_items)
        sb.dataio.dataset.add_dynamic_item([data], pipeline)
        sb.dataio.dataset.set_output_keys([data], keys)
        return data

    datasets = {"valid": load("valid", valid_pipeline)}
    if hparams["train_shards"]:
        steps = hparams["shard_epoch_steps"]
        if debug_items is not None:
            steps = debug_items // hparams["batch_size"]
        batches = epoch_batches(
            hparams["train_shards"], hparams["batch_size"], world_size(), steps
        )
        logger.info(
            "Training from the shards %s: %d batches per epoch and process",
            hparams["train_shards"],
            batches,
        )
        datasets["train"] = ShardedTrainSet(
            hparams["train_shards"],
            train_example,
            batches=batches,
            batch_size=hparams["batch_size"],
            shuffle_buffer=hparams["shard_shuffle_buffer"],
        )
    else:
        datasets["train"] = load("train", train_pipeline)
    for name in hparams["test_sets"]:
        if name not in manifests:
            raise FileNotFoundError(
                f"test set {name!r} has no manifest in {hparams['save_folder']}"
                f" (prepared: {sorted(manifests)})"
            )
    reference_free = reference_free_sets(hparams, manifests)
    for name in hparams["test_sets"]:
        if name == "test":
            datasets[name] = load(name, test_pipeline)
        elif name in reference_free:
            datasets[name] = load(
                name, reference_free_pipeline, ["id", "degraded_sig"]
            )
        else:
            datasets[name] = load(name, paired_pipeline(name))
    return datasets


def token_entries(hparams, manifests, datasets):
    """``{cache key: clean wav}`` of every item the datasets will read.

    Arguments
    ---------
    hparams : dict
        Hyperparameters.
    manifests : dict
        ``{name: json path}``.
    datasets : dict
        ``{name: dataset}`` from :func:`dataio_prep` (possibly subsets).

    Returns
    -------
    dict
        ``{key: path}``.
    """
    # Sharded sets carry their tokens.
    datasets = {k: d for k, d in datasets.items() if hasattr(d, "data_ids")}
    entries = manifest_cache_entries(
        manifests, list(datasets), data_root=hparams["data_folder"]
    )
    keys = set()
    for name, data in datasets.items():
        paired = name not in ("train", "valid", "test")
        keys.update(cache_key(name, uid, paired) for uid in data.data_ids)
    return {k: v for k, v in entries.items() if k in keys}


def extract_missing_tokens(cache, codec, entries, device):
    """Encode the clean files whose tokens are not cached (main process).

    Arguments
    ---------
    cache : TokenCache
        The token cache.
    codec : DACTokenizer
        The frozen codec.
    entries : dict
        ``{cache key: wav path}``.
    device : str
        Device to run the codec on.
    """
    missing = cache.missing(entries)
    if not missing:
        logger.info(
            "All %d token files cached in %s", len(entries), cache.folder
        )
        return
    codec.to(device)
    cache.extract(codec, {k: entries[k] for k in missing})


def build_distortion(hparams, manifests):
    """Instantiate the GSR pipeline with the prepared noise/RIR manifests.

    Arguments
    ---------
    hparams : dict
        Hyperparameters (``distortion`` is a partial of GSRPipeline).
    manifests : dict
        ``{name: json path}``.

    Returns
    -------
    GSRPipeline
        The pipeline.
    """
    if "noise" not in manifests:
        logger.warning(
            "No noise.json in %s: using generated coloured noise (fine for "
            "a smoke test, not for training)",
            hparams["save_folder"],
        )
    return hparams["distortion"](
        noises=manifests.get("noise"),
        rirs=manifests.get("rir"),
        replacements={"data_root": hparams["data_folder"]},
    )


if __name__ == "__main__":
    hparams_file, run_opts, overrides = sb.parse_arguments(sys.argv[1:])
    run_opts = int_step_limit(run_opts)
    with open(hparams_file, encoding="utf-8") as fin:
        hparams = load_hyperpyyaml(fin, overrides)

    sb.utils.distributed.ddp_init_group(run_opts)
    if not run_opts.get("test_only", False):  # fail before any data work
        check_effective_batch(
            hparams["effective_batch_size"],
            hparams["train_dataloader_opts"]["batch_size"],
            run_option("grad_accumulation_factor", hparams, run_opts),
            world_size(),
        )
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )
    # --ckpt_interval_steps=N alone replaces the YAML's minutes (logged; an
    # error for both on the command line comes before any data work)
    run_opts = ckpt_interval_options(hparams, run_opts)

    manifests = prepare_from_hparams(hparams)

    codec = hparams["codec"]
    cache = token_cache_from_hparams(hparams)
    debug_items = None
    if run_opts.get("debug", False):
        batches = run_opts.get("debug_batches", 2)
        debug_items = batches * hparams["batch_size"]
    datasets = dataio_prep(
        hparams,
        manifests,
        cache,
        build_distortion(hparams, manifests),
        debug_items=debug_items,
    )
    device = run_opts.get("device") or sb.utils.distributed.infer_device()
    run_on_main(
        extract_missing_tokens,
        kwargs={
            "cache": cache,
            "codec": codec,
            "entries": token_entries(hparams, manifests, datasets),
            "device": device,
        },
    )

    brain = MaskSRBrain(
        modules=hparams["modules"],
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    if hparams.get("init_model_from"):
        # Weights to start from (a weights-only snapshot); a checkpoint of
        # this run, when there is one, is recovered over them by fit().
        load_model_weights(hparams["model"], hparams["init_model_from"])
        logger.info("model initialised from %s", hparams["init_model_from"])
    train_opts = hparams["train_dataloader_opts"]
    if hparams["train_shards"]:
        train_opts = loader_kwargs(train_opts)
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs=train_opts,
        valid_loader_kwargs=hparams["valid_dataloader_opts"],
    )
    reference_free = reference_free_sets(hparams, manifests)
    for name in hparams["test_sets"]:
        brain.evaluate_set(
            name,
            datasets[name],
            hparams["test_dataloader_opts"],
            reference_free=name in reference_free,
        )
    brain.write_metrics_table(hparams["metrics_file"])
    ddp_finish()
