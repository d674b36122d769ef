"""Sphinx extension: the glossary of a translated edition as a bilingual table.

The translated term, the English term, the translated definition. The English
term is taken from the page before translation, so it needs no message. Every
{term} reference still lands on its entry. (The language switch in the sidebar
is a template, _templates/language-switch.html.)
"""

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

ENGLISH_TERM = "book_english_term"
# The table's column titles, per language of the edition.
HEADINGS = {"zh_CN": ("术语", "English", "释义")}


class RememberEnglishTerms(SphinxTransform):
    """Keep each glossary term's English text before the Locale transform
    (priority 20) replaces it with the translation."""

    default_priority = 19

    def apply(self):
        for glossary in self.document.findall(addnodes.glossary):
            for term in glossary.findall(nodes.term):
                term[ENGLISH_TERM] = [c.deepcopy() for c in term.children]


class GlossaryAsTable(SphinxTransform):
    """In a translated edition, turn each glossary into a three-column table.
    Each term's ids move to the text that replaces it, so every {term}
    reference still lands on its entry."""

    default_priority = 900

    def apply(self):
        headings = HEADINGS.get(self.config.language)
        if not headings:
            return
        for glossary in list(self.document.findall(addnodes.glossary)):
            rows = []
            for item in glossary.findall(nodes.definition_list_item):
                terms = [t for t in item.children if isinstance(t, nodes.term)]
                definition = next(
                    c for c in item.children if isinstance(c, nodes.definition)
                )
                translated = nodes.entry()
                english = nodes.entry()
                for term in terms:
                    line = nodes.paragraph()
                    line += nodes.inline(
                        "", "", *term.children, ids=term["ids"]
                    )
                    translated += line
                    english += nodes.paragraph(
                        "", "", *term.get(ENGLISH_TERM, [])
                    )
                meaning = nodes.entry("", *definition.children)
                rows.append(nodes.row("", translated, english, meaning))
            glossary.replace_self(self._table(headings, rows))

    @staticmethod
    def _table(headings, rows):
        group = nodes.tgroup(cols=3)
        for width in (18, 18, 64):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        head += nodes.row(
            "", *(nodes.entry("", nodes.paragraph(text=h)) for h in headings)
        )
        group += head
        group += nodes.tbody("", *rows)
        return nodes.table("", group, classes=["book-glossary"])


def setup(app):
    app.add_transform(RememberEnglishTerms)
    app.add_transform(GlossaryAsTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
