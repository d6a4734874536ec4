"""Writers: put a materialised File-set folder onto its destination medium."""
