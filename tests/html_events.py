"""HTML as a list of events, to compare markup written in Python with the template it
replaced: start tags (attributes sorted), end tags and text with its blank space collapsed."""

from html.parser import HTMLParser


class _Events(HTMLParser):
    """Start tags (attributes as a dict), end tags and text with its blank space collapsed."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.events = []

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag):
        self.events.append(("end", tag))

    def handle_data(self, data):
        text = " ".join(data.split())
        if text:
            self.events.append(("text", text))


def html_events(html: str) -> list:
    parser = _Events()
    parser.feed(str(html))
    parser.close()
    return parser.events
