"""Collect instances from a PACS by DICOM Query/Retrieve (PS3.4 C): find studies (C-FIND),
retrieve them (C-GET, or C-MOVE to a storage SCP we run) into a folder, account for every
sub-operation. ``build --from-pacs`` then builds the disc from that folder as usual."""
