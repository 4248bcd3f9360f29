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


# "<state>AAPFU0939F1Z" with its check character, worked by hand (GSTN's mod-36 rule: weights
# 1, 2, 1, 2, ...; each product counts as its quotient plus its remainder by 36; the check is the
# character 36 − total mod 36). Characters 3-14 total 205 whatever the state; a state "ab" adds
# a + (2b // 36 + 2b % 36): "09" adds 0 + 18 = 223, 223 mod 36 = 7, 36 − 7 = 29 = T.
STATE_GSTINS = {
    "00": "00AAPFU0939F1ZB",  # 205 + 0 + 0 = 205; 205 mod 36 = 25; 36 − 25 = 11 = B
    "01": "01AAPFU0939F1Z9",  # 205 + 0 + 2 = 207; 27; 9
    "09": "09AAPFU0939F1ZT",  # 205 + 0 + 18 = 223; 7; 29 = T
    "38": "38AAPFU0939F1ZS",  # 205 + 3 + 16 = 224; 8; 28 = S
    "39": "39AAPFU0939F1ZQ",  # 205 + 3 + 18 = 226; 10; 26 = Q
    "96": "96AAPFU0939F1ZQ",  # 205 + 9 + 12 = 226; 10; 26 = Q
    "97": "97AAPFU0939F1ZO",  # 205 + 9 + 14 = 228; 12; 24 = O
    "98": "98AAPFU0939F1ZM",  # 205 + 9 + 16 = 230; 14; 22 = M
    "99": "99AAPFU0939F1ZK",  # 205 + 9 + 18 = 232; 16; 20 = K
}


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
            validate_gstin(STATE_GSTINS[state])

    @pytest.mark.parametrize("state", ["01", "09", "38", "97", "99"])
    def test_every_state_code_in_use_is_accepted(self, state: str) -> None:
        gstin = STATE_GSTINS[state]
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
