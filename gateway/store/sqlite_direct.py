"""The intake's own statements, run on SQLite's driver connection directly after SQLAlchemy compiled them once.

Why: SQLAlchemy's execution layer (cache key, execution context, result metadata) cost about 60 µs per statement on
the writer thread, several times what SQLite takes to run it, and an intake is a dozen statements.

What stays SQLAlchemy's: the SQL text, the order of its parameters and every value conversion (a column type's
bind and result processors: UTC datetimes, JSON, booleans) all come from SQLAlchemy's compiler and type objects,
per dialect, exactly as its own execution would use them. What is skipped is only the per-call bookkeeping around
them.

Only statements marked with `prepared()` take this path: module constants whose values all travel as bind
parameters, so one compilation per set of parameter names (and length of each IN list) serves every call. A
statement whose compiled form needs more than positional values in and rows out (Python-side column defaults,
callable binds, an empty IN list) is noted as such and keeps running through SQLAlchemy, as does every statement
not marked.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

S = TypeVar("S", bound=ClauseElement)
_Processor = Callable[[Any], Any] | None

_PREPARED: dict[int, ClauseElement] = {}
"""id -> statement; holding the statement keeps its id from being reused by another object."""


def prepared(statement: S) -> S:
    """Marks a statement built once at import as one the SQLite writer may run directly."""
    _PREPARED[id(statement)] = statement
    return statement


@dataclass(frozen=True)
class _Parameter:
    key: str
    fixed: Any  # the bind's own value, for a bind the caller does not supply
    required: bool
    process: _Processor
    expanding: bool  # an IN list: one placeholder per element


@dataclass(frozen=True)
class DirectStatement:
    """One compiled form of a prepared statement: its SQL and what converts values in and out."""

    sql: str
    parameters: tuple[_Parameter, ...]
    row_type: Callable[..., Any] | None
    result_processors: tuple[_Processor, ...]

    def values(self, given: Mapping[str, Any]) -> tuple[Any, ...]:
        out: list[Any] = []
        for parameter in self.parameters:
            if parameter.key in given:
                value = given[parameter.key]
            elif parameter.required:
                raise KeyError(f"statement parameter {parameter.key!r} was not given")
            else:
                value = parameter.fixed
            if parameter.expanding:
                out.extend(_processed(element, parameter.process) for element in value)
            else:
                out.append(_processed(value, parameter.process))
        return tuple(out)

    def row(self, raw: Sequence[Any]) -> Any:
        assert self.row_type is not None
        return self.row_type(
            *(
                value if process is None else process(value)
                for value, process in zip(raw, self.result_processors, strict=True)
            )
        )


def _processed(value: Any, process: _Processor) -> Any:
    return value if process is None or value is None else process(value)


_UNSUITABLE = object()
_Key = tuple[int, tuple[str, ...], bool, tuple[int, ...]]
_compiled: dict[_Key, DirectStatement | object] = {}
_MAX_COMPILED = 2048


def _compile(statement: ClauseElement, key: _Key, given: Mapping[str, Any], dialect: Dialect) -> DirectStatement | None:
    _, names, many, _ = key
    compiled = statement.compile(dialect=dialect, column_keys=list(names), for_executemany=many)
    assert isinstance(compiled, SQLCompiler)
    binds = compiled.binds
    needs_sqlalchemy = (
        compiled.positiontup is None
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or any(bind.callable is not None for bind in binds.values())
        # SQLAlchemy renders an empty IN list as a special expression: not worth copying
        or any(bind.expanding and not given.get(bind.key) for bind in binds.values())
        or (many and any(bind.expanding for bind in binds.values()))
    )
    if needs_sqlalchemy:
        return None
    sql = compiled.string
    parameters = []
    for name in compiled.positiontup or ():
        bind = binds[name]
        if bind.expanding:
            placeholders = ", ".join("?" * len(given[bind.key]))
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", placeholders, 1)
        parameters.append(
            _Parameter(
                key=bind.key,
                fixed=bind.value,
                required=bind.required,
                process=bind.type.dialect_impl(dialect).bind_processor(dialect),
                expanding=bind.expanding,
            )
        )
    is_change = compiled.isinsert or compiled.isupdate or compiled.isdelete
    returns_rows = bool(compiled.effective_returning) if is_change else True
    columns: list[Any] = list(getattr(statement, "exported_columns", ())) if returns_rows else []
    if returns_rows and (many or not columns):
        return None
    row_type = namedtuple("Row", [column.key for column in columns], rename=True) if columns else None
    result_processors = tuple(column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
    return DirectStatement(sql, tuple(parameters), row_type, result_processors)


def direct_statement(
    statement: Any, parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None, dialect: Dialect
) -> DirectStatement | None:
    """The compiled form to run directly, or None when SQLAlchemy must run this one."""
    known = _PREPARED.get(id(statement))
    if known is None or known is not statement:
        return None
    many = isinstance(parameters, Sequence)
    first: Mapping[str, Any] = (parameters[0] if parameters else {}) if many else (parameters or {})  # type: ignore[index, assignment]
    names = tuple(sorted(first))
    lengths = tuple(len(first[name]) for name in names if isinstance(first[name], list | tuple))
    key = (id(statement), names, many, lengths)
    found = _compiled.get(key)
    if found is None:
        if len(_compiled) >= _MAX_COMPILED:  # IN lists of ever new lengths must not grow this for ever
            _compiled.clear()
        found = _compile(known, key, first, dialect) or _UNSUITABLE
        _compiled[key] = found
    return found if isinstance(found, DirectStatement) else None


def run(
    driver: sqlite3.Connection,
    direct: DirectStatement,
    parameters: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
) -> tuple[list[Any], int]:
    """Rows (as named tuples, values converted) and row count.

    A driver error is raised as SQLAlchemy would raise it (IntegrityError, OperationalError, …), because callers
    tell a duplicate from a broken store by those classes.
    """
    many = isinstance(parameters, Sequence)
    try:
        values: Any = (
            [direct.values(row) for row in parameters]
            if isinstance(parameters, Sequence)
            else direct.values(parameters or {})
        )
    except Exception as error:  # a column type refused a value (a naive datetime): as SQLAlchemy reports it
        raise StatementError(str(error), direct.sql, parameters, error) from error
    try:
        cursor = driver.executemany(direct.sql, values) if many else driver.execute(direct.sql, values)
        rows = [direct.row(raw) for raw in cursor.fetchall()] if direct.row_type is not None else []
    except sqlite3.Error as error:
        raise DBAPIError.instance(direct.sql, values, error, sqlite3.Error) from error
    return rows, cursor.rowcount
