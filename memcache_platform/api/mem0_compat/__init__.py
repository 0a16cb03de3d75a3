"""Mem0-compatible REST API: ``mem0.MemoryClient(api_key=..., host="http://<platform>")`` works unchanged.

Written against mem0ai 2.2.1's ``MemoryClient`` and served by the same services as the v1 API, so
a team's reads go through L2/L1 and its writes hand off the rebuild of the cache tiers.

Routes (client method → route → platform service):

=====================  ==================================  =========================================
``MemoryClient(...)``  ``GET /v1/ping/``                   API key check; fixed org_id/project_id
``add``                ``POST /v3/memories/add/``          ``extraction.extract_facts`` (L4 + hand-off)
``search``             ``POST /v3/memories/search/``       ``search.search`` (L2, else L1 + L4)
``get_all``            ``POST /v3/memories/?page=&page_size=``  ``memories.records`` (L4), paginated
``get``                ``GET /v1/memories/{id}/``          ``memories.find`` / ``memories.get`` (L4)
``update``             ``PUT /v1/memories/{id}/``          ``memories.update`` (L4 + hand-off)
``delete``             ``DELETE /v1/memories/{id}/``       ``memories.delete`` (L4 + hand-off)
``delete_all``         ``DELETE /v1/memories/?user_id=``   ``memories.delete_all`` (L4 + one hand-off)
``history``            ``GET /v1/memories/{id}/history/``  ``memories.history`` (Mem0's change log)
``users``              ``GET /v1/entities/``               ``l4_users`` (users with memories in L4)
``batch_update``       ``PUT /v1/batch/``                  ``memories.batch_update`` (L4 + hand-off/user)
``batch_delete``       ``DELETE /v1/batch/``               ``memories.batch_delete`` (L4 + hand-off/user)
``delete_users``       ``DELETE /v2/entities/user/{id}/``  ``erasure.erase`` (every tier); ``reset``: each
``feedback``           ``POST /v1/feedback/``              ``l3_feedback`` (L3's database), counted
=====================  ==================================  =========================================

Auth: ``Authorization: Token <key>`` (as the client sends it; ``Bearer`` works too), any key of
``MEMCACHE_API_KEYS`` or ``MEMCACHE_ADMIN_API_KEYS``. A key limited to some users (a tenant) gets
403 for other users' scopes, 404 for their memories by id, and sees only its users in ``users``.

Errors keep the platform's ``{"error": {"code", "message"}}`` and add ``"detail": "<code>: <message>"``,
the field ``MemoryClient`` puts in its exceptions (``ValueError("Error: ...")`` from the constructor's
ping, else ``mem0.exceptions.ValidationError`` for 400, ``AuthenticationError`` for 401/403,
``MemoryNotFoundError`` for 404, ``NetworkError`` for 503).

Rate limits: the v1 API's budgets, per user (the scope's ``user_id``; a by-id call naming none counts
against its key alone) and per key; a 429 carries ``Retry-After`` and ``X-RateLimit-*``, which the
client puts in ``RateLimitError.debug_info``.

Options. Nothing the client can send is silently ignored: it is honoured, harmless here, or refused
with 400 ``unsupported_option`` naming it (``details.option``). Null values count as absent.

* Scope: ``user_id`` is required, at the top level or in ``filters`` (``{"user_id": ...}``, also under
  ``{"AND": [...]}``); ``run_id`` is honoured as the platform's ``session_id``. ``agent_id``,
  ``app_id``, other filter keys, operators and ``"*"`` are refused, as are ``org_id`` and
  ``project_id`` other than the fixed ``"memcache-platform"`` the ping answers (MemoryClient's
  constructor fails without both; older clients echo them back in every request).
* ``add``: ``messages`` (roles user/assistant/system, text content; the v1 API's limits) and
  ``metadata`` (the v1 API's rules) are honoured. ``infer`` omitted means the platform's configured
  extractor (``MEMCACHE_EXTRACTOR``); ``infer=true`` is honoured only when that is ``llm``;
  ``infer=false`` (store each message verbatim, what a fronting platform's hosted backend sends)
  is accepted with the ``rules`` extractor, and settled as every write (hosted events marked pending).
  ``async_mode`` (either value), ``version`` v1/v2, ``output_format`` v1.1 and ``enable_graph=false``
  are harmless: the L4 write is synchronous, so the answer always lists the stored memories
  (``{"results": [{"id", "memory", "event": "ADD", ...}]}``, no ``event_id``), plus ``cache``
  (hand-off outcome and watermark). Custom categories/instructions, includes/excludes,
  structured schemas, ``timestamp``, ``expiration_date``, ``immutable`` and ``enable_graph=true``
  are refused.
* ``search``: ``query``, ``top_k`` (1 to ``MEMCACHE_SEARCH_MAX_LIMIT``, default 10) and
  ``threshold`` (0 to 1, applied to the returned ``score``) are honoured; ``show_expired`` and
  ``latest_only`` are harmless (nothing expires or is superseded here), as are ``rerank=false`` and
  ``keyword_search=false``. ``rerank``/``keyword_search`` true, ``fields``, ``categories``,
  ``reference_date`` and ``metadata`` are refused. Hits carry id, memory, score, categories
  (the platform's category) and user_id; the answer adds ``tier`` (also ``X-Cache-Tier``).
* ``get_all``: ``page`` (default 1) and ``page_size`` (default 100, at most 1000) query
  parameters; ``{"count", "next", "previous", "results"}`` with absolute ``next``/``previous`` URLs;
  memories oldest first; a page past the end is empty. ``show_expired``/``latest_only`` harmless;
  ``start_date``, ``end_date`` and ``categories`` refused.
* ``get``/``update``/``delete``/``history`` by id: the client sends no user, so the memory's owner
  in L4 is used (and a memory of no user answers 404). A ``user_id`` query parameter (or
  ``user_id`` in the update body) restricts the call to that user: another user's memory answers
  404. ``update`` honours ``text`` (and re-derives the category from it); ``metadata``,
  ``timestamp`` and a non-null ``expiration_date`` are refused (``expiration_date: null`` clears
  nothing and is harmless). ``delete_linked`` is harmless (nothing is linked here). ``history`` of a
  deleted memory answers 404.
* ``delete_all``: ``user_id`` (query) or ``filters`` with a user (the client sends it as
  ``str(dict)``); without a user it is refused rather than deleting everything; ``run_id`` refused.
* Batches, entity deletes and feedback: see ``batch.py`` (owners read from L4, tenant scoping,
  rate limits, who may erase a user).
* The client's other memory endpoints (exports, ``get_summary``) answer 400
  ``unsupported_endpoint`` (a plain 404 would reach the caller as ``MemoryNotFoundError``) and are
  absent from ``/openapi.json``;
  profiles, webhooks and project settings are not routed at all (404).

The package: ``models`` and ``answers`` (pydantic models of the requests and of the answers, which
validate and generate the OpenAPI entries), ``routes`` (the blueprint ``mem0_compat``) and ``batch``
(batches, entity deletes and feedback, on the same blueprint).
"""

from memcache_platform.api.mem0_compat import batch as _batch  # noqa: F401 - registers its routes on bp
from memcache_platform.api.mem0_compat import events as _events  # noqa: F401 - GET /v1/event/{id}/
from memcache_platform.api.mem0_compat.routes import bp

__all__ = ["bp"]
