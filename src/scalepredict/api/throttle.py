"""Failed API key attempts per client address, in a fixed window: past the allowance, the
address's keys that are not valid are answered 429 with Retry-After (the window's end) and
cost no database query. A valid key is never refused because of failures, its own address's
included: on loopback, or behind one proxy, every client shares one address, so throttling
by address alone would let a flood of guesses lock the real clients out.

Bounded: at most `ADDRESSES` addresses are remembered (the least recently failed are
forgotten first). Per worker: with N workers an address may fail N times the allowance."""

from __future__ import annotations

import logging
import math
import time

from cachetools import TTLCache

ADDRESSES = 10_000
log = logging.getLogger("scalepredict.api")


class FailedKeys:
    def __init__(self, allowed: int, window: float) -> None:
        self.allowed = allowed
        self.window = window
        # address -> [failures, window start]; updated in place, so an entry lives one window
        self._seen: TTLCache[str, list[float]] = TTLCache(ADDRESSES, window)
        self.refused = 0  # 429s answered in this worker

    def retry_after(self, address: str) -> int | None:
        """Seconds until the address may try unknown keys again; None when it may now."""
        entry = self._seen.get(address)
        if entry is None or entry[0] < self.allowed:
            return None
        return max(1, math.ceil(entry[1] + self.window - time.monotonic()))

    def attempt(self, address: str) -> None:
        """A key from the address is about to be looked up: counted now, so concurrent
        guesses cannot all start lookups before the first of them fails."""
        entry = self._seen.get(address)
        if entry is None:
            entry = self._seen[address] = [0, time.monotonic()]
        entry[0] += 1

    def settle(self, address: str, failed: bool) -> None:
        """The lookup's outcome: a valid key (or no answer) takes its attempt back; a failure
        is logged (the one that uses up the allowance says for how long the address is
        throttled)."""
        entry = self._seen.get(address)
        if entry is None:  # forgotten meanwhile (window over, or pushed out)
            return
        if not failed:
            entry[0] -= 1
            return
        log.warning(
            "invalid API key from %s (%d of %d failures allowed in %g s)",
            address,
            entry[0],
            self.allowed,
            self.window,
        )
        if entry[0] == self.allowed:
            log.warning(
                "%s used up its failed API key attempts: keys from it that are not valid get "
                "429 for %d s",
                address,
                max(1, math.ceil(entry[1] + self.window - time.monotonic())),
            )

    def refuse(self, address: str) -> None:
        """A 429 answered; counted, and logged once per 1,000 so a flood is seen, not echoed."""
        self.refused += 1
        if self.refused % 1000 == 1:
            log.warning(
                "throttled API key attempts: %d answered 429 so far (latest from %s)",
                self.refused,
                address,
            )
