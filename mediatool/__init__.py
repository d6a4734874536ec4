"""mediatool: DICOM offline media (patient discs) built, validated and imported to the standard.

PS3.10 (media storage and file format), PS3.3 Annex F (Basic Directory IOD), PS3.11 (Application
Profiles), PS3.12 (physical media) and IHE PDI.
"""

from mediatool.errors import MediatoolError
from mediatool.findings import Finding, Severity

__version__ = "0.1.0"

__all__ = ["Finding", "MediatoolError", "Severity", "__version__"]
