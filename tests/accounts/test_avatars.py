"""Faces: letter avatars (cacheable SVG), uploads first, avatars beside authors and in topic lists."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts import avatars
from forum import services
from tests.factories import OfficialFactory, OrganisationFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_letter_avatar_is_a_cacheable_svg_with_no_script(client):
    person = UserFactory(display_name="Ana Ortiz <b>x</b>", username="ana.ortiz")
    response = client.get(avatars.letter_url(person, 48))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "immutable" in response["Cache-Control"] and "max-age=31536000" in response["Cache-Control"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    body = response.content.decode()
    assert "<script" not in body and "<b>" not in body and "href" not in body
    assert ">AO</text>" in body
    assert f'fill="{avatars.colour("ana.ortiz")}"' in body
    assert 'width="48"' in body


def test_colour_comes_from_the_name_and_the_version_follows_the_letters(client):
    person = UserFactory(display_name="Li Wei", username="liwei")
    assert avatars.colour("liwei") == avatars.colour("LiWei") in avatars.PALETTE
    old = avatars.version(person)
    person.display_name = "Wei Li"
    assert avatars.version(person) != old
    person.save()
    stale = client.get(f"/letter_avatar/liwei/48/{old}.svg")
    assert stale.status_code == 200 and ">WL</text>" in stale.content.decode()
    assert "immutable" not in stale["Cache-Control"]


def test_sizes_are_snapped_and_unknown_people_are_404(client):
    person = UserFactory()
    body = client.get(f"/letter_avatar/{person.username}/5000/x.svg").content.decode()
    assert 'width="240"' in body
    assert client.get("/letter_avatar/nobody-here/48/x.svg").status_code == 404
    person.is_active = False
    person.save()
    assert client.get(f"/letter_avatar/{person.username}/48/x.svg").status_code == 404


def test_avatar_template_is_discourse_shaped(settings, tmp_path):
    from io import BytesIO

    from PIL import Image

    person = UserFactory()
    template = avatars.template(person)
    assert template == f"/letter_avatar/{person.username}/{{size}}/{avatars.version(person)}.svg"
    settings.MEDIA_ROOT = str(tmp_path)
    buffer = BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    person.avatar.save("a.png", SimpleUploadedFile("a.png", buffer.getvalue()))
    assert avatars.template(person) == person.avatar.url == avatars.url(person, 24)


def test_posts_show_their_authors_face_and_lists_show_who_is_talking(client):
    city = OrganisationFactory(name="Ciudad de Buenos Aires", short_name="Buenos Aires")
    asker = OfficialFactory(organisation=city, display_name="Eva Paz")
    topic = TopicFactory(author=asker)
    repliers = [OfficialFactory() for _ in range(7)]
    for person in repliers:
        services.create_reply(person, topic, "A reply from another city")
    services.create_reply(asker, topic, "Thanks, everyone")
    topic.refresh_from_db()
    # The five latest repliers other than the asker, latest first.
    assert topic.recent_poster_ids == [person.pk for person in reversed(repliers[-5:])]

    page = client.get(topic.get_absolute_url()).content.decode()
    assert avatars.letter_url(asker, 32) in page

    listing = client.get("/latest").content.decode()
    row = listing[listing.index(topic.localized_title) :]
    assert "From Buenos Aires" in row
    faces = re.findall(r'<a class="poster[^"]*" href="/u/([^"]+)"', row)[:6]
    assert faces == [asker.username] + [person.username for person in reversed(repliers[-5:])]
    assert "Opening poster: Eva Paz, Buenos Aires" in row


def test_api_lists_name_the_posters_with_avatars(client):
    asker = OfficialFactory()
    topic = TopicFactory(author=asker)
    first, last = OfficialFactory(), OfficialFactory()
    services.create_reply(first, topic, "First reply here")
    services.create_reply(last, topic, "Last reply here")
    data = client.get("/latest.json").json()
    row = next(row for row in data["topic_list"]["topics"] if row["id"] == topic.pk)
    assert [poster["user_id"] for poster in row["posters"]] == [asker.pk, first.pk, last.pk]
    assert row["posters"][-1]["description"] == "Most Recent Poster"
    users = {user["id"]: user for user in data["users"]}
    assert {asker.pk, first.pk, last.pk} <= set(users)
    assert users[first.pk]["avatar_template"].startswith(f"/letter_avatar/{first.username}/{{size}}/")


def test_recount_after_surgery_recomputes_recent_posters():
    from forum.moderation import recount_topic

    topic = TopicFactory()
    replier = OfficialFactory()
    services.create_reply(replier, topic, "A reply to recount")
    type(topic).objects.filter(pk=topic.pk).update(recent_poster_ids=[])
    recount_topic(topic.pk)
    topic.refresh_from_db()
    assert topic.recent_poster_ids == [replier.pk]


def test_notifications_show_who_acted(client, django_capture_on_commit_callbacks):
    asker = OfficialFactory()
    topic = TopicFactory(author=asker)
    replier = OfficialFactory(display_name="Kofi Mensah")
    with django_capture_on_commit_callbacks(execute=True):
        services.create_reply(replier, topic, "An answer from Accra")
    client.force_login(asker)
    page = client.get("/notifications").content.decode()
    assert avatars.letter_url(replier, 24) in page


def test_a_letter_avatar_costs_one_query_whoever_asks(client, django_assert_num_queries):
    person = UserFactory(display_name="Ana Ortiz", username="ana.ortiz")
    client.get(avatars.letter_url(person, 48))  # warm caches (content types), as a running server has them
    with django_assert_num_queries(1):  # the person's name
        assert client.get(avatars.letter_url(person, 48)).status_code == 200
