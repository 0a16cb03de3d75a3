"""Celery configuration, from the platform's settings (``celery -A tasks`` loads it)."""

from urllib.parse import urlsplit

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
    names.FOLLOW_MEM0_EVENT: {"queue": names.HANDOFF_QUEUE},
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

# An HA broker: MEMCACHE_BROKER_URL=sentinel://h1:p1/1;sentinel://h2:p2/1 names the Sentinels, and
# MEMCACHE_BROKER_SENTINEL_MASTER the master they watch; a failover moves the broker with no restart.
if broker_url.startswith("sentinel://"):
    broker_transport_options["master_name"] = _settings.broker_sentinel_master
    # RedBeat's lock and schedule follow the broker to that master (database 3 there), keeping the
    # timeouts above: RedBeat's sentinel branch passes socket_timeout on to the master connections,
    # and sentinel_kwargs bound the calls to the Sentinels themselves.
    _sentinels = [
        (url.hostname or "127.0.0.1", url.port or 26379) for url in map(urlsplit, broker_url.split(";"))
    ]
    # RedBeat reads the Sentinels from the options; the URL (one valid URL: beat prints it) marks the branch.
    redbeat_redis_url = f"redis-sentinel://{_sentinels[0][0]}:{_sentinels[0][1]}/3"
    redbeat_redis_options |= {
        "sentinels": _sentinels,
        "service_name": _settings.broker_sentinel_master,
        "db": 3,
        "sentinel_kwargs": {"socket_timeout": 2, "socket_connect_timeout": 1},
    }
# Results may go through the Sentinels too (sentinel://… as MEMCACHE_RESULT_BACKEND), same master name.
if result_backend.startswith("sentinel://"):
    result_backend_transport_options = {"master_name": _settings.broker_sentinel_master}
redbeat_lock_timeout = _settings.redbeat_lock_timeout_s
beat_max_loop_interval = max(1, min(10, _settings.redbeat_lock_timeout_s // 3))
beat_schedule = {
    "proactive-caching-sweep": {
        "task": names.SWEEP,
        "schedule": _settings.sweep_interval_s,
    },
}
