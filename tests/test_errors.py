from __future__ import annotations

import inspect
import pickle

import pytest

import instantly
from instantly import errors
from instantly.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InstantlyError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
    make_status_error,
)


def make(status: int, body: object = None, **kwargs: object) -> APIError:
    options: dict[str, object] = {
        "method": "GET",
        "path": "/api/v2/leads/abc",
        "request_id": None,
        "attempts": 1,
    }
    options.update(kwargs)
    return make_status_error(status, body, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (402, PaymentRequiredError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (405, APIError),
        (409, ConflictError),
        (410, APIError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (504, ServerError),
        (599, ServerError),
    ],
)
def test_class_by_status(status: int, cls: type[APIError]) -> None:
    error = make(status, {"statusCode": status, "error": "x", "message": "m"})
    assert type(error) is cls
    assert isinstance(error, APIError)
    assert isinstance(error, InstantlyError)


def test_hierarchy() -> None:
    assert not issubclass(PaymentRequiredError, PermissionDeniedError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(APIConnectionError, InstantlyError)
    assert not issubclass(APIConnectionError, APIError)


def test_str_names_status_message_method_and_path() -> None:
    error = make(404, {"statusCode": 404, "error": "Not Found", "message": "Lead not found"})
    assert str(error) == "404 Not Found: Lead not found (GET /api/v2/leads/abc)"
    assert error.message == "Lead not found"


def test_str_falls_back_to_the_error_field_and_says_each_thing_once() -> None:
    error = make(404, {"statusCode": 404, "error": "Not Found"})
    assert str(error) == "404 Not Found (GET /api/v2/leads/abc)"
    assert str(make(400, {"message": ["a is required", "b is too long"]})).startswith(
        "400 Bad Request: a is required; b is too long ("
    )


def test_str_of_an_html_page_uses_its_title() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    error = make(502, page)
    assert type(error) is ServerError
    assert error.message == "502 Bad Gateway"
    assert str(error).startswith("502 Bad Gateway (GET /api/v2/leads/abc). ")
    assert error.body == page


def test_str_of_plain_text_keeps_a_short_excerpt() -> None:
    error = make(503, "upstream connect error " * 50)
    assert len(error.message) == 200


def test_str_tells_the_user_what_to_do() -> None:
    assert "API key" in str(make(401, {"message": "Invalid API key"}))
    assert "paid plan" in str(make(402))
    assert "scope" in str(make(403))
    assert "retry later" in str(make(500))
    assert "after 6 attempts" in str(make(500, attempts=6))


def test_rate_limit_error_carries_retry_after() -> None:
    error = make(429, {"message": "Too many"}, retry_after=12.5)
    assert isinstance(error, RateLimitError)
    assert error.retry_after == 12.5
    assert "12.5 s" in str(error)
    assert make(429).retry_after is None  # type: ignore[attr-defined]
    # Only a 429 carries it.
    assert not hasattr(make(503, retry_after=3), "retry_after")


def test_repr_is_informative() -> None:
    error = make(404, {"message": "gone"}, request_id="r-9", attempts=2)
    assert repr(error) == (
        "NotFoundError(status_code=404, message='gone', method='GET', "
        "path='/api/v2/leads/abc', request_id='r-9', attempts=2)"
    )
    timeout = APITimeoutError("Request timed out", method="GET", path="/x", attempts=3)
    assert repr(timeout) == (
        "APITimeoutError(message='Request timed out', method='GET', path='/x', attempts=3)"
    )
    assert str(timeout).startswith("Request timed out (GET /x) after 3 attempts. ")


def test_errors_survive_pickling() -> None:
    error = make(429, {"message": "slow down"}, request_id="r", attempts=3, retry_after=2.0)
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RateLimitError
    assert str(copy) == str(error)
    assert copy.retry_after == 2.0
    connection = pickle.loads(pickle.dumps(APIConnectionError("down", method="GET", path="/")))
    assert str(connection) == str(APIConnectionError("down", method="GET", path="/"))


def test_unknown_status_phrase() -> None:
    assert str(make(499, {"message": "client went away"})).startswith("499 Error: client went away")


def test_every_public_exception_is_importable_from_instantly_and_instantly_errors() -> None:
    public = {
        name
        for name in errors.__all__
        if isinstance(getattr(errors, name), type)
        and issubclass(getattr(errors, name), BaseException)
    }
    assert public == {
        "APIConnectionError",
        "APIError",
        "APITimeoutError",
        "AuthenticationError",
        "BackgroundJobError",
        "BackgroundJobTimeout",
        "BadRequestError",
        "BulkCancelledError",
        "BulkImportError",
        "ChunkCancelledError",
        "ClientClosedError",
        "ConflictError",
        "EventLoopError",
        "InstantlyError",
        "NotFoundError",
        "OutcomeUnknownError",
        "PaginationError",
        "PaymentRequiredError",
        "PermissionDeniedError",
        "RateLimitError",
        "RedirectError",
        "ResponseTooDeepError",
        "ResponseTooLargeError",
        "ServerError",
        "StructureError",
        "UnprocessableEntityError",
    }
    for name in public:
        assert name in instantly.__all__
        assert getattr(instantly, name) is getattr(errors, name)
    # Nothing the SDK defines as an exception is left out of the lists.
    defined = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and not name.startswith("_")
        and value.__module__ == errors.__name__
    }
    assert defined <= public


def test_attributes_are_typed_as_their_real_classes() -> None:
    import typing

    from instantly._bulk import BulkAddResult
    from instantly.models import BackgroundJob

    # The names are imported for type checkers only (no import cycle at runtime): resolve them.
    names = {"BulkAddResult": BulkAddResult, "BackgroundJob": BackgroundJob}
    hints = {
        cls: typing.get_type_hints(cls, localns=names)
        for cls in (
            errors.BulkCancelledError,
            errors.BackgroundJobError,
            errors.BackgroundJobTimeout,
        )
    }
    assert hints[errors.BulkCancelledError]["result"] is BulkAddResult
    assert hints[errors.BackgroundJobError]["job"] is BackgroundJob
    assert hints[errors.BackgroundJobTimeout]["job"] is BackgroundJob


def test_importing_the_errors_does_not_load_the_models() -> None:
    import subprocess
    import sys

    code = (
        "import sys, instantly.errors as e; e.RedirectError; "
        "print('instantly._generated.models' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_new_errors_survive_pickling() -> None:
    redirect = errors.RedirectError(
        307, None, "r", method="POST", path="/x", location="https://evil.example/x"
    )
    copy = pickle.loads(pickle.dumps(redirect))
    assert copy.location == "https://evil.example/x" and str(copy) == str(redirect)
    large = errors.ResponseTooLargeError(200, method="GET", path="/x", limit=1 << 20)
    copy_large = pickle.loads(pickle.dumps(large))
    assert copy_large.limit == 1 << 20 and "1 MiB" in str(copy_large)
