"""Where a search's trials persist as they finish, so that a rerun resumes it and several processes share it.

Three stores, one interface (:class:`Store`):

- ``storage=None``: :class:`MemoryStore`, nothing persists (the search's result is all there is);
- a database URL (``"sqlite:///search.db"``, ``"postgresql://user@host/db"``, any SQLAlchemy URL) or a
  path to an SQLite file: :class:`OptunaStore`, Optuna's RDB storage and so Optuna's schema (one Optuna
  trial per finished trial, its dev score the value, its per-epoch dev scores the intermediate values,
  the whole typed record in the user attribute ``"dnnimprove"``), so ``optuna.load_study`` and
  ``optuna-dashboard`` read the search (``pip install "dnnimprove[search]"``);
- a path ending in ``.jsonl`` (or any path when Optuna is not installed): :class:`JsonLinesStore`, one JSON
  object per line, appended under a file lock.

A study (``study_name``) is checked against the search that opens it (:func:`study_fingerprint`: space,
seed, estimator, ...) and refused with the first difference named. Before running a trial a process
*claims* its key ``(round, index)``: a claim is atomic (a primary-key insert in the database, a
locked append in the file), so processes sharing a study never run a trial twice. A claim whose owner
died (the same host and its process gone, or no heartbeat for ``grace`` seconds) is taken over.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import socket
import time
import uuid
from typing import Any, Iterator

__all__ = ["Store", "MemoryStore", "JsonLinesStore", "OptunaStore", "open_store", "study_fingerprint",
           "StudyMismatch"]

Key = tuple[int, int]
HOST = socket.gethostname()


class StudyMismatch(ValueError):
    """The storage holds a study of that name made by a different search."""


# -- typed JSON: tuples stay tuples, NaN stays NaN --------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return {"tuple": [_encode(item) for item in value]}
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"tuple"}:
            return tuple(_decode(item) for item in value["tuple"])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(_encode(value), sort_keys=True)


def loads(text: str) -> Any:
    return _decode(json.loads(text))


def study_fingerprint(**settings: Any) -> dict[str, Any]:
    """What makes two searches the same study, as JSON-able values (compared key by key on open)."""
    return json.loads(dumps(settings))


_FIRST = ("seed", "space", "search", "sampler", "pruner")


def _difference(stored: dict[str, Any], wanted: dict[str, Any]) -> str | None:
    keys = sorted(set(stored) | set(wanted), key=lambda key: (_FIRST.index(key) if key in _FIRST else len(_FIRST), key))
    for key in keys:
        if stored.get(key) != wanted.get(key):
            return f"{key}={_short(stored.get(key))} there, {key}={_short(wanted.get(key))} here"
    return None


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."


def _alive(host: str, pid: int) -> bool | None:
    """Whether process ``pid`` on ``host`` runs (``None``: another host, cannot tell)."""
    if host != HOST:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """The interface every store keeps; :class:`MemoryStore` is the trivial one."""

    url: str = "memory"
    persistent = False

    def __init__(self) -> None:
        self.owner = uuid.uuid4().hex
        self.grace = 60.0

    def open(self, study_name: str, fingerprint: dict[str, Any]) -> None:
        """Create the study, or check the stored one was made by the same search."""

    def finished(self) -> dict[Key, dict[str, Any]]:
        """Every finished trial's record, by key."""
        return {}

    def claim(self, key: Key) -> bool:
        """Take ``key`` for this process; ``False`` when another live process holds it or it is finished."""
        return True

    def held_elsewhere(self) -> set[Key]:
        """Keys claimed by other live processes and not finished yet."""
        return set()

    def record(self, record: dict[str, Any]) -> None:
        """Persist a finished trial (its claim ends with it)."""

    def heartbeat(self) -> None:
        """Tell other processes this one is alive (its claims stay its own)."""

    def close(self) -> None:
        """Release connections and files."""

    def _stale(self, owner: str, host: str, pid: int, beat: float, now: float) -> bool:
        if owner == self.owner:
            return False
        alive = _alive(host, pid)
        if alive is not None:
            return not alive
        return now - beat > self.grace


class MemoryStore(Store):
    """Nothing persists."""


# -- JSON lines ---------------------------------------------------------------------------------------
class JsonLinesStore(Store):
    """A local file of JSON lines: ``study``, ``claim``, ``beat`` and ``trial`` events, appended under ``flock``.

    The last ``claim`` of a key wins; a ``trial`` line finishes it. Lines of other studies are kept and
    skipped. A line cut short by a crash mid-write is ignored.
    """

    persistent = True

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = os.fspath(path)
        self.url = self.path
        self.study = ""
        folder = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(folder):
            raise ConnectionError(f"storage {self.path!r}: folder {folder!r} does not exist")
        try:
            with open(self.path, "a", encoding="utf-8"):
                pass
        except OSError as error:
            raise ConnectionError(f"storage {self.path!r} cannot be opened ({error.strerror})") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Any]:
        import fcntl

        with open(self.path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0)
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _events(self, handle: Any) -> Iterator[dict[str, Any]]:
        for line in handle.read().splitlines():
            try:
                event = loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if isinstance(event, dict) and event.get("study") == self.study:
                yield event

    def _append(self, handle: Any, event: dict[str, Any]) -> None:
        handle.seek(0, os.SEEK_END)
        if handle.tell():
            handle.seek(handle.tell() - 1)
            if handle.read(1) != "\n":  # a line left cut short by a crash: end it
                handle.write("\n")
        handle.write(dumps({"study": self.study, **event}) + "\n")
        handle.flush()
        os.fsync(handle.fileno())

    def open(self, study_name: str, fingerprint: dict[str, Any]) -> None:
        self.study = study_name
        with self._locked() as handle:
            stored = next((event for event in self._events(handle) if event["type"] == "study"), None)
            if stored is None:
                self._append(handle, {"type": "study", "fingerprint": fingerprint})
                return
        _check_fingerprint(self.url, study_name, stored["fingerprint"], fingerprint)

    def _state(self, handle: Any) -> tuple[dict[Key, dict[str, Any]], dict[Key, dict[str, Any]], dict[str, float]]:
        finished: dict[Key, dict[str, Any]] = {}
        claims: dict[Key, dict[str, Any]] = {}
        beats: dict[str, float] = {}
        for event in self._events(handle):
            kind = event.get("type")
            if kind == "trial":
                record = event["record"]
                finished[(record["round"], record["trial"])] = record
            elif kind == "claim":
                claims[tuple(event["key"])] = event
                beats[event["owner"]] = max(beats.get(event["owner"], 0.0), event["time"])
            elif kind == "beat":
                beats[event["owner"]] = max(beats.get(event["owner"], 0.0), event["time"])
        return finished, claims, beats

    def finished(self) -> dict[Key, dict[str, Any]]:
        with self._locked() as handle:
            return self._state(handle)[0]

    def claim(self, key: Key) -> bool:
        with self._locked() as handle:
            finished, claims, beats = self._state(handle)
            if key in finished:
                return False
            held = claims.get(key)
            now = time.time()
            if held is not None and not self._stale(held["owner"], held["host"], held["pid"],
                                                   beats.get(held["owner"], 0.0), now):
                return held["owner"] == self.owner
            self._append(handle, {"type": "claim", "key": list(key), "owner": self.owner, "host": HOST,
                                  "pid": os.getpid(), "time": now})
            return True

    def held_elsewhere(self) -> set[Key]:
        with self._locked() as handle:
            finished, claims, beats = self._state(handle)
        now = time.time()
        return {key for key, held in claims.items() if key not in finished and held["owner"] != self.owner
                and not self._stale(held["owner"], held["host"], held["pid"], beats.get(held["owner"], 0.0), now)}

    def record(self, record: dict[str, Any]) -> None:
        with self._locked() as handle:
            self._append(handle, {"type": "trial", "record": record})

    def heartbeat(self) -> None:
        with self._locked() as handle:
            self._append(handle, {"type": "beat", "owner": self.owner, "time": time.time()})


def _check_fingerprint(url: str, study_name: str, stored: Any, wanted: dict[str, Any]) -> None:
    if not isinstance(stored, dict):
        raise StudyMismatch(f"storage {url!r} holds a study {study_name!r} that is not a dnnimprove search; "
                            "choose another study name")
    difference = _difference(stored, wanted)
    if difference is not None:
        raise StudyMismatch(f"storage {url!r} holds a study {study_name!r} made by another search ({difference}); "
                            "rerun with the same settings to resume it, or choose another study name")


# -- Optuna's RDB storage ------------------------------------------------------------------------------
def _engine_arguments(url: str, timeout: float) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": timeout}}
    if url.startswith(("postgresql", "postgres")):
        return {"connect_args": {"connect_timeout": max(1, math.ceil(timeout))}, "pool_pre_ping": True}
    if url.startswith("mysql"):
        return {"connect_args": {"connect_timeout": max(1, math.ceil(timeout))}, "pool_pre_ping": True}
    return {}


class OptunaStore(Store):
    """Optuna's RDB storage (any SQLAlchemy URL), plus one small table of claims beside Optuna's tables."""

    persistent = True

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__()
        import optuna
        import sqlalchemy
        from sqlalchemy import exc

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.url, self.optuna, self.sqlalchemy = url, optuna, sqlalchemy
        arguments = _engine_arguments(url, timeout)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.storage = optuna.storages.RDBStorage(url, engine_kwargs=arguments)
                self.engine = sqlalchemy.create_engine(url, **arguments)
                self.claims = _claims_table(sqlalchemy)
                self.claims.metadata.create_all(self.engine, checkfirst=True)
                break
            except (exc.IntegrityError, exc.OperationalError, exc.ProgrammingError) as error:
                # two processes creating the schema at once: one wins, the other tries again
                racing = isinstance(error, exc.IntegrityError) or "already exists" in str(error) or "locked" in str(error)
                if not racing or time.monotonic() > deadline:
                    raise ConnectionError(f"could not open the database {_safe(url)!r} within {timeout:g} s "
                                          f"({type(error).__name__}: {_first_line(error)})") from None
                time.sleep(0.2)
            except (exc.SQLAlchemyError, ImportError, ValueError) as error:
                raise ConnectionError(f"could not open the database {_safe(url)!r} within {timeout:g} s "
                                      f"({type(error).__name__}: {_first_line(error)})") from None
        self.study = None
        self.study_name = ""

    def open(self, study_name: str, fingerprint: dict[str, Any]) -> None:
        self.study_name = study_name
        self.study = self.optuna.create_study(storage=self.storage, study_name=study_name, direction="maximize",
                                              load_if_exists=True)
        attrs = self.study.user_attrs
        if "dnnimprove" not in attrs:
            if self.study.trials:
                _check_fingerprint(self.url, study_name, None, fingerprint)
            self.study.set_user_attr("dnnimprove", fingerprint)
            attrs = self.study.user_attrs
        _check_fingerprint(_safe(self.url), study_name, attrs["dnnimprove"], fingerprint)

    def finished(self) -> dict[Key, dict[str, Any]]:
        states = tuple(self.optuna.trial.TrialState[name] for name in ("COMPLETE", "PRUNED", "FAIL"))
        records = {}
        for trial in self.study.get_trials(deepcopy=False, states=states):
            text = trial.user_attrs.get("dnnimprove")
            if isinstance(text, str):
                record = loads(text)
                records[(record["round"], record["trial"])] = record
        return records

    def _key(self, key: Key) -> str:
        return f"{key[0]}-{key[1]}"

    def claim(self, key: Key) -> bool:
        table, now = self.claims, time.time()
        row = {"study": self.study_name, "trial_key": self._key(key), "owner": self.owner, "host": HOST,
               "pid": os.getpid(), "heartbeat": now}
        with self.engine.begin() as connection:
            try:
                connection.execute(table.insert().values(**row))
                return True
            except self.sqlalchemy.exc.IntegrityError:
                pass
        with self.engine.begin() as connection:
            held = connection.execute(table.select().where(table.c.study == self.study_name,
                                                           table.c.trial_key == self._key(key))).mappings().first()
            if held is None:
                return False
            if held["owner"] == self.owner:
                return True
            if not self._stale(held["owner"], held["host"], held["pid"], held["heartbeat"], now):
                return False
            if key in self.finished():  # its owner finished it before going
                return False
            taken = connection.execute(
                table.update().where(table.c.study == self.study_name, table.c.trial_key == self._key(key),
                                     table.c.owner == held["owner"]).values(**row))
            return taken.rowcount == 1

    def held_elsewhere(self) -> set[Key]:
        table, now = self.claims, time.time()
        with self.engine.begin() as connection:
            rows = connection.execute(table.select().where(table.c.study == self.study_name)).mappings().all()
        done = self.finished()
        held = set()
        for row in rows:
            key = tuple(int(part) for part in row["trial_key"].split("-"))
            if key not in done and row["owner"] != self.owner and not self._stale(
                    row["owner"], row["host"], row["pid"], row["heartbeat"], now):
                held.add(key)
        return held

    def record(self, record: dict[str, Any], distributions: dict[str, Any] | None = None) -> None:
        optuna = self.optuna
        state = {"complete": "COMPLETE", "pruned": "PRUNED", "failed": "FAIL"}[record["state"]]
        value = record["dev_score"]
        params, kept = record.get("optuna_params", {}), {}
        for name, (distribution, item) in params.items():
            if distribution._contains(distribution.to_internal_repr(item)):
                kept[name] = (distribution, item)
        trial = optuna.trial.create_trial(
            state=optuna.trial.TrialState[state],
            value=value if state != "FAIL" and math.isfinite(value) else None,
            params={name: item for name, (_, item) in kept.items()},
            distributions={name: distribution for name, (distribution, _) in kept.items()},
            user_attrs={"dnnimprove": dumps({k: v for k, v in record.items() if k != "optuna_params"})},
            intermediate_values={epoch: score for epoch, score in enumerate(record.get("curve", []))},
        )
        if state != "FAIL" and not math.isfinite(value):
            trial = optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, params=trial.params,
                                              distributions=trial.distributions, user_attrs=trial.user_attrs,
                                              intermediate_values=trial.intermediate_values)
        self.study.add_trial(trial)

    def heartbeat(self) -> None:
        table = self.claims
        with self.engine.begin() as connection:
            connection.execute(table.update().where(table.c.study == self.study_name, table.c.owner == self.owner)
                               .values(heartbeat=time.time()))

    def close(self) -> None:
        self.engine.dispose()
        with contextlib.suppress(Exception):
            self.storage.remove_session()
            self.storage.engine.dispose()


def _claims_table(sqlalchemy: Any) -> Any:
    metadata = sqlalchemy.MetaData()
    return sqlalchemy.Table(
        "dnnimprove_claims", metadata,
        sqlalchemy.Column("study", sqlalchemy.String(512), primary_key=True),
        sqlalchemy.Column("trial_key", sqlalchemy.String(64), primary_key=True),
        sqlalchemy.Column("owner", sqlalchemy.String(64), nullable=False),
        sqlalchemy.Column("host", sqlalchemy.String(255), nullable=False),
        sqlalchemy.Column("pid", sqlalchemy.Integer, nullable=False),
        sqlalchemy.Column("heartbeat", sqlalchemy.Float, nullable=False),
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _safe(url: str) -> str:
    """``url`` without its password."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}@{host}" if ":" in credentials else url
    return url


def _optuna_available() -> bool:
    try:
        import optuna  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError:
        return False
    return True


def open_store(storage: Any, timeout: float) -> Store:
    """The store for ``storage``: ``None``, a store, a database URL, an SQLite file or a ``.jsonl`` file.

    A plain path that exists is opened by its content (an SQLite file starts ``SQLite format 3``); a new
    one is an SQLite file when Optuna is installed and a JSON-lines file otherwise.
    """
    if storage is None:
        return MemoryStore()
    if isinstance(storage, Store):
        return storage
    if isinstance(storage, os.PathLike):
        storage = os.fspath(storage)
    if not isinstance(storage, str) or not storage:
        raise TypeError(f"storage must be None, a database URL (e.g. 'sqlite:///search.db') or a file path; got {storage!r}")
    if "://" in storage:
        if not _optuna_available():
            raise ImportError(f"storage={_safe(storage)!r} needs Optuna and SQLAlchemy: pip install 'dnnimprove[search]' "
                              "(or give a .jsonl file)")
        return OptunaStore(storage, timeout)
    if storage.endswith(".jsonl"):
        return JsonLinesStore(storage)
    if os.path.exists(storage):
        with open(storage, "rb") as handle:
            sqlite = handle.read(16) == b"SQLite format 3\x00"
        if not sqlite:
            return JsonLinesStore(storage)
        if not _optuna_available():
            raise ImportError(f"storage {storage!r} is an SQLite database: reading it needs Optuna and SQLAlchemy "
                              "(pip install 'dnnimprove[search]')")
        return OptunaStore(f"sqlite:///{os.path.abspath(storage)}", timeout)
    if _optuna_available():
        return OptunaStore(f"sqlite:///{os.path.abspath(storage)}", timeout)
    return JsonLinesStore(storage)
