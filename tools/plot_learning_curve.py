"""Plot a MaskSR learning curve from a recipe's ``train_log.txt``.

SpeechBrain's ``FileTrainLogger`` writes one line per epoch, e.g.::

    epoch: 3, steps: 63, lr: 3.15e-04 - train loss: 6.76 - valid loss: 6.78,
    valid acc: 3.09e-03, valid acc_q1: 8.64e-04, ...

This tool reads those lines and draws the validation loss and the
per-codebook validation token accuracy against the optimizer step (PNG),
and prints them as a Markdown table (``--every`` keeps one row in N)::

    python tools/plot_learning_curve.py results/masksr_mel/1234/train_log.txt \\
        --png curve.png --label "MaskSR-mel" [--log other/train_log.txt ...]

Authors
 * speechbrain-masksr contributors 2026
"""

import argparse
import math
import re
import sys

FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_ ]*?):\s*([-+0-9.eE]+|nan)")


def parse_log(lines):
    """Read the epoch lines of a ``train_log.txt``.

    Arguments
    ---------
    lines : iterable of str
        The file's lines.

    Returns
    -------
    list of dict
        One ``{field: float}`` per epoch line that has ``steps`` (fields
        such as ``steps``, ``train loss``, ``valid loss``, ``valid acc_q1``).

    Example
    -------
    >>> rows = parse_log(["epoch: 2, steps: 42, lr: 2.1e-04 - train loss: "
    ...                   "6.87 - valid loss: 6.82, valid acc_q1: nan"])
    >>> rows[0]["steps"], rows[0]["valid loss"], math.isnan(rows[0]["valid acc_q1"])
    (42.0, 6.82, True)
    """
    rows = []
    for line in lines:
        fields = {
            name.strip(): float(value)
            for name, value in FIELD.findall(line.replace(" - ", ", "))
        }
        if "steps" in fields:
            rows.append(fields)
    return rows


def main(argv=None):
    """Plot and print; returns the exit status.

    Arguments
    ---------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0, or 2 when a log has no epoch lines.
    """
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("log", nargs="+", help="train_log.txt file(s)")
    p.add_argument("--label", action="append", default=[])
    p.add_argument("--png", default=None, help="write the plot here")
    p.add_argument("--every", type=int, default=1, help="table: every Nth")
    args = p.parse_args(argv)
    runs = []
    for i, path in enumerate(args.log):
        with open(path, encoding="utf-8") as f:
            rows = parse_log(f)
        if not rows:
            print(f"error: {path} has no epoch lines", file=sys.stderr)
            return 2
        label = args.label[i] if i < len(args.label) else path
        runs.append((label, rows))
        levels = sorted(
            (k for k in rows[0] if k.startswith("valid acc_q")),
            key=lambda k: int(k.rsplit("q", 1)[1]),
        )
        head = ["steps", "train loss", "valid loss"] + levels
        print(f"\n{label}\n")
        print("| " + " | ".join(h.replace("valid ", "") for h in head) + " |")
        print("|" + "---|" * len(head))
        picked = rows[:: max(1, args.every)]
        if picked[-1] is not rows[-1]:
            picked.append(rows[-1])
        for row in picked:
            cells = [f"{row.get(h, math.nan):.4g}" for h in head]
            print("| " + " | ".join(cells) + " |")
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
        for label, rows in runs:
            steps = [r["steps"] for r in rows]
            ax_loss.plot(
                steps, [r.get("valid loss") for r in rows], label=label
            )
            for level in (1, 2, 9):
                key = f"valid acc_q{level}"
                if key in rows[0]:
                    ax_acc.plot(
                        steps,
                        [r.get(key, math.nan) for r in rows],
                        label=f"{label} q{level}",
                    )
        ax_loss.set(xlabel="optimizer step", ylabel="validation loss (nats)")
        ax_acc.set(xlabel="optimizer step", ylabel="validation token accuracy")
        ax_loss.legend()
        ax_acc.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(args.png, dpi=100)
        print(f"\nwrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
