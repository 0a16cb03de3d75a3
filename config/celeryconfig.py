"""Celery configuration, from the platform's settings (``celery -A tasks`` loads it)."""

from config.settings import get_settings

_settings = get_settings()

broker_url = _settings.effective_broker_url
result_backend = _settings.effective_result_backend
broker_connection_retry_on_startup = True
# The hand-off must fail fast when the broker is away (the beat sweep heals), not hang the write.
broker_transport_options = {"socket_connect_timeout": 1, "socket_timeout": 5}
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
