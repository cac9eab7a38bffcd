"""``dnnimprove gradcheck``: gradient-check one network, naming the wrong tensor."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .options import (_add_data_options, _add_model_options, _data_spec, _loss_for, nonnegative_int, perturbation,
                      positive_int, probability, seed_value)


def _add_gradcheck(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gradcheck", help="gradient-check a network on a few examples",
        description="Train a network briefly, then compare back-propagation with two-sided differences "
        "(float64) per tensor. Exit status 0 when every tensor is correct, 1 otherwise.",
    )
    _add_data_options(parser)
    _add_model_options(parser)
    parser.add_argument("--dropout", type=probability, metavar="KEEP_PROB", help="inverted dropout, checked on")
    parser.add_argument("--examples", type=positive_int, default=20, help="examples to check on (default: 20)")
    parser.add_argument("--epochs", type=nonnegative_int, default=20,
                        help="epochs of Adam before checking, away from the zero-bias ReLU kink (default: 20)")
    parser.add_argument("--epsilon", type=perturbation, default=1e-7, help="perturbation in (0, 1) (default: 1e-7)")
    parser.add_argument("--seed", type=seed_value, default=0, help="model seed (default: 0)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=_run_gradcheck)


def _run_gradcheck(args: argparse.Namespace) -> int:
    from ..gradcheck import check_gradients
    from ..optimizers import Adam
    from ..studies import build_model
    from ..threads import blas_threads

    data = _data_spec(args).load()
    loss = _loss_for(data)
    settings = {"init": args.init, "activation": args.activation, "keep_prob": args.dropout,
                "batch_norm": args.batch_norm, "l1": args.l1}
    n_outputs = 1 if loss in ("binary_crossentropy", "mse") else data.n_classes
    model = build_model(args.layers, n_outputs, settings, loss, args.seed)
    with blas_threads(1):
        model.fit(data.X_train, data.y_train, epochs=args.epochs, optimizer=Adam(0.01), l2=args.l2,
                  batch_size=min(64, len(data.X_train)), record_every=max(args.epochs, 1))
    X, y = data.X_train[: args.examples], data.y_train[: args.examples]
    checked = check_gradients(model, X, y, epsilon=args.epsilon, l2=args.l2)
    network = f"{data.n_features}-{'-'.join(map(str, args.layers))}-{n_outputs} {args.activation}"
    extras = [f"dropout keep_prob {args.dropout:g} (masks frozen)" if args.dropout else "",
              "batch norm" if args.batch_norm else "", f"l2 {args.l2:g}" if args.l2 else "",
              f"l1 {args.l1:g}" if args.l1 else ""]
    described = ", ".join([network, *filter(None, extras)]) + f"; {len(X)} examples, float64"
    if args.json:
        print(json.dumps({"network": described, "difference": checked.difference, "verdict": checked.verdict,
                          "ok": checked.ok, "per_tensor": checked.per_tensor,
                          "wrong_tensors": checked.wrong_tensors}, indent=2))
    else:
        print(f"network: {described}")
        print(checked)
    return 0 if checked.ok else 1
