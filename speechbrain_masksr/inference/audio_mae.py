"""Pretrained interfaces for Audio-MAE: tagging and masked reconstruction.

* :class:`AudioMAEClassifier` - AudioSet-style multi-label tagging with a
  fine-tuned Audio-MAE: ``classify_batch`` gives the per-class sigmoid
  scores and the top-k classes, ``encode_batch`` the clip and patch
  embeddings. The 128-bin fbank input is computed from 16 kHz audio.
* :class:`AudioMAEReconstruction` - masks a clip's spectrogram, reconstructs
  it with the pretrained encoder + decoder, draws original / masked /
  reconstructed spectrograms (as in Figure 6 of the paper) and renders the
  reconstruction as audio with Griffin-Lim.

A model folder holds ``hyperparams.yaml`` (the checked-in template
``templates/audiomae_classifier.yaml`` or
``templates/audiomae_reconstruction.yaml`` with the model's fbank and model
configuration), ``model.ckpt`` (the state dict, loaded strictly) and, for
classifiers, ``label_encoder.txt`` (the class names, SpeechBrain's
``CategoricalEncoder`` format); :func:`write_model_folder` writes it and
``from_folder`` / ``from_hparams`` (both allowlist-checked, see
:mod:`speechbrain_masksr.trust`) load it. ``audiomae-convert`` writes such
folders from the official checkpoints; the AudioSet recipes write them
after training.

The interfaces only turn audio into model inputs and model outputs into
results: the model maths lives in the lobes (``AudioMAEClassifierModel``
and its ``pool``, ``AudioMAE.mask_and_reconstruct``).

Reconstruction with ``norm_pix_loss`` models: their predictions are
per-patch standardised, and the statistics of a masked patch are unknown.
``stats="visible"`` (default) gives each masked patch the mean / standard
deviation of the visible patches of its frequency band (all visible patches
if the band is fully masked); ``stats="oracle"`` uses the true statistics of
the hidden patches, as the official visualisation does - an upper bound
that peeks at the answer (see
:meth:`~speechbrain_masksr.lobes.audio_mae.AudioMAE.reconstruct`).

Authors
 * speechbrain-masksr contributors 2026
"""

import csv
from pathlib import Path

import torch

from speechbrain_masksr.dataio import check_waveform, save_audio
from speechbrain_masksr.errors import AudioError, OutputError
from speechbrain_masksr.inference.interface import AudioInterface
from speechbrain_masksr.inference.model_folder import TEMPLATES, write_folder
from speechbrain_masksr.inference.restoration import _check_run_opts
from speechbrain_masksr.lobes.audio_mae import (
    AudioMAE,
    AudioMAEClassifierModel,
)
from speechbrain_masksr.lobes.audio_mae.model import _check_stats
from speechbrain_masksr.utils.files import atomic_write, check_output_path
from speechbrain_masksr.utils.lengths import relative_to_absolute

__all__ = [
    "AudioMAEClassifier",
    "AudioMAEReconstruction",
    "fbank_to_waveform",
    "model_values",
    "plot_reconstruction",
    "read_label_names",
    "write_model_folder",
]

MODEL_FILE = "model.ckpt"
LABEL_FILE = "label_encoder.txt"
CLASSIFIER_TEMPLATE = TEMPLATES / "audiomae_classifier.yaml"
RECONSTRUCTION_TEMPLATE = TEMPLATES / "audiomae_reconstruction.yaml"


# ----------------------------------------------------------------------------
# Model folders
# ----------------------------------------------------------------------------


def read_label_names(label_csv):
    """Display names from an AudioSet ``class_labels_indices.csv``.

    Arguments
    ---------
    label_csv : str or Path
        File with the header ``index,mid,display_name``.

    Returns
    -------
    list of str
        Names in class-index order.

    Example
    -------
    >>> path = Path(getfixture("tmpdir")) / "labels.csv"
    >>> _ = path.write_text('index,mid,display_name\\n1,/m/b,"Dog, bark"\\n'
    ...                     '0,/m/a,Speech\\n')
    >>> read_label_names(path)
    ['Speech', 'Dog, bark']
    """
    if not Path(label_csv).is_file():
        raise FileNotFoundError(f"{label_csv}: label file not found")
    try:
        with open(label_csv, newline="", encoding="utf-8") as fin:
            reader = csv.DictReader(fin)
            fields = reader.fieldnames or []
            if "index" not in fields or "display_name" not in fields:
                raise ValueError(
                    f"{label_csv}: expected the columns index,mid,"
                    f"display_name of class_labels_indices.csv, got {fields}"
                )
            rows = sorted((int(r["index"]), r["display_name"]) for r in reader)
    except UnicodeDecodeError as err:
        raise ValueError(f"{label_csv}: not a UTF-8 CSV file ({err})") from err
    except (TypeError, ValueError) as err:
        if str(label_csv) in str(err):
            raise
        raise ValueError(f"{label_csv}: bad class index ({err})") from err
    if [i for i, _ in rows] != list(range(len(rows))):
        raise ValueError(f"{label_csv}: indices are not 0..{len(rows) - 1}")
    return [name for _, name in rows]


def _fbank_values(fbank):
    return {
        "sample_rate": int(fbank.sample_rate),
        "num_mel_bins": fbank.num_mel_bins,
        "target_length": fbank.target_length,
        "norm_mean": fbank.norm_mean,
        "norm_std": fbank.norm_std,
        "frame_length": fbank.frame_length,
        "frame_shift": fbank.frame_shift,
    }


def _blocks_config(blocks, dim):
    """Heads and MLP ratio of a block stack."""
    first = blocks[0]
    return first.attn.num_heads, first.mlp.fc1.out_features / dim


def _encoder_values(encoder):
    heads, ratio = _blocks_config(encoder.blocks, encoder.d_model)
    return {
        "grid_time": encoder.grid[0],
        "grid_freq": encoder.grid[1],
        "patch_size": encoder.patch_size,
        "d_model": encoder.d_model,
        "depth": len(encoder.blocks),
        "num_heads": heads,
        "mlp_ratio": ratio,
        "in_chans": encoder.patch_embed.in_chans,
        "pos_layout": encoder.pos_layout,
    }


def _decoder_values(decoder):
    blocks = decoder.decoder_blocks
    heads, ratio = _blocks_config(blocks, decoder.decoder_dim)
    values = {
        "decoder_dim": decoder.decoder_dim,
        "decoder_depth": len(blocks),
        "decoder_num_heads": heads,
        "decoder_mode": decoder.mode,
        "decoder_patch_size": decoder.patch_size,
        "decoder_in_chans": (
            decoder.decoder_pred.out_features // decoder.patch_size**2
        ),
        "decoder_mlp_ratio": ratio,
        "decoder_pos_layout": decoder.pos_layout,
    }
    local = [b for b in blocks if hasattr(b, "shift_size")]
    if local:
        values["window_time"], values["window_freq"] = local[0].window_size
        values["shift"] = any(any(b.shift_size) for b in local)
        values["meta_drop"] = float(local[0].attn.meta_mlp.drop1.p)
    if decoder.mode == "hybrid":
        values["n_global"] = len(blocks) - len(local)
    return values


def model_values(model, compute_fbank):
    """Template and top-level values of a model folder for ``model``.

    Arguments
    ---------
    model : AudioMAE or AudioMAEClassifierModel
        The model (its configuration is read from the modules).
    compute_fbank : AudioMAEFbank
        The front end used in training.

    Returns
    -------
    template : Path
        ``templates/audiomae_reconstruction.yaml`` or
        ``templates/audiomae_classifier.yaml``.
    values : dict
        Its top-level values that rebuild ``model``.

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEClassifierModel, AudioMAEEncoder, AudioMAEFbank)
    >>> enc = AudioMAEEncoder(grid=(2, 1), d_model=16, depth=1, num_heads=2)
    >>> template, values = model_values(
    ...     AudioMAEClassifierModel(enc, n_classes=2),
    ...     AudioMAEFbank(target_length=32, num_mel_bins=16))
    >>> template.name, values["n_classes"], values["grid_time"]
    ('audiomae_classifier.yaml', 2, 2)
    """
    values = {**_fbank_values(compute_fbank), **_encoder_values(model.encoder)}
    if isinstance(model, AudioMAE):
        values.update(_decoder_values(model.decoder))
        values.update(
            mask_ratio=model.mask_ratio,
            norm_pix_loss=model.norm_pix_loss,
            mask_mode=model.mask_mode,
            mask_t_prob=model.mask_t_prob,
            mask_f_prob=model.mask_f_prob,
        )
        return RECONSTRUCTION_TEMPLATE, values
    if isinstance(model, AudioMAEClassifierModel):
        values.update(
            n_classes=model.head.out_features,
            mask_t_prob=model.mask_t_prob,
            mask_f_prob=model.mask_f_prob,
            global_pool=model.global_pool,
            pos_trainable=bool(model.encoder.pos_embed.requires_grad),
        )
        return CLASSIFIER_TEMPLATE, values
    raise TypeError(
        f"expected AudioMAE or AudioMAEClassifierModel, got {type(model)}"
    )


def _label_encoder(names):
    """A ``CategoricalEncoder`` holding ``names`` in class-index order."""
    from speechbrain.dataio.encoder import CategoricalEncoder

    encoder = CategoricalEncoder()
    for index, name in enumerate(names):
        if name in encoder.lab2ind:
            raise ValueError(f"label name {name!r} given twice")
        encoder.insert_label(name, index)
    return encoder


def write_model_folder(
    out_dir, model, compute_fbank, label_names=None, overwrite=False
):
    """Write a model folder (template + ``model.ckpt``) for the interfaces.

    A classifier's folder also holds ``label_encoder.txt`` (SpeechBrain's
    ``CategoricalEncoder`` file of the class names). The files are written
    by :func:`~.model_folder.write_folder`.

    Arguments
    ---------
    out_dir : str or Path
        Output folder (created).
    model : AudioMAE or AudioMAEClassifierModel
        Trained or converted model.
    compute_fbank : AudioMAEFbank
        Its front end.
    label_names : list of str, optional
        Class names of a classifier (default ``class_000``,
        ``class_001``...).
    overwrite : bool
        Replace an existing model folder.

    Returns
    -------
    Path
        ``out_dir``.

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEClassifierModel, AudioMAEEncoder, AudioMAEFbank)
    >>> enc = AudioMAEEncoder(grid=(2, 1), d_model=16, depth=1, num_heads=2)
    >>> out = write_model_folder(getfixture("tmpdir") / "m",
    ...     AudioMAEClassifierModel(enc, n_classes=2),
    ...     AudioMAEFbank(target_length=32, num_mel_bins=16), ["a", "b"])
    >>> sorted(p.name for p in out.iterdir())
    ['hyperparams.yaml', 'label_encoder.txt', 'model.ckpt']
    """
    template, values = model_values(model, compute_fbank)
    files = {MODEL_FILE: model}
    if isinstance(model, AudioMAEClassifierModel):
        n_classes = values["n_classes"]
        names = list(
            label_names or [f"class_{i:03d}" for i in range(n_classes)]
        )
        if len(names) != n_classes:
            raise ValueError(
                f"{len(names)} label names for a {n_classes}-class model"
            )
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        staged = out_dir / (LABEL_FILE + ".new")
        _label_encoder(names).save(staged)
        files[LABEL_FILE] = staged
    try:
        return write_folder(
            out_dir, template, values, files, overwrite=overwrite
        )
    finally:
        if LABEL_FILE in files:
            files[LABEL_FILE].unlink(missing_ok=True)


class _AudioMAEInterface(AudioInterface):
    """Shared loading and input checks."""

    HPARAMS_NEEDED = ["compute_fbank", "sample_rate"]
    MODULES_NEEDED = ["model"]

    def __init__(self, *args, **kwargs):
        _check_run_opts(kwargs)
        super().__init__(*args, **kwargs)
        self.sample_rate = int(self.hparams.sample_rate)
        self.compute_fbank = self.hparams.compute_fbank
        self.min_samples = self.compute_fbank.min_samples  # one fbank frame

    def _batch(self, wavs, wav_lens):
        """Validates a batch ``[batch, time]`` and moves it to the device."""
        wavs = torch.as_tensor(wavs)
        if wavs.dim() == 1:
            wavs = wavs[None]
        if wavs.dim() != 2:
            raise ValueError(
                f"expected mono waveforms [batch, time] at {self.sample_rate}"
                f" Hz, got shape {tuple(wavs.shape)}"
            )
        if not wavs.is_floating_point():
            raise ValueError(
                f"expected floating-point audio in [-1, 1], got {wavs.dtype}"
                " (integer PCM: divide by 32768 first)"
            )
        min_samples = self.min_samples
        wavs = check_waveform(wavs, "wavs", min_samples)
        batch, time = wavs.shape
        if wav_lens is not None:
            wav_lens = torch.as_tensor(wav_lens, dtype=torch.float32).cpu()
            num_samples = relative_to_absolute(wav_lens, time, batch)
            for b, n in enumerate(num_samples.tolist()):
                if n < min_samples:
                    raise AudioError(
                        f"wavs[{b}]: {n} samples, shorter "
                        f"than one fbank frame ({min_samples} samples)"
                    )
            wav_lens = wav_lens.to(self.device)
        return wavs.to(self.device), wav_lens

    def fbank(self, wavs, wav_lens=None):
        """Normalised fbank features of a batch.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` at ``sample_rate``.
        wav_lens : torch.Tensor, optional
            ``[batch]`` relative lengths.

        Returns
        -------
        torch.Tensor
            ``[batch, target_length, n_mels]``.
        """
        wavs, wav_lens = self._batch(wavs, wav_lens)
        return self.compute_fbank(wavs, wav_lens)


class AudioMAEClassifier(_AudioMAEInterface):
    """Audio tagging with a fine-tuned Audio-MAE.

    The model folder's ``hyperparams.yaml`` (``templates/
    audiomae_classifier.yaml``) defines ``compute_fbank``, ``model`` (an
    ``AudioMAEClassifierModel``) and ``label_encoder``, whose class names
    the pretrainer loads from ``label_encoder.txt``.

    A model folder is executable configuration: its ``hyperparams.yaml``
    runs at load time. ``from_folder`` and ``from_hparams`` check it first
    and raise :class:`~speechbrain_masksr.errors.UntrustedModelError`
    before anything runs (what is allowed: :mod:`speechbrain_masksr.trust`;
    ``trust_source=True`` skips the check for sources you trust).

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAEClassifierModel, AudioMAEEncoder, AudioMAEFbank)
    >>> enc = AudioMAEEncoder(grid=(2, 1), d_model=16, depth=1, num_heads=2)
    >>> folder = write_model_folder(getfixture("tmpdir") / "clf",
    ...     AudioMAEClassifierModel(enc, n_classes=3),
    ...     AudioMAEFbank(target_length=32, num_mel_bins=16), ["a", "b", "c"])
    >>> clf = AudioMAEClassifier.from_folder(source=folder)
    >>> scores, top_s, top_i, names = clf.classify_batch(torch.randn(2, 4000),
    ...                                                  topk=2)
    >>> scores.shape, top_i.shape, len(names[0])
    (torch.Size([2, 3]), torch.Size([2, 2]), 2)
    """

    HPARAMS_NEEDED = ["compute_fbank", "sample_rate", "label_encoder"]

    @property
    def label_names(self):
        """Class names, in output order."""
        encoder = self.hparams.label_encoder
        return [encoder.ind2lab[i] for i in range(len(encoder))]

    @torch.no_grad()
    def classify_batch(self, wavs, wav_lens=None, topk=5):
        """Per-class probabilities and the top-k classes.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` mono audio at ``sample_rate`` (16 kHz).
        wav_lens : torch.Tensor, optional
            ``[batch]`` relative lengths.
        topk : int
            Number of best classes returned per clip.

        Returns
        -------
        scores : torch.Tensor
            ``[batch, n_classes]`` sigmoid scores.
        top_scores : torch.Tensor
            ``[batch, k]`` best scores, descending.
        top_indices : torch.Tensor
            ``[batch, k]`` their class indices.
        top_labels : list of list of str
            Their names.
        """
        logits = self.mods.model(self.fbank(wavs, wav_lens))
        scores = torch.sigmoid(logits.float())
        k = max(1, min(int(topk), scores.shape[1]))
        top_scores, top_indices = scores.topk(k, dim=1)
        names = self.label_names
        top_labels = [[names[i] for i in row] for row in top_indices.tolist()]
        return scores, top_scores, top_indices, top_labels

    def classify_file(self, path, topk=5):
        """Classify one audio file (any rate, mono or not).

        Arguments
        ---------
        path : str or Path
            Audio file.
        topk : int
            Number of best classes returned.

        Returns
        -------
        tuple
            As :meth:`classify_batch`, for a batch of one.
        """
        wav = self.load_audio(path)
        return self.classify_batch(wav[None], torch.ones(1), topk=topk)

    @torch.no_grad()
    def encode_batch(self, wavs, wav_lens=None):
        """Clip and patch embeddings.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` at ``sample_rate``.
        wav_lens : torch.Tensor, optional
            ``[batch]`` relative lengths.

        Returns
        -------
        clip : torch.Tensor
            ``[batch, d_model]``: what the head sees (``fc_norm`` of the
            mean patch embedding, or the cls token).
        patches : torch.Tensor
            ``[batch, T * F, d_model]`` last-block patch embeddings in
            time-major patch order.
        """
        model = self.mods.model
        tokens = model.encoder(self.fbank(wavs, wav_lens))
        return model.pool(tokens), tokens[:, 1:]

    def forward(self, wavs, wav_lens=None, topk=5):
        """Same as :meth:`classify_batch`.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]``.
        wav_lens : torch.Tensor, optional
            ``[batch]`` relative lengths.
        topk : int
            Number of best classes.

        Returns
        -------
        tuple
            See :meth:`classify_batch`.
        """
        return self.classify_batch(wavs, wav_lens, topk)


# ----------------------------------------------------------------------------
# Reconstruction
# ----------------------------------------------------------------------------


def fbank_to_waveform(feats, compute_fbank, n_iter=32, nnls_iter=100):
    """Render normalised fbank features as audio with Griffin-Lim.

    The features are de-normalised to Kaldi log-mel energies, mapped to a
    power spectrogram by non-negative least squares against the Kaldi mel
    filterbank (multiplicative updates), then phase is estimated with
    ``torchaudio.transforms.GriffinLim`` (512-point FFT, 25 ms Hann window,
    10 ms hop) and Kaldi's 0.97 pre-emphasis is undone. An approximation:
    the mel projection drops fine spectral detail.

    Arguments
    ---------
    feats : torch.Tensor
        ``[frames, n_mels]`` normalised features.
    compute_fbank : AudioMAEFbank
        The front end that made them (rate, bins, normalisation).
    n_iter : int
        Griffin-Lim iterations.
    nnls_iter : int
        Iterations of the mel inversion.

    Returns
    -------
    torch.Tensor
        ``[time]`` waveform at ``compute_fbank.sample_rate``, peak <= 0.9.

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import AudioMAEFbank
    >>> fb = AudioMAEFbank(target_length=64)
    >>> t = torch.arange(16000) / 16000
    >>> feats = fb(torch.sin(2 * torch.pi * 440 * t)[None])[0, :50]
    >>> wav = fbank_to_waveform(feats, fb, n_iter=4)
    >>> wav.shape[0] >= 49 * 160, round(float(wav.abs().max()), 3)
    (True, 0.9)
    """
    import scipy.signal
    import torchaudio
    from torchaudio.compliance import kaldi

    sr = compute_fbank.sample_rate
    win = int(round(sr * compute_fbank.frame_length / 1000))
    hop = int(round(sr * compute_fbank.frame_shift / 1000))
    n_fft = 1 << (win - 1).bit_length()
    feats = feats.detach().float().cpu()
    mel = compute_fbank.denormalize(feats).exp()  # [frames, n_mels]
    banks, _ = kaldi.get_mel_banks(
        compute_fbank.num_mel_bins,
        n_fft,
        float(sr),
        20.0,
        0.0,
        100.0,
        -500.0,
        1.0,
    )
    banks = torch.nn.functional.pad(banks, (0, 1))  # [n_mels, n_fft/2 + 1]
    numer = mel @ banks  # [frames, bins]
    gram = banks.T @ banks
    power = numer / banks.sum(dim=0).clamp(min=1e-8) ** 2 + 1e-10
    for _ in range(nnls_iter):  # min ||power @ banks.T - mel||, power >= 0
        power = power * numer / (power @ gram + 1e-10)
    griffin_lim = torchaudio.transforms.GriffinLim(
        n_fft=n_fft,
        n_iter=n_iter,
        win_length=win,
        hop_length=hop,
        power=1.0,
        window_fn=torch.hann_window,
        wkwargs={"periodic": False},
    )
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(0)  # Griffin-Lim's random initial phase
    wav = griffin_lim(power.sqrt().T)
    torch.random.set_rng_state(gen_state)
    # Undo the pre-emphasis: y[n] = x[n] + 0.97 y[n - 1].
    wav = torch.from_numpy(
        scipy.signal.lfilter([1.0], [1.0, -0.97], wav.numpy()).astype("float32")
    )
    wav = wav - wav.mean()
    peak = float(wav.abs().max())
    return wav * (0.9 / peak) if peak > 0 else wav


def plot_reconstruction(path, fbank, mask, reconstruction, title=None):
    """Save original / masked / reconstructed spectrograms (paper Fig. 6).

    The figure is written atomically (an interrupted write leaves no
    partial file at ``path``).

    Arguments
    ---------
    path : str or Path
        PNG file.
    fbank : torch.Tensor
        ``[frames, n_mels]`` input features.
    mask : torch.Tensor
        ``[frames, n_mels]``, 1 where the input was hidden.
    reconstruction : torch.Tensor
        ``[frames, n_mels]``.
    title : str, optional
        Figure title.

    Example
    -------
    >>> path = Path(getfixture("tmpdir")) / "fig.png"
    >>> x = torch.randn(64, 32)
    >>> plot_reconstruction(path, x, (x > 0).float(), x)
    >>> path.stat().st_size > 0
    True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fbank = fbank.detach().float().cpu()
    masked = fbank.masked_fill(mask.detach().cpu() > 0.5, float("nan"))
    recon = reconstruction.detach().float().cpu()
    vmin, vmax = float(fbank.min()), float(fbank.max())
    cmap = plt.get_cmap("magma").with_extremes(bad="lightgray")
    fig, axes = plt.subplots(3, 1, figsize=(10, 7), sharex=True)
    panels = (
        ("Original", fbank),
        ("Masked", masked),
        ("Reconstruction", recon),
    )
    for ax, (name, image) in zip(axes, panels):
        ax.imshow(
            image.T.numpy(),
            origin="lower",
            aspect="auto",
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        ax.set_ylabel("mel bin")
        ax.set_title(name)
    axes[-1].set_xlabel("frame (10 ms)")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    try:
        with atomic_write(path) as tmp:
            fmt = Path(path).suffix.lstrip(".").lower() or "png"
            fig.savefig(str(tmp), dpi=100, format=fmt)
    finally:
        plt.close(fig)


class AudioMAEReconstruction(_AudioMAEInterface):
    """Masked spectrogram reconstruction with a pretrained Audio-MAE.

    The model folder's ``hyperparams.yaml`` defines ``compute_fbank`` and
    ``model`` (an ``AudioMAE`` with its decoder).

    A model folder is executable configuration: its ``hyperparams.yaml``
    runs at load time. ``from_folder`` and ``from_hparams`` check it first
    and raise :class:`~speechbrain_masksr.errors.UntrustedModelError`
    before anything runs (what is allowed: :mod:`speechbrain_masksr.trust`;
    ``trust_source=True`` skips the check for sources you trust).

    Example
    -------
    >>> from speechbrain_masksr.lobes.audio_mae import (
    ...     AudioMAE, AudioMAEDecoder, AudioMAEEncoder, AudioMAEFbank)
    >>> enc = AudioMAEEncoder(grid=(4, 2), d_model=16, depth=1, num_heads=2)
    >>> dec = AudioMAEDecoder((4, 2), 16, 16, depth=1, num_heads=2)
    >>> folder = write_model_folder(getfixture("tmpdir") / "mae",
    ...     AudioMAE(enc, dec), AudioMAEFbank(target_length=64, num_mel_bins=32))
    >>> mae = AudioMAEReconstruction.from_folder(source=folder)
    >>> out = mae.reconstruct_batch(torch.randn(1, 8000), mask_ratio=0.5)
    >>> out["reconstruction"].shape, int(out["mask_patches"].sum())
    (torch.Size([1, 64, 32]), 4)
    """

    @torch.no_grad()
    def reconstruct_batch(
        self,
        wavs,
        wav_lens=None,
        mask_ratio=0.8,
        seed=0,
        stats="visible",
        paste_visible=True,
    ):
        """Mask and reconstruct the fbank of a batch.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]`` at ``sample_rate``.
        wav_lens : torch.Tensor, optional
            ``[batch]`` relative lengths.
        mask_ratio : float
            Fraction of patches hidden.
        seed : int
            Seed of the mask.
        stats : str
            ``"visible"`` or ``"oracle"`` patch statistics for
            ``norm_pix_loss`` models (see the module docstring).
        paste_visible : bool
            Copy the visible patches of the input into the output.

        Returns
        -------
        dict
            ``fbank`` ``[batch, frames, n_mels]``, ``mask`` (same shape,
            1 = hidden), ``mask_patches`` ``[batch, n_patches]``, ``pred``
            (raw decoder output) and ``reconstruction``.
        """
        _check_stats(stats)  # before any work
        feats = self.fbank(wavs, wav_lens)
        out = self.mods.model.mask_and_reconstruct(
            feats,
            mask_ratio=mask_ratio,
            seed=seed,
            stats=stats,
            paste_visible=paste_visible,
        )
        return {"fbank": feats, **out}

    def reconstruct_file(
        self,
        path,
        png_path=None,
        wav_path=None,
        mask_ratio=0.8,
        seed=0,
        stats="visible",
        n_iter=32,
    ):
        """Mask and reconstruct a file; optionally save a figure and audio.

        Arguments
        ---------
        path : str or Path
            Audio file (any rate / channels; resampled to 16 kHz).
        png_path : str or Path, optional
            Where the original / masked / reconstructed figure is saved.
        wav_path : str or Path, optional
            Where the Griffin-Lim rendering of the reconstruction is saved.
        mask_ratio : float
            Fraction of patches hidden.
        seed : int
            Seed of the mask.
        stats : str
            ``"visible"`` or ``"oracle"`` (see the module docstring).
        n_iter : int
            Griffin-Lim iterations.

        Returns
        -------
        dict
            As :meth:`reconstruct_batch` for one clip (batch dimension
            removed), plus ``n_frames`` (frames holding audio) and
            ``waveform`` when ``wav_path`` is given.

        Raises
        ------
        OutputError
            Before any work: an output path that is the input, a folder,
            or in a folder that cannot be created or written.
        """
        for out_path in (png_path, wav_path):
            if out_path is None:
                continue
            if Path(out_path).resolve() == Path(path).resolve():
                raise OutputError(f"{out_path}: would overwrite the input")
            check_output_path(out_path)
        wav = self.load_audio(path)
        out = self.reconstruct_batch(
            wav[None], None, mask_ratio=mask_ratio, seed=seed, stats=stats
        )
        out = {k: v[0].cpu() for k, v in out.items()}
        fb = self.compute_fbank
        hop = int(round(fb.sample_rate * fb.frame_shift / 1000))
        n_frames = 1 + (wav.numel() - fb.min_samples) // hop
        out["n_frames"] = min(n_frames, fb.target_length)
        if png_path is not None:
            plot_reconstruction(
                png_path,
                out["fbank"],
                out["mask"],
                out["reconstruction"],
                title=f"{Path(path).name}: {int(mask_ratio * 100)}% masked",
            )
        if wav_path is not None:
            render = fbank_to_waveform(
                out["reconstruction"][: out["n_frames"]], fb, n_iter=n_iter
            )
            save_audio(wav_path, render, fb.sample_rate)
            out["waveform"] = render
        return out

    def forward(self, wavs, wav_lens=None, mask_ratio=0.8, seed=0):
        """Same as :meth:`reconstruct_batch`.

        Arguments
        ---------
        wavs : torch.Tensor
            ``[batch, time]``.
        wav_lens : torch.Tensor, optional
            ``[batch]`` relative lengths.
        mask_ratio : float
            Fraction of patches hidden.
        seed : int
            Seed of the mask.

        Returns
        -------
        dict
            See :meth:`reconstruct_batch`.
        """
        return self.reconstruct_batch(wavs, wav_lens, mask_ratio, seed)
