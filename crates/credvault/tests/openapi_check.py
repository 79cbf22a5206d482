#!/usr/bin/env python3
"""Checks credvault's OpenAPI document and real responses against it.

Usage: openapi_check.py DOCUMENT.json SAMPLES.json

DOCUMENT.json is the document as served at /api/v1/openapi.json. SAMPLES.json is a JSON array of
real responses, each {"method": "POST", "path_template": "/api/v1/teams", "status": 201,
"body": {...}}. A body of null stands for an empty body: right only for a status documented
without content (e.g. a 204), whose status is then all that is checked.

The document is validated as OpenAPI 3.1 (openapi-spec-validator). Each sample's body is then
validated (JSON Schema 2020-12, with format checks) against the schema that the document gives
for that operation, status and application/json. A status the operation does not document is a
failure. Prints one line per failure and exits 1 if there is any; otherwise prints a summary
line and exits 0. Needs the PyPI packages openapi-spec-validator and jsonschema.
"""

import json
import sys

from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOC_URI = "urn:credvault:openapi"
JSON = "application/json"


def escape(part):
    return part.replace("~", "~0").replace("/", "~1")


def resolve(doc, node, pointer):
    """Follows local `$ref`s (e.g. to #/components/responses/...) from `node`, found at JSON
    pointer `pointer`; returns the object reached and its pointer."""
    for _ in range(32):
        if not (isinstance(node, dict) and "$ref" in node):
            return node, pointer
        pointer = node["$ref"]
        if not pointer.startswith("#/"):
            raise ValueError(f"unsupported $ref {pointer!r}")
        pointer = pointer[1:]
        node = doc
        for part in pointer[1:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    raise ValueError(f"$ref loop at {pointer!r}")


def response_schema(doc, method, path, status):
    """Where the schema of `status` for `method path` is in the document.

    Returns (pointer, None); (None, None) when the status is documented without a body (e.g.
    a 204); or (None, message) when it is not documented."""
    item = doc.get("paths", {}).get(path)
    if item is None:
        return None, f"path {path} is not documented"
    item, pointer = resolve(doc, item, f"/paths/{escape(path)}")
    operation = item.get(method.lower())
    if operation is None:
        return None, f"{method} {path} is not documented"
    pointer += f"/{method.lower()}/responses"
    responses = operation.get("responses", {})
    for key in (str(status), f"{str(status)[0]}XX", "default"):
        if key in responses:
            response, pointer = resolve(doc, responses[key], f"{pointer}/{key}")
            break
    else:
        return None, f"{method} {path}: status {status} is not documented"
    content = response.get("content")
    if not content:
        return None, None
    media = content.get(JSON)
    if media is None:
        return None, f"{method} {path} {status}: no {JSON} content documented"
    if "schema" not in media:
        return None, f"{method} {path} {status}: {JSON} content has no schema"
    return f"{pointer}/content/{escape(JSON)}/schema", None


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} DOCUMENT.json SAMPLES.json", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    with open(argv[2], encoding="utf-8") as f:
        samples = json.load(f)

    if not str(doc.get("openapi", "")).startswith("3.1."):
        print(f"document: openapi is {doc.get('openapi')!r}, not 3.1.x")
        return 1
    try:
        problems = [
            f"document: at {getattr(e, 'json_path', '?')}: {e.message}"
            for e in OpenAPIV31SpecValidator(doc).iter_errors()
        ]
    except Exception as e:  # noqa: BLE001: e.g. a $ref that does not resolve
        text = " ".join(str(e).split())
        problems = [f"document: not a valid OpenAPI 3.1 document: {text[:300]}"]
    if problems:
        for line in problems:
            print(line)
        print(f"openapi: the document is not valid OpenAPI 3.1 ({len(problems)} problem(s))")
        return 1

    # The whole document is one resource, so that `#/components/...` refs in any schema
    # resolve against it.
    registry = Registry().with_resource(DOC_URI, Resource.from_contents(doc, DRAFT202012))
    failures = []
    checked = 0
    for i, sample in enumerate(samples):
        method = sample["method"]
        path = sample["path_template"]
        status = sample["status"]
        body = sample.get("body")
        where = f"sample {i}: {method} {path} {status}"
        pointer, problem = response_schema(doc, method, path, status)
        if problem:
            failures.append(f"{where}: {problem}")
            continue
        checked += 1
        if pointer is None:
            if body is not None:
                failures.append(f"{where}: a body was sent, but none is documented")
            continue
        if body is None:
            failures.append(f"{where}: no body, but a {JSON} body is documented")
            continue
        # The schema is referred to by its place in the document, so that the `#/components/...`
        # refs inside it resolve against the document.
        validator = Draft202012Validator(
            {"$ref": f"{DOC_URI}#{pointer}"},
            registry=registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
        for error in errors:
            at = "/".join(str(p) for p in error.absolute_path) or "(body)"
            failures.append(f"{where}: at {at}: {error.message}")

    for line in failures:
        print(line)
    if failures:
        print(f"openapi: {len(failures)} failure(s) in {len(samples)} samples")
        return 1
    print(f"openapi: document valid (OpenAPI {doc['openapi']}); {checked} samples valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
