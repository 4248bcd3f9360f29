from __future__ import annotations

import re
import tomllib

import pytest

from odop_sync.catalog.districts import District, DistrictIndex, district_index, district_name
from odop_sync.config import config_file


@pytest.fixture(scope="module")
def index() -> DistrictIndex:
    return district_index()


class TestDistrictData:
    def test_every_one_of_the_75_districts_of_uttar_pradesh_is_there(
        self, index: DistrictIndex
    ) -> None:
        assert len([d for d in index.districts if d.state == "Uttar Pradesh"]) == 75

    def test_codes_are_unique_and_read_state_dash_slug(self, index: DistrictIndex) -> None:
        codes = [d.code for d in index.districts]
        assert len(codes) == len(set(codes))
        assert all(re.fullmatch(r"[A-Z]{2}-[a-z0-9]+(-[a-z0-9]+)*", c) for c in codes)

    def test_every_district_has_a_hindi_name_in_devanagari(self, index: DistrictIndex) -> None:
        assert all(re.search(r"[\u0904-\u0939]", d.name_hi) for d in index.districts)

    def test_no_name_or_alias_points_to_two_districts(self, index: DistrictIndex) -> None:
        for d in index.districts:
            for name in (d.name, d.name_hi, *d.aliases):
                assert index.lookup(name) == d, name

    def test_the_craft_districts_of_other_states_are_there(self, index: DistrictIndex) -> None:
        for code in ("RJ-jaipur", "RJ-barmer", "GJ-kutch", "TN-kanchipuram", "BR-madhubani"):
            assert index.by_code(code) is not None

    def test_lgd_codes_are_only_given_as_digits(self) -> None:
        with config_file("districts.toml").open("rb") as fh:
            data = tomllib.load(fh)
        assert all(str(d["lgd_code"]).isdigit() for d in data["district"] if "lgd_code" in d)


class TestDistrictLookup:
    @pytest.mark.parametrize(
        ("text", "code"),
        [
            ("Lucknow", "UP-lucknow"),
            ("Bhadohi", "UP-bhadohi"),
            ("Sant Ravidas Nagar", "UP-bhadohi"),
            ("SANT RAVIDAS NAGAR (BHADOHI)", "UP-bhadohi"),
            ("  sant   ravidas-nagar ", "UP-bhadohi"),
            ("Allahabad", "UP-prayagraj"),
            ("Faizabad", "UP-ayodhya"),
            ("Banaras", "UP-varanasi"),
            ("Muzaffar Nagar", "UP-muzaffarnagar"),
            ("Noida", "UP-gautam-buddha-nagar"),
            ("Sanganer", "RJ-jaipur"),
            ("Bagru", "RJ-jaipur"),
            ("Kachchh", "GJ-kutch"),
            ("Mysore", "KA-mysuru"),
            ("UP-lucknow", "UP-lucknow"),
        ],
    )
    def test_names_aliases_and_codes_resolve_to_the_canonical_district(
        self, index: DistrictIndex, text: str, code: str
    ) -> None:
        found = index.lookup(text)
        assert found is not None
        assert found.code == code

    @pytest.mark.parametrize(
        ("text", "code"),
        [("लखनऊ", "UP-lucknow"), ("भदोही", "UP-bhadohi"), ("इलाहाबाद", "UP-prayagraj")],
    )
    def test_hindi_names_resolve(self, index: DistrictIndex, text: str, code: str) -> None:
        found = index.lookup(text)
        assert found is not None
        assert found.code == code

    def test_hindi_typed_with_or_without_the_nukta_is_the_same_district(
        self, index: DistrictIndex
    ) -> None:
        with_nukta, without = index.lookup("आज़मगढ़"), index.lookup("आजमगढ़")
        assert with_nukta is not None
        assert with_nukta == without
        assert with_nukta.code == "UP-azamgarh"

    def test_an_unknown_or_empty_name_is_not_found(self, index: DistrictIndex) -> None:
        assert index.lookup("Atlantis") is None
        assert index.lookup("  ") is None

    def test_an_lgd_code_resolves_when_the_data_has_one(self) -> None:
        index = DistrictIndex(
            [District("UP-test", "Testpur", "टेस्टपुर", "Uttar Pradesh", lgd_code="999")]
        )
        found = index.lookup(" 999 ")
        assert found is not None
        assert found.code == "UP-test"

    def test_suggestions_name_the_close_matches_of_a_misspelling(
        self, index: DistrictIndex
    ) -> None:
        assert "Lucknow" in index.suggest("Lukhnow")
        assert "Varanasi" in index.suggest("varansi")
        assert index.suggest("Qwxyz") == []

    def test_district_name_gives_the_english_name_of_a_code(self) -> None:
        assert district_name("UP-bhadohi") == "Bhadohi"
        assert district_name("XX-nowhere") is None
        assert district_name(None) is None
