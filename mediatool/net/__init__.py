"""DICOM networking that import and retrieve share (design.md, "Turn 2 layout").

:mod:`.association` (peers, AE set-up, associations, C-ECHO), :mod:`.failure` (what a status or
a lost association means, in words), :mod:`.dimse` (the #435-safe C-STORE sender), :mod:`.store`
(C-STORE sessions), :mod:`.send` (several associations at once) and :mod:`.find` (the C-FIND
response loop). ``importer`` and ``retrieve`` import from here; neither imports the other, and
nothing here imports either.
"""
