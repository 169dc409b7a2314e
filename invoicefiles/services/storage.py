"""Where invoice files' bytes are kept: the `invoicefiles` storage (settings.STORAGES).

Every read, write, listing and delete of a stored upload or BIF goes through
this module, so the rest of the app works the same on both backends:

- `local` (the default): a directory, ICI_INVOICE_FILE_DIR, for one box or a
  volume that every machine mounts (LocalInvoiceFileStorage);
- `s3`: a bucket of any S3-compatible object store (django-storages), for
  several machines that share no disk.

Names are relative to the storage: `<bid>/<file id>.txt` and `<bid>/<file id>.bif`.
A file on its way in is written to a local scratch file first (beside its
destination on a local storage, so that storing it is a rename), and a worker
reads a stored upload from a local file (the stored one itself on a local
storage, a temporary copy otherwise).
"""

import datetime
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, storages

ALIAS = "invoicefiles"
CHUNK = 1 << 20


class LocalInvoiceFileStorage(FileSystemStorage):
    """A FileSystemStorage at ICI_INVOICE_FILE_DIR unless given a `location`.

    The directory is read from the settings when used, not when the storage is
    made (the tests point ICI_INVOICE_FILE_DIR at a folder of their own)."""

    @property
    def base_location(self):
        location = self._location  # type: ignore[attr-defined]  # the `location` option
        return self._value_or_setting(location, settings.ICI_INVOICE_FILE_DIR)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


class _ScratchFile(File):
    """A local file to store: a local storage moves it in (a rename), others read it."""

    def __init__(self, path: str):
        super().__init__(open(path, "rb"), name=os.path.basename(path))  # noqa: SIM115
        self._path = path

    def temporary_file_path(self) -> str:
        return self._path


def file_storage() -> Storage:
    return storages[ALIAS]


def files_dir() -> Path:
    """The local storage's directory (ICI_INVOICE_FILE_DIR)."""
    return Path(settings.ICI_INVOICE_FILE_DIR)


def _local_path(name: str) -> str | None:
    """The file's path on this machine, when the storage is a local directory."""
    try:
        return file_storage().path(name)
    except NotImplementedError:
        return None


def scratch_dir(folder: str) -> str | None:
    """Where to write a file on its way into the storage under `folder`: that very
    folder on a local storage (storing it is then a rename, and a leftover is
    swept with the other orphans), else FILE_UPLOAD_TEMP_DIR (None: the system's)."""
    local = _local_path(folder)
    if local is None:
        return settings.FILE_UPLOAD_TEMP_DIR
    os.makedirs(local, exist_ok=True)
    return local


def stored_save(name: str, path: str) -> str:
    """Store the local file at `path` as `name`; the name it was stored under.

    Never overwrites: a name already taken gets another (the storage's choice)."""
    with _ScratchFile(path) as content:
        return file_storage().save(name, content)


def stored_exists(name: str) -> bool:
    return bool(name) and file_storage().exists(name)


def stored_delete(name: str) -> None:
    """Delete a stored file; one already gone is no error."""
    if name:
        file_storage().delete(name)


def stored_open(name: str) -> File:
    """The stored file, open for reading (FileResponse closes it)."""
    return file_storage().open(name, "rb")


def stored_listdir(folder: str) -> tuple[list[str], list[str]]:
    """(folders, files) directly under `folder`; nothing when it does not exist."""
    try:
        return file_storage().listdir(folder)
    except FileNotFoundError:
        return [], []


def stored_modified(name: str) -> datetime.datetime:
    return file_storage().get_modified_time(name)


@contextmanager
def local_copy(name: str) -> Iterator[Path]:
    """A local path to read the stored file from while the block runs: the file
    itself on a local storage, else a temporary copy, removed in all cases."""
    local = _local_path(name)
    if local is not None:
        yield Path(local)
        return
    out = tempfile.NamedTemporaryFile(  # noqa: SIM115 - removed below
        prefix="invoice-file-", suffix=Path(name).suffix, dir=settings.FILE_UPLOAD_TEMP_DIR
    )
    try:
        with stored_open(name) as source:
            s3_object = getattr(source, "obj", None)  # django-storages' S3File
            if s3_object is not None and hasattr(s3_object, "download_fileobj"):
                # Straight into the copy, in parallel parts, without S3File's own spool.
                s3_object.download_fileobj(out)
            else:
                shutil.copyfileobj(source, out, CHUNK)
        out.flush()
        yield Path(out.name)
    finally:
        out.close()  # and so removed
