"""The digest ("who said what"): each question, then its contributions as quotations with the
author's name, position and organisation, as a printable page or as Markdown.

Read-only; a fixed number of queries per topic (the events app calls topic_sections for all its
linked questions).
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .models import Highlight, Post, PostState, Topic

MAX_CONTRIBUTIONS = 500


@dataclass
class Contribution:
    post: Post
    name: str
    position: str
    organisation: str
    html: str
    text: str


@dataclass
class Section:
    topic: Topic
    question: str
    choice: str  # "highlighted" or "all"
    contributions: list[Contribution] = field(default_factory=list)


def _contribution(post: Post) -> Contribution:
    author = post.author
    organisation = author.organisation.display_name if author.organisation_id else ""
    return Contribution(
        post=post,
        name=author.name,
        position=author.position,
        organisation=organisation,
        html=post.localized_cooked,
        text=post.raw,
    )


def topic_section(topic: Topic, choice: str | None = None) -> Section:
    """One question and its contributions: highlighted ones by default when there are any."""
    highlighted = list(
        Highlight.objects.filter(topic=topic, post__state=PostState.VISIBLE)
        .select_related("post__author__organisation")
        .order_by("post__number")[:MAX_CONTRIBUTIONS]
    )
    if choice not in ("highlighted", "all"):
        choice = "highlighted" if highlighted else "all"
    if choice == "highlighted":
        posts = [h.post for h in highlighted]
    else:
        posts = list(
            Post.objects.filter(topic=topic, state=PostState.VISIBLE, number__gt=1)
            .select_related("author__organisation")
            .order_by("number")[:MAX_CONTRIBUTIONS]
        )
    for post in posts:
        post.topic = topic
    return Section(
        topic=topic,
        question=topic.localized_title,
        choice=choice,
        contributions=[_contribution(post) for post in posts],
    )


def topic_sections(topics: list[Topic], choice: str | None = None) -> list[Section]:
    return [topic_section(topic, choice) for topic in topics]


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip().splitlines())


def as_markdown(context: dict) -> str:
    """The digest as Markdown: '# title', then '## question' and quoted contributions."""
    lines = [f"# {context['title']}", "", f"*{_('Who said what')}*", ""]
    for section in context["sections"]:
        lines += [f"## {section.question}", ""]
        if not section.contributions:
            lines += [f"_{_('No contributions yet.')}_", ""]
        for item in section.contributions:
            credit = ", ".join(part for part in (item.position, item.organisation) if part)
            lines += [f"**{item.name}**" + (f" — {credit}" if credit else ""), "", _quote(item.text), ""]
    return "\n".join(lines).rstrip() + "\n"
