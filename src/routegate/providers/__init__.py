"""Providers: the only I/O seam of the engine (see ``base``)."""

from routegate.providers.base import ERROR_CODES, ERROR_NAMES, MISSING, OK, CallBatch, CallResult, Provider
from routegate.providers.recorded import RecordedProvider

__all__ = ["ERROR_CODES", "ERROR_NAMES", "MISSING", "OK", "CallBatch", "CallResult", "Provider", "RecordedProvider"]
