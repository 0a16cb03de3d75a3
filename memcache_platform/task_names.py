"""The Celery task names, defined once: the tasks' ``name=``, the routes and the producers use these."""

from __future__ import annotations

REBUILD_USER = "tasks.update_user_favorite_cache"
"""Rebuild one user's L3 rows and L2 generation (queue ``handoff``)."""

SWEEP = "tasks.run_proactive_caching_job"
"""The beat job: plan a sweep and fan it out (queue ``sweep``)."""

SWEEP_CHUNK = "tasks.rebuild_users_chunk"
"""One chunk of a sweep's users (queue ``sweep``)."""

SWEEP_FINISH = "tasks.finish_proactive_caching_job"
"""The chord callback that closes a sweep (queue ``sweep``)."""

FOLLOW_MEM0_EVENT = "tasks.follow_mem0_event"
"""Poll one queued hosted Mem0 add until it ends, then hand off again (queue ``handoff``)."""

HANDOFF_QUEUE = "handoff"
"""Hand-offs of live writes and manual warms."""

SWEEP_QUEUE = "sweep"
"""Sweeps over every user, kept apart so they cannot starve the hand-offs."""
