"""Site profiles: the shipped examples load, and each kind of mistake names its file, key and problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from portalcrawl.profiles import (
    PACKAGED_SITES_DIR,
    ProfileError,
    SiteProfile,
    iter_profile_files,
    load_profile,
    load_profile_file,
)

GOOD = 'name = "某某市人民政府 工作动态"\nstart_urls = ["https://www.example.gov.cn/zwdt/"]\n'


def write_profile(directory: Path, slug: str, text: str) -> Path:
    path = directory / f"{slug}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_examples_cover_three_cms_families_and_are_not_crawled_by_all() -> None:
    profiles = [load_profile_file(path) for path in iter_profile_files(PACKAGED_SITES_DIR)]
    assert {profile.cms for profile in profiles} >= {"trs", "hanweb", "destoon"}
    assert not any(profile.enabled for profile in profiles)
    assert all(url.startswith(("http://", "https://")) for p in profiles for url in p.start_urls)


def test_minimal_profile_gets_defaults_and_domains(tmp_path: Path) -> None:
    profile = load_profile_file(write_profile(tmp_path, "city-news", GOOD))
    assert profile == SiteProfile(
        slug="city-news", name="某某市人民政府 工作动态", start_urls=("https://www.example.gov.cn/zwdt/",)
    )
    assert profile.domains == ("www.example.gov.cn",)
    assert profile.ports == {80, 443}
    assert profile.enabled


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (GOOD + "start_url = 'x'\n", "start_url", "unknown key"),
        ('start_urls = ["https://a.gov.cn/"]\n', "name", "missing"),
        ('name = "x"\n', "start_urls", "missing"),
        ('name = "x"\nstart_urls = []\n', "start_urls", "at least one URL"),
        ('name = "x"\nstart_urls = ["www.a.gov.cn/news/"]\n', "start_urls", "not an http(s) URL"),
        (GOOD + "enabled = 'no'\n", "enabled", "expected bool, got str"),
        (GOOD + "max_pages = 0\n", "max_pages", "positive integer"),
        (GOOD + "max_pages = true\n", "max_pages", "expected int"),
        (GOOD + "timezone = 'Asia/Beijing'\n", "timezone", "unknown time zone"),
        (GOOD + "article_url_pattern = 't(\\\\d+'\n", "article_url_pattern", "invalid regular expression"),
        (GOOD + "since = '2026/01/01'\n", "since", "expected a date YYYY-MM-DD"),
        (GOOD + "since = '2025-13-45'\n", "since", "expected a date YYYY-MM-DD, got '2025-13-45'"),
        (GOOD + "cms = 'wordpress'\n", "cms", "unknown CMS family 'wordpress'"),
        (GOOD + "[selectors]\narticle_links = 'ul.news >'\n", "selectors.article_links", "invalid CSS"),
        (
            GOOD + "[selectors]\nnext_page = 'xpath://a[@class=\"next\"'\n",
            "selectors.next_page",
            "invalid XPath",
        ),
        (GOOD + "[selectors]\nbody = 'xpath://x:div'\n", "selectors.body", "Undefined namespace prefix"),
        (GOOD + "[selectors]\ntitle = 'h1::text'\n", "selectors.title", "Pseudo-elements are not supported"),
        (GOOD + "[selectors]\nbody = '#zoom'\nbdoy = '.x'\n", "selectors.bdoy", "unknown key"),
        (GOOD + "[selectors]\ntitle = 1\n", "selectors.title", "expected str"),
        (GOOD + "allowed_ports = 8080\n", "allowed_ports", "expected list"),
        (GOOD + "allowed_ports = ['8080']\n", "allowed_ports", "expected int"),
        (GOOD + "allowed_ports = [0]\n", "allowed_ports", "ports are 1 to 65535"),
        (GOOD + "allowed_ports = [70000]\n", "allowed_ports", "ports are 1 to 65535"),
    ],
)
def test_mistakes_name_file_key_and_problem(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = write_profile(tmp_path, "site", text)
    with pytest.raises(ProfileError) as caught:
        load_profile_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: ")
    assert problem in message


def test_invalid_toml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_profile(tmp_path, "broken", 'name = "x\n')
    with pytest.raises(ProfileError, match=r"broken\.toml: invalid TOML: .*line 1"):
        load_profile_file(path)


def test_file_name_must_be_a_slug(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="file name: 'City News' is not a valid slug"):
        load_profile_file(write_profile(tmp_path, "City News", GOOD))


def test_unknown_site_lists_the_available_ones(tmp_path: Path) -> None:
    write_profile(tmp_path, "alpha", GOOD)
    write_profile(tmp_path, "beta", GOOD)
    with pytest.raises(ProfileError, match=r"unknown site 'gamma'.*available in .*: alpha, beta"):
        load_profile("gamma", tmp_path)
    assert load_profile("beta", tmp_path).slug == "beta"


def test_site_name_cannot_leave_the_sites_directory(tmp_path: Path) -> None:
    write_profile(tmp_path, "alpha", GOOD)
    with pytest.raises(ProfileError, match="not a valid site name"):
        load_profile("../alpha", tmp_path / "sub")


def test_ports_are_the_start_urls_web_ports_and_allowed_ports(tmp_path: Path) -> None:
    text = 'name = "x"\nstart_urls = ["http://a.gov.cn:8081/news/"]\nallowed_ports = [8443]\n'
    assert load_profile_file(write_profile(tmp_path, "site", text)).ports == {80, 443, 8081, 8443}
