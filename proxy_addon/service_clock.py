"""The service's clock, as the proxy reads it at each bundle fetch (its `Date` header).

A proxy whose own clock is wrong would decide on the wrong day's schedule and time its events in
the future (the service defers events more than a day ahead). While the difference is large the
proxy decides and times its events by the service's clock, and says so; the sensor status still
carries the machine's own clock (`sent_at`), so the Sensors page and `doctor` keep saying that
it is wrong until it is set right, and stop saying so once it is.
"""

import logging
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

log = logging.getLogger("clausewarden")

CORRECT_FROM_SECONDS = 120
"""A smaller difference is left alone: `Date` has whole seconds, and nothing the policy decides
turns on two minutes."""


def measured_offset(date_header: str | None, sent: datetime, received: datetime) -> float | None:
    """Seconds to add to this machine's clock to read the service's, or None without a date."""
    if not date_header:
        return None
    try:
        service_time = parsedate_to_datetime(date_header)
    except (TypeError, ValueError):
        return None
    if service_time.tzinfo is None:
        return None
    midpoint = sent + (received - sent) / 2
    return (service_time - midpoint).total_seconds()


def correction(current: float, measured: float | None) -> float:
    """The offset to apply from now on (0 while the clocks agree), saying when that changes."""
    if measured is None:
        return current
    wanted = measured if abs(measured) >= CORRECT_FROM_SECONDS else 0.0
    if wanted and not current:
        ahead = "ahead of" if wanted < 0 else "behind"
        log.warning(
            "this machine's clock is %s the service's by %s: deciding and timing events by the "
            "service's clock until it is set right (timedatectl set-ntp true)",
            ahead,
            timedelta(seconds=round(abs(wanted))),
        )
    elif current and not wanted:
        log.warning("this machine's clock agrees with the service's again")
    return wanted
