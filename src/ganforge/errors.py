"""The errors a user can cause, and only those.

Every mistake in a user's input (an option, a data file, a checkpoint) raises a
:class:`GanforgeError` subclass whose message names the bad value; the CLI prints it as
one line and exits 2. Any other exception is a bug in ganforge: the CLI exits 1 with a
one-line request for a report (the traceback with ``--debug``).

The classes subclass :class:`ValueError` so code written against the older contract
(``except ValueError``) keeps working.
"""

from __future__ import annotations


class GanforgeError(ValueError):
    """Bad input from the user: an option, a file, a run directory."""


class ConfigError(GanforgeError):
    """An option or a combination of options that cannot work (names the option)."""


class OptionTypeError(ConfigError, TypeError):
    """An option of the wrong type (a string where a number belongs, ...)."""


class DataError(GanforgeError):
    """A dataset that cannot be read or used as asked (names the file or dataset)."""


class DataTypeError(DataError, TypeError):
    """Data of the wrong type (text where numbers belong, floats where bytes belong)."""


class CheckpointError(GanforgeError):
    """A run directory or checkpoint that is missing, damaged or does not fit."""


class OutputError(GanforgeError):
    """An output path that cannot be written: a file where a folder belongs, a run folder that
    is not empty, not writable or locked by another process."""
