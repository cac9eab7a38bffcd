"""Model files: one ``.npz`` with a JSON header, read back without pickle and validated before use.

Usage::

    dn.save(model, "model.npz")
    model = dn.load("model.npz")       # a built Sequential, ready to predict

The file is a plain NumPy ``.npz`` archive (a zip of ``.npy`` members) holding:

============  ===============================================================================
member        content
============  ===============================================================================
``header``    UTF-8 JSON as ``uint8``: ``format``, ``version``, ``kind`` (``"model"`` or
              ``"checkpoint"``), ``model`` (layers by registered name with their settings, loss,
              dtype, ``n_features_in``), ``parameters`` (name, shape, role of every tensor),
              ``n_params``, ``state`` (name and shape of every non-trained array)
``params``    the flat parameter vector, shape ``(n_params,)``, in the model's dtype
``state.K``   the non-trained array ``K`` (batch-norm running statistics), e.g. ``state.batchnorm_1.running_mean``
============  ===============================================================================

Checkpoints (:mod:`dnnimprove.checkpoint`) add a ``checkpoint`` section to the header and the
optimizer's arrays; :func:`load` reads the model out of either.

Reading never unpickles (``.npy`` headers are parsed with :mod:`numpy.lib.format`, object arrays are
refused) and checks everything before building: the header's format, version and structure, every
layer's registered name and settings, that the architecture has exactly the parameter count, tensor
shapes and state arrays the file declares, and each array's dtype, shape and length. A file that fails
any check raises :class:`ModelFileError` (a :class:`ValueError`) naming the file and the problem; a
missing file raises :class:`FileNotFoundError` as ``open`` does.

Reading is bounded by what the format allows, checked before anything is allocated: only a regular
file is opened (a directory, device, FIFO, socket or link loop is refused at once); every member must
be stored uncompressed (as :func:`numpy.savez` writes it: a compressed member, a zip or bzip2 bomb, is
refused before any decompression) and lie inside the file; the zip's central directory is bounded
(the archive checks of :class:`dnnimprove.npzfiles.NpzArchive`, which data tables share); the JSON header is read only once the ``params`` member's ``.npy`` header has told how many parameter
bytes the file holds, and the memory reading it takes (its bytes, their text and the parsed objects,
estimated before parsing by :func:`header_cost`) must fit in :func:`header_budget`: 1 MiB plus
those parameter bytes; every ``.npy``
shape must be non-negative and need exactly the bytes its member holds; the parameter count is
checked against the architecture before the model is built, and the parameters are read straight
into the built model's buffer. Loaded parameters and statistics must be finite, batch-norm running
variances non-negative.

Layers are rebuilt through an explicit registry ``kind -> class`` (:data:`LAYER_CLASSES`), never by
parsing a repr; :func:`register_layer` adds a custom layer. Writes go through
:func:`dnnimprove.safefiles.write_atomically`: atomic (a temporary file in the same directory, flushed
and fsynced, then renamed over the target, so a crash never leaves a half file behind), locked, never
over a device, FIFO or directory, written through a symbolic link to its target, and never over an
existing file that is not a dnnimprove file of the same kind (model over model, checkpoint over
checkpoint) unless ``overwrite=True``.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Callable

import numpy as np

from .layers import ELU, SELU, BatchNorm, Dense, Dropout, Layer, LeakyReLU, ReLU, Sigmoid, Tanh
from .losses import LOSSES
from .model import DTYPES, Sequential
from .npzfiles import READ_ERRORS, NpzArchive
from .safefiles import UnsafePathError, open_regular, write_atomically

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "LAYER_CLASSES",
    "ModelFileError",
    "register_layer",
    "save",
    "load",
    "model_header",
    "write_archive",
    "read_archive",
]

FORMAT = "dnnimprove"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 16 * 2**20
"""A JSON header larger than this is refused whatever the file (a model's takes a few kilobytes)."""
HEADER_MEMORY_BASE = 2**20
"""The memory reading any file's JSON header may take (see :func:`header_budget`)."""
NONNEGATIVE_STATE = ("running_var",)
"""Non-trained arrays (by their last name part) that must be >= 0 when loaded."""

LAYER_CLASSES: dict[str, type[Layer]] = {
    cls.kind: cls for cls in (Dense, Dropout, BatchNorm, ReLU, LeakyReLU, ELU, SELU, Tanh, Sigmoid)
}
"""Registered layers by ``kind``: the only classes a model file can name."""

class ModelFileError(ValueError):
    """A model or checkpoint file that cannot be used; the message names the file and the problem."""


def register_layer(cls: type[Layer]) -> type[Layer]:
    """Allow model files to name ``cls`` by its ``kind`` (usable as a class decorator).

    The layer's ``config()`` must return its constructor arguments as JSON values.
    """
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(f"register_layer needs a Layer subclass; got {cls!r}")
    existing = LAYER_CLASSES.get(cls.kind)
    if existing is not None and existing is not cls:
        raise ValueError(f"layer kind {cls.kind!r} is already registered for {existing.__name__}")
    LAYER_CLASSES[cls.kind] = cls
    return cls


# -- writing -----------------------------------------------------------------------------------
def model_header(model: Sequential, kind: str = "model") -> dict:
    """The JSON header describing ``model`` (checked to rebuild the same architecture)."""
    if not model.built:
        raise ValueError("the model is not built yet: fit it (or call build(n_features)) before saving")
    loss_class = LOSSES.get(model.loss.name)
    if loss_class is None or type(model.loss) is not loss_class:
        raise ValueError(f"cannot save a model with the unregistered loss {model.loss!r}; use one of {sorted(LOSSES)}")
    layers = []
    for layer in model.layers:
        registered = LAYER_CLASSES.get(layer.kind)
        if registered is not type(layer):
            raise ValueError(
                f"cannot save layer {layer.name!r} ({type(layer).__name__}): its kind {layer.kind!r} is not "
                "registered; call dn.register_layer(YourLayer) first"
            )
        settings = layer.config()
        if registered(**settings).config() != settings:
            raise ValueError(f"cannot save layer {layer.name!r}: {type(layer).__name__}(**config()) does not rebuild it")
        layers.append({"kind": layer.kind, **settings})
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "kind": kind,
        "model": {
            "layers": layers,
            "loss": model.loss.name,
            "dtype": str(model.dtype),
            "n_features_in": model.n_features_in_,
        },
        "n_params": int(model.params.size),
        "parameters": [{"name": info.name, "shape": list(info.shape), "role": info.role} for info in model.table],
        "state": [{"name": name, "shape": list(value.shape)} for name, value in model.state_arrays().items()],
        **_preprocessing_section(model),
    }


def _preprocessing_section(model: Sequential) -> dict:
    """``{"preprocessing": ...}`` (plain JSON, see :mod:`dnnimprove.preprocessing`) when the model has one."""
    preprocessing = getattr(model, "preprocessing_", None)
    return {} if preprocessing is None else {"preprocessing": preprocessing.to_json()}


def _read_preprocessing(archive: "Archive", header: dict, model: Sequential) -> None:
    """Check the header's ``preprocessing`` section against the model and attach it."""
    if "preprocessing" not in header:
        return
    from .preprocessing import Preprocessing

    try:
        preprocessing = Preprocessing.from_json(header["preprocessing"])
    except (TypeError, ValueError) as error:
        raise archive.error(f"header field {error}") from None
    width = preprocessing.n_features_out
    if width is not None and width != model.n_features_in_:
        raise archive.error(f"the preprocessing gives {width} input features; the model takes {model.n_features_in_}")
    classes = preprocessing.classes
    if classes is not None and not model.loss.is_classifier:
        raise archive.error("the preprocessing names classes, but the model's loss is a regression loss")
    if classes is not None and len(classes) != max(2, model.n_outputs) or (classes is None) == model.loss.is_classifier:
        raise archive.error(f"the preprocessing's classes {classes!r:.120} do not fit the model's {model.n_outputs} output(s)")
    model.preprocessing_ = preprocessing


def model_arrays(model: Sequential) -> dict[str, np.ndarray]:
    """The arrays of a model file: ``params`` and ``state.<name>``."""
    arrays = {"params": model.params}
    arrays.update({f"state.{name}": value for name, value in model.state_arrays().items()})
    return arrays


def header_kind(path: str | os.PathLike) -> str | None:
    """The ``kind`` of the dnnimprove file at ``path`` (``"model"``, ``"checkpoint"``, ...), or ``None``
    when it is not a readable dnnimprove file."""
    try:
        return read_archive(path, lambda archive, header: header.get("kind"))
    except (ModelFileError, OSError):
        return None


def header_budget(param_bytes: int) -> int:
    """The memory, in bytes, that reading the JSON header of a file holding ``param_bytes`` bytes of
    parameters may take: ``HEADER_MEMORY_BASE + param_bytes``.

    A legitimate header is small beside the parameters (a few hundred bytes per layer, a few hundred
    per input feature for a preprocessing, and every input feature has at least one weight per unit of
    the first layer); the budget keeps a crafted header (megabytes of JSON lists, strings or numbers
    that the file really holds) from costing more than the fixed 1 MiB plus the parameter bytes the
    file legitimately holds. The cost is estimated by :func:`header_cost` before parsing;
    :func:`write_archive` refuses to write a header its reader would refuse.
    """
    return HEADER_MEMORY_BASE + int(param_bytes)


def header_cost(raw: bytes) -> int:
    """The memory reading the UTF-8 JSON text ``raw`` takes, estimated from its bytes without parsing.

    The raw bytes, their decoded text and the parsed strings' characters (at most ``3 * len(raw)``)
    plus the parsed objects: Python spends about 200 bytes on a container, 32 on a number (a float
    object and its pointer) and 64 on a short string, whatever the text, so ``[[[[`` or ``"ab","ab"``
    cost 20-70 times their size: ``200 * containers + 32 * separators + 64 * strings``.
    """
    containers = raw.count(b"[") + raw.count(b"{")
    separators = raw.count(b",") + raw.count(b":")
    strings = raw.count(b'"') // 2
    return 3 * len(raw) + 200 * containers + 32 * separators + 64 * strings


def write_archive(
    path: str | os.PathLike, header: dict, arrays: dict[str, np.ndarray], overwrite: bool = False
) -> str:
    """Write ``header`` and ``arrays`` to ``path`` atomically and locked; returns the path.

    An existing file is replaced only when it is a dnnimprove file of the same ``header["kind"]`` or
    when ``overwrite`` is true; see :mod:`dnnimprove.safefiles` for the rest of the rules.
    """
    kind = header.get("kind", "model")
    text = json.dumps(header).encode("utf-8")
    encoded = np.frombuffer(text, dtype=np.uint8)
    if encoded.size > MAX_HEADER_BYTES:
        raise ValueError(f"the {kind} header is {encoded.size} bytes, more than the {MAX_HEADER_BYTES} a file may hold")
    budget = header_budget(np.asarray(arrays["params"]).nbytes)
    if header_cost(text) > budget:
        raise ValueError(
            f"the {kind} header ({encoded.size} bytes of JSON) would take about {header_cost(text)} bytes of memory to "
            f"read, more than the {budget} a file of {np.asarray(arrays['params']).nbytes} parameter bytes may use"
        )
    return write_atomically(
        path,
        lambda stream: np.savez(stream, allow_pickle=False, header=encoded, **arrays),
        is_ours=lambda existing: header_kind(existing) == kind,
        overwrite=overwrite,
        what="model file" if kind == "model" else kind,
    )


def save(model: Sequential, path: str | os.PathLike, overwrite: bool = False) -> str:
    """Save a built ``model`` to ``path`` (written as given, no extension added); returns the path.

    An existing file at ``path`` is replaced only if it is a dnnimprove model file, or with
    ``overwrite=True``; a device, FIFO or directory is never replaced (:class:`UnsafePathError`, a
    ``ValueError``). A symbolic link is written through to its target.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential; got {type(model).__name__}")
    if not isinstance(overwrite, bool):
        raise TypeError(f"overwrite must be True or False; got {overwrite!r:.80}")
    return write_archive(path, model_header(model), model_arrays(model), overwrite=overwrite)


# -- reading -----------------------------------------------------------------------------------
class Archive(NpzArchive):
    """An open model file whose arrays are read one by one, each checked against what is expected
    (:class:`dnnimprove.npzfiles.NpzArchive`: every member stored uncompressed inside the file)."""

    what = "dnnimprove file"

    def error(self, problem: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: {problem}")

    def param_bytes(self) -> int:
        """The bytes of parameters the file holds: member ``params``, a 1-D float32 or float64 array whose
        ``.npy`` header is checked (without reading its data) against the bytes the member really stores."""
        info = self.zipped.NameToInfo.get("params.npy")
        stream, _, _, size = self._open("params", None, tuple(DTYPES.values()), info.file_size if info is not None else 0)
        stream.close()
        return size


def read_archive(path: str | os.PathLike, use: Callable[[Archive, dict], Any]) -> Any:
    """Open ``path``, read and check its header, and return ``use(archive, header)``.

    Any damage (not a regular file, not a zip, truncated, bad CRC, compressed or oversized members,
    malformed ``.npy`` or JSON) raises :class:`ModelFileError` naming the file; ``use`` raises it for
    what it finds wrong. A missing file raises :class:`FileNotFoundError`.
    """
    path = os.fspath(path)
    try:
        opened = open_regular(path)
    except UnsafePathError as error:
        raise ModelFileError(str(error)) from None
    with opened as stream:
        try:
            with Archive(path, stream) as archive:
                if not archive.has("header"):
                    raise archive.error("array 'header' is missing")
                header = _read_header(archive, header_budget(archive.param_bytes()))
                return use(archive, header)
        except ModelFileError:
            raise
        except READ_ERRORS as error:
            raise ModelFileError(f"{path}: not a readable dnnimprove file ({type(error).__name__}: {error})") from error


def _parse_json(archive: Archive, raw: bytes, budget: int) -> Any:
    """``json.loads`` once the text is known to take at most ``budget`` bytes (:func:`header_cost`)."""
    cost = header_cost(raw)
    if cost > budget:
        raise archive.error(
            f"its {len(raw)}-byte JSON header would take about {cost} bytes of memory to read, more than the "
            f"{budget} a file of its parameter size may use; refusing to parse it"
        )
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise archive.error(f"the header is not valid JSON ({error})") from None


def _read_header(archive: Archive, budget: int) -> dict:
    """The checked JSON header; its bytes and the memory its parsing takes must fit in ``budget``."""
    info = archive.zipped.NameToInfo.get("header.npy")
    if info is not None and 3 * info.file_size > budget:  # its bytes and their text alone would exceed the budget
        raise archive.error(
            f"its JSON header takes {info.file_size} bytes; a file of its parameter size may hold at most "
            f"{budget // 3} (refused before reading it)"
        )
    raw = archive.array("header", None, np.uint8, max_bytes=min(MAX_HEADER_BYTES, budget // 3), as_bytes=True)
    header = _parse_json(archive, raw, budget)
    expect = _Expect(archive)
    expect.kind("header", header, dict)
    if header.get("format") != FORMAT:
        raise archive.error(f"not a {FORMAT} file (format {header.get('format')!r:.80})")
    version = expect.integer("version", header.get("version"), low=1)
    if version > FORMAT_VERSION:
        raise archive.error(
            f"format version {version} is newer than this dnnimprove reads ({FORMAT_VERSION}); upgrade dnnimprove"
        )
    return header


class _Expect:
    """Checks on the decoded header; each failure names the file and the field."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive

    def kind(self, field: str, value: Any, kind: type) -> Any:
        if kind is int:
            return self.integer(field, value)
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.archive.error(f"header field {field} must be a {kind.__name__}; got {value!r:.80}")
        return value

    def integer(self, field: str, value: Any, low: int = 0, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
            raise self.archive.error(f"header field {field} must be an integer {bound}; got {value!r:.80}")
        return value

    def shape(self, field: str, value: Any) -> tuple[int, ...]:
        self.kind(field, value, list)
        return tuple(self.integer(f"{field}[{i}]", n) for i, n in enumerate(value))

    def section(self, header: dict, field: str) -> dict:
        return self.kind(field, header.get(field), dict)


def _build_layers(archive: Archive, entries: Any) -> list[Layer]:
    expect = _Expect(archive)
    expect.kind("model.layers", entries, list)
    if not entries:
        raise archive.error("header field model.layers is empty")
    layers = []
    for index, entry in enumerate(entries):
        expect.kind(f"model.layers[{index}]", entry, dict)
        kind = entry.get("kind")
        if not isinstance(kind, str) or kind not in LAYER_CLASSES:
            raise archive.error(
                f"model.layers[{index}] names the unknown layer kind {kind!r:.80}; registered: {', '.join(sorted(LAYER_CLASSES))}"
            )
        settings = {key: value for key, value in entry.items() if key != "kind"}
        try:
            layers.append(LAYER_CLASSES[kind](**settings))
        except (TypeError, ValueError) as error:
            raise archive.error(f"model.layers[{index}] ({kind}) has bad settings: {error}") from None
    return layers


def _check_size(archive: Archive, layers: list[Layer], n_features: int, n_params: int) -> None:
    """Walk the layer widths without allocating anything; the parameter count must equal ``n_params``.

    Run before ``Sequential.build`` so that an edited width can never make it allocate more than the
    file holds.
    """
    width, count = n_features, 0
    for index, layer in enumerate(layers):
        if width > n_params:
            break
        try:
            width = int(layer.build(width))
            count += sum(math.prod(spec.shape) for spec in layer.param_specs())
        except (TypeError, ValueError, OverflowError) as error:
            raise archive.error(f"model.layers[{index}] does not fit its input width {width}: {error}") from None
        if count > n_params:
            break
    if count != n_params:
        raise archive.error(
            f"the architecture does not fit the parameters: the layers need {'more than ' if count > n_params else ''}"
            f"{count} parameters for {n_features} input features, the file holds {n_params}"
        )


def model_from_archive(archive: Archive, header: dict, seed: Any = None) -> Sequential:
    """Rebuild the model a checked header describes and fill it from the archive's arrays."""
    expect = _Expect(archive)
    section = expect.section(header, "model")
    dtype = section.get("dtype")
    if dtype not in DTYPES:
        raise archive.error(f"header field model.dtype must be one of {sorted(DTYPES)}; got {dtype!r:.80}")
    loss = section.get("loss")
    if loss not in LOSSES:
        raise archive.error(f"header field model.loss must be one of {sorted(LOSSES)}; got {loss!r:.80}")
    n_features = expect.integer("model.n_features_in", section.get("n_features_in"), low=1)
    n_params = expect.integer("n_params", header.get("n_params"), low=1)
    if n_features > n_params:  # every architecture has at least one weight per input feature
        raise archive.error(f"model.n_features_in={n_features} cannot fit {n_params} parameters")
    table = expect.kind("parameters", header.get("parameters"), list)
    state_table = expect.kind("state", header.get("state"), list)
    layers = _build_layers(archive, section.get("layers"))
    archive.check("params", (n_params,), DTYPES[dtype])  # the member holds them: n_params is bounded by the file's size
    _check_size(archive, layers, n_features, n_params)  # before build allocates anything
    try:
        model = Sequential(layers, loss=loss, seed=seed, dtype=dtype).build(n_features)
    except (TypeError, ValueError) as error:
        raise archive.error(f"the architecture cannot be built: {error}") from None
    declared = [(row.get("name"), row.get("shape"), row.get("role")) if isinstance(row, dict) else row for row in table]
    built = [(info.name, list(info.shape), info.role) for info in model.table]
    if declared != built:
        raise archive.error(f"the parameter table {declared!r:.200} does not match the architecture's {built!r:.200}")
    archive.array("params", (n_params,), DTYPES[dtype], out=model.params)
    state = model.state_arrays()
    declared_state = [(row.get("name"), row.get("shape")) if isinstance(row, dict) else row for row in state_table]
    built_state = [(name, list(value.shape)) for name, value in state.items()]
    if declared_state != built_state:
        raise archive.error(f"the state arrays {declared_state!r:.200} do not match the architecture's {built_state!r:.200}")
    for name, value in state.items():
        nonnegative = name.rsplit(".", 1)[-1] in NONNEGATIVE_STATE
        archive.array(f"state.{name}", value.shape, value.dtype, out=value, nonnegative=nonnegative)
    _read_preprocessing(archive, header, model)
    return model


def load(path: str | os.PathLike, seed: Any = None) -> Sequential:
    """Load a model saved by :func:`save` (or the model inside a checkpoint).

    Parameters
    ----------
    path : str or path-like
    seed : int, Generator, random source or None
        The loaded model's random source (for later training or dropout); files hold no random state.

    Raises
    ------
    ModelFileError
        (a ``ValueError``) naming the file and the problem, for any file that is not a valid model.
    FileNotFoundError
        When ``path`` does not exist.
    """
    return read_archive(path, lambda archive, header: model_from_archive(archive, header, seed))
