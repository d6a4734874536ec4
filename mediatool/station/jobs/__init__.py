"""Jobs: every import, build and validation the station runs (design.md, "The station")."""
