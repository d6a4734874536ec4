"""The DICOM standard's rules shared by build, validate and import: the floor of the house.

Pure (bytes and values in, bytes, values and findings out) and importing nothing from mediatool
but ``model``, ``findings``, ``errors`` and ``limits`` (``tests/dicom/test_floor.py``).

- ``uids``: our UIDs, and Transfer Syntax facts on top of :mod:`pydicom.uid` (lossy, native).
- ``elements``: THE Explicit VR Little Endian element/item/sequence encoder, the long-VR set.
- ``values``: VR checks, the legacy ACR-NEMA date/time rule, tolerant value -> text.
- ``filemeta``: Part 10 File Meta Information: parse, check, encode.
- ``fileids``: File IDs, File-set IDs, the ISO 9660 Level 1 name rule.
- ``recordtypes``, ``recordkeys``: Annex F record types and keys; a record's keys encoded.
- ``integrity``: does a file hold every byte its elements declare (checklist E23).
- ``tree``: the shape of a Patient/Study/Series tree the writer reads (Protocols).
- ``dicomdir_write``: DICOMDIR bytes from a tree.
- ``dicomdir_raw``, ``dicomdir_walk``, ``dicomdir_read``, ``dicomdir_tree``: the one tolerant
  DICOMDIR reader (records as found, the byte walk, ``parse``/``load``, the offset tree), used by
  validate, import's survey, the web content and ``iso``'s File-set ID.
"""
