"""Model files: save -> load -> predict is exact; damaged or hostile files get one clear error, never pickle."""

from __future__ import annotations

import io
import json
import os
import re
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dnnimprove as dn
from dnnimprove.persistence import LAYER_CLASSES, FORMAT_VERSION, ModelFileError, write_archive

EXAMPLES = int(os.environ.get("DNNIMPROVE_FUZZ_EXAMPLES", 150))  # per fuzz test; raise it for a longer hunt
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def every_layer_model(dtype: str = "float64", seed: int = 0) -> dn.Sequential:
    """A model holding every registered layer kind, with non-default settings where a layer has any."""
    layers = [dn.Dense(6, init=dn.VarianceScaling("fan_avg", 3.0)), dn.LeakyReLU(0.2), dn.Dropout(0.8),
              dn.Dense(5, init="xavier"), dn.ELU(0.5), dn.Dense(5, use_bias=False), dn.BatchNorm(0.8, 1e-4), dn.SELU(),
              dn.Dense(4, init="glorot"), dn.Tanh(),
              dn.Dense(4, init="large_random"), dn.Sigmoid(), dn.Dense(3), dn.ReLU(), dn.Dense(3, init="zeros")]
    layers += [LAYER_CLASSES[kind]() for kind in sorted(LAYER_CLASSES) if kind not in {type(l).kind for l in layers}]
    return dn.Sequential(layers + [dn.Dense(3)], loss="categorical_crossentropy", seed=seed, dtype=dtype)


@pytest.fixture(scope="module")
def trained():
    X, y = dn.datasets.digits()
    X = dn.Standardizer().fit_transform(X)[:300]
    model = every_layer_model()
    model.fit(X, y[:300] % 3, epochs=3, batch_size=64, optimizer=dn.Adam(0.01))
    return model, X


@pytest.fixture(scope="module")
def valid_file(trained, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.npz"
    dn.save(trained[0], path)
    return path


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_save_load_predict_is_identical_for_every_layer_type_and_dtype(dtype, tmp_path):
    X, y = dn.datasets.digits()
    X = dn.Standardizer().fit_transform(X)[:200]
    model = every_layer_model(dtype)
    model.fit(X, y[:200] % 3, epochs=2, batch_size=50, optimizer=dn.Adam(0.01))
    assert {layer.kind for layer in model.layers} == set(LAYER_CLASSES)
    loaded = dn.load(dn.save(model, tmp_path / "m.npz"))
    assert loaded.config() == model.config() and repr(loaded) == repr(model)
    assert loaded.table == model.table and loaded.params.dtype == np.dtype(dtype)
    assert np.array_equal(loaded.params, model.params)
    assert set(loaded.state_arrays()) == {"batch_norm_1.running_mean", "batch_norm_1.running_var"}
    for key, value in model.state_arrays().items():  # trained batch-norm statistics, not the initial 0 and 1
        assert np.array_equal(loaded.state_arrays()[key], value) and not np.all(value == value.flat[0]), key
    assert np.array_equal(loaded.decision_function(X), model.decision_function(X))
    assert np.array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert loaded.n_features_in_ == 64


def test_model_file_is_a_plain_npz_that_numpy_reads_without_pickle(valid_file, trained):
    with np.load(valid_file, allow_pickle=False) as archive:
        header = json.loads(archive["header"].tobytes())
        assert np.array_equal(archive["params"], trained[0].params)
    assert header["format"] == "dnnimprove" and header["version"] == FORMAT_VERSION and header["kind"] == "model"
    assert [row["name"] for row in header["parameters"]] == [info.name for info in trained[0].table]


def test_a_loaded_model_trains_on(valid_file, trained):
    model, X = trained
    loaded = dn.load(valid_file, seed=1)
    loaded.fit(X, model.predict(X), epochs=1, optimizer=dn.GradientDescent(0.01))
    assert not np.array_equal(loaded.params, model.params)


def test_a_failed_write_leaves_the_previous_file_intact_and_no_temporary(trained, tmp_path, monkeypatch):
    model, X = trained
    path = tmp_path / "model.npz"
    dn.save(model, path)
    before = path.read_bytes()

    def crash_half_way(stream, **arrays):
        stream.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash_half_way)
    with pytest.raises(OSError, match="disk full"):
        dn.save(model, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]
    monkeypatch.undo()
    assert np.array_equal(dn.load(path).predict(X), model.predict(X))


# -- clear errors ------------------------------------------------------------------------------
def rewrite(source, target, edit_header=None, edit_arrays=None):
    """Copy a model file with its header and/or arrays edited."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    header = json.loads(arrays.pop("header").tobytes())
    if edit_header:
        edit_header(header)
    if edit_arrays:
        edit_arrays(arrays)
    write_archive(target, header, arrays)
    return target


def set_version(header):
    header["version"] = FORMAT_VERSION + 1


def widen_first_layer(header):
    header["model"]["layers"][0]["units"] += 1


def edit_table_shape(header):
    header["parameters"][0]["shape"] = header["parameters"][0]["shape"][::-1]


def unknown_kind(header):
    header["model"]["layers"][1]["kind"] = "os.system"


def bad_setting(header):
    header["model"]["layers"][1]["alpha"] = -1


def shorter_params(arrays):
    arrays["params"] = arrays["params"][:-1]


def float32_params(arrays):
    arrays["params"] = arrays["params"].astype(np.float32)


@pytest.mark.parametrize(
    "edit_header, edit_arrays, message",
    [
        (set_version, None, rf"format version {FORMAT_VERSION + 1} is newer than this dnnimprove reads"),
        (widen_first_layer, None, r"the architecture does not fit the parameters: the layers need (more than )?\d+ parameters"),
        (edit_table_shape, None, r"the parameter table .* does not match the architecture"),
        (unknown_kind, None, r"unknown layer kind 'os.system'"),
        (bad_setting, None, r"model.layers\[1\] \(leaky_relu\) has bad settings: alpha must be in \[0, inf\); got -1"),
        (None, shorter_params, r"array 'params' has shape \(\d+,\); the header declares \(\d+,\)"),
        (None, float32_params, r"array 'params' has dtype float32; expected float64"),
        (lambda header: header.pop("model"), None, r"header field model must be a dict; got None"),
        (lambda header: header.update(format="keras"), None, r"not a dnnimprove file"),
    ],
)
def test_a_bad_file_gets_a_value_error_naming_the_file_and_the_problem(valid_file, tmp_path, edit_header, edit_arrays, message):
    path = rewrite(valid_file, tmp_path / "edited.npz", edit_header, edit_arrays)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(tmp_path / 'edited.npz'))}: .*{message}"):
        dn.load(path)


def test_a_truncated_file_is_named(valid_file, tmp_path):
    path = tmp_path / "cut.npz"
    path.write_bytes(valid_file.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match=rf"^{re.escape(str(path))}: not a readable dnnimprove file \(BadZipFile"):
        dn.load(path)


def test_an_npz_without_a_header_is_not_a_model_file(tmp_path):
    np.savez(tmp_path / "plain.npz", W=np.ones(3))
    with pytest.raises(ModelFileError, match="array 'header' is missing"):
        dn.load(tmp_path / "plain.npz")


class Exploit:
    """Unpickling this would flip ``triggered``; the loader must never unpickle."""

    triggered = False

    def __reduce__(self):
        return (setattr, (Exploit, "triggered", True))


def test_a_pickled_member_is_refused_and_never_unpickled(valid_file, tmp_path):
    path = tmp_path / "pickle.npz"
    with zipfile.ZipFile(valid_file) as source, zipfile.ZipFile(path, "w") as target:
        target.writestr("header.npy", source.read("header.npy"))
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.array([Exploit()], dtype=object), allow_pickle=True)
        target.writestr("params.npy", buffer.getvalue())
    with pytest.raises(ModelFileError, match=r"array 'params' holds Python objects \(dtype object\); arrays are read without pickle"):
        dn.load(path)
    assert Exploit.triggered is False


@pytest.mark.parametrize("old, new", [(b"}", b" "), (b"'shape': (", b"'shape'\"\"\""), (b"False", b"Fa)se")])
def test_a_corrupt_npy_header_is_a_model_file_error(valid_file, tmp_path, old, new):
    """numpy parses a .npy header with ast/tokenize: a SyntaxError or TokenError must not escape (fuzz finding)."""
    path = tmp_path / "npy-header.npz"
    with zipfile.ZipFile(valid_file) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            content = source.read(name)
            target.writestr(name, content.replace(old, new, 1) if name == "params.npy" else content)
    with pytest.raises(ModelFileError, match=rf"^{re.escape(str(path))}: not a readable dnnimprove file"):
        dn.load(path)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        dn.load(tmp_path / "nothing.npz")


def test_saving_needs_a_built_model_and_registered_layers(tmp_path):
    with pytest.raises(ValueError, match="not built yet"):
        dn.save(dn.Sequential([dn.Dense(1)]), tmp_path / "m.npz")

    class Scale(dn.Layer):
        kind = "test_scale"

        def __init__(self, factor: float = 2.0) -> None:
            super().__init__()
            self.factor = factor

        def forward(self, X, training):
            return X * self.factor

        def backward(self, dA):
            return dA * self.factor

        def config(self):
            return {"factor": self.factor}

    model = dn.Sequential([dn.Dense(2), Scale(3.0), dn.Dense(1)], seed=0).build(2)
    with pytest.raises(ValueError, match=r"kind 'test_scale' is not registered; call dn.register_layer"):
        dn.save(model, tmp_path / "m.npz")
    dn.register_layer(Scale)
    try:
        loaded = dn.load(dn.save(model, tmp_path / "m.npz"))
        assert loaded.layers[1].factor == 3.0
        assert np.array_equal(loaded.predict(np.ones((2, 2))), model.predict(np.ones((2, 2))))
    finally:
        del LAYER_CLASSES["test_scale"]


def test_register_layer_refuses_a_clash():
    class Impostor(dn.Layer):
        kind = "dense"

    with pytest.raises(ValueError, match="already registered for Dense"):
        dn.register_layer(Impostor)


# -- fuzzing: any file either loads a valid model or raises ModelFileError ---------------------
def load_or_error(path, n_features: int = 64) -> str:
    """The loader's contract, asserted: a usable model or a ModelFileError naming the file."""
    try:
        model = dn.load(path)
    except ModelFileError as error:
        assert str(error).startswith(f"{path}: ")
        return "error"
    assert isinstance(model, dn.Sequential) and model.built
    X = np.ones((2, model.n_features_in_))
    assert model.decision_function(X).shape == (2, model.n_outputs)
    return "model"


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(data=st.binary(min_size=0, max_size=2000), zip_magic=st.booleans())
def test_fuzz_random_bytes_raise_the_documented_error(data, zip_magic, fuzz_dir):
    path = fuzz_dir / "random.npz"
    path.write_bytes((b"PK\x03\x04" if zip_magic else b"") + data)
    assert load_or_error(path) == "error"


@FUZZ
@given(fraction=st.floats(0.0, 1.0, exclude_max=True))
def test_fuzz_every_truncation_raises_the_documented_error(fraction, valid_file, fuzz_dir):
    content = valid_file.read_bytes()
    path = fuzz_dir / "truncated.npz"
    path.write_bytes(content[: int(fraction * len(content))])
    assert load_or_error(path) == "error"


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8))
def test_fuzz_corrupted_bytes_load_a_valid_model_or_raise_the_documented_error(edits, valid_file, fuzz_dir):
    content = bytearray(valid_file.read_bytes())
    for where, value in edits:
        content[int(where * len(content))] = value
    path = fuzz_dir / "corrupted.npz"
    path.write_bytes(bytes(content))
    load_or_error(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=6,
)


def paths_of(value, prefix=()):
    """Every position in a JSON tree, as a tuple of keys and indices."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths_of(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths_of(item, prefix + (index,))


@pytest.fixture(scope="module")
def valid_parts(valid_file):
    with np.load(valid_file, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    return json.loads(arrays.pop("header").tobytes()), arrays


@FUZZ
@given(data=st.data())
def test_fuzz_edited_headers_load_a_valid_model_or_raise_the_documented_error(data, valid_parts, fuzz_dir):
    header, arrays = json.loads(json.dumps(valid_parts[0])), dict(valid_parts[1])
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(list(paths_of(header))[1:]))
        parent = header
        for key in where[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            parent[where[-1]] = data.draw(JSON_VALUES)
        elif isinstance(parent, dict):
            del parent[where[-1]]
        else:
            parent.pop(where[-1])
    if data.draw(st.booleans()):
        size = data.draw(st.integers(0, 2 * arrays["params"].size))
        dtype = data.draw(st.sampled_from([np.float64, np.float32, np.int64, np.uint8, np.complex128]))
        arrays["params"] = np.resize(arrays["params"], size).astype(dtype)
    path = fuzz_dir / "edited.npz"
    write_archive(path, header, arrays, overwrite=True)  # the last example left an edited file there
    load_or_error(path)


def test_a_model_file_carries_its_preprocessing_and_a_damaged_one_is_refused(tmp_path):
    from dnnimprove.persistence import model_arrays, model_header, write_archive

    model = dn.Sequential([dn.Dense(3)], loss="categorical_crossentropy", seed=0)
    model.fit({"x": np.arange(6.0), "c": np.array(list("abcabc"), dtype=object)}, list("uvwuvw"), epochs=1)
    dn.save(model, tmp_path / "good.npz")
    assert dn.load(tmp_path / "good.npz").preprocessing_ == model.preprocessing_
    header = model_header(model)
    header["preprocessing"]["classes"] = ["u", "v"]  # two classes for a three-output network
    write_archive(tmp_path / "bad.npz", header, model_arrays(model))
    with pytest.raises(dn.ModelFileError, match="bad.npz: the preprocessing's classes"):
        dn.load(tmp_path / "bad.npz")
    header = model_header(model)
    header["preprocessing"]["mean"] = ["zero"]
    write_archive(tmp_path / "bad.npz", header, model_arrays(model), overwrite=True)
    with pytest.raises(dn.ModelFileError, match="mean"):
        dn.load(tmp_path / "bad.npz")
