"""Optional header injection (all off by default): the table lives in policy.headers (pure), so
that the service's PAC file sends the same hosts to the proxy."""

from policy.headers import (
    GOOGLE_HOSTS,
    MICROSOFT_CONSUMER_HOST,
    MICROSOFT_LOGIN_HOSTS,
    YOUTUBE_HOSTS,
    Injections,
    injections,
)

__all__ = [
    "GOOGLE_HOSTS",
    "MICROSOFT_CONSUMER_HOST",
    "MICROSOFT_LOGIN_HOSTS",
    "YOUTUBE_HOSTS",
    "Injections",
    "injections",
]
