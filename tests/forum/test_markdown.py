"""The shared renderer: Markdown in, sanitised HTML out; everything typed is shown inert."""

from html.parser import HTMLParser

import pytest

from core.markdown import mentioned_usernames, render

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x" onerror="alert(1)](https://example.org/a.png)',
    '[x](https://example.org/"onmouseover="alert(1))',
    '<a href="javascript:alert(1)">x</a>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "``<script>alert(1)</script>``",
    '[quote="x\\" onmouseover=\\"alert(1), post:1, topic:1"]hi[/quote]',
    '[quote="<script>alert(1)</script>, post:1, topic:1"]hi[/quote]',
    "<object data=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<body onload=alert(1)>",
    "<<script>alert(1);//<</script>",
    "[x](https://example.org) <a href=https://evil.example onclick=alert(1)>x</a>",
]


class ElementCollector(HTMLParser):
    """The real elements and attributes a browser would build (escaped text is not one)."""

    def __init__(self):
        super().__init__()
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


SAFE_TAGS = {"p", "a", "img", "code", "pre", "div", "blockquote", "em", "strong", "br", "table"}


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_xss_payloads_render_inert(payload):
    html = render(payload, mention_resolver=lambda names: names)
    collector = ElementCollector()
    collector.feed(html)
    for tag, attrs in collector.elements:
        assert tag in SAFE_TAGS, html
        for name, value in attrs.items():
            assert not name.startswith("on"), html
            assert name != "style", html
            if name in {"href", "src"}:
                assert value.split(":")[0].strip().lower() in {"https", "http", "mailto"} or value.startswith(
                    "/"
                )


def test_links_are_nofollow_ugc():
    html = render("[Metropolis](https://www.metropolis.org)")
    assert 'href="https://www.metropolis.org"' in html
    assert 'rel="nofollow ugc"' in html


def test_images_only_from_this_site_or_https():
    html = render("![a](https://cdn.example/a.png) ![b](http://tracker.example/pixel.gif) ![c](/media/c.png)")
    assert 'src="https://cdn.example/a.png"' in html
    assert 'src="/media/c.png"' in html
    assert "tracker.example" not in html


def test_protocol_relative_images_are_dropped():
    assert "evil.example" not in render("![x](//evil.example/p.gif)")


def test_markdown_basics_still_work():
    html = render("# Title\n\n**bold** and *em*\n\n- one\n- two\n\n`code`\n\n> quoted")
    for fragment in (
        "<h1>Title</h1>",
        "<strong>bold</strong>",
        "<em>em</em>",
        "<li>one</li>",
        "<code>code</code>",
    ):
        assert fragment in html
    assert "<blockquote>" in html


def test_mentions_link_only_existing_people():
    html = render(
        "Thanks @ana and @ghost, mail me at ana@city.example", mention_resolver=lambda n: {"ana"} & n
    )
    assert '<a href="/u/ana" class="mention"' in html
    assert "@ghost" in html and "/u/ghost" not in html
    assert "/u/city" not in html


def test_mentions_are_not_linked_inside_code_or_links():
    html = render("`@ana` and [@ana](https://example.org)", mention_resolver=lambda n: n)
    assert "/u/ana" not in html


def test_quote_links_back_to_its_source_post():
    html = render('[quote="ana, post:3, topic:42"]\nOur city **did** it.\n[/quote]\n\nWe too.')
    assert '<div class="quote"' in html
    assert 'href="/t/topic/42/3"' in html
    assert "<strong>did</strong>" in html
    assert "<p>We too.</p>" in html


def test_quote_urls_can_be_built_by_the_caller():
    html = render('[quote="ana, post:3, topic:42"]x[/quote]', quote_url=lambda t, p: f"/t/q/{t}/{p}")
    assert 'href="/t/q/42/3"' in html


def test_mentioned_usernames():
    assert mentioned_usernames("hi @ana, @bo_b! mail x@y.z") == {"ana", "bo_b"}
