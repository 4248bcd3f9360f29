from __future__ import annotations

import pytest

from odop_sync.catalog.identifiers import (
    gstin_check_char,
    validate_gstin,
    validate_pehchan,
    validate_udyam,
)

# Published as valid examples by public GSTIN validators; the check characters match.
KNOWN_VALID = ["27AAPFU0939F1ZV", "07AAGFF2194N1Z1", "33AACCM9093R1ZP", "09AAACH7409R1ZZ"]
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _with_check(first14: str) -> str:
    return first14 + gstin_check_char(first14)


class TestGstinCheckChar:
    @pytest.mark.parametrize("gstin", KNOWN_VALID)
    def test_it_reproduces_the_check_character_of_real_gstins(self, gstin: str) -> None:
        assert gstin_check_char(gstin[:14]) == gstin[14]

    def test_it_reads_lower_case_like_upper_case(self) -> None:
        assert gstin_check_char("27aapfu0939f1z") == "V"

    @pytest.mark.parametrize("bad", ["27AAPFU0939F1", "27AAPFU0939F1Z1", "27AAPFU0939F1Z!"])
    def test_it_refuses_anything_but_14_letters_and_digits(self, bad: str) -> None:
        with pytest.raises(ValueError):
            gstin_check_char(bad)


class TestValidateGstin:
    @pytest.mark.parametrize("gstin", KNOWN_VALID)
    def test_a_valid_gstin_is_accepted(self, gstin: str) -> None:
        assert validate_gstin(gstin) == gstin

    def test_it_is_normalised_to_upper_case_without_spaces_around(self) -> None:
        assert validate_gstin("  27aapfu0939f1zv ") == "27AAPFU0939F1ZV"

    def test_a_check_character_off_by_one_is_refused_as_a_typing_mistake(self) -> None:
        good = "27AAPFU0939F1ZV"
        typo = good[:14] + ALPHABET[(ALPHABET.index(good[14]) + 1) % 36]
        with pytest.raises(ValueError, match="check character"):
            validate_gstin(typo)

    def test_a_swapped_pair_of_pan_digits_is_caught_by_the_check_character(self) -> None:
        with pytest.raises(ValueError, match="check character"):
            validate_gstin("27AAPFU9039F1ZV")

    @pytest.mark.parametrize("state", ["00", "39", "96", "98"])
    def test_a_state_code_that_does_not_exist_is_refused(self, state: str) -> None:
        with pytest.raises(ValueError, match="state code"):
            validate_gstin(_with_check(state + "AAPFU0939F1Z"))

    @pytest.mark.parametrize("state", ["01", "09", "38", "97", "99"])
    def test_every_state_code_in_use_is_accepted(self, state: str) -> None:
        gstin = _with_check(state + "AAPFU0939F1Z")
        assert validate_gstin(gstin) == gstin

    @pytest.mark.parametrize(
        "bad",
        [
            "27AAPFU0939F1Z",  # 14 characters
            "27AAPF00939F1ZV",  # PAN with a digit among its 5 letters
            "27AAPFU0939F1YV",  # 14th character must be Z
            "27AAPFU0939F0ZV",  # entity number 0 is never issued
        ],
    )
    def test_a_malformed_gstin_is_refused_with_the_expected_shape(self, bad: str) -> None:
        with pytest.raises(ValueError, match="15 characters"):
            validate_gstin(bad)


class TestValidateUdyam:
    def test_a_udyam_number_is_normalised_to_upper_case(self) -> None:
        assert validate_udyam(" udyam-up-43-0012345 ") == "UDYAM-UP-43-0012345"

    @pytest.mark.parametrize(
        "bad", ["UDYAM-UP-43-001234", "UDYAM-U1-43-0012345", "UDYOG-UP-43-0012345", "UP430012345"]
    )
    def test_anything_else_is_refused_with_an_example(self, bad: str) -> None:
        with pytest.raises(ValueError, match="UDYAM-UP-43-0012345"):
            validate_udyam(bad)


class TestValidatePehchan:
    @pytest.mark.parametrize("card", ["UP/LKO/2019/004512", "ab12345", "123456"])
    def test_card_numbers_of_letters_digits_and_slashes_are_accepted(self, card: str) -> None:
        assert validate_pehchan(card) == card.upper()

    @pytest.mark.parametrize("bad", ["12345", "A" * 21, "UP LKO 2019", "/UP123"])
    def test_too_short_too_long_or_odd_characters_are_refused(self, bad: str) -> None:
        with pytest.raises(ValueError, match="Pehchan"):
            validate_pehchan(bad)
