"""PCO's error documents (REFERENCE §4): an ``errors`` array and nothing else at the top level."""

from __future__ import annotations

from typing import Any

NOT_FOUND_DETAIL = "The resource you requested could not be found"


class SandboxApiError(Exception):
    """Raised anywhere in a request to answer with PCO's error format."""

    def __init__(
        self, status: int, errors: list[dict[str, Any]], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status}: {errors}")
        self.status = status
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"errors": self.errors}


def error(status: int, title: str, detail: str, **extra: Any) -> SandboxApiError:
    return SandboxApiError(
        status, [{"status": str(status), "title": title, "detail": detail, **extra}]
    )


def not_found() -> SandboxApiError:
    return error(404, "Not Found", NOT_FOUND_DETAIL)


def unauthorized(hint: str = "CHINCHILLA") -> SandboxApiError:
    detail = f"This request could not be authenticated. Error Code Hint: ({hint})"
    return error(401, "Unauthorized", detail)


def invalid_payload(
    detail: str = "The payload given does not contain a 'data' key.",
) -> SandboxApiError:
    return error(400, "Bad Request", detail, code="invalid_resource_payload")


def forbidden_attributes(names: list[str]) -> SandboxApiError:
    return SandboxApiError(
        422,
        [
            {
                "status": "422",
                "title": "Forbidden Attribute",
                "detail": f"{name} cannot be assigned",
            }
            for name in names
        ],
    )


def validation_entry(resource: str, parameter: str, detail: str) -> dict[str, Any]:
    return {
        "status": "422",
        "title": "Validation Error",
        "detail": detail,
        "source": {"parameter": parameter},
        "meta": {"resource": resource, "associated_resources": []},
    }


def related_not_found(parameter: str) -> SandboxApiError:
    detail = f"Error setting {parameter}. The underlying resource couldn't be found."
    return error(
        422,
        "Attribute Resource Not Found",
        detail,
        code="attribute_resource_not_found",
        source={"parameter": parameter},
    )


def unsupported_version(value: str) -> SandboxApiError:
    detail = f"The version '{value}' is not supported. Versions start at 2018-08-01."
    return error(400, "Bad Request", detail, code="unsupported_version_error")


def rate_limited(count: int, limit: int, period: int, retry_after: int) -> SandboxApiError:
    entry = {
        "code": "429",
        "title": "Too Many Requests",
        "detail": f"Rate limit exceeded: {count} of {limit} requests per {period} seconds",
    }
    return SandboxApiError(429, [entry], {"Retry-After": str(retry_after)})


def server_error() -> SandboxApiError:
    return error(500, "Internal Server Error", "Something went wrong (sandbox fault injection)")
