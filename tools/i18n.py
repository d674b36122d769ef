"""The Chinese edition: message catalogs, the build, and Chinese notebooks.

    python tools/i18n.py extract   # English prose -> locale/zh_CN/LC_MESSAGES/**/*.po
    python tools/i18n.py build     # both editions: _build/html and _build/html/zh_CN
    python tools/i18n.py status    # untranslated and fuzzy messages, per page
    python tools/i18n.py check     # status, MyST syntax kept, and the term base followed

The English sources are the only sources. `extract` runs Sphinx's gettext
builder over them and merges the result into the committed catalogs with
sphinx-intl: a new or changed English message arrives there untranslated (or
fuzzy, when it resembles an old one) and the tests fail until a translator has
dealt with it. `build` renders the two editions side by side, one Sphinx run
per core. The Chinese edition's configuration is _config.yml with
locale/zh_CN/overrides.yml merged over it (jupyter-book's --config replaces
the file, it does not merge); its title and part captions are translated from
the root page's catalog. While Sphinx runs, the pages the Chinese edition
offers for download (the chapters' notebooks and the book's Markdown pages)
are translated with the same catalogs; they replace the English copies in
its _sources/ afterwards. The term base, locale/zh_CN/terms.yml, gives the
Chinese search its words and says which page teaches each term
(_ext/book_i18n.py).
"""

import argparse
import copy
import functools
import json
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LANG = "zh_CN"
LOCALE = ROOT / "locale"
CATALOGS = LOCALE / LANG / "LC_MESSAGES"
OVERRIDES = LOCALE / LANG / "overrides.yml"
TERMS = LOCALE / LANG / "terms.yml"
GLOSSARY = ROOT / "book" / "glossary.md"
BUILD = ROOT / "_build"
WORK = BUILD / "i18n"  # generated configs and the Chinese build's own tree
HTML = BUILD / "html"
BIN = Path(sys.executable).parent
# jupyter-book's command line, in a process set for one build (see the module).
JUPYTER_BOOK = [sys.executable, ROOT / "tools" / "jupyter_book_process.py"]

# One catalog per page (not one per folder), so a missing translation names
# its page; no source line numbers, which would change with every edit.
GETTEXT = {"gettext_compact": False, "gettext_location": False}


def rel(path):
    """`path` as the reader knows it: from the root when it is inside."""
    path = Path(path)
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


def fail(message):
    print(f"i18n: {message}", file=sys.stderr)
    sys.exit(2)


def merge(base, extra):
    """`extra` merged into a copy of `base`, dictionaries key by key."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_yaml(path):
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        fail(f"{rel(path)} is missing")
    except yaml.YAMLError as e:
        fail(f"{rel(path)} is not valid YAML: {e}")


def write_yaml(data, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def config(extra_sphinx=None, overrides=None):
    """_config.yml, with `overrides` merged over it and `extra_sphinx` added
    to its sphinx.config. jupyter-book resolves local extensions' folders
    from the configuration file's folder: those become absolute, as the file
    is written elsewhere; the other paths it names are taken from the root."""
    data = load_yaml(ROOT / "_config.yml")
    local = data.get("sphinx", {}).get("local_extensions") or {}
    for name, folder in local.items():
        local[name] = str(ROOT / folder)
    if overrides:
        data = merge(data, overrides)
    if extra_sphinx:
        data = merge(data, {"sphinx": {"config": extra_sphinx}})
    return data


def overrides():
    data = load_yaml(OVERRIDES)
    if not isinstance(data.get("config"), dict):
        fail(f"{rel(OVERRIDES)} needs a mapping `config`")
    return data


def translator(page):
    """A function that translates one message of `page`'s catalog, failing
    with a clear message when the catalog has no translation for it."""
    catalog = catalogs().get(page)
    if catalog is None:
        fail(f"no catalog for {page}: run `python tools/i18n.py extract`")

    def translate(text):
        message = catalog.get(text)
        if message is None or not message.string or message.fuzzy:
            fail(f"{page}: {text!r} is not translated")
        return message.string

    return translate


def chinese_toc(translate):
    """_toc.yml with its part captions translated. They are messages of the
    root page's catalog, but sphinx-external-toc sets them after Sphinx has
    applied the catalog, so the Chinese TOC has to carry them itself."""
    toc = load_yaml(ROOT / "_toc.yml")
    for part in toc.get("parts", []):
        if part.get("caption"):
            part["caption"] = translate(part["caption"])
    return toc


def run(cmd, what):
    result = subprocess.run(
        [str(c) for c in cmd], cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode:
        sys.stderr.write(result.stdout[-6000:] + result.stderr[-6000:])
        fail(f"{what} failed (exit {result.returncode})")
    return result


# --- extract -----------------------------------------------------------------


def templates(out):
    """Run Sphinx's gettext builder over the English sources into the folder
    `out`; return the folder of the .pot files, one per page."""
    out = Path(out)
    cfg = write_yaml(config(GETTEXT), out / "gettext.yml")
    run(
        [
            *JUPYTER_BOOK,
            "build",
            ROOT,
            "--config",
            cfg,
            "--builder",
            "custom",
            "--custom-builder",
            "gettext",
            "--path-output",
            out,
            "--warningiserror",
        ],
        "the gettext build",
    )
    return out / "_build" / "gettext"


def extract(args):
    with tempfile.TemporaryDirectory(prefix="gettext-") as tmp:
        pot = templates(tmp)
        # The project's templates' own labels: kept by hand in sphinx.po with
        # the theme labels that have no Chinese upstream (tests check them).
        (pot / "sphinx.pot").unlink(missing_ok=True)
        run(
            [
                BIN / "sphinx-intl",
                "update",
                "--pot-dir",
                pot,
                "--locale-dir",
                LOCALE,
                "--language",
                LANG,
                "--line-width",
                "0",
                "--no-obsolete",
            ],
            "sphinx-intl update",
        )
        pages = {
            p.relative_to(pot).with_suffix("") for p in pot.rglob("*.pot")
        }
    # A page that left the book leaves its catalog behind: remove it.
    for po in CATALOGS.rglob("*.po"):
        page = po.relative_to(CATALOGS).with_suffix("")
        if page not in pages and po.name != "sphinx.po":
            po.unlink()
            print(f"removed {rel(po)}: no such page any more")
    catalogs.cache_clear()
    status(args)


# --- status ------------------------------------------------------------------


@functools.cache
def catalogs():
    """{page: babel Catalog} for every page catalog (read once per run)."""
    out = {}
    for po in sorted(CATALOGS.rglob("*.po")):
        if po.name == "sphinx.po":
            continue
        with open(po, "rb") as f:
            out[str(po.relative_to(CATALOGS).with_suffix(""))] = read_po(
                f, locale=LANG
            )
    return out


def problems(catalog):
    """(untranslated, fuzzy) messages of one catalog."""
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            fuzzy.append(message.id)
        elif not message.string:
            untranslated.append(message.id)
    return untranslated, fuzzy


def status(args):
    total = bad = 0
    for page, catalog in catalogs().items():
        untranslated, fuzzy = problems(catalog)
        n = sum(1 for m in catalog if m.id)
        total += n
        bad += len(untranslated) + len(fuzzy)
        if untranslated or fuzzy:
            print(
                f"{page}: {len(untranslated)} untranslated, "
                f"{len(fuzzy)} fuzzy of {n}"
            )
    print(f"{total - bad} of {total} messages translated")
    return bad


# --- check -----------------------------------------------------------------

ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
CODE = re.compile(r"(?<![}`])`([^`]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def role_target(content):
    """The target of a role: `title <target>` or the whole content."""
    m = re.search(r"<([^<>]+)>\s*$", content)
    return m.group(1) if m else content.strip()


def syntax(text):
    """What a translation must keep of its message, as sorted lists: roles
    with their targets, inline code, link targets, and the markers of bold
    (`**`) and italics (a single `*`, what is left once bold is taken out)."""
    roles = sorted(
        (name, role_target(content)) for name, content in ROLE.findall(text)
    )
    rest = ROLE.sub("", text)
    return {
        "roles": roles,
        "inline code": sorted(CODE.findall(rest)),
        "link targets": sorted(LINK.findall(rest)),
        "bold markers": rest.count("**"),
        "italic markers": rest.replace("**", "").count("*"),
    }


def syntax_errors(msgid, msgstr):
    """How `msgstr` differs from `msgid` in its MyST syntax, one line each."""
    want, got = syntax(msgid), syntax(msgstr)
    return [
        f"{kind}: {want[kind]!r} became {got[kind]!r}"
        for kind in want
        if want[kind] != got[kind]
    ]


# --- the term base -----------------------------------------------------------


@functools.cache
def terms():
    """The terms and phrases of locale/zh_CN/terms.yml, their regular
    expressions compiled: one rendering per term, the renderings that are
    wrong. (A phrase is a calque or a mistranslation that was fixed, and is
    kept from coming back; the glossary and the search leave phrases out.)"""
    data = load_yaml(TERMS)
    if not isinstance(data.get("terms"), list):
        fail(f"{rel(TERMS)} needs a list `terms`")
    entries = [
        dict(e, phrase=False) for e in data["terms"] if isinstance(e, dict)
    ]
    entries += [
        dict(e, phrase=True)
        for e in data.get("phrases") or []
        if isinstance(e, dict)
    ]
    if len(entries) != len(data["terms"]) + len(data.get("phrases") or []):
        fail(f"{rel(TERMS)}: every term and phrase is a mapping")
    out = []
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or not entry.get("en")
            or not entry.get("zh")
        ):
            fail(f"{rel(TERMS)}: every term needs `en` and `zh`: {entry!r}")
        try:
            out.append(
                dict(
                    entry,
                    rejected_re=[
                        re.compile(r) for r in entry.get("rejected", [])
                    ],
                    require_re=re.compile(entry["require"], re.I)
                    if entry.get("require")
                    else None,
                )
            )
        except re.error as e:
            fail(f"{rel(TERMS)}: {entry['en']!r}: bad regular expression: {e}")
    return out


def prose(text):
    """`text` as a reader reads it: inline code, link targets and role
    targets taken out (a role's title stays), so that a term base rule never
    fires on code."""
    text = ROLE.sub(lambda m: re.sub(r"<[^<>]+>\s*$", "", m.group(2)), text)
    text = CODE.sub(" ", text)
    return LINK.sub("]", text)


def term_errors(msgid, msgstr):
    """How `msgstr` departs from the term base, one line each: a rejected
    rendering it uses, or a term the English uses that it does not render."""
    english, chinese = prose(msgid), prose(msgstr)
    errors = []
    for term in terms():
        kind = "phrase" if term["phrase"] else "term"
        for rejected in term["rejected_re"]:
            m = rejected.search(chinese)
            if m:
                errors.append(
                    f"{kind} {term['en']!r}: {m.group(0)!r} is a rejected "
                    f"rendering; write {term['zh']!r}"
                )
        required = term["require_re"]
        if required and required.search(english) and term["zh"] not in chinese:
            errors.append(
                f"{kind} {term['en']!r}: the English says "
                f"{required.search(english).group(0)!r}; the translation "
                f"should say {term['zh']!r}"
            )
    return errors


def glossary_terms():
    """The terms of the book's glossary, in its order, as book/glossary.md
    writes them: the unindented lines of its `glossary` directive."""
    text = GLOSSARY.read_text(encoding="utf-8")
    m = re.search(r"^```\{glossary\}\n(.*?)^```", text, re.M | re.S)
    if not m:
        fail(f"{rel(GLOSSARY)} has no glossary directive")
    return [
        line
        for line in m.group(1).splitlines()
        if line.strip() and not line.startswith((" ", "\t", ":"))
    ]


def glossary_errors():
    """Where the glossary's Chinese column departs from the term base: a
    term with no entry in terms.yml, or translated otherwise."""
    base = {
        t["en"]: t.get("glossary", t["zh"]) for t in terms() if not t["phrase"]
    }
    catalog = catalogs().get("book/glossary")
    errors = []
    for term in glossary_terms():
        message = catalog.get(term) if catalog else None
        got = message.string if message and not message.fuzzy else ""
        if term not in base:
            errors.append(f"{term!r} is not in {rel(TERMS)}")
        elif got != base[term]:
            errors.append(
                f"{term!r} is translated {got!r}; {rel(TERMS)} says "
                f"{base[term]!r}"
            )
    return errors


def search_words():
    """The Chinese words the search must know as words: every rendering of
    the term base, the glossary's Chinese column, and the other names
    readers search for. (Latin words are indexed as they are.)"""
    words = set()
    for term in (t for t in terms() if not t["phrase"]):
        candidates = [term["zh"], term.get("glossary", "")]
        candidates += term.get("also", [])
        for text in candidates:
            words.update(re.findall(r"[\u4e00-\u9fff]{2,}", text))
    catalog = catalogs().get("book/glossary")
    for term in glossary_terms():
        message = catalog.get(term) if catalog else None
        if message and message.string:
            words.update(re.findall(r"[\u4e00-\u9fff]{2,}", message.string))
    return sorted(words)


def taught():
    """{page: the Chinese names of the terms it teaches}, from the term
    base's `taught`: the Chinese edition indexes each name on its page."""
    out = {}
    for term in (t for t in terms() if t.get("taught")):
        page = term["taught"]
        if page not in catalogs():
            fail(
                f"{rel(TERMS)}: {term['en']!r} is taught in {page!r}, no such page"
            )
        names = [term["zh"], *term.get("also", [])]
        out.setdefault(page, set()).update(n.replace("`", "") for n in names)
    return {page: sorted(names) for page, names in sorted(out.items())}


def check(args):
    errors = 0
    for page, catalog in catalogs().items():
        untranslated, fuzzy = problems(catalog)
        for kind, ids in (("untranslated", untranslated), ("fuzzy", fuzzy)):
            for msgid in ids:
                errors += 1
                print(f"{page}: {kind}: {msgid[:100]!r}")
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                for problem in syntax_errors(
                    message.id, message.string
                ) + term_errors(message.id, message.string):
                    errors += 1
                    print(f"{page}: {message.id[:60]!r}: {problem}")
    for problem in glossary_errors():
        errors += 1
        print(f"book/glossary: {problem}")
    print(f"{errors} problems")
    return errors


# --- build -------------------------------------------------------------------


def build(args):
    ov = overrides()
    root = load_yaml(ROOT / "_toc.yml")["root"]
    translate = translator(root)
    en_cfg = ROOT / "_config.yml"
    title = translate(load_yaml(en_cfg)["title"])
    zh_cfg = write_yaml(
        config(
            dict(
                ov["config"],
                locale_dirs=[str(LOCALE)],
                book_search_words=search_words(),
                book_taught=taught(),
                **GETTEXT,
            ),
            {"title": title},
        ),
        WORK / "zh_CN" / "_config.yml",
    )
    zh_toc = write_yaml(chinese_toc(translate), WORK / "zh_CN" / "_toc.yml")
    zh_out = WORK / "zh_CN"
    common = ["--warningiserror", "--keep-going"]
    jobs = {
        "the English build": [*JUPYTER_BOOK, "build", ROOT, "--config", en_cfg]
        + common,
        "the Chinese build": [
            *JUPYTER_BOOK,
            "build",
            ROOT,
            "--config",
            zh_cfg,
            "--toc",
            zh_toc,
            "--path-output",
            zh_out,
        ]
        + common,
    }
    # Two independent Sphinx runs: one per core. The English one ends first
    # (no catalogs, no jieba); then this process translates the pages the
    # Chinese edition offers for download, on the core it freed, instead of
    # taking turns with both builds from the start.
    with ThreadPoolExecutor(2) as pool:
        results = {
            what: pool.submit(
                subprocess.run,
                [str(c) for c in cmd],
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            for what, cmd in jobs.items()
        }
        results["the English build"].result()
        downloads = chinese_downloads()
    failed = False
    for what, future in results.items():
        result = future.result()
        out = (result.stdout + result.stderr).strip().splitlines()
        if result.returncode:
            failed = True
            print("\n".join(out[-60:]), file=sys.stderr)
            print(f"i18n: {what} failed", file=sys.stderr)
    if failed:
        sys.exit(1)
    target = HTML / LANG
    shutil.rmtree(target, ignore_errors=True)
    # Moved, not copied (18 MB, 0.3 s at the end of the build): nothing reads
    # the Chinese build's own copy, and a later build writes it anew.
    shutil.move(zh_out / "_build" / "html", target)
    for source, text in downloads.items():
        (target / "_sources" / source).write_text(text, encoding="utf-8")
    print(f"English: {rel(HTML)}/index.html")
    print(f"Chinese: {rel(target)}/index.html")


def message_pattern(msgid):
    """A regex for `msgid` as the markdown source writes it: Sphinx joins a
    paragraph's lines with spaces, so any run of whitespace matches a space."""
    return re.compile(r"\s+".join(re.escape(p) for p in msgid.split()))


# What may stand before a message on its line: list markers, heading marks, a
# quote, a table's cell separator, a directive's name (its title follows).
BLOCK_START = re.compile(
    r"[ \t]*(?:(?:#{1,6}|[-*+]|\d+[.)]|>)[ \t]+)*"
    r"|.*\|[ \t]*"
    r"|[ \t]*(?:`{3,}|:{3,})\{[\w-]+\}[ \t]+"
)


def is_whole_block(source, start, end):
    """Whether source[start:end] is a whole paragraph, heading, list item,
    table cell or directive title, not a few words inside one ("file" must
    not be translated inside `tf.io.gfile`)."""
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", end)
    after = source[end : len(source) if line_end < 0 else line_end]
    return bool(BLOCK_START.fullmatch(source[line_start:start])) and (
        not after.strip() or after.lstrip().startswith("|")
    )


def translate_markdown(source, messages):
    """`source` with every message it holds as a whole block translated.
    `messages`: (msgid, msgstr) pairs, longest first."""
    for msgid, msgstr in messages:
        if msgid.split()[0] not in source:
            continue
        if msgid in source:  # the usual case: a paragraph on one line
            spans = [m.span() for m in re.finditer(re.escape(msgid), source)]
        else:
            spans = [m.span() for m in message_pattern(msgid).finditer(source)]
        for start, end in reversed(spans):
            if is_whole_block(source, start, end):
                source = source[:start] + msgstr + source[end:]
    return source


def translated_messages(catalog):
    return sorted(
        (
            (m.id, m.string)
            for m in catalog
            if m.id and m.string and not m.fuzzy and m.string != m.id
        ),
        key=lambda pair: -len(pair[0]),
    )


@functools.cache
def chinese_figures():
    """_ext/book_figures.py's chinese_notebook: a notebook's figures and
    their code in Chinese, as the Chinese site shows them."""
    sys.path.insert(0, str(ROOT / "_ext"))
    from book_figures import chinese_notebook

    return chinese_notebook


def translate_notebook(path, catalog):
    """The notebook at `path` with its markdown cells translated and its
    figures in Chinese (chinese_figures), as JSON text in nbformat's own
    layout (nothing else in it changes)."""
    nb = chinese_figures()(json.loads(path.read_text(encoding="utf-8")))
    messages = translated_messages(catalog)
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = cell["source"]
            text = "".join(source) if isinstance(source, list) else source
            cell["source"] = translate_markdown(text, messages).splitlines(
                keepends=True
            )
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def chinese_downloads():
    """{source file: its Chinese text} for every page that has a catalog: a
    chapter's notebook with Chinese markdown (as JSON text), a book page's
    Markdown translated block by block. The Chinese site serves these as the
    pages' downloads, in place of the English sources."""
    out = {}
    for page, catalog in catalogs().items():
        notebook, markdown = ROOT / f"{page}.ipynb", ROOT / f"{page}.md"
        if notebook.is_file():
            out[f"{page}.ipynb"] = translate_notebook(notebook, catalog)
        elif markdown.is_file():
            out[f"{page}.md"] = translate_markdown(
                markdown.read_text(encoding="utf-8"),
                translated_messages(catalog),
            )
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "extract", help="update the catalogs from the English prose"
    )
    sub.add_parser("build", help="build both editions")
    sub.add_parser("status", help="count untranslated and fuzzy messages")
    sub.add_parser("check", help="status, and the MyST syntax of each message")
    args = parser.parse_args(argv)
    if args.command in ("status", "check"):
        sys.exit(
            1 if {"status": status, "check": check}[args.command](args) else 0
        )
    {"extract": extract, "build": build}[args.command](args)


if __name__ == "__main__":
    main()
