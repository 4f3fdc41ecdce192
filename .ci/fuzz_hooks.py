# schemathesis hooks for .ci/fuzz (loaded with SCHEMATHESIS_HOOKS=fuzz_hooks).
#
# One hook, filter_failure, drops exactly three kinds of "valid request rejected" (ST202)
# findings, each only when the server's answer is the documented one for it; every other failure
# of every check stays. The run's summary counts what was dropped ("dropped by `filter_failure`").
#
# 1. State-dependent refusals of requests that are well formed. The fuzzer changes the store as
#    it goes (it hard-deletes the streams it wrote, then writes them again; it asks for a new
#    stream with If-None-Match: * after it has created it). openapi.json documents these answers
#    (410 stream-deleted, 412 precondition-failed, 409 for the write path); schemathesis'
#    positive_data_acceptance does not take 410 and 412 as acceptance, whatever the document says.
#    Likewise 400 moment-out-of-range: a position past the log's head, which the document cannot
#    bound because the head moves as the fuzzer appends.
#
# 2. Rules between two inputs that OpenAPI 3.1 has no way to state (a parameter cannot exclude
#    another, an array cannot be unique by one member of its items, a cursor is valid only if the
#    server gave it). openapi.json says each in the description of the parameter or property;
#    the server answers 400 invalid-input naming the rule. Dropped only when the request breaks
#    the rule and the answer is that 400. The same for numbers: a JSON Schema "number" has no
#    bound, and the document's description says that numbers beyond 64 bits are refused with
#    400 (never rounded); dropped when the body holds such an integer and the answer says so.
#
# 3. Requests that are not schema-valid after all: schemathesis' coverage phase builds header
#    values from letters and digits only, so for If-Match, whose pattern needs quotes
#    (`"3"` or `*`), it sends values such as `0` that break the document's own pattern. Dropped
#    only when the value does not match the pattern openapi.json gives (read from the file).
import json
import os
import re

import schemathesis

# (problem code, HTTP status) answers that depend on what the store holds, not on the request.
STATE_DEPENDENT = {("stream-deleted", 410), ("precondition-failed", 412), ("moment-out-of-range", 400)}

_DOCUMENT = os.path.join(os.path.dirname(__file__), "..", "Sources", "ChronicleServer", "Resources", "openapi.json")
with open(_DOCUMENT, encoding="utf-8") as _file:
    IF_MATCH = re.compile(json.load(_file)["components"]["parameters"]["IfMatch"]["schema"]["pattern"])


def _problem(response):
    try:
        body = json.loads(response.content or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _header(case, name):
    for key, value in (case.headers or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def _holds_an_integer_beyond_64_bits(value):
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -(2**63) <= value < 2**63
    if isinstance(value, dict):
        return any(_holds_an_integer_beyond_64_bits(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_an_integer_beyond_64_bits(item) for item in value)
    return False


def _breaks_a_documented_rule(case, detail):
    """Whether the request breaks a rule openapi.json states in prose, and the server said so."""
    query = case.query or {}
    body = case.body if isinstance(case.body, dict) else {}
    # Numbers: "integers up to 64 bits ... a number beyond that is 400 invalid-input".
    if _holds_an_integer_beyond_64_bits(case.body):
        return "cannot be kept exactly" in detail
    # If-None-Match: "it cannot be sent with If-Match".
    if _header(case, "If-Match") is not None and _header(case, "If-None-Match") is not None:
        return "If-Match and If-None-Match" in detail
    # POST /v1/streams/{stream}: If-Match and the body's expectedRevision must agree.
    if _header(case, "If-Match") is not None and "expectedRevision" in body:
        return "and expectedRevision" in detail and "disagree" in detail
    # GET /v1/entities/{entity}/{id}: one of asOf, version and at.
    if sum(name in query for name in ("asOf", "version", "at")) > 1:
        return detail.startswith("Give one of")
    # cursor: "the `next` of the previous page, as it is".
    if "cursor" in query:
        return detail.startswith("cursor is not one this server gave")
    # POST /v1/append: each stream in one part.
    streams = body.get("streams")
    if isinstance(streams, list):
        names = [part.get("stream") for part in streams if isinstance(part, dict)]
        if len(names) != len(set(map(str, names))):
            return "appears twice in one append" in detail
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if failure.code != "ST202":
        return True
    problem = _problem(response)
    code, detail = problem.get("code"), str(problem.get("detail", ""))
    if (code, response.status_code) in STATE_DEPENDENT:
        return False
    if code == "invalid-input" and response.status_code == 400 and _breaks_a_documented_rule(case, detail):
        return False
    if_match = _header(case, "If-Match")
    if code == "invalid-input" and response.status_code == 400 and if_match is not None and not IF_MATCH.search(if_match) and "is not a stream ETag" in detail:
        return False
    return True
