"""Held acts: a warned or blocked act (a post, message, reference, friend request) that the proxy
did not send, kept in memory until the member of staff has seen its warning and answered it, and
the acts Continue opened (each kind of act on its own: Continue on a held message opens messages,
never friend requests).

Kept per device (its tag: an HMAC of the client address, never the address itself) and
platform, in this process's memory only, short-lived and bounded: the held act's Decision (the
platform, the kind of act, the clauses; never the page's address, the request's body or anything
typed). A restarted proxy has none: a held act's warning that was not yet shown is lost, and the
next act is held again.
"""

import secrets
from collections import OrderedDict
from dataclasses import dataclass

from policy.facts import Decision
from policy.respond import HELD_NOTICE_SECONDS
from policy.warning import ACTS

MAX_ENTRIES = 10_000
"""At most this many held acts and as many act allowances (the oldest go first)."""


@dataclass(slots=True)
class HeldAct:
    id: str  # random; the warning page's forms carry it to Continue and Go back
    tag: str
    platform: str
    decision: Decision
    held_at: float
    shown: bool = False


class HeldActs:
    def __init__(self, answer_seconds: float, max_entries: int = MAX_ENTRIES) -> None:
        self.answer_seconds = answer_seconds  # how long a shown warning can still be answered
        self.max_entries = max_entries
        self._acts: OrderedDict[str, HeldAct] = OrderedDict()  # by id, oldest first
        self._latest: dict[tuple[str, str], str] = {}  # (tag, platform) -> id of the latest
        self._allowed: OrderedDict[tuple[str, str, str], float] = OrderedDict()  # -> until

    def hold(self, tag: str, platform: str, decision: Decision, now: float) -> HeldAct:
        """Keep a held act; it replaces an earlier one of this device and platform not yet shown."""
        self._tidy(now)
        earlier = self._acts.get(self._latest.get((tag, platform), ""))
        if earlier is not None and not earlier.shown:
            del self._acts[earlier.id]
        act = HeldAct(secrets.token_urlsafe(12), tag, platform, decision, now)
        self._acts[act.id] = act
        self._latest[(tag, platform)] = act.id
        while len(self._acts) > self.max_entries:
            _, oldest = self._acts.popitem(last=False)
            if self._latest.get((oldest.tag, oldest.platform)) == oldest.id:
                del self._latest[(oldest.tag, oldest.platform)]
        return act

    def pending(self, tag: str, platform: str, now: float) -> HeldAct | None:
        """The latest held act of this device and platform whose warning it has not seen yet
        (policy.respond says whether it is still shown; `show` marks it shown)."""
        self._tidy(now)
        ident = self._latest.get((tag, platform))
        act = self._acts.get(ident) if ident is not None else None
        return None if act is None or act.shown else act

    @staticmethod
    def show(act: HeldAct) -> None:
        """Each held act's warning is shown once."""
        act.shown = True

    def answered(self, ident: str, tag: str, platform: str, now: float) -> HeldAct | None:
        """The shown held act `ident` of this device and platform, taken away: it is answered
        once (Continue or Go back), so it has one follow-up event at most."""
        self._tidy(now)
        act = self._acts.get(ident)
        if act is None or not act.shown or act.tag != tag or act.platform != platform:
            return None
        del self._acts[ident]
        if self._latest.get((tag, platform)) == ident:
            del self._latest[(tag, platform)]
        return act

    def hold_again(self, act: HeldAct) -> None:
        """Put back a held act taken by `answered` whose answer was refused."""
        self._acts[act.id] = act
        self._latest.setdefault((act.tag, act.platform), act.id)

    def allow_acts(self, tag: str, platform: str, act: str, until: float) -> None:
        """Continue opened this kind of act on this platform from this device until `until`."""
        key = (tag, platform, act)
        self._allowed[key] = max(until, self._allowed.get(key, until))
        self._allowed.move_to_end(key)
        while len(self._allowed) > self.max_entries:
            self._allowed.popitem(last=False)

    def acts_allowed_until(self, tag: str, platform: str, now: float) -> dict[str, float]:
        """Until when Continue opened each kind of act on this platform from this device (the
        kinds never opened, or no longer, are left out)."""
        out: dict[str, float] = {}
        for act in ACTS:
            key = (tag, platform, act)
            until = self._allowed.get(key)
            if until is None:
                continue
            if now >= until:
                del self._allowed[key]
            else:
                out[act] = until
        return out

    def __len__(self) -> int:
        return len(self._acts)

    def _tidy(self, now: float) -> None:
        """Forget held acts past the time they can be shown or answered (oldest first)."""
        while self._acts:
            ident, act = next(iter(self._acts.items()))
            if now - act.held_at <= HELD_NOTICE_SECONDS + self.answer_seconds:
                break
            del self._acts[ident]
            if self._latest.get((act.tag, act.platform)) == ident:
                del self._latest[(act.tag, act.platform)]
