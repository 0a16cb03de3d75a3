"""Celery configuration, from the platform's settings (``celery -A tasks`` loads it)."""

from config.settings import get_settings
from memcache_platform import task_names as names

_settings = get_settings()

broker_url = _settings.effective_broker_url
result_backend = _settings.effective_result_backend
broker_connection_retry_on_startup = True
# A worker never gives up on its broker: an outage of any length ends with the worker reconnected.
broker_connection_retry = True
broker_connection_max_retries = None
# Celery 5.7.0's consumer exits on a lost Redis broker with messages in flight (tasks/consumer.py).
worker_consumer = "tasks.consumer:ResilientConsumer"
# The hand-off must fail fast when the broker is away (the beat sweep heals), not hang the write.
broker_transport_options = {
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
    # A SIGKILLed worker's unacked tasks come back only once they are this old (kombu's default 1 h
    # would stall a sweep's chord that long); countdowns longer than this would run twice.
    "visibility_timeout": _settings.broker_visibility_timeout_s,
    # Look for such tasks every 10 s (kombu's default scans every 10th 10 s tick, i.e. 100 s).
    "unacked_restore_throttle": 1,
}
task_publish_retry_policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.2}

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_expires = 24 * 3600
result_extended = True  # task name and args in results, for Flower and `GET /v1/tasks/{id}`
task_track_started = True

# Rebuilds are idempotent: redeliver when a worker dies mid-task rather than lose the rebuild.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
worker_send_task_events = True
task_send_sent_event = True
# Building Mem0 in a fresh child takes seconds; the default 4 s makes Celery kill it in a loop.
worker_proc_alive_timeout = 60

timezone = "UTC"

# Separate queues, so a sweep over every user cannot starve the hand-offs of live writes.
# Routed by name, so producers' ``send_task`` (which knows no decorator options) lands in the same queues.
task_default_queue = names.HANDOFF_QUEUE
task_routes = {
    names.REBUILD_USER: {"queue": names.HANDOFF_QUEUE},
    names.SWEEP: {"queue": names.SWEEP_QUEUE},
    names.SWEEP_CHUNK: {"queue": names.SWEEP_QUEUE},
    names.SWEEP_FINISH: {"queue": names.SWEEP_QUEUE},
}

# One scheduler even if two beats are started: RedBeat holds a lock in Redis. The active beat renews
# it on every tick and a waiting beat retries it every tick, so ticks come at least three times per
# lock timeout: the lock never lapses under a live beat, and a dead beat's successor takes over
# within the lock timeout plus one tick.
# RedBeat with a tick that survives Redis restarts and outages (tasks/beat.py says why it is needed).
beat_scheduler = "tasks.beat:ResilientRedBeatScheduler"
redbeat_redis_url = _settings.redbeat_redis_url
# Without socket timeouts a hung (SIGSTOPped) Redis would block beat's tick for as long as it hangs.
redbeat_redis_options = {"socket_timeout": 5, "socket_connect_timeout": 2, "health_check_interval": 30}
redbeat_lock_timeout = _settings.redbeat_lock_timeout_s
beat_max_loop_interval = max(1, min(10, _settings.redbeat_lock_timeout_s // 3))
beat_schedule = {
    "proactive-caching-sweep": {
        "task": names.SWEEP,
        "schedule": _settings.sweep_interval_s,
    },
}
