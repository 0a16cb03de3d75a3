"""``GET /openapi.json``: the OpenAPI 3.1 document, generated from the served routes' contracts.

Every rule of the app's URL map is documented from the ``@operation`` of its view (its pydantic
models and answers), except the ``@undocumented`` ones; a view with neither is an error, so a new
route cannot be served undocumented.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from config.settings import Settings
from memcache_platform import __version__
from memcache_platform.api.context import settings
from memcache_platform.api.contract import DESCRIPTIONS, RATE_LIMIT_HEADERS, Answer, Operation, operation
from memcache_platform.api.models import Document, Error

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer"},
    "mem0_token": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "'Token <key>', as mem0.MemoryClient sends it",
    },
}
_METHODS = ("get", "put", "post", "delete", "patch")


def operations(app: Flask) -> list[tuple[str, str, Operation]]:
    """(OpenAPI path, method, contract) of every documented route; LookupError for one without."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, "contract"):
            raise LookupError(f"{rule.rule} ({rule.endpoint}) has no @operation nor @undocumented")
        if view.contract is None:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((path, method.lower(), view.contract))
    return found


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without pydantic's ``| None``: a parameter left out is the None."""
    options = [o for o in schema.get("anyOf", ()) if o != {"type": "null"}]
    if len(options) == 1 and len(schema["anyOf"]) == 2:
        schema = {k: v for k, v in schema.items() if k != "anyOf"} | options[0]
    if schema.get("default", ...) is None:
        del schema["default"]
    return schema


def _parameters(model: type[BaseModel] | None, where: str, defs: dict[str, Any]) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=REF)
    defs.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "null":  # a parameter that may only be left out is not one
            continue
        param: dict[str, Any] = {"name": name, "in": where, "required": name in required or where == "path"}
        if "description" in prop:
            param["description"] = prop["description"]
        param["schema"] = _without_null({k: v for k, v in prop.items() if k not in ("title", "description")})
        params.append(param)
    return params


def _answer(status: int, answer: Answer, refs: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"description": answer.description or DESCRIPTIONS.get(status, "ok")}
    if answer.model is not None:
        out["content"] = {answer.media_type: {"schema": refs[(answer.model, "serialization")]}}
    elif answer.media_type != "application/json":
        out["content"] = {answer.media_type: {"schema": {"type": "string"}}}
    headers = dict(answer.headers) | (RATE_LIMIT_HEADERS if status == 429 else {})
    if headers:
        out["headers"] = {
            name: {"description": why, "schema": {"type": "string"}} for name, why in headers.items()
        }
    return out


def _answers(op: Operation) -> dict[int, Answer]:
    error = Answer(op.error_model or Error)
    return {status: error for status in op.errors} | dict(op.answers)


def document(app: Flask, conf: Settings) -> dict[str, Any]:
    """The OpenAPI document of ``app`` as configured by ``conf``."""
    ops = operations(app)
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for _, _, op in ops:
        body = op.model(op.body, conf)
        if body is not None:
            wanted[(body, "validation")] = None
        for answer in _answers(op).values():
            if answer.model is not None:
                wanted[(answer.model, "serialization")] = None
    refs, top = models_json_schema(list(wanted), ref_template=REF)
    defs: dict[str, Any] = dict(top.get("$defs", {}))
    paths: dict[str, Any] = {}
    for path, method, op in ops:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "operationId": f"{method}{path}",
            "tags": list(op.tags),
        }
        if op.security:
            entry["security"] = [{name: []} for name in op.security]
        params = _parameters(op.model(op.path, conf), "path", defs)
        params += _parameters(op.model(op.query, conf), "query", defs)
        if params:
            entry["parameters"] = params
        body = op.model(op.body, conf)
        if body is not None:
            schema = refs[(body, "validation")]
            entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema}}}
        entry["responses"] = {str(s): _answer(s, a, refs) for s, a in sorted(_answers(op).items())}
        paths.setdefault(path, {})[method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "memcache_platform",
            "version": __version__,
            "description": "Cache tiers (L1-L3) in front of Mem0 (L4), and a Mem0-compatible API.",
        },
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": defs},
        "paths": paths,
    }


@bp.get("/openapi.json")
@operation("This document", {200: Answer(Document, "the OpenAPI document")}, security=(), tags=("meta",))
def openapi_json() -> Response:
    """The OpenAPI document of this app."""
    return jsonify(document(current_app, settings()))
