"""The daemon's refusals, as the engine raises them and the CLI frames them."""

from __future__ import annotations


class EngineError(Exception):
    """The daemon refused a request; the text is the daemon's, the CLI frames it per command."""

    def __init__(self, message: str, *, at_start: bool = False, not_found: bool = False, preamble: str = ""):
        super().__init__(message)
        self.message = message
        self.preamble = preamble  # printed before the error (e.g. "Unable to find image ... locally")
        self.at_start = at_start  # failed while starting the container (run frames these differently)
        self.not_found = not_found
