# What TF 1.15.5 printed when the book's fixture generator ran the source's
# steps on it; recorded beside the files it wrote, in fixtures/tf1.15/.


def tf1_transcript(step, *starts):
    """The lines TF 1.15.5 printed for one step of the source (the N of the
    transcript's heading "## step N (chapter M): ..."), without blank lines;
    only those beginning with one of `starts`, if any are given."""
    path = book_file("fixtures/tf1.15/transcript.txt")
    section = path.read_text().split(f"\n## step {step} ", 1)[1]
    lines = section.split("\n## ", 1)[0].splitlines()[1:]
    return [line for line in lines if line and line.startswith(starts or "")]
