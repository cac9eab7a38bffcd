"""``dnnimprove convert``: one setting in our (the course's) convention and in PyTorch's, Keras's or
scikit-learn's, both ways."""

from __future__ import annotations

import argparse
import json
from typing import Any, Sequence

from .options import _number


def setting_value(text: str) -> bool | int | float:
    """A convention parameter on the command line: true/false, an integer, or a finite number."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        return _number(text, float, None, False, "a number, true or false")


def _add_convert(subparsers: Any) -> None:
    from ..conventions import LIBRARIES, SETTINGS, parameters

    parser = subparsers.add_parser(
        "convert", help="express a setting in PyTorch, Keras or scikit-learn terms, or back",
        description="Translate one setting between our (the course's) convention and PyTorch's, Keras's or "
        "scikit-learn's: prints the values, a line to paste, whether it is exact, and the caveat when not. "
        "E.g. dnnimprove convert momentum --beta 0.9 --lr 0.01 --to pytorch; "
        "dnnimprove convert batch_norm --momentum 0.1 --from pytorch.",
        epilog="our parameters: " + "; ".join(f"{setting} {', '.join(parameters(setting))}" for setting in SETTINGS)
        + ". The libraries' own names (e.g. --alpha, --eps, --learning-rate) are taken with --from.",
    )
    parser.add_argument("setting", choices=sorted(SETTINGS), help="the setting to translate")
    direction = parser.add_mutually_exclusive_group(required=True)
    direction.add_argument("--to", choices=LIBRARIES, help="from ours to this library")
    direction.add_argument("--from", dest="source", choices=LIBRARIES, help="from this library to ours")
    parser.add_argument("--json", action="store_true", help="print the translation as JSON")
    values = parser.add_argument_group("values (each setting and library takes its own; omitted ones take defaults)")
    names = sorted({name for setting in SETTINGS for library in ("ours", *SETTINGS[setting].libraries)
                    for name in parameters(setting, library)})
    for name in names:
        flags = sorted({f"--{name}", f"--{name.replace('_', '-')}"})
        values.add_argument(*flags, dest=f"value_{name}", type=setting_value, metavar="V", default=None,
                            help=argparse.SUPPRESS)
    parser.set_defaults(handler=_run_convert, value_names=names)


def _run_convert(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..conventions import convert

    given = {name: getattr(args, f"value_{name}") for name in args.value_names
             if getattr(args, f"value_{name}") is not None}
    try:
        translation = convert(args.setting, given, to=args.to, source=args.source)
    except (ValueError, TypeError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(_in_option_terms(str(error), args.value_names)) from None
    print(json.dumps(asdict(translation), indent=2) if args.json else translation)
    return 0


def _in_option_terms(message: str, names: Sequence[str]) -> str:
    """A :func:`~dnnimprove.conventions.convert` message as the command's user reads it: the parameter that opens
    it (``fan_in must be ...``) or that it asks for (``... needs 'batch_size'``) becomes its option (``--fan-in``)."""
    import re

    def option(name: str) -> str:
        return "--" + name.replace("_", "-")

    first = message.split(" ", 1)[0]
    if first in names and message.startswith(f"{first} must "):
        message = option(first) + message[len(first):]
    return re.sub(r"needs '(\w+)'$", lambda found: f"needs {option(found.group(1))}" if found.group(1) in names
                  else found.group(0), message)
