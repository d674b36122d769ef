"""The table of contents, the files and the rendered site agree."""

import runpy
import sys
from html.parser import HTMLParser

import pytest
from support.book import ROOT, chapter_paths, toc_files


def test_every_chapter_is_in_the_toc():
    listed = set(toc_files())
    missing = [
        p.name for p in chapter_paths() if f"notebooks/{p.stem}" not in listed
    ]
    assert not missing, f"chapters missing from _toc.yml: {missing}"


def test_every_toc_entry_exists():
    absent = [
        f
        for f in toc_files()
        if not any(
            (ROOT / f).with_suffix(s).is_file() for s in (".md", ".ipynb")
        )
    ]
    assert not absent, f"_toc.yml names files that do not exist: {absent}"


def test_part_one_has_the_eleven_source_chapters_in_order():
    part_one = [
        f
        for f in toc_files()
        if f.startswith("notebooks/")
        and f[10:12].isdigit()
        and 1 <= int(f[10:12]) <= 11  # 00 is the primer, before Part I
    ]
    assert [int(f[10:12]) for f in part_one] == list(range(1, 12))


class _PageParser(HTMLParser):
    """Counts the code inputs and outputs MyST-NB renders for a notebook."""

    def __init__(self):
        super().__init__()
        self.inputs = self.outputs = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        self.inputs += "cell_input" in classes
        self.outputs += "cell_output" in classes


def test_site_has_one_page_per_toc_entry(built_site):
    missing = [
        f for f in toc_files() if not (built_site / f"{f}.html").is_file()
    ]
    assert not missing, f"no HTML page for {missing}"


@pytest.mark.parametrize("chapter", [p.stem for p in chapter_paths()])
def test_chapter_page_shows_code_and_outputs(built_site, chapter):
    parser = _PageParser()
    parser.feed(
        (built_site / "notebooks" / f"{chapter}.html").read_text(
            encoding="utf-8"
        )
    )
    assert parser.inputs >= 5, (
        f"{chapter}: only {parser.inputs} code cells rendered"
    )
    assert parser.outputs >= 5, (
        f"{chapter}: only {parser.outputs} outputs rendered"
    )


class _PageText(HTMLParser):
    """The text of a page, without its markup."""

    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def test_tfopen_source_stays_off_the_site(built_site):
    """Chapters 17 and 18 write tfopen's modules (107 KB, twice) in cells
    tagged `remove-cell`: the pages stay light and the search index holds
    what a reader sees; the notebook a reader downloads keeps them."""
    for chapter in ("17-files-you-did-not-write", "18-taking-a-model-onward"):
        notebook = (ROOT / "notebooks" / f"{chapter}.ipynb").read_text()
        assert notebook.count("%%writefile tfopen/") >= 7, chapter
        for site in (built_site, built_site / "zh_CN"):
            parser = _PageText()
            page = site / "notebooks" / f"{chapter}.html"
            parser.feed(page.read_text(encoding="utf-8"))
            assert "%%writefile tfopen/" not in "".join(parser.parts), page
            download = site / "_sources" / "notebooks" / f"{chapter}.ipynb"
            assert "%%writefile tfopen/" in download.read_text(), download


def test_the_set_up_page_names_the_pythons_the_tests_pass_on():
    versions = runpy.run_path(str(ROOT / "tools" / "supported_python.py"))
    supported = versions["SUPPORTED"]
    named = ", ".join(supported[:-1]) + " and " + supported[-1]
    page = (ROOT / "book" / "setup.md").read_text()
    assert f"`make test` passed in full on Python {named}." in page
    refusal = versions["refusal"]("3.10")
    assert refusal.startswith("Python 3.10 is not supported")
    assert "\n" not in refusal
    assert versions["refusal"](supported[0]) is None


@pytest.mark.skipif(sys.platform == "darwin", reason="macOS uses `tensorflow`")
def test_only_the_cpu_build_of_tensorflow_is_installed():
    """tf-keras requires the package `tensorflow`, the full build; beside
    tensorflow-cpu it would own the `tensorflow` module, and its CUDA probe
    writes C++ log lines into every chapter's first output. The Makefile
    installs tf-keras without its dependencies (requirements-nodeps.txt)."""
    from importlib import metadata

    with pytest.raises(metadata.PackageNotFoundError):
        metadata.distribution("tensorflow")
    assert metadata.version("tensorflow-cpu") == metadata.version("tf-keras")
