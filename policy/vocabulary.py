"""The closed vocabularies shared by the core, the events, the bundle and the extension."""

from typing import Literal, get_args

Category = Literal[
    "social_network", "professional_network", "messaging", "video", "blog", "wiki", "forum"
]
Action = Literal["browse", "post", "message", "reference", "connect", "subresource"]
EndpointAction = Literal["post", "message", "reference", "connect"]
Outcome = Literal["allow", "log", "warn", "block"]
AccountKind = Literal["school", "personal", "unknown"]
PrivacyLevel = Literal["daily", "stable", "none"]

CATEGORIES: tuple[str, ...] = get_args(Category)
ACTIONS: tuple[str, ...] = get_args(Action)
OUTCOMES: tuple[str, ...] = get_args(Outcome)
ACCOUNT_KINDS: tuple[str, ...] = get_args(AccountKind)
PRIVACY_LEVELS: tuple[str, ...] = get_args(PrivacyLevel)

CATEGORY_LABELS = {
    "social_network": "a social network",
    "professional_network": "a professional network",
    "messaging": "a messaging service",
    "video": "a video platform",
    "blog": "a blogging platform",
    "wiki": "a wiki",
    "forum": "a forum",
}
ACTION_LABELS = {
    "browse": "opening",
    "post": "posting, commenting or reacting on",
    "message": "sending a message on",
    "reference": "writing a recommendation or endorsement on",
    "connect": "sending a friend request, follow or invitation on",
    "subresource": "content embedded from",
}
