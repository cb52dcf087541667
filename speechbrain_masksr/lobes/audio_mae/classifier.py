"""Audio-MAE fine-tuning (classification) model.

:class:`AudioMAEClassifierModel` - encoder-only fine-tuning model with
training-time time/frequency row-column dropping, mean pooling,
``fc_norm`` and a linear ``head``.

Authors
 * speechbrain-masksr contributors 2026
"""

from torch import nn

from speechbrain_masksr.lobes.audio_mae.encoder import _CONFIG_HINT
from speechbrain_masksr.lobes.masking import drop_time_freq
from speechbrain_masksr.utils.checkpoints import load_state_dict_strict

__all__ = ["AudioMAEClassifierModel"]


class AudioMAEClassifierModel(nn.Module):
    """Encoder-only Audio-MAE fine-tuning model.

    In training (and when either probability is > 0) whole time rows and
    frequency columns of the patch grid are dropped before the encoder
    (:func:`~speechbrain_masksr.lobes.masking.drop_time_freq`); in eval the
    whole grid is used. With ``global_pool`` the non-cls tokens are averaged
    and normalised by ``fc_norm`` (the encoder's final ``norm`` is removed,
    as in the official model); otherwise the cls token after ``norm`` is
    used. A linear ``head`` gives the logits.

    Arguments
    ---------
    encoder : AudioMAEEncoder
        The encoder (modified in place when ``global_pool``).
    n_classes : int
        Output classes (527 for AudioSet).
    mask_t_prob : float
        Fraction of time rows dropped in training (released scripts: 0.2;
        paper: 0.3).
    mask_f_prob : float
        Fraction of frequency columns dropped in training.
    global_pool : bool
        Mean pooling + ``fc_norm`` (official default) or cls token.
    pos_trainable : bool
        Whether ``pos_embed`` is fine-tuned (False in the official recipe,
        which keeps the pretrained table fixed).
    head_init_std : float
        Std of the truncated-normal head initialisation.

    Example
    -------
    >>> import torch
    >>> from speechbrain_masksr.lobes.audio_mae import AudioMAEEncoder
    >>> enc = AudioMAEEncoder(grid=(4, 2), d_model=32, depth=1, num_heads=2)
    >>> model = AudioMAEClassifierModel(enc, n_classes=5)
    >>> model(torch.randn(3, 64, 32)).shape
    torch.Size([3, 5])
    """

    def __init__(
        self,
        encoder,
        n_classes=527,
        mask_t_prob=0.2,
        mask_f_prob=0.2,
        global_pool=True,
        pos_trainable=False,
        head_init_std=2e-5,
    ):
        super().__init__()
        self.encoder = encoder
        self.mask_t_prob = float(mask_t_prob)
        self.mask_f_prob = float(mask_f_prob)
        self.global_pool = bool(global_pool)
        d_model = encoder.d_model
        if self.global_pool:
            encoder.norm = nn.Identity()
            self.fc_norm = nn.LayerNorm(d_model, eps=1e-6)
        encoder.pos_embed.requires_grad_(pos_trainable)
        self.head = nn.Linear(d_model, n_classes)
        nn.init.trunc_normal_(self.head.weight, std=head_init_std)
        nn.init.zeros_(self.head.bias)

    def features(self, fbank):
        """Pooled utterance embedding (with training-time row/col drop).

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]``.

        Returns
        -------
        torch.Tensor
            ``[batch, d_model]``.
        """
        tokens = self.encoder.embed(fbank)
        if self.training and (self.mask_t_prob > 0 or self.mask_f_prob > 0):
            tokens, _ = drop_time_freq(
                tokens, self.encoder.grid, self.mask_t_prob, self.mask_f_prob
            )
        return self.pool(self.encoder.forward_tokens(tokens))

    def pool(self, tokens):
        """Clip embedding of encoder outputs (what the head sees).

        Arguments
        ---------
        tokens : torch.Tensor
            ``[batch, 1 + n_patches, d_model]`` encoder outputs (cls
            token first).

        Returns
        -------
        torch.Tensor
            ``[batch, d_model]``: ``fc_norm`` of the mean patch token
            with ``global_pool``, else the cls token.

        Example
        -------
        >>> import torch
        >>> from speechbrain_masksr.lobes.audio_mae import AudioMAEEncoder
        >>> enc = AudioMAEEncoder(grid=(2, 1), d_model=16, depth=1,
        ...                       num_heads=2)
        >>> model = AudioMAEClassifierModel(enc, n_classes=3)
        >>> model.pool(torch.randn(2, 3, 16)).shape
        torch.Size([2, 16])
        """
        if self.global_pool:
            return self.fc_norm(tokens[:, 1:].mean(dim=1))
        return tokens[:, 0]

    def forward(self, fbank):
        """Computes class logits.

        Arguments
        ---------
        fbank : torch.Tensor
            ``[batch, time, freq]``.

        Returns
        -------
        torch.Tensor
            ``[batch, n_classes]`` logits.
        """
        return self.head(self.features(fbank))

    def load_pretrained_encoder(self, state_dict):
        """Loads pretrained encoder weights (strict, clear errors).

        Accepts an encoder state dict, an :class:`AudioMAE` state dict
        (``encoder.*`` keys; ``decoder.*`` keys are ignored) or the output
        of ``official_to_ours(..., kind="pretrained")``. The final ``norm``
        is skipped when it was removed for global pooling. The positional
        table of the checkpoint is loaded.

        Arguments
        ---------
        state_dict : dict
            The weights.

        Example
        -------
        >>> import torch
        >>> from speechbrain_masksr.lobes.audio_mae import AudioMAEEncoder
        >>> kw = dict(grid=(4, 2), d_model=32, depth=1, num_heads=2)
        >>> src = AudioMAEEncoder(**kw)
        >>> model = AudioMAEClassifierModel(AudioMAEEncoder(**kw), n_classes=3)
        >>> model.load_pretrained_encoder(src.state_dict())
        >>> bool(torch.equal(model.encoder.cls_token, src.cls_token))
        True
        """
        prefixed = any(key.startswith("encoder.") for key in state_dict)
        weights = {}
        for key, value in state_dict.items():
            if prefixed:
                if not key.startswith("encoder."):
                    continue
                key = key[len("encoder.") :]
            if self.global_pool and key.startswith("norm."):
                continue
            weights[key] = value
        load_state_dict_strict(
            self.encoder,
            weights,
            "pretrained encoder",
            type(self.encoder).__name__,
            _CONFIG_HINT,
        )
