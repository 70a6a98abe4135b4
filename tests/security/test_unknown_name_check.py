"""A login with a name that does not exist spends a real argon2 check (so its timing does not
tell which names exist): the stand-in hash it is checked against carries the hasher's own
parameters, which set what a check costs, and no password matches it."""

from argon2 import extract_parameters

from service import security


def test_the_stand_in_hash_has_the_parameters_of_a_real_one() -> None:
    real = security.hash_password("a-long-password")
    assert extract_parameters(security._DUMMY_HASH) == extract_parameters(real)
    assert not security._hasher.check_needs_rehash(security._DUMMY_HASH)


def test_no_password_matches_the_stand_in_hash() -> None:
    for password in ("", "a-long-password", security._DUMMY_HASH):
        assert security.verify_password(security._DUMMY_HASH, password) is False
