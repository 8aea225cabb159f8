"""Schemathesis hooks for the schemathesis step of .ci/run.

One limit of the contract has no JSON Schema keyword: a password is 8 to 72 *bytes* of UTF-8
(API.md section 3; bcrypt reads no further than 72 bytes). `minLength` and `maxLength` count
characters, so the document states 8 and 72 characters, which is exact for ASCII only: "éééé"
is 4 characters but 8 bytes (a valid password), "é" * 40 is 40 characters but 80 bytes (too
long). For such a password no schema can say what the server must answer, and the data checks
(positive_data_acceptance, negative_data_rejection) would demand the opposite of the contract.

So the registrations (and password changes) whose new password counts as valid in characters
but not in bytes, or the other way round, are not generated. Every other case is sent and judged by all checks, including
passwords too short or too long in both counts. The server's byte counting is covered by the
suite (tests/tests/api/validation/, service/src/domain/).

An `Idempotency-Key` the schema allows is made fresh before each request (see `before_call`).

Likewise the `cursor` of GET /posts/: any string fits its schema, but only a cursor the server
sealed (for the same search, without `skip`) is accepted; the rest is 422 by contract. Cases
with a cursor are not generated; cursors are covered by the suite (tests/tests/api/posts/cursor.rs).

And an integer id in a path written as some other number: to JSON Schema `1.0` or `1e0` is the
integer 1, so schemathesis can count `/posts/1.0` as schema-valid, but in a path the id is text
and the contract takes it in decimal digits only, as the course's server does (pydantic reads
`int("1.0")` as an error): 422. Cases whose path id is spelled so are not generated; the 422 is
covered by the suite (tests/tests/api/posts/read.rs).
"""

import re
import uuid

import schemathesis

# API.md section 3: 8 to 72 bytes; the document's minLength/maxLength: 8 to 72 characters.
PASSWORD_LIMITS = range(8, 72 + 1)


def _password_limit_is_expressible(password: str) -> bool:
    try:
        size = len(password.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: not valid UTF-8, refused however it counts
        return True
    return (len(password) in PASSWORD_LIMITS) == (size in PASSWORD_LIMITS)


# The operations that take a new password, and its field.
NEW_PASSWORDS = {
    ("POST", "/users/"): "password",
    ("PUT", "/users/me/password"): "new_password",
    ("POST", "/reset-password"): "new_password",
}


# How the server reads a path id: optional sign, decimal digits.
INTEGER_TEXT = re.compile(r"^[+-]?[0-9]+$")


def _integer_spelled_otherwise(value) -> bool:
    """A whole number not written in digits alone, such as 1.0 (a float) or "1e0"."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return value.is_integer()
    if isinstance(value, str) and not INTEGER_TEXT.match(value):
        try:
            return float(value).is_integer()
        except ValueError:  # not a number at all: rejected by every reading, left to the checks
            return False
    return False


@schemathesis.hook
def filter_case(context, case):
    operation = context.operation
    if operation is None:
        return True
    if any(_integer_spelled_otherwise(value) for value in (case.path_parameters or {}).values()):
        return False
    if (operation.method.upper(), operation.path) == ("GET", "/posts/") and "cursor" in (
        case.query or {}
    ):
        return False
    field = NEW_PASSWORDS.get((operation.method.upper(), operation.path))
    body = case.body
    if field is None or not isinstance(body, dict) or not isinstance(body.get(field), str):
        return True
    return _password_limit_is_expressible(body[field])


# An Idempotency-Key the schema allows is one the server accepts; sent again with another body it
# is refused (422) by design (API.md, Idempotency-Key), which no schema can say. Schemathesis draws
# the same few valid keys over and over, so each valid key is made fresh before the request goes:
# every case runs as the first of its key. Unusable keys are left alone, for the 422 they get.
VALID_KEY = re.compile(r'^([!#-~]{1,255}|"[!#-~]{1,255}")$')


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key" and VALID_KEY.match(str(headers[name])):
            headers[name] = uuid.uuid4().hex
