"""POST /uploads.json then POST /posts.json with the short_url, from a Discourse client (issue 16)."""

from io import StringIO

import pytest
from django.core.management import call_command
from pydiscourse import DiscourseClient

from forum import uploads
from forum.models import Post, PostUpload, Upload
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory
from tests.forum.uploads_helpers import jpeg_with_gps, upload_storage  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("upload_storage")]


def new_key(username: str) -> str:
    out = StringIO()
    call_command("create_api_key", username, stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def test_pydiscourse_uploads_an_image_and_posts_it(live_server, tmp_path):
    OfficialFactory(username="harare_ict")
    topic = TopicFactory(category=CategoryFactory(slug="wifi"), title="Community wifi points that work")
    photo = tmp_path / "wifi point.jpg"
    photo.write_bytes(jpeg_with_gps(800, 600))
    client = DiscourseClient(live_server.url, api_username="harare_ict", api_key=new_key("harare_ict"))

    upload = client.upload_image(str(photo), "composer", True)
    assert upload["short_url"].startswith("upload://") and upload["extension"] == "jpg"
    assert (upload["width"], upload["height"]) == (800, 600)
    assert (upload["thumbnail_width"], upload["thumbnail_height"]) == (667, 500)

    post = client.create_post(f"Our wifi point:\n\n![wifi|800x600]({upload['short_url']})", topic_id=topic.pk)
    row = Upload.objects.get(pk=upload["id"])
    assert f'src="{uploads.thumbnail_url(row)}"' in post["cooked"]
    assert f'href="{upload["url"]}"' in post["cooked"]
    assert PostUpload.objects.filter(post_id=post["id"], upload=row).exists()
    assert Post.objects.get(pk=post["id"]).raw.endswith(f"({upload['short_url']})")
