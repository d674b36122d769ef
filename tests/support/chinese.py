"""What counts as English prose on a page of the Chinese edition: the rule
the tests of the Chinese site share (tests/test_browser_zh.py reads the
pages in a browser, tests/test_i18n.py the built files and search index)."""

import re

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Names a Chinese technical text keeps in Latin letters: products, formats,
# standards, systems, and the book's own English words (the glossary's
# English column is left out by the tests, not named here).
NAMES = {
    "TensorFlow",
    "Keras",
    "NumPy",
    "Python",
    "SavedModel",
    "Saver",
    "Checkpoint",
    "Linux",
    "Windows",
    "Docker",
    "Grappler",
    "TFLite",
    "Lite",
    "Serving",
    "Jupyter",
    "GitHub",
    "Chromium",
    "Debian",
    "Google",
    "Cloud",
    "Storage",
    "protobuf",
    "dtype",
    "repr",
    "root",
    "zip",
    "pytest",
    "nbval",
    "pip",
    "Adam",
    "Dense",
    "Dropout",
    "Sequential",
    "English",
    "LiteRT",
    "safetensors",
    "ONNX",
    # TF's name for its mode of running operations at once (Eager 模式).
    "Eager",
    "fork",
    "fsync",
    "gRPC",
    "macOS",
    "oneDNN",
    "all-reduce",
    "id",
    "True",
    "False",
    "None",
}
# A token that is code, not a word: it holds a digit, an underscore, a dot or
# angle brackets, or capitals after its first letter (VarHandleOp, SIGKILL).
TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_.<>'-]*")
IDENTIFIER = re.compile(r"[0-9_.<>]|^.[^A-Z]*[A-Z]")
# English quoted inside Chinese text is a message the text cites, and English
# in full-width parentheses is the original of a Chinese term: not prose.
ASIDE = re.compile(r"“[^”]*”|\"[^\"]*\"|（[^（）\u3400-\u9fff]*(?=[）；，、])")
# Taiwan words a mainland reader stumbles on (the book is Simplified Chinese
# for the mainland): 列印 for 打印, 档案 for 文件, and the like.
TAIWAN = re.compile(
    r"列印|档案|程式|资料夹|预设|讯息|网路|软体|记忆体|伺服器|执行绪|原始码"
)


# Names of several words, kept in English as their owners spell them.
LONG_NAMES = re.compile(
    r"Open Neural Network Exchange|TensorFlow Serving|Google Cloud Storage"
)


def prose_words(text):
    """The words of `text` that are English prose: not code, not a name."""
    return [
        t.strip("'-.")
        for t in TOKEN.findall(LONG_NAMES.sub(" ", ASIDE.sub(" ", text)))
        if not IDENTIFIER.search(t.strip("'-."))
        and t not in NAMES
        and len(t) > 1
    ]


def english_prose(text):
    """What makes `text` English prose, or "" when it is not: text without
    Chinese that has an English word; Chinese text with two English words
    in a row; or a Taiwan word in place of the mainland one."""
    if m := TAIWAN.search(text):
        return m.group(0)
    if not HAN.search(text):
        return " ".join(prose_words(text))
    for part in re.split(
        r"[\u3400-\u9fff\uf900-\ufaff，。：；、（）“”！？]+",
        ASIDE.sub(" ", text),
    ):
        words = prose_words(part)
        if len(words) >= 2:
            return " ".join(words)
    return ""
