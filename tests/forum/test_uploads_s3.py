"""The uploads on S3-compatible storage (django-storages), against a real S3 endpoint over HTTP:
moto's server (the CI cannot install MinIO from a package registry; docker-compose.yml runs MinIO)."""

import json
import os
import subprocess
import sys

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from forum import uploads
from forum.models import Upload
from tests.factories import OfficialFactory, TopicFactory

from .uploads_helpers import PDF, jpeg_with_gps

pytestmark = pytest.mark.django_db

BUCKET = "forum-uploads"


@pytest.fixture(scope="module")
def s3_endpoint():
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_storage(settings, s3_endpoint):
    import boto3

    options = {
        "bucket_name": BUCKET,
        "endpoint_url": s3_endpoint,
        "region_name": "us-east-1",
        "access_key": "test",
        "secret_key": "test",
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": 300,
        "signature_version": "s3v4",
        "file_overwrite": True,
    }
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGES = {
        **settings.STORAGES,
        "uploads": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_files_go_to_the_bucket_and_are_served_through_the_permission_check(
    s3_storage, settings, django_capture_on_commit_callbacks
):
    author = OfficialFactory()
    response = signed_in(author).post(
        "/uploads.json", {"file": SimpleUploadedFile("wifi.jpg", jpeg_with_gps(1400, 1000))}
    )
    assert response.status_code == 200, response.content
    photo = Upload.objects.get(pk=response.json()["id"])
    report = uploads.create_upload(author, SimpleUploadedFile("strategy.pdf", PDF))
    assert keys(s3_storage) == {photo.path, photo.thumbnail_path, report.path}
    stored = s3_storage.get_object(Bucket=BUCKET, Key=photo.path)["Body"].read()
    assert b"PhoneMaker" not in stored

    TopicFactory(author=author, raw=f"{uploads.markdown_for(photo)}\n\n{uploads.markdown_for(report)}")
    reader = Client()
    streamed = reader.get(uploads.url(report))
    assert streamed.status_code == 200 and b"".join(streamed.streaming_content) == PDF
    assert streamed["Content-Disposition"] == 'attachment; filename="strategy.pdf"'

    # Or a redirect to a five-minute signed address of the bucket, still after the check.
    settings.UPLOADS_REDIRECT_TO_STORAGE = True
    redirect = reader.get(uploads.url(report))
    assert redirect.status_code == 302
    assert redirect["Location"].startswith(
        f"{settings.STORAGES['uploads']['OPTIONS']['endpoint_url']}/{BUCKET}/"
    )
    assert (
        "X-Amz-Signature=" in redirect["Location"] and "response-content-disposition=" in redirect["Location"]
    )
    import urllib.request

    with urllib.request.urlopen(redirect["Location"]) as answer:  # noqa: S310 - the test's own server
        assert answer.read() == PDF
        assert answer.headers["Content-Disposition"] == 'attachment; filename="strategy.pdf"'

    with django_capture_on_commit_callbacks(execute=True):
        uploads.remove_upload(report, by=OfficialFactory(is_moderator=True))
    assert report.path not in keys(s3_storage)


def test_storage_url_configures_s3():
    env = {
        **os.environ,
        "STORAGE_URL": "s3://forum-files/uploads?endpoint_url=http://minio:9000&region_name=eu-west-1",
        "AWS_ACCESS_KEY_ID": "forum",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    script = "import json; from django.conf import settings; print(json.dumps(settings.STORAGES['uploads']))"
    output = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    config = json.loads(output.stdout)
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    options = config["OPTIONS"]
    assert (options["bucket_name"], options["location"], options["endpoint_url"], options["region_name"]) == (
        "forum-files",
        "uploads",
        "http://minio:9000",
        "eu-west-1",
    )
    assert (options["access_key"], options["secret_key"], options["default_acl"]) == (
        "forum",
        "secret",
        "private",
    )
