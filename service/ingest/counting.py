"""One enrolled laptop is at most one device in any k count per day (issue 16, section 1).

A laptop's credential could claim any pseudonyms in its batches; so the service replaces each
event's device with a daily tag of the credential: HMAC of the credential's id and the event's day
under a counting key the service holds in memory for the day of arrival only. The key is made at
the first batch of a day, dropped at midnight (the school's time zone) and never written anywhere
(not to the database, so never to a backup): the tags of one laptop on two days cannot be linked,
and no tag maps back to a credential once its day is over.

An event that arrives after its day's midnight (a laptop offline overnight) is tagged under the
key of the day it arrives: its credential may so count once more in that past day, once per later
day its events arrive on; the outbox normally ships within minutes."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date


@dataclass
class CountingKeys:
    """The counting key of today only (a new one each day, the old one forgotten)."""

    _day: date | None = None
    _key: bytes = field(default=b"", repr=False)

    def tag(self, credential: int, event_day: str, today: date) -> str:
        """The device the service stores for `credential`'s events of `event_day` (32 hex)."""
        if self._day != today:
            self._day, self._key = today, secrets.token_bytes(32)  # yesterday's key is gone
        message = f"{credential}\n{event_day}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]
