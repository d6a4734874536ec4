"""The station as a DICOM Application Entity (``[node] port``, ``--dicom-port``).

- :mod:`.scp`: the AE (pynetdicom) with its services: Verification, Storage (into the inbox),
  Media Creation Management (PS3.4 Annex S).
- :mod:`.inbox`: where stored instances land (DATA/inbox, one row each in the job store).
- :mod:`.mcm`: the Media Creation Management SOP Instances and the burn jobs they become.
"""
