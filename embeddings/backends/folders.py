"""Whether a folder an index is kept in can be there: shared by the backends that keep files."""

from __future__ import annotations

import os
from pathlib import Path

from embeddings.errors import NotADirectoryIndexError


def check_folder(root: Path) -> None:
    """Raise NotADirectoryIndexError when `root`, or the nearest of its parents that exists, is
    something other than a folder, or when a link on the way leads nowhere (no folder can be made
    there, and the index it named may be on a disk not mounted)."""
    path = root
    while not path.exists() and path != path.parent:
        if path.is_symlink():
            where = f"{root} is" if path == root else f"{root} cannot be an index directory: {path} is"
            raise NotADirectoryIndexError(
                f"{where} a link to {os.readlink(path)}, which does not exist"
                " (create it, or point the link elsewhere)"
            )
        path = path.parent
    if path.exists() and not path.is_dir():
        if path == root:
            raise NotADirectoryIndexError(f"{root} is a file, not an index directory")
        raise NotADirectoryIndexError(f"{root} cannot be an index directory: {path} is a file")
