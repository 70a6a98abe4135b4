"""Constants shared by the proxy tests."""

WORKING_TIME = "2026-11-25T10:00:00+00:00"  # a Wednesday in term, 10:00 in London

SCHOOL_ACCOUNTS = """\
accounts:
  - id: wycliffe-facebook-page
    platform: facebook
    account_id: "1000123"
    label: Wycliffe CE Primary School Facebook page
    approved_by: Miss Newman
    approved_on: 2026-09-01
    expires_on: 2027-08-31
    actions: [browse, post, message]
    kind: profile
  - id: old-facebook-page
    platform: facebook
    account_id: "1000999"
    label: An old class page
    approved_by: Miss Newman
    approved_on: 2025-09-01
    expires_on: 2026-07-31
    actions: [browse, post]
    kind: profile
"""

BLOCK_TIKTOK_RULE = """\
  - id: block-tiktok
    description: TikTok is blocked on school systems.
    match: {platforms: [tiktok]}
    outcome: block
    clauses: ["7"]
"""
