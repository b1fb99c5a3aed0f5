"""Snapshot tars read in place, as allocations: :class:`ArchiveFS` (an
``AllocDirFS`` over a ``.tar`` or an indexed ``.tar.gz``), its index
(:mod:`.index`, from the headers read by :mod:`.headers`), the members
read by offset (:mod:`.member`) and the archive file (:mod:`.source`:
plain or gzip; other compressions refused)."""

from .fs import ArchiveFS, ArchiveStatic, alloc_id_of
from .headers import ArchiveDamaged
from .index import TarIndex
from .source import ArchiveError, ArchiveFile, compression_of

__all__ = ["ArchiveDamaged", "ArchiveError", "ArchiveFS", "ArchiveFile", "ArchiveStatic",
           "TarIndex", "alloc_id_of", "compression_of"]
