"""Shared lifecycle of the throwaway servers the tests run (Dovecot, Postfix): start, stop, remove, context."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Self

from tests.support.system import remove_tree


class ManagedServer:
    """A server living in its own directory; `close` stops it and removes the directory."""

    directory: Path

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.stop()
        remove_tree(self.directory)

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.close()  # __exit__ does not run when __enter__ raises
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
