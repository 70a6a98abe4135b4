"""The pure core of ClauseWarden: the policy, the catalogue, the schedule, the rules, decide().

Nothing in this package reads the clock or the network, and only `policy.configdir` (the one
read-only loader) reads files: callers pass text, times and addresses in, and get values out.
"""

from policy.decide import decide
from policy.engine import Policy
from policy.facts import Decision, Facts

__all__ = ["Decision", "Facts", "Policy", "decide"]
