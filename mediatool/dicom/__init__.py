"""The DICOM standard's rules shared by build, validate and import (the floor of the house)."""
