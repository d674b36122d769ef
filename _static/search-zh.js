/* The Chinese edition's search page: a query typed without spaces, such as
   恢复检查点, is split into the words of the search index (恢复, 检查点) by
   longest match, as the index itself was cut into words (by jieba, with the
   book's terms as a dictionary; _ext/book_i18n.py). Sphinx's searchtools.js
   calls splitQuery once the index is loaded; Latin words pass through as
   Sphinx splits them. A term is an index entry of the page that teaches
   it, and of the glossary (anchor #term-...): the glossary's entry ranks
   just below, where the two would tie. Loaded on the Chinese search page
   only, before or after searchtools.js. */
(() => {
  const sphinxSplit = (query) =>
    query.split(/[^\p{Letter}\p{Number}_\p{Emoji_Presentation}]+/gu).filter((t) => t);
  const HAN = /(\p{Script=Han}+)/u;
  let known = null;
  let longest = 1;

  const indexWords = () => {
    if (known === null && typeof Search !== "undefined" && Search._index) {
      known = new Set([
        ...Object.keys(Search._index.terms),
        ...Object.keys(Search._index.titleterms),
      ]);
      for (const word of known) longest = Math.max(longest, word.length);
    }
    return known;
  };

  // Longest match from the left; a character that starts no word of the
  // index is dropped (single characters are not indexed), unless nothing
  // else is left, so that a query the index does not know finds nothing.
  const segment = (run, words) => {
    const out = [];
    let i = 0;
    while (i < run.length) {
      let j = Math.min(run.length, i + longest);
      while (j > i + 1 && !words.has(run.slice(i, j))) j -= 1;
      if (words.has(run.slice(i, j))) out.push(run.slice(i, j));
      i = j;
    }
    return out.length ? out : [run];
  };

  window.splitQuery = (query) => {
    const words = indexWords();
    return sphinxSplit(query).flatMap((term) =>
      words === null
        ? [term]
        : term
            .split(HAN)
            .filter((part) => part)
            .flatMap((part) => (HAN.test(part) ? segment(part, words) : [part])),
    );
  };
  // searchtools.js declares `var splitQuery` unless one exists; whichever
  // script runs first, the global is this one.
  splitQuery = window.splitQuery;

  const rankTaughtFirst = () => {
    if (typeof Scorer !== "undefined" && !Scorer.score)
      Scorer.score = (result) => result[4] - (result[2].startsWith("#term-") ? 1 : 0);
  };
  rankTaughtFirst();
  document.addEventListener("DOMContentLoaded", rankTaughtFirst);
})();
