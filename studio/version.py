"""studio's version: in log.json, resume records and the gallery's fingerprints (a new version
renders again what an old one rendered)."""

__version__ = "0.2.1"
